"""webhook_deliveries.queued_at (the retry horizon counts from it: a redelivery starts anew) and the
index the in-order rule looks up (earlier pending deliveries of one resource)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE webhook_deliveries SET queued_at = created_at')
    op.create_index('ix_webhook_deliveries_resource', 'webhook_deliveries',
                    ['subscription_id', 'resource_key', 'status', 'id'])


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_resource', table_name='webhook_deliveries')
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.drop_column('queued_at')
