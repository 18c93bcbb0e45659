"""transaction events: one index, unique by session and sequence number

Events had two indexes, unique by (station, transaction id, seqNo) and by (session, seqNo). A
session is one (station, transaction id), so one unique index by (session, seqNo) says the same,
and each index costs a page written per transaction per batch (as meter values did, 0010).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_transaction_events_session_seq', 'transaction_events', ['session_id', 'seq_no'], unique=True)
    op.drop_index('ix_transaction_events_session', table_name='transaction_events')
    op.drop_index('ix_transaction_events_seq', table_name='transaction_events')


def downgrade() -> None:
    op.create_index('ix_transaction_events_seq', 'transaction_events', ['charge_point_id', 'transaction_id', 'seq_no'],
                    unique=True)
    op.create_index('ix_transaction_events_session', 'transaction_events', ['session_id', 'seq_no'], unique=False)
    op.drop_index('ix_transaction_events_session_seq', table_name='transaction_events')
