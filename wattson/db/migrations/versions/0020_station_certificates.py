"""station_certificates: one row per certificate a station asked to have signed (SignCertificate),
from the request through the signing to the station's answer to CertificateSigned, and when a
renewal was triggered for it (pki/)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'station_certificates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('charge_point_id', sa.String(length=48), nullable=False),
        sa.Column('certificate_type', sa.String(length=32), nullable=True),
        sa.Column('subject', sa.String(length=500), nullable=True),
        sa.Column('csr', sa.Text(), nullable=True),
        sa.Column('state', sa.String(length=24), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('serial', sa.String(length=64), nullable=True),
        sa.Column('not_before', sa.DateTime(timezone=True), nullable=True),
        sa.Column('not_after', sa.DateTime(timezone=True), nullable=True),
        sa.Column('chain', sa.Text(), nullable=True),
        sa.Column('command_id', sa.String(length=36), nullable=True),
        sa.Column('renewal_triggered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['charge_point_id'], ['charge_points.id'],
                                name=op.f('fk_station_certificates_charge_point_id_charge_points'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_station_certificates')),
    )
    op.create_index('ix_station_certificates_cp', 'station_certificates', ['charge_point_id', 'id'])
    op.create_index('ix_station_certificates_expiry', 'station_certificates', ['state', 'not_after'])
    op.create_index('ix_station_certificates_command', 'station_certificates', ['command_id'])


def downgrade() -> None:
    op.drop_index('ix_station_certificates_command', table_name='station_certificates')
    op.drop_index('ix_station_certificates_expiry', table_name='station_certificates')
    op.drop_index('ix_station_certificates_cp', table_name='station_certificates')
    op.drop_table('station_certificates')
