"""session query at a million sessions: sessions per day, the duration index

``session_days`` counts the sessions started on each UTC day. Triggers on ``sessions`` keep it in
the same transaction as the rows (an insert, a delete, a start moved to another day), so the
session query reads its exact total of all sessions, and where a deep page in start order
begins, from a few hundred rows instead of counting a million index entries. Existing sessions
are counted here.

``ix_sessions_duration`` holds stop − start of finished sessions (the SQL of
``sessions.models.elapsed``), so that the query's sort by duration reads its order from an index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

#: A session's day: the UTC date of its start.
SQLITE_DAY = "date({}.started_at)"
PG_DAY = "({}.started_at AT TIME ZONE 'UTC')::date"

SQLITE_TRIGGERS = [f"""
CREATE TRIGGER session_days_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO session_days (day, sessions) VALUES ({SQLITE_DAY.format('NEW')}, 1)
    ON CONFLICT (day) DO UPDATE SET sessions = sessions + 1;
END""", f"""
CREATE TRIGGER session_days_delete AFTER DELETE ON sessions BEGIN
    UPDATE session_days SET sessions = sessions - 1 WHERE day = {SQLITE_DAY.format('OLD')};
END""", f"""
CREATE TRIGGER session_days_update AFTER UPDATE OF started_at ON sessions
WHEN NEW.started_at <> OLD.started_at AND {SQLITE_DAY.format('NEW')} <> {SQLITE_DAY.format('OLD')} BEGIN
    UPDATE session_days SET sessions = sessions - 1 WHERE day = {SQLITE_DAY.format('OLD')};
    INSERT INTO session_days (day, sessions) VALUES ({SQLITE_DAY.format('NEW')}, 1)
    ON CONFLICT (day) DO UPDATE SET sessions = sessions + 1;
END"""]

# Inserts and deletes once per statement (a bulk load or a cascade is one UPDATE per day, not
# one per row); a start moved to another day (OCPP 2.x events arriving late) once per row.
PG_TRIGGERS = [f"""
CREATE FUNCTION session_days_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO session_days AS d (day, sessions)
    SELECT {PG_DAY.format('added')}, count(*) FROM added GROUP BY 1
    ON CONFLICT (day) DO UPDATE SET sessions = d.sessions + excluded.sessions;
    RETURN NULL;
END $$""", f"""
CREATE FUNCTION session_days_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE session_days AS d SET sessions = d.sessions - gone.n
    FROM (SELECT {PG_DAY.format('removed')} AS day, count(*) AS n FROM removed GROUP BY 1) AS gone
    WHERE d.day = gone.day;
    RETURN NULL;
END $$""", f"""
CREATE FUNCTION session_days_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE session_days SET sessions = sessions - 1 WHERE day = {PG_DAY.format('OLD')};
    INSERT INTO session_days AS d (day, sessions) VALUES ({PG_DAY.format('NEW')}, 1)
    ON CONFLICT (day) DO UPDATE SET sessions = d.sessions + 1;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER session_days_insert AFTER INSERT ON sessions REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION session_days_insert()",
    "CREATE TRIGGER session_days_delete AFTER DELETE ON sessions REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION session_days_delete()",
    "CREATE TRIGGER session_days_update AFTER UPDATE OF started_at ON sessions FOR EACH ROW "
    f"WHEN (NEW.started_at <> OLD.started_at AND {PG_DAY.format('NEW')} <> {PG_DAY.format('OLD')}) "
    "EXECUTE FUNCTION session_days_update()",
]

DURATION = {"sqlite": "(julianday(stopped_at) - julianday(started_at))", "postgresql": "(stopped_at - started_at)"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('session_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_session_days'))
    )
    for statement in PG_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)
    day = (PG_DAY if dialect == "postgresql" else SQLITE_DAY).format("sessions")
    op.execute(f"INSERT INTO session_days (day, sessions) SELECT {day}, count(*) FROM sessions GROUP BY 1")
    op.create_index('ix_sessions_duration', 'sessions', [sa.text(DURATION[dialect]), 'id'], unique=False,
                    sqlite_where=sa.text('stopped_at IS NOT NULL'), postgresql_where=sa.text('stopped_at IS NOT NULL'))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index('ix_sessions_duration', table_name='sessions')
    for name in ("session_days_insert", "session_days_delete", "session_days_update"):
        op.execute(f"DROP TRIGGER {name}" + (" ON sessions" if dialect == "postgresql" else ""))
        if dialect == "postgresql":
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_table('session_days')
