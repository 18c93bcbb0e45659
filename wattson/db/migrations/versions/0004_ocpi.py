"""OCPI 2.2.1: partners, their tokens, roaming authorisations, push outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ocpi_partners',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('party_id', sa.String(length=3), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('remote_token', sa.String(length=64), nullable=True),
    sa.Column('encode_token', sa.Boolean(), nullable=False),
    sa.Column('versions_url', sa.String(length=255), nullable=True),
    sa.Column('version', sa.String(length=8), nullable=True),
    sa.Column('endpoints', sa.JSON(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_partners')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_ocpi_partners_token_hash'))
    )
    op.create_table('ocpi_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('module', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('object_key', sa.String(length=64), nullable=True),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['ocpi_partners.id'], name=op.f('fk_ocpi_outbox_partner_id_ocpi_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_outbox'))
    )
    op.create_index('ix_ocpi_outbox_due', 'ocpi_outbox', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_ocpi_outbox_partner', 'ocpi_outbox', ['partner_id', 'status', 'id'], unique=False)
    op.create_table('ocpi_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('party_id', sa.String(length=3), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('contract_id', sa.String(length=36), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('whitelist', sa.String(length=16), nullable=False),
    sa.Column('group_id', sa.String(length=36), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['ocpi_partners.id'], name=op.f('fk_ocpi_tokens_partner_id_ocpi_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_tokens')),
    sa.UniqueConstraint('country_code', 'party_id', 'uid', 'type', name=op.f('uq_ocpi_tokens_country_code'))
    )
    op.create_index(op.f('ix_ocpi_tokens_partner_id'), 'ocpi_tokens', ['partner_id'], unique=False)
    op.create_index('ix_ocpi_tokens_uid', 'ocpi_tokens', ['uid'], unique=False)
    op.create_table('ocpi_authorizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('party_id', sa.String(length=3), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('token_type', sa.String(length=16), nullable=False),
    sa.Column('contract_id', sa.String(length=36), nullable=False),
    sa.Column('auth_method', sa.String(length=16), nullable=False),
    sa.Column('authorization_reference', sa.String(length=36), nullable=True),
    sa.Column('charge_point_id', sa.String(length=48), nullable=True),
    sa.Column('reservation_ref', sa.String(length=36), nullable=True),
    sa.Column('reservation_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['ocpi_partners.id'], name=op.f('fk_ocpi_authorizations_partner_id_ocpi_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_ocpi_authorizations_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_authorizations')),
    sa.UniqueConstraint('session_id', name=op.f('uq_ocpi_authorizations_session_id'))
    )
    op.create_index(op.f('ix_ocpi_authorizations_partner_id'), 'ocpi_authorizations', ['partner_id'], unique=False)
    op.create_index('ix_ocpi_authorizations_uid', 'ocpi_authorizations', ['uid', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ocpi_authorizations_uid', table_name='ocpi_authorizations')
    op.drop_index(op.f('ix_ocpi_authorizations_partner_id'), table_name='ocpi_authorizations')
    op.drop_table('ocpi_authorizations')
    op.drop_index('ix_ocpi_tokens_uid', table_name='ocpi_tokens')
    op.drop_index(op.f('ix_ocpi_tokens_partner_id'), table_name='ocpi_tokens')
    op.drop_table('ocpi_tokens')
    op.drop_index('ix_ocpi_outbox_partner', table_name='ocpi_outbox')
    op.drop_index('ix_ocpi_outbox_due', table_name='ocpi_outbox')
    op.drop_table('ocpi_outbox')
    op.drop_table('ocpi_partners')
