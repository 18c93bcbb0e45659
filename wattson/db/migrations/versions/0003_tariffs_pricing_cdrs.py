"""tariffs, tariff assignments, network settings, session pricing and CDRs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa



revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tariffs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=True),
    sa.Column('start_date_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_date_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariffs'))
    )
    op.create_table('network_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('default_tariff_id', sa.String(length=36), nullable=True),
    sa.Column('ad_hoc_tariff_id', sa.String(length=36), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ad_hoc_tariff_id'], ['tariffs.id'], name=op.f('fk_network_settings_ad_hoc_tariff_id_tariffs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['default_tariff_id'], ['tariffs.id'], name=op.f('fk_network_settings_default_tariff_id_tariffs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_settings'))
    )
    op.create_table('cdrs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('credit', sa.Boolean(), nullable=False),
    sa.Column('credit_of_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('driver_id', sa.Integer(), nullable=True),
    sa.Column('id_tag', sa.String(length=36), nullable=True),
    sa.Column('start_date_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_date_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('tariff_id', sa.String(length=36), nullable=True),
    sa.Column('total_energy_wh', sa.BigInteger(), nullable=False),
    sa.Column('total_excl_vat', sa.String(length=24), nullable=False),
    sa.Column('total_incl_vat', sa.String(length=24), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('pricing', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['credit_of_id'], ['cdrs.id'], name=op.f('fk_cdrs_credit_of_id_cdrs'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_cdrs_session_id_sessions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cdrs'))
    )
    with op.batch_alter_table('cdrs', schema=None) as batch_op:
        batch_op.create_index('ix_cdrs_cp_created', ['charge_point_id', 'created_at'], unique=False)
        batch_op.create_index('ix_cdrs_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_cdrs_session_sequence', ['session_id', 'sequence'], unique=True)

    op.create_table('tariff_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tariff_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('charge_point_id', sa.String(length=48), nullable=True),
    sa.Column('evse_id', sa.Integer(), nullable=True),
    sa.Column('connector_id', sa.Integer(), nullable=True),
    sa.Column('driver_group_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_tariff_assignments_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connector_id'], ['connectors.id'], name=op.f('fk_tariff_assignments_connector_id_connectors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['driver_group_id'], ['driver_groups.id'], name=op.f('fk_tariff_assignments_driver_group_id_driver_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evse_id'], ['evses.id'], name=op.f('fk_tariff_assignments_evse_id_evses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_tariff_assignments_location_id_locations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tariff_id'], ['tariffs.id'], name=op.f('fk_tariff_assignments_tariff_id_tariffs'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_assignments'))
    )
    with op.batch_alter_table('tariff_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_tariff_assignments_scope', ['kind', 'location_id', 'charge_point_id', 'evse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tariff_assignments_tariff_id'), ['tariff_id'], unique=False)

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tariff_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('tariff_snapshot', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cost', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('cost')
        batch_op.drop_column('time_zone')
        batch_op.drop_column('tariff_snapshot')
        batch_op.drop_column('tariff_id')

    with op.batch_alter_table('tariff_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tariff_assignments_tariff_id'))
        batch_op.drop_index('ix_tariff_assignments_scope')

    op.drop_table('tariff_assignments')
    with op.batch_alter_table('cdrs', schema=None) as batch_op:
        batch_op.drop_index('ix_cdrs_session_sequence')
        batch_op.drop_index('ix_cdrs_created')
        batch_op.drop_index('ix_cdrs_cp_created')

    op.drop_table('cdrs')
    op.drop_table('network_settings')
    op.drop_table('tariffs')
