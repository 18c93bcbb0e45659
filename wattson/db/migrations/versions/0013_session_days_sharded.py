"""session days: one counter row per day and connection on PostgreSQL

Every session started on a day added one to that day's single row, and held the row's lock
until its transaction committed: when a thousand stations start at once (a depot's power comes
back), every start of the day waited for the one before it. The count is now kept in shards:
on PostgreSQL the trigger adds to the row of (day, its backend's pid modulo 64), so the pool's
connections each write their own row and never wait for each other; a delete or a moved start
adds a negative count the same way. Readers add a day's shards up (``sessions/query.py``).
SQLite has one writer at a time and keeps shard 0.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

SQLITE_DAY = "date({}.started_at)"
PG_DAY = "({}.started_at AT TIME ZONE 'UTC')::date"
#: The shard a PostgreSQL connection writes: a pool's connections have distinct backends.
PG_SHARD = "(pg_backend_pid() % 64)::smallint"


def pg_functions(sharded: bool) -> list[str]:
    """The trigger functions: each adds its count to (day, shard), or to the day's one row."""
    shard, key = (f", {PG_SHARD}", "(day, shard)") if sharded else ("", "(day)")
    add = (f"INSERT INTO session_days AS d (day{', shard' if sharded else ''}, sessions) {{rows}} "
           f"ON CONFLICT {key} DO UPDATE SET sessions = d.sessions + excluded.sessions")
    bodies = {
        "insert": add.format(rows=f"SELECT {PG_DAY.format('added')}{shard}, count(*) FROM added GROUP BY 1"),
        "delete": add.format(rows=f"SELECT {PG_DAY.format('removed')}{shard}, -count(*) FROM removed GROUP BY 1"),
        "update": add.format(rows=f"VALUES ({PG_DAY.format('OLD')}{shard}, -1), ({PG_DAY.format('NEW')}{shard}, 1)"),
    }
    return [f"CREATE OR REPLACE FUNCTION session_days_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n    {body};\n    RETURN NULL;\nEND $$" for name, body in bodies.items()]


def sqlite_triggers(sharded: bool) -> list[str]:
    """The triggers, each adding its count to the day's row (shard 0)."""
    columns, values, key = ("day, shard", "{day}, 0", "(day, shard)") if sharded else ("day", "{day}", "(day)")
    add = (f"INSERT INTO session_days ({columns}, sessions) VALUES ({values}, {{n}}) "
           f"ON CONFLICT {key} DO UPDATE SET sessions = sessions + excluded.sessions;")
    new, old = SQLITE_DAY.format("NEW"), SQLITE_DAY.format("OLD")
    return [f"CREATE TRIGGER session_days_insert AFTER INSERT ON sessions BEGIN\n    "
            f"{add.format(day=new, n=1)}\nEND",
            f"CREATE TRIGGER session_days_delete AFTER DELETE ON sessions BEGIN\n    "
            f"{add.format(day=old, n=-1)}\nEND",
            f"CREATE TRIGGER session_days_update AFTER UPDATE OF started_at ON sessions\n"
            f"WHEN NEW.started_at <> OLD.started_at AND {new} <> {old} BEGIN\n    "
            f"{add.format(day=old, n=-1)}\n    {add.format(day=new, n=1)}\nEND"]


TRIGGERS = ("session_days_insert", "session_days_delete", "session_days_update")


def upgrade() -> None:
    _rebuild(sharded=True)


def downgrade() -> None:
    _rebuild(sharded=False)


def _rebuild(sharded: bool) -> None:
    """The table made again with or without shards, its counts kept (summed per day when the
    shards go), and on SQLite the triggers that name its key."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.rename_table('session_days', 'session_days_old')
    if dialect == "postgresql":
        op.execute("ALTER TABLE session_days_old RENAME CONSTRAINT pk_session_days TO pk_session_days_old")
    columns = [sa.Column('day', sa.Date(), nullable=False)]
    if sharded:
        columns.append(sa.Column('shard', sa.SmallInteger(), nullable=False))
    op.create_table('session_days', *columns, sa.Column('sessions', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('day', *(['shard'] if sharded else []), name=op.f('pk_session_days')))
    if sharded:
        op.execute("INSERT INTO session_days (day, shard, sessions) SELECT day, 0, sessions FROM session_days_old")
    else:
        op.execute("INSERT INTO session_days (day, sessions) SELECT day, sum(sessions) FROM session_days_old "
                   "GROUP BY day")
    op.drop_table('session_days_old')
    for statement in pg_functions(sharded) if dialect == "postgresql" else sqlite_triggers(sharded):
        op.execute(statement)
