"""meter values: stored once, by a digest of the row

An OCPP 1.6 station that got no answer (a timeout, a server killed after its commit) resends the
same MeterValues, and 1.6 has no sequence number to recognise it by. Each row now carries a
64-bit digest of its session (or station), EVSE, connector, instant and samples, and the two
indexes every row is already in become unique with it: a repeat is skipped by ``ON CONFLICT DO
NOTHING``, at no extra index per row. Rows stored before have no digest and stay as they are.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

UNASSIGNED = sa.text("session_id IS NULL")


def _indexes(columns: list[str], unique: bool) -> None:
    op.create_index('ix_meter_values_session_time', 'meter_values', ['session_id', 'timestamp', *columns],
                    unique=unique)
    op.create_index('ix_meter_values_cp_unassigned', 'meter_values', ['charge_point_id', 'timestamp', *columns],
                    unique=unique, sqlite_where=UNASSIGNED, postgresql_where=UNASSIGNED)


def _drop_indexes() -> None:
    op.drop_index('ix_meter_values_session_time', table_name='meter_values')
    op.drop_index('ix_meter_values_cp_unassigned', table_name='meter_values')


def upgrade() -> None:
    op.add_column('meter_values', sa.Column('digest', sa.BigInteger(), nullable=True))
    _drop_indexes()
    _indexes(['digest'], unique=True)


def downgrade() -> None:
    _drop_indexes()
    _indexes([], unique=False)
    with op.batch_alter_table('meter_values') as batch:
        batch.drop_column('digest')
