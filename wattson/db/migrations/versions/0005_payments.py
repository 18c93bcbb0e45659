"""direct payment: products, payments, payment events, sandbox holds

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sandbox_holds',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.String(length=24), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('captured', sa.String(length=24), nullable=False),
    sa.Column('refunded', sa.String(length=24), nullable=False),
    sa.Column('operations', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_holds')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_sandbox_holds_idempotency_key'))
    )
    op.create_table('payment_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('blocking_value', sa.String(length=24), nullable=False),
    sa.Column('max_duration_min', sa.Integer(), nullable=True),
    sa.Column('max_energy_wh', sa.Integer(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('charge_point_id', sa.String(length=48), nullable=True),
    sa.Column('evse_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_payment_products_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evse_id'], ['evses.id'], name=op.f('fk_payment_products_evse_id_evses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_payment_products_location_id_locations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_products')),
    sa.UniqueConstraint('uid', name=op.f('uq_payment_products_uid'))
    )
    with op.batch_alter_table('payment_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_products_charge_point_id'), ['charge_point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_products_evse_id'), ['evse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_products_location_id'), ['location_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('provider_ref', sa.String(length=64), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('product', sa.JSON(), nullable=False),
    sa.Column('charge_point_id', sa.String(length=48), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=True),
    sa.Column('evse', sa.Integer(), nullable=False),
    sa.Column('evse_code', sa.String(length=48), nullable=True),
    sa.Column('id_tag', sa.String(length=20), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('command_id', sa.String(length=36), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_held', sa.String(length=24), nullable=False),
    sa.Column('amount_captured', sa.String(length=24), nullable=True),
    sa.Column('amount_released', sa.String(length=24), nullable=True),
    sa.Column('amount_refunded', sa.String(length=24), nullable=False),
    sa.Column('cdr_id', sa.Integer(), nullable=True),
    sa.Column('stop_reason', sa.String(length=32), nullable=True),
    sa.Column('failure', sa.String(length=255), nullable=True),
    sa.Column('card', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('start_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('authorized_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'], name=op.f('fk_payments_charge_point_id_charge_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evse_id'], ['evses.id'], name=op.f('fk_payments_evse_id_evses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['payment_products.id'], name=op.f('fk_payments_product_id_payment_products'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_payments_session_id_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('id_tag', name=op.f('uq_payments_id_tag')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payments_idempotency_key')),
    sa.UniqueConstraint('uid', name=op.f('uq_payments_uid'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_charge_point_id'), ['charge_point_id'], unique=False)
        batch_op.create_index('ix_payments_created', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_provider_ref'), ['provider_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_payments_state_updated', ['state', 'updated_at'], unique=False)

    op.create_table('payment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_events_payment_id_payments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_events'))
    )
    with op.batch_alter_table('payment_events', schema=None) as batch_op:
        batch_op.create_index('ix_payment_events_payment', ['payment_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payment_events', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_events_payment')

    op.drop_table('payment_events')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_state_updated')
        batch_op.drop_index(batch_op.f('ix_payments_session_id'))
        batch_op.drop_index(batch_op.f('ix_payments_provider_ref'))
        batch_op.drop_index('ix_payments_created')
        batch_op.drop_index(batch_op.f('ix_payments_charge_point_id'))

    op.drop_table('payments')
    with op.batch_alter_table('payment_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_products_location_id'))
        batch_op.drop_index(batch_op.f('ix_payment_products_evse_id'))
        batch_op.drop_index(batch_op.f('ix_payment_products_charge_point_id'))

    op.drop_table('payment_products')
    op.drop_table('sandbox_holds')
