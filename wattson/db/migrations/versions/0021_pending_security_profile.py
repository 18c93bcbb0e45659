"""charge_points: the security profile a station is being raised to (admitted beside the stored one
until a connection meets it), the upgrade's state, why it failed and when it last changed

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

COLUMNS = ('pending_security_profile', 'security_upgrade', 'security_upgrade_reason', 'security_upgrade_at')


def upgrade() -> None:
    # Plain add_column, never a batch on SQLite: rebuilding charge_points would fire the ON DELETE
    # CASCADE of every table referencing it.
    op.add_column('charge_points', sa.Column('pending_security_profile', sa.Integer(), nullable=True))
    op.add_column('charge_points', sa.Column('security_upgrade', sa.String(length=16), nullable=True))
    op.add_column('charge_points', sa.Column('security_upgrade_reason', sa.Text(), nullable=True))
    op.add_column('charge_points', sa.Column('security_upgrade_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE on both databases (SQLite 3.35+), as in 0015: no batch copy of charge_points.
    for column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE charge_points DROP COLUMN {column}")
