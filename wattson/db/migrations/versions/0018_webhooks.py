"""webhook_events (the outbox), webhook_subscriptions, webhook_deliveries

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'webhook_events',
        sa.Column('id', BIG_ID, primary_key=True),
        sa.Column('uid', sa.String(length=40), nullable=False, unique=True),
        sa.Column('type', sa.String(length=48), nullable=False),
        sa.Column('resource_id', sa.String(length=64), nullable=False),
        sa.Column('charge_point_id', sa.String(length=48), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(op.f('ix_webhook_events_type'), 'webhook_events', ['type'])
    op.create_index('ix_webhook_events_cp', 'webhook_events', ['charge_point_id', 'id'])
    op.create_table(
        'webhook_subscriptions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('secret', sa.String(length=128), nullable=False),
        sa.Column('previous_secret', sa.String(length=128), nullable=True),
        sa.Column('previous_secret_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('paused_reason', sa.Text(), nullable=True),
        sa.Column('failures_in_a_row', sa.Integer(), nullable=False),
        sa.Column('cursor', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', BIG_ID, primary_key=True),
        sa.Column('subscription_id', sa.Integer(),
                  sa.ForeignKey('webhook_subscriptions.id', ondelete='CASCADE'), nullable=False),
        sa.Column('event_id', BIG_ID, sa.ForeignKey('webhook_events.id', ondelete='CASCADE'), nullable=False),
        sa.Column('resource_key', sa.String(length=120), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('subscription_id', 'event_id'),
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['status', 'next_attempt_at'])
    op.create_index('ix_webhook_deliveries_sub', 'webhook_deliveries', ['subscription_id', 'id'])


def downgrade() -> None:
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_subscriptions')
    op.drop_index('ix_webhook_events_cp', table_name='webhook_events')
    op.drop_index(op.f('ix_webhook_events_type'), table_name='webhook_events')
    op.drop_table('webhook_events')
