"""meter values: one index entry per row, not two

Every meter value row went into two indexes, by session and by station. A batch of 100 stations'
readings therefore dirtied a leaf page per station in each, and SQLite writes every dirty page to
its log at each commit: the station index cost as much as the rest of the row (bench/RESULTS.md).
No query reads meter values by station; the index was there for the cascade of the station's
foreign key. A station with sessions is never deleted, and its readings in sessions go with them;
so the foreign key goes, and a partial index finds the readings outside any session, which
``StationService.delete`` removes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FOREIGN_KEY = 'fk_meter_values_charge_point_id_charge_points'
UNASSIGNED = sa.text('session_id IS NULL')


def upgrade() -> None:
    op.drop_index('ix_meter_values_cp_time', table_name='meter_values')
    # SQLite drops a constraint by copying the table. Only this table is reflected: following its
    # foreign keys would reflect sessions too, whose expression indexes SQLAlchemy cannot read (a
    # warning on every fresh database, for a table this copy never touches).
    with op.batch_alter_table('meter_values', reflect_kwargs={'resolve_fks': False}) as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_='foreignkey')
    op.create_index('ix_meter_values_cp_unassigned', 'meter_values', ['charge_point_id', 'timestamp'], unique=False,
                    sqlite_where=UNASSIGNED, postgresql_where=UNASSIGNED)


def downgrade() -> None:
    op.drop_index('ix_meter_values_cp_unassigned', table_name='meter_values')
    op.execute('DELETE FROM meter_values WHERE charge_point_id NOT IN (SELECT id FROM charge_points)')
    with op.batch_alter_table('meter_values') as batch_op:
        batch_op.create_foreign_key(FOREIGN_KEY, 'charge_points', ['charge_point_id'], ['id'], ondelete='CASCADE')
    op.create_index('ix_meter_values_cp_time', 'meter_values', ['charge_point_id', 'timestamp'], unique=False)
