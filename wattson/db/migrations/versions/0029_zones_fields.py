"""charging_zones and parking_spaces within locations (issue 20, zones/); evses.zone_id and
evses.parking_space_id place an EVSE in them; evses.lifecycle (planned | commissioned | retired:
OCPI PLANNED / REMOVED), external_id, tariff_group_id and mid_meter_certification_end_year (seed 001)

evses.tariff_group_id has no foreign key here: tariff_groups is created by 0030, which adds it.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

#: (column, referred table) of the new evses columns that refer to zones and spaces, ON DELETE SET NULL.
PLACED = (('zone_id', 'charging_zones'), ('parking_space_id', 'parking_spaces'))
PLAIN = (('lifecycle', sa.String(length=12)), ('external_id', sa.String(length=100)),
         ('tariff_group_id', sa.Integer()), ('mid_meter_certification_end_year', sa.Integer()))


def _times() -> list:
    return [sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'charging_zones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('floor', sa.String(length=20), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        *_times(),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_charging_zones_location_id_locations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_charging_zones')),
        sa.UniqueConstraint('location_id', 'name', name=op.f('uq_charging_zones_location_id')),
    )
    op.create_index(op.f('ix_charging_zones_location_id'), 'charging_zones', ['location_id'])
    op.create_table(
        'parking_spaces',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=True),
        sa.Column('label', sa.String(length=20), nullable=False),
        sa.Column('floor', sa.String(length=20), nullable=True),
        sa.Column('type', sa.String(length=16), nullable=False),
        *_times(),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_parking_spaces_location_id_locations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['zone_id'], ['charging_zones.id'],
                                name=op.f('fk_parking_spaces_zone_id_charging_zones'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_spaces')),
        sa.UniqueConstraint('location_id', 'label', name=op.f('uq_parking_spaces_location_id')),
    )
    op.create_index(op.f('ix_parking_spaces_location_id'), 'parking_spaces', ['location_id'])
    op.create_index(op.f('ix_parking_spaces_zone_id'), 'parking_spaces', ['zone_id'])
    # Plain ALTER TABLE ADD COLUMN on both databases, never a batch copy: copying evses would drop
    # the old table and, through ON DELETE CASCADE, its connectors (as 0024 does).
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for column, table in PLACED:
        op.add_column('evses', sa.Column(column, sa.Integer(), nullable=True))
        if sqlite:
            _sqlite_schema(lambda sql: sql[:sql.rstrip().rindex(')')].rstrip() + _fk(column, table) + '\n)')
        else:
            op.create_foreign_key(op.f(_fk_name(column, table)), 'evses', table, [column], ['id'], ondelete='SET NULL')
        op.create_index(op.f(f'ix_evses_{column}'), 'evses', [column])
    for column, kind in PLAIN:
        if column == 'lifecycle':  # every EVSE there is now is in service
            op.add_column('evses', sa.Column(column, kind, nullable=False, server_default='commissioned'))
        else:
            op.add_column('evses', sa.Column(column, kind, nullable=True))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for column, _ in reversed(PLAIN):
        op.execute(f"ALTER TABLE evses DROP COLUMN {column}")
    for column, table in reversed(PLACED):
        op.drop_index(op.f(f'ix_evses_{column}'), table_name='evses')
        if sqlite:
            _sqlite_schema(lambda sql: sql.replace(_fk(column, table), ''))
        else:
            op.drop_constraint(op.f(_fk_name(column, table)), 'evses', type_='foreignkey')
        op.execute(f"ALTER TABLE evses DROP COLUMN {column}")
    op.drop_index(op.f('ix_parking_spaces_zone_id'), table_name='parking_spaces')
    op.drop_index(op.f('ix_parking_spaces_location_id'), table_name='parking_spaces')
    op.drop_table('parking_spaces')
    op.drop_index(op.f('ix_charging_zones_location_id'), table_name='charging_zones')
    op.drop_table('charging_zones')


def _fk_name(column: str, table: str) -> str:
    return f'fk_evses_{column}_{table}'


def _fk(column: str, table: str) -> str:
    """The table constraint SQLite's CREATE TABLE text gets, as SQLAlchemy writes (and reflects) one."""
    return f", \n\tCONSTRAINT {_fk_name(column, table)} FOREIGN KEY({column}) REFERENCES {table} (id) ON DELETE SET NULL"


def _sqlite_schema(change) -> None:
    """Add or remove a foreign key of SQLite's evses by changing its stored CREATE TABLE text
    (sqlite.org/lang_altertable.html, "writable_schema"), as 0024 does: the new column is all NULL,
    so every row meets the constraint, and no copy cascades a deletion."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'evses'").scalar()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'evses'", (change(sql),))
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
