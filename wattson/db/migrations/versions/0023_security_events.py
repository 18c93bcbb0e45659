"""security_events: Wattson's own security events (station password and security profile changes
through the API, certificate events), and a partial index listing the stations' reported ones
(station_events of kind security_event) across all stations, newest first (security_events/)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'security_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('charge_point_id', sa.String(length=100), nullable=True),
        sa.Column('type', sa.String(length=50), nullable=False),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_security_events')),
    )
    op.create_index('ix_security_events_recorded', 'security_events', ['recorded_at', 'id'])
    op.create_index('ix_security_events_cp_recorded', 'security_events', ['charge_point_id', 'recorded_at'])
    security = sa.text("kind = 'security_event'")
    op.create_index('ix_station_events_security', 'station_events', ['received_at', 'id'],
                    sqlite_where=security, postgresql_where=security)


def downgrade() -> None:
    op.drop_index('ix_station_events_security', table_name='station_events')
    op.drop_index('ix_security_events_cp_recorded', table_name='security_events')
    op.drop_index('ix_security_events_recorded', table_name='security_events')
    op.drop_table('security_events')
