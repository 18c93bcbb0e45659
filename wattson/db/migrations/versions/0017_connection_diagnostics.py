"""connection_events: refused handshakes (and why), connections and disconnects, per station

For the installer asking why a station cannot connect (docs/operations.md): each row is a run of
one outcome (station as given, kind, reason, address, close code), counted, with its first and
last time. No foreign key to charge_points: most refused identities are unknown ones.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'connection_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('charge_point_id', sa.String(length=100), nullable=True),
        sa.Column('known', sa.Boolean(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('remote_address', sa.String(length=64), nullable=False),
        sa.Column('tls', sa.Boolean(), nullable=False),
        sa.Column('subprotocols', sa.JSON(), nullable=False),
        sa.Column('close_code', sa.Integer(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('node_id', sa.String(length=80), nullable=True),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_connection_events')),
    )
    op.create_index('ix_connection_events_cp_last', 'connection_events', ['charge_point_id', 'last_at'])
    op.create_index('ix_connection_events_last_at', 'connection_events', ['last_at'])


def downgrade() -> None:
    op.drop_index('ix_connection_events_last_at', table_name='connection_events')
    op.drop_index('ix_connection_events_cp_last', table_name='connection_events')
    op.drop_table('connection_events')
