"""sessions: an index on (id_tag, started_at) for the session query's tag filter

Like the charger, driver and site filters, a page of a few tags' sessions in start order is then
read from one index. Without it PostgreSQL sometimes chose to walk the start index backwards
until 50 of the tags' sessions turned up: 130 ms at 1,000,000 sessions instead of 17.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_sessions_tag_started', 'sessions', ['id_tag', 'started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sessions_tag_started', table_name='sessions')
