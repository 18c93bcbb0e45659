"""electricity rates (issue 20): what energy costs the operator, fixed or by time of use
(electricity_rates), assigned to locations (electricity_rate_locations) or the default one
(is_default)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'electricity_rates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('price_per_kwh', sa.String(length=24), nullable=False),
        sa.Column('periods', sa.JSON(), nullable=False),
        sa.Column('time_zone', sa.String(length=64), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
        sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_electricity_rates')),
    )
    op.create_table(
        'electricity_rate_locations',
        sa.Column('rate_id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['rate_id'], ['electricity_rates.id'],
                                name=op.f('fk_electricity_rate_locations_rate_id_electricity_rates'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id'],
                                name=op.f('fk_electricity_rate_locations_location_id_locations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('rate_id', 'location_id', name=op.f('pk_electricity_rate_locations')),
    )
    op.create_index(op.f('ix_electricity_rate_locations_location_id'), 'electricity_rate_locations', ['location_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_electricity_rate_locations_location_id'), table_name='electricity_rate_locations')
    op.drop_table('electricity_rate_locations')
    op.drop_table('electricity_rates')
