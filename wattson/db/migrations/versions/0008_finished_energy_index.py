"""sessions: sort by energy from the finished sessions' readings, not the live energy_wh

The index on (energy_wh, id) made every live energy update of a running session a write of a new
entry into every index of ``sessions`` on PostgreSQL (an update of an indexed column is never a
HOT update). Finished sessions are now sorted from an index on the energy of their start and stop
readings (equal to their energy_wh), and the few active ones apart (``sessions/query.py``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

#: ``energy_between`` of the readings (no stop reading, or one below the start, is zero), as
#: ``sessions.models.finished_energy`` compiles it.
FINISHED_ENERGY = {"postgresql": "GREATEST(meter_stop - meter_start, 0)",
                   "sqlite": "max(coalesce(meter_stop - meter_start, 0), 0)"}


def upgrade() -> None:
    op.drop_index('ix_sessions_energy', table_name='sessions')
    op.create_index('ix_sessions_finished_energy', 'sessions', [sa.text(FINISHED_ENERGY[op.get_bind().dialect.name]), 'id'], unique=False,
                    sqlite_where=sa.text('stopped_at IS NOT NULL'), postgresql_where=sa.text('stopped_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_sessions_finished_energy', table_name='sessions')
    op.create_index('ix_sessions_energy', 'sessions', ['energy_wh', 'id'], unique=False)
