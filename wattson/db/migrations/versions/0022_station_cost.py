"""station_cost_updates: the running cost last sent to a station for each session and when its
final cost went; station_cost_refusals: stations that answered a cost message NotSupported or
NotImplemented (station_cost/)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'station_cost_updates',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('energy_wh', sa.BigInteger(), nullable=False),
        sa.Column('total', sa.String(length=24), nullable=True),
        sa.Column('final_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'],
                                name=op.f('fk_station_cost_updates_session_id_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_station_cost_updates')),
    )
    op.create_table(
        'station_cost_refusals',
        sa.Column('charge_point_id', sa.String(length=48), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('error_code', sa.String(length=40), nullable=False),
        sa.Column('refused_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'],
                                name=op.f('fk_station_cost_refusals_charge_point_id_charge_points'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('charge_point_id', name=op.f('pk_station_cost_refusals')),
    )


def downgrade() -> None:
    op.drop_table('station_cost_refusals')
    op.drop_table('station_cost_updates')
