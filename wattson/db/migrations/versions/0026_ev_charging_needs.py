"""ev_charging_needs: what EVs asked for over ISO 15118 (OCPP 2.x NotifyEVChargingNeeds), Wattson's
answer and the schedule it offered, and the EV's own schedule (NotifyEVChargingSchedule)
(loadmgmt/charging_needs.py)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ev_charging_needs',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('charge_point_id', sa.String(length=48), nullable=False),
        sa.Column('evse', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('transfer_mode', sa.String(length=16), nullable=False),
        sa.Column('departure_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('energy_wh', sa.Double(), nullable=True),
        sa.Column('min_current_a', sa.Double(), nullable=True),
        sa.Column('max_current_a', sa.Double(), nullable=True),
        sa.Column('max_voltage_v', sa.Double(), nullable=True),
        sa.Column('max_power_w', sa.Double(), nullable=True),
        sa.Column('max_periods', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('plan', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('command_id', sa.String(length=36), nullable=True),
        sa.Column('profile_status', sa.String(length=20), nullable=True),
        sa.Column('ev_schedule', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('ev_schedule_status', sa.String(length=10), nullable=True),
        sa.Column('ev_schedule_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'],
                                name=op.f('fk_ev_charging_needs_charge_point_id_charge_points'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'],
                                name=op.f('fk_ev_charging_needs_session_id_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ev_charging_needs')),
    )
    op.create_index('ix_ev_charging_needs_session', 'ev_charging_needs', ['session_id', 'id'])
    op.create_index('ix_ev_charging_needs_evse', 'ev_charging_needs', ['charge_point_id', 'evse', 'id'])


def downgrade() -> None:
    op.drop_index('ix_ev_charging_needs_evse', table_name='ev_charging_needs')
    op.drop_index('ix_ev_charging_needs_session', table_name='ev_charging_needs')
    op.drop_table('ev_charging_needs')
