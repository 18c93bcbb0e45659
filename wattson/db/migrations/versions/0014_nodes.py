"""nodes: the Wattson processes using the database, each with a lease it renews

Two processes on one database without a bus corrupt each other's view of the stations (each
marks all stations offline at start-up, and holds only its own connections): a process now
refuses to start beside another live one (``cluster/nodes.py``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'nodes',
        sa.Column('id', sa.String(length=80), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('bus', sa.Boolean(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_nodes')),
    )


def downgrade() -> None:
    op.drop_table('nodes')
