"""vendors, charge_point_models, vendor_error_codes and station_errors (the hardware catalogue,
issue 20); charge_points.model_id refers to a station's model (catalogue/)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

FK = 'fk_charge_points_model_id_charge_point_models'


def _times() -> list:
    return [sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'vendors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('name_key', sa.String(length=50), nullable=False),
        sa.Column('website', sa.String(length=255), nullable=True),
        sa.Column('support_email', sa.String(length=255), nullable=True),
        sa.Column('support_phone', sa.String(length=50), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('discovered', sa.Boolean(), nullable=False),
        *_times(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vendors')),
        sa.UniqueConstraint('name_key', name=op.f('uq_vendors_name_key')),
    )
    op.create_table(
        'charge_point_models',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('vendor_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('name_key', sa.String(length=50), nullable=False),
        sa.Column('evse_count', sa.Integer(), nullable=True),
        sa.Column('connectors', sa.JSON(), nullable=False),
        sa.Column('max_power_w', sa.Integer(), nullable=True),
        sa.Column('ocpp_versions', sa.JSON(), nullable=False),
        sa.Column('quirks', sa.Text(), nullable=True),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.Column('discovered', sa.Boolean(), nullable=False),
        *_times(),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_charge_point_models_vendor_id_vendors'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_charge_point_models')),
        sa.UniqueConstraint('vendor_id', 'name_key', name=op.f('uq_charge_point_models_vendor_id')),
    )
    op.create_index(op.f('ix_charge_point_models_vendor_id'), 'charge_point_models', ['vendor_id'])
    op.create_table(
        'vendor_error_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('vendor_id', sa.Integer(), nullable=False),
        sa.Column('model_id', sa.Integer(), nullable=True),
        sa.Column('code', sa.String(length=50), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('suggested_action', sa.Text(), nullable=True),
        *_times(),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_error_codes_vendor_id_vendors'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['model_id'], ['charge_point_models.id'],
                                name=op.f('fk_vendor_error_codes_model_id_charge_point_models'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_error_codes')),
        sa.UniqueConstraint('vendor_id', 'key', name=op.f('uq_vendor_error_codes_vendor_id')),
    )
    op.create_index(op.f('ix_vendor_error_codes_model_id'), 'vendor_error_codes', ['model_id'])
    op.create_table(
        'station_errors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('charge_point_id', sa.String(length=48), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('evse', sa.Integer(), nullable=True),
        sa.Column('connector', sa.Integer(), nullable=True),
        sa.Column('component', sa.String(length=50), nullable=True),
        sa.Column('variable', sa.String(length=50), nullable=True),
        sa.Column('tech_code', sa.String(length=50), nullable=False),
        sa.Column('tech_info', sa.Text(), nullable=True),
        sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'],
                                name=op.f('fk_station_errors_charge_point_id_charge_points'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_station_errors')),
    )
    op.create_index('ix_station_errors_cp_key', 'station_errors', ['charge_point_id', 'key'], unique=True)
    # Plain ALTER TABLE ADD COLUMN on both databases, never a batch copy: copying charge_points would
    # drop the old table and, through ON DELETE CASCADE, every row that refers to it (as 0024 does).
    op.add_column('charge_points', sa.Column('model_id', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_schema('charge_points', lambda sql: sql[:sql.rstrip().rindex(')')].rstrip() + _FK_SQL + '\n)')
    else:
        op.create_foreign_key(op.f(FK), 'charge_points', 'charge_point_models', ['model_id'], ['id'],
                              ondelete='SET NULL')
    op.create_index(op.f('ix_charge_points_model_id'), 'charge_points', ['model_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_charge_points_model_id'), table_name='charge_points')
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_schema('charge_points', lambda sql: sql.replace(_FK_SQL, ''))
    else:
        op.drop_constraint(op.f(FK), 'charge_points', type_='foreignkey')
    op.execute("ALTER TABLE charge_points DROP COLUMN model_id")
    op.drop_index('ix_station_errors_cp_key', table_name='station_errors')
    op.drop_table('station_errors')
    op.drop_index(op.f('ix_vendor_error_codes_model_id'), table_name='vendor_error_codes')
    op.drop_table('vendor_error_codes')
    op.drop_index(op.f('ix_charge_point_models_vendor_id'), table_name='charge_point_models')
    op.drop_table('charge_point_models')
    op.drop_table('vendors')


#: The table constraint SQLite's CREATE TABLE text gets, as SQLAlchemy writes (and reflects) one.
_FK_SQL = f", \n\tCONSTRAINT {FK} FOREIGN KEY(model_id) REFERENCES charge_point_models (id) ON DELETE SET NULL"


def _sqlite_schema(table: str, change) -> None:
    """Add or remove the foreign key of SQLite's charge_points by changing its stored CREATE TABLE
    text (sqlite.org/lang_altertable.html, "writable_schema"), as 0024 does: the new column is all
    NULL, so every row meets the constraint, and no copy cascades a deletion."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (change(sql), table))
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
