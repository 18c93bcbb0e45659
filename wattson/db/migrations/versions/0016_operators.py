"""operators and operator_sessions: accounts for the dashboard and their login sessions

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'operators',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('email', sa.String(length=254), nullable=False, unique=True),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('password_hash', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        'operator_sessions',
        sa.Column('token_hash', sa.String(length=64), primary_key=True),
        sa.Column('operator_id', sa.Integer(), sa.ForeignKey('operators.id', ondelete='CASCADE'), nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(op.f('ix_operator_sessions_operator_id'), 'operator_sessions', ['operator_id'])
    op.create_index(op.f('ix_operator_sessions_expires_at'), 'operator_sessions', ['expires_at'])


def downgrade() -> None:
    op.drop_table('operator_sessions')
    op.drop_table('operators')
