"""The async engine and session factory, configured per backend."""

from contextlib import asynccontextmanager
from typing import AsyncIterator

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from wattson.db.checkpoint import BACKSTOP_PAGES, LOG_SIZE_LIMIT, WalCheckpointer


#: PostgreSQL pool: connections kept, extra ones allowed under load, and the longest a unit of
#: work waits for one (``WATTSON_DB_POOL_*``); then a station gets InternalError (it retries its
#: transaction messages) and an API client a 503 with Retry-After. 10 s: in the start storm
#: (``make bench``, 1,000 stations within 5 s on a loaded machine) 5 s failed 30 starts, 10 s none.
POOL_SIZE, POOL_OVERFLOW, POOL_TIMEOUT = 10, 20, 10.0


class Database:
    def __init__(self, url: str, echo: bool = False, pool_size: int = POOL_SIZE, pool_overflow: int = POOL_OVERFLOW,
                 pool_timeout: float = POOL_TIMEOUT):
        self.url = url
        self.engine: AsyncEngine = _create_engine(url, echo, pool_size, pool_overflow, pool_timeout)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        #: told of changes committed outside the ORM (``group_commit.py``), as the OCPI push
        #: hears of the ORM's: each is called with a set of (kind, key)
        self.change_observers: list = []
        path = self.engine.url.database if self.dialect == "sqlite" else None
        self.checkpointer = WalCheckpointer(path) if path and path != ":memory:" else None

    def start(self) -> None:
        """Start what runs beside the queries (SQLite's checkpoints); a running loop is needed."""
        if self.checkpointer is not None:
            self.checkpointer.start()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends normally, rolls back otherwise."""
        async with self.sessions() as session:
            async with session.begin():
                yield session

    def committed(self, changes: set) -> None:
        for observer in self.change_observers:
            observer(changes)

    async def dispose(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        await self.engine.dispose()


def _create_engine(url: str, echo: bool, pool_size: int, pool_overflow: int, pool_timeout: float) -> AsyncEngine:
    if url.startswith("sqlite"):
        # SQLite has one writer at a time, and its busy handler waits by sleeping in coarse
        # steps: with several pooled connections, concurrent writers stall each other for
        # tens of milliseconds. One connection queues them in asyncio instead.
        engine = create_async_engine(url, echo=echo, pool_size=1, max_overflow=0, pool_timeout=60,
                                     connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Plans made for each statement's own values: asyncpg prepares every statement, and after five
    # executions PostgreSQL may switch to a generic plan made without them, which for a filter
    # such as three tags' sessions can walk the start index through 100,000 rows (118 ms seen in
    # the session query benchmark, 17 ms with the values). Planning again costs well under 1 ms.
    # A connection attempt to a server that is gone gives up after the pool's wait, too.
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_overflow,
                               pool_timeout=pool_timeout, pool_pre_ping=True,
                               connect_args={"timeout": pool_timeout,
                                             "server_settings": {"plan_cache_mode": "force_custom_plan"}})


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the API read while the gateway writes; NORMAL sync is durable across
    # process crashes (only an OS crash can lose the last commits) and far faster.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")  # a backstop: see checkpoint.py
    cursor.execute(f"PRAGMA journal_size_limit={LOG_SIZE_LIMIT}")  # the log file shrinks back after a burst
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


async def on_sqlite_thread(conn: AsyncConnection, fn, *args):
    """``fn(connection, *args)`` with the ``sqlite3`` connection under ``conn``, on the thread
    aiosqlite keeps for it, in the transaction ``conn`` is in: one hand-over between threads for
    the lot. Each statement through aiosqlite is two or three (a cursor, the statement, closing
    it), each a wake-up of the other thread and of the event loop: with a batch's statements,
    about 450 µs per batch, more than SQLite's own work for 50 meter values.

    aiosqlite has no public call for this; ``_execute`` is the queue its own methods use (a test
    calls this, so an aiosqlite that changes it fails there)."""
    driver = (await conn.get_raw_connection()).driver_connection
    return await driver._execute(lambda: fn(driver._conn, *args))
