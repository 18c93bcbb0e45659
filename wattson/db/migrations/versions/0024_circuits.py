"""circuits (load management, issue 18): the electrical tree with its limits per phase and its
unmanaged load; charge_points.circuit_id and evses.circuit_id place stations on it, evses.phase_rotation
says how an EVSE is wired; sessions.charging_priority and driver_groups.charging_priority; a partial index
of the active sessions (loadmgmt/)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

#: (table, column) of the new columns that refer to circuits, ON DELETE SET NULL.
PLACED = (('charge_points', 'circuit_id'), ('evses', 'circuit_id'))


def upgrade() -> None:
    op.create_table(
        'circuits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('location_id', sa.Integer(), nullable=True),
        sa.Column('max_current_a', sa.Double(), nullable=False),
        sa.Column('max_power_w', sa.Double(), nullable=True),
        sa.Column('phases', sa.Integer(), nullable=False),
        sa.Column('voltage_v', sa.Double(), nullable=False),
        sa.Column('safety_margin_a', sa.Double(), nullable=False),
        sa.Column('strategy', sa.String(length=16), nullable=False),
        sa.Column('time_zone', sa.String(length=64), nullable=False),
        sa.Column('unmanaged_fixed_a', sa.Double(), nullable=False),
        sa.Column('unmanaged_schedule', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('unmanaged_meter_charge_point_id', sa.String(length=48), nullable=True),
        sa.Column('unmanaged_meter_evse', sa.Integer(), nullable=True),
        sa.Column('unmanaged_meter_valid_s', sa.Integer(), nullable=False),
        sa.Column('unmanaged_posted_a', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('unmanaged_posted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('unmanaged_posted_valid_s', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['parent_id'], ['circuits.id'], name=op.f('fk_circuits_parent_id_circuits'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_circuits_location_id_locations'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['unmanaged_meter_charge_point_id'], ['charge_points.id'],
                                name=op.f('fk_circuits_unmanaged_meter_charge_point_id_charge_points'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_circuits')),
    )
    op.create_index(op.f('ix_circuits_parent_id'), 'circuits', ['parent_id'])
    op.create_index(op.f('ix_circuits_location_id'), 'circuits', ['location_id'])
    # Plain ALTER TABLE ADD COLUMN on both databases, never a batch copy: copying charge_points would
    # drop the old table and, through ON DELETE CASCADE, every row that refers to it.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, column in PLACED:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        if sqlite:
            _sqlite_schema(table, lambda sql: sql[:sql.rstrip().rindex(')')].rstrip() + _fk(table, column) + '\n)')
        else:
            op.create_foreign_key(op.f(_fk_name(table, column)), table, 'circuits', [column], ['id'],
                                  ondelete='SET NULL')
        op.create_index(op.f(f'ix_{table}_{column}'), table, [column])
    op.add_column('evses', sa.Column('phase_rotation', sa.String(length=3), nullable=True))
    op.add_column('sessions', sa.Column('charging_priority', sa.Integer(), nullable=True))
    active = sa.text("status = 'active'")  # every snapshot of the circuits starts from the active sessions
    op.create_index('ix_sessions_active', 'sessions', ['charge_point_id', 'evse'], sqlite_where=active,
                    postgresql_where=active)
    op.add_column('driver_groups', sa.Column('charging_priority', sa.Integer(), nullable=True))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index('ix_sessions_active', table_name='sessions')
    for table in ('driver_groups', 'sessions', 'evses'):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {'phase_rotation' if table == 'evses' else 'charging_priority'}")
    for table, column in PLACED:
        op.drop_index(op.f(f'ix_{table}_{column}'), table_name=table)
        if sqlite:
            _sqlite_schema(table, lambda sql: sql.replace(_fk(table, column), ''))
        else:
            op.drop_constraint(op.f(_fk_name(table, column)), table, type_='foreignkey')
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_index(op.f('ix_circuits_location_id'), table_name='circuits')
    op.drop_index(op.f('ix_circuits_parent_id'), table_name='circuits')
    op.drop_table('circuits')


def _fk_name(table: str, column: str) -> str:
    return f'fk_{table}_{column}_circuits'


def _fk(table: str, column: str) -> str:
    """The table constraint SQLite's CREATE TABLE text gets, as SQLAlchemy writes (and reflects) one."""
    return (f", \n\tCONSTRAINT {_fk_name(table, column)} FOREIGN KEY({column}) REFERENCES circuits (id) "
            f"ON DELETE SET NULL")


def _sqlite_schema(table: str, change) -> None:
    """Add or remove a foreign key constraint of a SQLite table by changing its stored CREATE TABLE
    text: SQLite's ALTER TABLE cannot, and the usual copy of the table would cascade its deletion to
    every row that refers to it. The documented procedure for changes that leave the stored rows as
    they are (sqlite.org/lang_altertable.html, "writable_schema"); the new column is all NULL, so
    every row meets the constraint."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (change(sql), table))
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
