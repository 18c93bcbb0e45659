"""The database layer's own machinery: SQLite checkpoints beside the writer, work on SQLite's driver
thread, and the group commit's batches and plans on PostgreSQL."""

import asyncio
import sqlite3
import threading
import uuid

import pytest
from sqlalchemy import text

from conftest import READY_BOUND_S, _postgres_admin, _postgres_database
from wattson.db import Database
from wattson.db import checkpoint, engine
from wattson.db.engine import on_sqlite_thread
from wattson.db.group_commit import GroupCommit
from wattson.settings import async_database_url


async def test_checkpoints_run_beside_the_writer(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "IDLE_INTERVAL", 0.05)
    path = tmp_path / "wal.db"
    db = Database(async_database_url(f"sqlite:///{path}"))
    try:
        async with db.engine.begin() as conn:
            assert (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == checkpoint.BACKSTOP_PAGES
            assert (await conn.exec_driver_sql("PRAGMA journal_size_limit")).scalar() == checkpoint.LOG_SIZE_LIMIT
            await conn.exec_driver_sql("CREATE TABLE t (x TEXT)")
        db.start()
        for _ in range(40):  # commits well under the backstop: only the checkpointer copies them
            async with db.engine.begin() as conn:
                await conn.exec_driver_sql("INSERT INTO t VALUES (?)", [(str(i) * 50,) for i in range(50)])
            await asyncio.sleep(0.01)
        for _ in range(int(READY_BOUND_S / 0.02)):
            if db.checkpointer.passes >= 2:
                break
            await asyncio.sleep(0.02)
        assert db.checkpointer.passes >= 2
        assert path.stat().st_size > 100_000  # the rows were copied from the log into the file
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT count(*) FROM t").fetchone() == (2000,)
    finally:
        await db.dispose()
    assert db.checkpointer._task is None  # stopped with the engine


async def test_checkpoints_survive_a_missing_file(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(checkpoint, "IDLE_INTERVAL", 0.01)
    checkpointer = checkpoint.WalCheckpointer(str(tmp_path / "gone" / "wal.db"))
    checkpointer.start()
    for _ in range(int(READY_BOUND_S / 0.01)):
        if caplog.text.count("WAL checkpoint failed") >= 2:
            break
        await asyncio.sleep(0.01)
    await checkpointer.stop()
    assert caplog.text.count("WAL checkpoint failed") >= 2  # logged and retried, not a dead task


class _Probe(GroupCommit):
    """Answers each item with the plan mode its connection had while writing."""

    raw_postgres = True

    async def _write_postgres(self, pg, items: list, changes: set) -> list:
        mode = await pg.fetchval("SHOW plan_cache_mode")
        return [mode] * len(items)


@pytest.fixture
def postgres_url():
    name = f"wattson_db_{uuid.uuid4().hex[:8]}"
    yield _postgres_database(name)
    _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_the_writer_reuses_plans_and_gives_back_its_connection_as_it_found_it(postgres_url):
    db = Database(async_database_url(postgres_url))
    try:
        assert await asyncio.gather(*(_Probe(db).submit(i) for i in range(3))) == ["auto"] * 3
        for _ in range(3):  # whichever pooled connection comes next plans each query for its values
            async with db.engine.connect() as conn:
                assert (await conn.execute(text("SHOW plan_cache_mode"))).scalar() == "force_custom_plan"
    finally:
        await db.dispose()


class _Sizes(GroupCommit):
    """Answers each item with the size of the batch it was written in."""

    raw_postgres = True

    async def _write_postgres(self, pg, items: list, changes: set) -> list:
        await asyncio.sleep(0.01)  # a round trip
        return [len(items)] * len(items)


async def test_a_burst_goes_out_in_several_batches_at_once(postgres_url):
    db = Database(async_database_url(postgres_url))
    try:
        writer = _Sizes(db)
        sizes = await asyncio.gather(*(writer.submit(i) for i in range(100)))
        # Half, then half of the rest, and so on: two batches always under way.
        assert sizes == [size for size in (50, 25, 13, 6, 3, 2, 1) for _ in range(size)]
    finally:
        await db.dispose()


async def test_a_function_runs_on_the_sqlite_thread_in_the_transaction(tmp_path):
    db = Database(async_database_url(f"sqlite:///{tmp_path / 'thread.db'}"))

    def insert(connection: sqlite3.Connection, value: str) -> tuple[str, bool]:
        connection.execute("INSERT INTO t VALUES (?)", (value,))
        return threading.current_thread().name, connection.in_transaction

    try:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x TEXT)")
        async with db.engine.begin() as conn:
            thread, in_transaction = await on_sqlite_thread(conn, insert, "kept")
        assert thread != threading.current_thread().name and in_transaction
        with pytest.raises(RuntimeError):
            async with db.engine.begin() as conn:
                await on_sqlite_thread(conn, insert, "rolled back")
                raise RuntimeError("the transaction fails after the function ran")
        async with db.engine.connect() as conn:
            assert (await conn.exec_driver_sql("SELECT x FROM t")).all() == [("kept",)]
    finally:
        await db.dispose()


async def test_the_log_file_shrinks_back_after_a_burst(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "LOG_SIZE_LIMIT", 64 * 1024)
    path = tmp_path / "burst.db"
    wal = tmp_path / "burst.db-wal"
    db = Database(async_database_url(f"sqlite:///{path}"))
    try:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x TEXT)")
            await conn.exec_driver_sql("INSERT INTO t VALUES (?)", [("x" * 1000,) for _ in range(2000)])
        assert wal.stat().st_size > 1_000_000
        with sqlite3.connect(path) as other:  # what the checkpointer does
            other.execute("PRAGMA wal_checkpoint(PASSIVE)")
        async with db.engine.begin() as conn:  # the next commit starts the log over
            await conn.exec_driver_sql("INSERT INTO t VALUES ('y')")
        assert wal.stat().st_size <= 64 * 1024 + 16 * 1024
    finally:
        await db.dispose()


async def test_concurrent_starts_do_not_wait_for_each_other(postgres_url):
    """Sessions started in two open transactions at once (two stations, one day): the second
    does not wait for the first to commit. With one counter row per day it did (migration 0013),
    and a thousand stations starting at once queued behind each other's transactions."""
    from datetime import datetime, timezone

    from sqlalchemy import func, insert, select

    from wattson.db.migrate import upgrade
    from wattson.sessions.models import Session, SessionDay
    from wattson.stations.models import ChargePoint

    db = Database(async_database_url(postgres_url))
    now = datetime.now(timezone.utc)
    try:
        await upgrade(db)
        async with db.engine.begin() as conn:
            await conn.execute(insert(ChargePoint), [
                {"id": cp, "registration_status": "Accepted", "admin_status": "enabled", "security_profile": 0,
                 "network_status": "offline", "created_at": now, "updated_at": now} for cp in ("CP-A", "CP-B")])
        row = {"evse": 1, "connector": 1, "status": "active", "started_at": now, "meter_start": 0, "energy_wh": 0,
               "created_at": now, "updated_at": now}
        async with db.engine.connect() as first, db.engine.connect() as second:
            await first.begin()
            await first.execute(insert(Session), [{**row, "charge_point_id": "CP-A"}])
            await second.begin()
            await second.execute(text("SET LOCAL lock_timeout = '10s'"))
            await second.execute(insert(Session), [{**row, "charge_point_id": "CP-B"}])  # no lock wait
            await second.commit()
            await first.commit()
        async with db.session() as s:
            assert await s.scalar(select(func.sum(SessionDay.sessions)).where(SessionDay.day == now.date())) == 2
    finally:
        await db.dispose()
