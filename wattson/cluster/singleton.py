"""One active worker in the cluster: the background jobs (payment worker, OCPI pushes, session
policies) run only in the process holding this lock; other workers stand by and take over.

On PostgreSQL it is a session-level advisory lock on a connection of its own: the server lets go
of it the moment that connection ends (the process killed, its host cut off), so a standby takes
it at its next try, within ``poll_s``. The holder checks its connection every round and stops
its jobs when the connection is gone, as the lock then is too. On SQLite only one process runs:
the lock is simply held.
"""

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from wattson.background import Loop
from wattson.db import Database
from wattson.db.errors import log_failure

log = logging.getLogger("wattson.cluster")

#: the advisory lock's key (PostgreSQL's one 64-bit key space is shared by all its users)
LOCK_KEY = 0x5741_5454_534F_4E31  # "WATTSON1"


class WorkerLock:
    def __init__(self, db: Database, poll_s: float, on_acquired: Callable[[], Awaitable[None]],
                 on_lost: Callable[[], Awaitable[None]]):
        self.db, self.poll_s = db, poll_s
        self.on_acquired, self.on_lost = on_acquired, on_lost
        self.held = False
        self._conn = None
        self._loop = Loop("worker-lock")

    def start(self) -> None:
        self._loop.start(self._run)

    async def stop(self) -> None:
        await self._loop.stop()
        await self._let_go()

    async def _run(self) -> None:
        while True:
            try:
                if not self.held:
                    await self._try()
                elif not await self._still_held():
                    log.warning("lost the worker lock (its database connection ended): jobs stopped")
                    await self._let_go()
            except Exception as error:  # noqa: BLE001 - the database is away: try again next round
                log_failure(log, "worker lock round failed", error)
                await self._let_go()
            if not await self._loop.pause(self.poll_s):
                return

    async def _try(self) -> None:
        if self.db.dialect != "postgresql":
            self.held = True
        else:
            conn = await self.db.engine.connect()
            try:
                got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
                await conn.commit()
            except BaseException:
                await conn.close()
                raise
            if not got:
                await conn.close()
                return
            self._conn, self.held = conn, True
        log.info("this process is the active worker: background jobs start")
        await self.on_acquired()

    async def _still_held(self) -> bool:
        if self._conn is None:
            return True
        try:
            await self._conn.scalar(text("SELECT 1"))
            await self._conn.commit()
        except Exception:  # noqa: BLE001 - whatever ended the connection ended the lock
            return False
        return True

    async def _let_go(self) -> None:
        """Stop the jobs (if running) and end the lock's connection, which releases it."""
        if self.held:
            self.held = False
            await self.on_lost()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:  # closed rather than pooled: the session's end releases its advisory lock
                await conn.invalidate()
                await conn.close()
            except Exception:  # noqa: BLE001 - already gone: so is the lock
                pass
