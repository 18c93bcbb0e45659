"""charge_points.node_id: which Wattson process holds the station's connection; nodes.role, tls, client_ca

With several gateway processes on one database (and a bus), a station is online through one of
them; when that process dies its stations are shown offline once its lease runs out, and a late
disconnect seen by a process that no longer holds the station changes nothing (``cluster/``).
An API process learns from the gateways' rows whether stations can use security profiles 2 and 3.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('charge_points', sa.Column('node_id', sa.String(length=80), nullable=True))
    op.create_index(op.f('ix_charge_points_node_id'), 'charge_points', ['node_id'])
    op.add_column('nodes', sa.Column('role', sa.String(length=16), nullable=False, server_default='all'))
    op.add_column('nodes', sa.Column('tls', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('nodes', sa.Column('client_ca', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for column in ('client_ca', 'tls', 'role'):
        op.execute(f"ALTER TABLE nodes DROP COLUMN {column}")
    op.drop_index(op.f('ix_charge_points_node_id'), table_name='charge_points')
    # Plain ALTER TABLE on both databases (SQLite 3.35+): a batch copy of charge_points would
    # drop the old table, and with it, through ON DELETE CASCADE, every row that refers to it.
    op.execute("ALTER TABLE charge_points DROP COLUMN node_id")
