"""OCPP 2.x transactions (events, sequence numbers, charging state) and the device model

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_variables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('component', sa.String(length=50), nullable=False),
    sa.Column('component_instance', sa.String(length=50), nullable=True),
    sa.Column('evse', sa.Integer(), nullable=True),
    sa.Column('connector', sa.Integer(), nullable=True),
    sa.Column('variable', sa.String(length=50), nullable=False),
    sa.Column('variable_instance', sa.String(length=50), nullable=True),
    sa.Column('attribute_type', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('mutability', sa.String(length=10), nullable=True),
    sa.Column('persistent', sa.Boolean(), nullable=True),
    sa.Column('constant', sa.Boolean(), nullable=True),
    sa.Column('data_type', sa.String(length=20), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('min_limit', sa.Double(), nullable=True),
    sa.Column('max_limit', sa.Double(), nullable=True),
    sa.Column('values_list', sa.Text(), nullable=True),
    sa.Column('supports_monitoring', sa.Boolean(), nullable=True),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_device_variables_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_variables'))
    )
    with op.batch_alter_table('device_variables', schema=None) as batch_op:
        batch_op.create_index('ix_device_variables_key', ['charge_point_id', 'key'], unique=True)

    op.create_table('transaction_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('transaction_id', sa.String(length=36), nullable=False),
    sa.Column('seq_no', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=8), nullable=False),
    sa.Column('trigger_reason', sa.String(length=32), nullable=False),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offline', sa.Boolean(), nullable=False),
    sa.Column('charging_state', sa.String(length=16), nullable=True),
    sa.Column('stopped_reason', sa.String(length=32), nullable=True),
    sa.Column('id_tag', sa.String(length=36), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_transaction_events_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transaction_events'))
    )
    with op.batch_alter_table('transaction_events', schema=None) as batch_op:
        batch_op.create_index('ix_transaction_events_seq', ['charge_point_id', 'transaction_id', 'seq_no'], unique=True)
        batch_op.create_index('ix_transaction_events_session', ['session_id', 'seq_no'], unique=False)

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meter_start_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('start_reason', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('charging_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('remote_start_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_seq_no', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('last_seq_no')
        batch_op.drop_column('remote_start_id')
        batch_op.drop_column('charging_state')
        batch_op.drop_column('start_reason')
        batch_op.drop_column('meter_start_at')

    with op.batch_alter_table('transaction_events', schema=None) as batch_op:
        batch_op.drop_index('ix_transaction_events_session')
        batch_op.drop_index('ix_transaction_events_seq')

    op.drop_table('transaction_events')
    with op.batch_alter_table('device_variables', schema=None) as batch_op:
        batch_op.drop_index('ix_device_variables_key')

    op.drop_table('device_variables')
