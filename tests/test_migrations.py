"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and every revision can be undone and redone: a model change without its migration fails here."""

import json
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from conftest import _postgres_admin, _postgres_database
from wattson.db import Database
from wattson.db.migrate import current, downgrade, upgrade
from wattson.db.models import metadata
from wattson.sessions.meter import unpack
from wattson.settings import async_database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"wattson_migrations_{uuid.uuid4().hex[:8]}"
    url = _postgres_database(name)
    yield url
    _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _differences(db: Database) -> list:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))


async def test_migrations_match_the_models_and_run_both_ways(database_url):
    db = Database(async_database_url(database_url))
    try:
        await upgrade(db)
        head = await current(db)
        assert await _differences(db) == []
        await downgrade(db, "base")
        assert await current(db) is None
        await upgrade(db)
        assert await current(db) == head and await _differences(db) == []
    finally:
        await db.dispose()


OLD_SAMPLES = [  # (timestamp, measurand, value, unit, phase, format), one row each before 0007
    ("2026-03-01 10:00:00", "Energy.Active.Import.Register", "1500", "Wh", None, "Raw"),
    ("2026-03-01 10:00:00", "Current.Import", "16.5", "A", "L1", "Raw"),
    ("2026-03-01 10:00:00", "Current.Import", "16.1", "A", "L2", "Raw"),
    ("2026-03-01 10:01:00", "Energy.Active.Import.Register", "1700", "Wh", None, "Raw"),
    ("2026-03-01 10:01:00", "Energy.Active.Import.Register", "c2lnbmVk", "Wh", None, "SignedData"),
]


async def test_meter_values_migrate_to_one_row_per_instant_and_back(database_url):
    """0007 groups the rows of one instant into one, samples in stored order, and undoing it
    gives the same rows back: no sample is lost either way."""
    db = Database(async_database_url(database_url))
    now = "'2026-03-01 09:00:00'"
    try:
        await upgrade(db, "0007-1")
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO charge_points (id, registration_status, admin_status, "
                                    "security_profile, network_status, created_at, updated_at) "
                                    f"VALUES ('CP-M', 'Accepted', 'enabled', 0, 'offline', {now}, {now})"))
            await conn.execute(text("INSERT INTO sessions (id, charge_point_id, evse, connector, status, started_at, "
                                    "meter_start, energy_wh, created_at, updated_at) "
                                    f"VALUES (7, 'CP-M', 1, 1, 'finished', {now}, 1000, 700, {now}, {now})"))
            for at, measurand, value, unit, phase, fmt in OLD_SAMPLES:
                await conn.execute(text(
                    "INSERT INTO meter_values (session_id, charge_point_id, evse, connector, timestamp, measurand, "
                    "value, numeric, unit, phase, context, location, format, received_at) VALUES (7, 'CP-M', 1, 1, "
                    f"'{at}', :m, :v, NULL, :u, :p, 'Sample.Periodic', 'Outlet', :f, {now})"),
                    {"m": measurand, "v": value, "u": unit, "p": phase, "f": fmt})
        await upgrade(db)
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT timestamp, samples FROM meter_values ORDER BY id"))).all()
        assert len(rows) == 2
        stored = [(at, json.loads(samples) if isinstance(samples, str) else samples) for at, samples in rows]
        samples = [x for at, group in stored for x in unpack(at, group)]
        assert [(x.measurand, x.value, x.unit, x.phase, x.format) for x in samples] == [s[1:] for s in OLD_SAMPLES]
        assert all(x.context == "Sample.Periodic" and x.location == "Outlet" for x in samples)
        await downgrade(db, "0007-1")
        async with db.engine.connect() as conn:
            back = (await conn.execute(text("SELECT measurand, value, unit, phase, format, numeric FROM meter_values "
                                            "ORDER BY id"))).all()
        assert [tuple(r[:5]) for r in back] == [s[1:] for s in OLD_SAMPLES]
        assert [r[5] for r in back] == [1500, 16.5, 16.1, 1700, None]
    finally:
        await db.dispose()


async def test_0006_counts_the_sessions_there_per_day_and_indexes_their_duration(database_url):
    """0006 counts the sessions already stored per UTC start day (the triggers count the ones to
    come) and adds the duration index, which Alembic cannot compare on SQLite: there its SQL is
    checked against the model's. Undoing 0006 drops both."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import insert
    from sqlalchemy.schema import CreateIndex

    from wattson.sessions.models import Session

    db = Database(async_database_url(database_url))
    t0 = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)
    try:
        await upgrade(db, "0005")
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO charge_points (id, registration_status, admin_status, "
                                    "security_profile, network_status, created_at, updated_at) "
                                    "VALUES ('CP-D', 'Accepted', 'enabled', 0, 'offline', '2026-03-01', '2026-03-01')"))
            await conn.execute(insert(Session.__table__), [
                {"charge_point_id": "CP-D", "evse": 1, "connector": 1, "status": "finished", "started_at": t0 + delta,
                 "stopped_at": t0 + delta + timedelta(minutes=5), "meter_start": 0, "energy_wh": 0,
                 "created_at": t0, "updated_at": t0} for delta in (timedelta(0), timedelta(minutes=20),
                                                                   timedelta(minutes=40), timedelta(days=3))])
        await upgrade(db, "0006")
        async with db.engine.connect() as conn:
            days = [(str(day), n) for day, n in await conn.execute(text(
                "SELECT day, sessions FROM session_days ORDER BY day"))]
            if db.dialect == "sqlite":
                created = await conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_sessions_duration'"))
                [index] = [i for i in metadata.tables["sessions"].indexes if i.name == "ix_sessions_duration"]
                assert created == str(CreateIndex(index).compile(dialect=conn.dialect))
        assert days == [("2026-03-01", 2), ("2026-03-02", 1), ("2026-03-04", 1)]
        await downgrade(db, "0005")
        catalog = "sqlite_master WHERE name" if db.dialect == "sqlite" else "pg_class WHERE relname"
        async with db.engine.connect() as conn:
            assert await conn.scalar(text(f"SELECT count(*) FROM {catalog} IN ('session_days', "
                                          "'ix_sessions_duration', 'session_days_insert')")) == 0
    finally:
        await db.dispose()


async def test_expression_indexes_are_the_models_on_sqlite(tmp_path):
    """Alembic cannot compare indexes on expressions on SQLite: their SQL as migrated is the
    model's, so the planner finds them for the query's very expressions."""
    from sqlalchemy.schema import CreateIndex

    db = Database(async_database_url(f"sqlite:///{tmp_path / 'expressions.db'}"))
    try:
        await upgrade(db)
        async with db.engine.connect() as conn:
            for name in ("ix_sessions_duration", "ix_sessions_finished_energy"):
                created = await conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name})
                [index] = [i for i in metadata.tables["sessions"].indexes if i.name == name]
                assert created == str(CreateIndex(index).compile(dialect=conn.dialect))
    finally:
        await db.dispose()
