"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_prefix'), ['prefix'], unique=False)

    op.create_table('charger_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charger_groups'))
    )
    op.create_table('driver_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_driver_groups'))
    )
    op.create_table('locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('street', sa.String(length=255), nullable=True),
    sa.Column('house_number', sa.String(length=20), nullable=True),
    sa.Column('building_number', sa.String(length=20), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('opening_hours', sa.JSON(), nullable=True),
    sa.Column('parking_type', sa.String(length=32), nullable=True),
    sa.Column('publish', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations'))
    )
    op.create_table('access_rights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('driver_group_id', sa.Integer(), nullable=False),
    sa.Column('charger_group_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charger_group_id'], ['charger_groups.id'], name=op.f('fk_access_rights_charger_group_id_charger_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['driver_group_id'], ['driver_groups.id'], name=op.f('fk_access_rights_driver_group_id_driver_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_rights')),
    sa.UniqueConstraint('driver_group_id', 'charger_group_id', name=op.f('uq_access_rights_driver_group_id'))
    )
    with op.batch_alter_table('access_rights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_rights_charger_group_id'), ['charger_group_id'], unique=False)

    op.create_table('charge_points',
    sa.Column('id', sa.String(length=48), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('registration_status', sa.String(length=16), nullable=False),
    sa.Column('admin_status', sa.String(length=16), nullable=False),
    sa.Column('security_profile', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=128), nullable=True),
    sa.Column('ocpp_version', sa.String(length=8), nullable=True),
    sa.Column('vendor', sa.String(length=50), nullable=True),
    sa.Column('model', sa.String(length=50), nullable=True),
    sa.Column('serial_number', sa.String(length=50), nullable=True),
    sa.Column('firmware_version', sa.String(length=50), nullable=True),
    sa.Column('boot_info', sa.JSON(), nullable=True),
    sa.Column('booted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hardware_status', sa.String(length=32), nullable=True),
    sa.Column('error_code', sa.String(length=50), nullable=True),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('network_status', sa.String(length=16), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('firmware_status', sa.String(length=32), nullable=True),
    sa.Column('diagnostics_status', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_charge_points_location_id_locations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charge_points'))
    )
    with op.batch_alter_table('charge_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charge_points_location_id'), ['location_id'], unique=False)

    op.create_table('drivers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('home_group_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['home_group_id'], ['driver_groups.id'], name=op.f('fk_drivers_home_group_id_driver_groups'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drivers'))
    )
    with op.batch_alter_table('drivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drivers_home_group_id'), ['home_group_id'], unique=False)

    op.create_table('charger_group_members',
    sa.Column('charger_group_id', sa.Integer(), nullable=False),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_charger_group_members_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['charger_group_id'], ['charger_groups.id'], name=op.f('fk_charger_group_members_charger_group_id_charger_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('charger_group_id', 'charge_point_id', name=op.f('pk_charger_group_members'))
    )
    with op.batch_alter_table('charger_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charger_group_members_charge_point_id'), ['charge_point_id'], unique=False)

    op.create_table('commands',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=True),
    sa.Column('request', sa.JSON(), nullable=True),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=True),
    sa.Column('error_code', sa.String(length=50), nullable=True),
    sa.Column('error_description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_commands_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commands'))
    )
    with op.batch_alter_table('commands', schema=None) as batch_op:
        batch_op.create_index('ix_commands_cp_created', ['charge_point_id', 'created_at'], unique=False)

    op.create_table('evses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('evse_id', sa.String(length=48), nullable=True),
    sa.Column('evse_code', sa.String(length=48), nullable=True),
    sa.Column('physical_reference', sa.String(length=16), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('current_type', sa.String(length=2), nullable=True),
    sa.Column('max_power_w', sa.Integer(), nullable=True),
    sa.Column('max_voltage_v', sa.Integer(), nullable=True),
    sa.Column('max_amperage_a', sa.Integer(), nullable=True),
    sa.Column('phases', sa.Integer(), nullable=True),
    sa.Column('admin_status', sa.String(length=16), nullable=False),
    sa.Column('allows_reservation', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_evses_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evses')),
    sa.UniqueConstraint('charge_point_id', 'number', name=op.f('uq_evses_charge_point_id')),
    sa.UniqueConstraint('evse_code', name=op.f('uq_evses_evse_code'))
    )
    op.create_table('id_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parent_id_tag', sa.String(length=36), nullable=True),
    sa.Column('visual_number', sa.String(length=64), nullable=True),
    sa.Column('invoicable', sa.Boolean(), nullable=False),
    sa.Column('driver_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['driver_id'], ['drivers.id'], name=op.f('fk_id_tokens_driver_id_drivers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_id_tokens')),
    sa.UniqueConstraint('uid', name=op.f('uq_id_tokens_uid'))
    )
    with op.batch_alter_table('id_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_id_tokens_driver_id'), ['driver_id'], unique=False)

    op.create_table('station_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_station_events_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_station_events'))
    )
    with op.batch_alter_table('station_events', schema=None) as batch_op:
        batch_op.create_index('ix_station_events_cp_time', ['charge_point_id', 'received_at'], unique=False)

    op.create_table('status_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('evse', sa.Integer(), nullable=True),
    sa.Column('connector', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('error_code', sa.String(length=50), nullable=True),
    sa.Column('info', sa.String(length=255), nullable=True),
    sa.Column('vendor_id', sa.String(length=255), nullable=True),
    sa.Column('vendor_error_code', sa.String(length=50), nullable=True),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_status_events_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_events'))
    )
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.create_index('ix_status_events_cp_time', ['charge_point_id', 'timestamp'], unique=False)

    op.create_table('connectors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('standard', sa.String(length=32), nullable=True),
    sa.Column('format', sa.String(length=8), nullable=True),
    sa.Column('power_type', sa.String(length=16), nullable=True),
    sa.Column('hardware_status', sa.String(length=32), nullable=True),
    sa.Column('error_code', sa.String(length=50), nullable=True),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['evse_id'], ['evses.id'], name=op.f('fk_connectors_evse_id_evses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connectors')),
    sa.UniqueConstraint('evse_id', 'number', name=op.f('uq_connectors_evse_id'))
    )
    op.create_table('sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=True),
    sa.Column('evse', sa.Integer(), nullable=False),
    sa.Column('connector', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.String(length=36), nullable=True),
    sa.Column('id_tag', sa.String(length=36), nullable=True),
    sa.Column('driver_id', sa.Integer(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('auth_status', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('meter_start', sa.BigInteger(), nullable=False),
    sa.Column('meter_stop', sa.BigInteger(), nullable=True),
    sa.Column('meter_last', sa.BigInteger(), nullable=True),
    sa.Column('meter_last_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('energy_wh', sa.BigInteger(), nullable=False),
    sa.Column('stop_reason', sa.String(length=32), nullable=True),
    sa.Column('stop_id_tag', sa.String(length=36), nullable=True),
    sa.Column('reservation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_sessions_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['driver_id'], ['drivers.id'], name=op.f('fk_sessions_driver_id_drivers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['evse_id'], ['evses.id'], name=op.f('fk_sessions_evse_id_evses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_sessions_location_id_locations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_cp_started', ['charge_point_id', 'started_at'], unique=False)
        batch_op.create_index('ix_sessions_cp_tx', ['charge_point_id', 'transaction_id'], unique=True)
        batch_op.create_index('ix_sessions_driver_started', ['driver_id', 'started_at'], unique=False)
        batch_op.create_index('ix_sessions_energy', ['energy_wh', 'id'], unique=False)
        batch_op.create_index('ix_sessions_id_tag_status', ['id_tag', 'status'], unique=False)
        batch_op.create_index('ix_sessions_location_started', ['location_id', 'started_at'], unique=False)
        batch_op.create_index('ix_sessions_started', ['started_at', 'id'], unique=False)
        batch_op.create_index('ix_sessions_stopped', ['stopped_at', 'started_at'], unique=False)

    op.create_table('meter_values',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('evse', sa.Integer(), nullable=False),
    sa.Column('connector', sa.Integer(), nullable=True),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('measurand', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('numeric', sa.Double(), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('phase', sa.String(length=8), nullable=True),
    sa.Column('context', sa.String(length=32), nullable=True),
    sa.Column('location', sa.String(length=8), nullable=True),
    sa.Column('format', sa.String(length=16), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_meter_values_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_meter_values_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meter_values'))
    )
    with op.batch_alter_table('meter_values', schema=None) as batch_op:
        batch_op.create_index('ix_meter_values_cp_time', ['charge_point_id', 'timestamp'], unique=False)
        batch_op.create_index('ix_meter_values_session_time', ['session_id', 'timestamp'], unique=False)

    op.create_table('reservations',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('evse', sa.Integer(), nullable=False),
    sa.Column('id_tag', sa.String(length=36), nullable=False),
    sa.Column('parent_id_tag', sa.String(length=36), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('command_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_reservations_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_reservations_session_id_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations'))
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index('ix_reservations_cp_created', ['charge_point_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_reservations_cp_created')

    op.drop_table('reservations')
    with op.batch_alter_table('meter_values', schema=None) as batch_op:
        batch_op.drop_index('ix_meter_values_session_time')
        batch_op.drop_index('ix_meter_values_cp_time')

    op.drop_table('meter_values')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_stopped')
        batch_op.drop_index('ix_sessions_started')
        batch_op.drop_index('ix_sessions_location_started')
        batch_op.drop_index('ix_sessions_id_tag_status')
        batch_op.drop_index('ix_sessions_energy')
        batch_op.drop_index('ix_sessions_driver_started')
        batch_op.drop_index('ix_sessions_cp_tx')
        batch_op.drop_index('ix_sessions_cp_started')

    op.drop_table('sessions')
    op.drop_table('connectors')
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_index('ix_status_events_cp_time')

    op.drop_table('status_events')
    with op.batch_alter_table('station_events', schema=None) as batch_op:
        batch_op.drop_index('ix_station_events_cp_time')

    op.drop_table('station_events')
    with op.batch_alter_table('id_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_id_tokens_driver_id'))

    op.drop_table('id_tokens')
    op.drop_table('evses')
    with op.batch_alter_table('commands', schema=None) as batch_op:
        batch_op.drop_index('ix_commands_cp_created')

    op.drop_table('commands')
    with op.batch_alter_table('charger_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charger_group_members_charge_point_id'))

    op.drop_table('charger_group_members')
    with op.batch_alter_table('drivers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drivers_home_group_id'))

    op.drop_table('drivers')
    with op.batch_alter_table('charge_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charge_points_location_id'))

    op.drop_table('charge_points')
    with op.batch_alter_table('access_rights', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_rights_charger_group_id'))

    op.drop_table('access_rights')
    op.drop_table('locations')
    op.drop_table('driver_groups')
    op.drop_table('charger_groups')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_prefix'))

    op.drop_table('api_keys')
