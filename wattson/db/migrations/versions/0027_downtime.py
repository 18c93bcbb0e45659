"""downtime: periods entered by hand per charge point or EVSE, the notices drivers see and what
they are about, and a partial index of the down status reports the computed periods start from
(downtime/)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'downtime_periods',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('charge_point_id', sa.String(length=48), nullable=False),
        sa.Column('evse_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('planned', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'],
                                name=op.f('fk_downtime_periods_charge_point_id_charge_points'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['evse_id'], ['evses.id'], name=op.f('fk_downtime_periods_evse_id_evses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_downtime_periods')),
    )
    op.create_index(op.f('ix_downtime_periods_evse_id'), 'downtime_periods', ['evse_id'])
    op.create_index('ix_downtime_periods_cp_starts', 'downtime_periods', ['charge_point_id', 'starts_at'])
    op.create_index('ix_downtime_periods_starts', 'downtime_periods', ['starts_at', 'id'])
    op.create_table(
        'downtime_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('messages', sa.JSON(), nullable=False),
        sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
        sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_downtime_notices')),
    )
    op.create_index('ix_downtime_notices_from', 'downtime_notices', ['valid_from', 'id'])
    op.create_table(
        'downtime_notice_targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('charge_point_id', sa.String(length=48), nullable=True),
        sa.Column('location_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['notice_id'], ['downtime_notices.id'],
                                name=op.f('fk_downtime_notice_targets_notice_id_downtime_notices'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'],
                                name=op.f('fk_downtime_notice_targets_charge_point_id_charge_points'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'],
                                name=op.f('fk_downtime_notice_targets_location_id_locations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_downtime_notice_targets')),
    )
    for column in ('notice_id', 'charge_point_id', 'location_id'):
        op.create_index(op.f(f'ix_downtime_notice_targets_{column}'), 'downtime_notice_targets', [column])
    down = sa.text("status IN ('Faulted', 'Unavailable')")
    op.create_index('ix_status_events_down', 'status_events', ['charge_point_id', 'timestamp'],
                    sqlite_where=down, postgresql_where=down)


def downgrade() -> None:
    op.drop_index('ix_status_events_down', table_name='status_events')
    op.drop_table('downtime_notice_targets')
    op.drop_table('downtime_notices')
    op.drop_table('downtime_periods')
