"""charging_limits: every charging profile the load controller sent (a session's TxProfiles, a
station's fail-safe TxDefaultProfile) with the station's answer and what its composite schedule
said (loadmgmt/limits.py)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'charging_limits',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('charge_point_id', sa.String(length=48), nullable=False),
        sa.Column('evse', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('purpose', sa.String(length=24), nullable=False),
        sa.Column('profile_id', sa.Integer(), nullable=False),
        sa.Column('limit_a', sa.Double(), nullable=False),
        sa.Column('phases', sa.Integer(), nullable=True),
        sa.Column('limit', sa.Double(), nullable=False),
        sa.Column('unit', sa.String(length=1), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('composite_limit', sa.Double(), nullable=True),
        sa.Column('verified', sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'],
                                name=op.f('fk_charging_limits_charge_point_id_charge_points'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'],
                                name=op.f('fk_charging_limits_session_id_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_charging_limits')),
    )
    op.create_index('ix_charging_limits_session', 'charging_limits', ['session_id', 'id'])
    op.create_index('ix_charging_limits_evse', 'charging_limits', ['charge_point_id', 'evse', 'id'])


def downgrade() -> None:
    op.drop_index('ix_charging_limits_evse', table_name='charging_limits')
    op.drop_index('ix_charging_limits_session', table_name='charging_limits')
    op.drop_table('charging_limits')
