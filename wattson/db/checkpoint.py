"""SQLite WAL checkpoints off the writer's path.

In WAL mode every commit appends the pages it changed to the write-ahead log, and a checkpoint
copies them back into the database file, with an fsync of the log before and of the file after.
By default the connection that commits past 1,000 log pages runs that checkpoint itself, there
and then: under load every few batches of meter values waited for two fsyncs, with nothing else
running (measured in process, 100 stations' MeterValues: the server was busy 79% of the time;
with the checkpoints moved here, 92%, and 20% more messages per second).

So a second connection, on a worker thread, checkpoints every ``BUSY_INTERVAL`` while the log
grows (PASSIVE: it never blocks the writer or readers; the writer starts the log over once all of
it has been copied), and every ``IDLE_INTERVAL`` otherwise. The writer keeps its own automatic
checkpoint as a backstop at ``BACKSTOP_PAGES``, so the log stays bounded if this one falls
behind or fails.
"""

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("wattson.db")

BUSY_INTERVAL = 0.05
IDLE_INTERVAL = 1.0
#: The writer's own automatic checkpoint, in log pages (4 KiB each): 40 MiB of log at most
#: between checkpoints when this one does not keep up.
BACKSTOP_PAGES = 10_000
#: Bytes of log file kept once the log starts over: a burst (or a long read holding the log) may
#: grow it far beyond, and SQLite otherwise keeps the file at its largest.
LOG_SIZE_LIMIT = 64 * 1024 * 1024


class WalCheckpointer:
    def __init__(self, path: str):
        self.path = path
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        #: checkpoints run while the log grew: for the tests
        self.passes = 0

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Ends after the checkpoint under way, if any: its connection is closed on its own thread."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping.set()
            await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        # One thread of its own: the connection is used, and closed, by one thread at a time.
        thread = ThreadPoolExecutor(1, thread_name_prefix="wal-checkpoint")
        conn, logged = None, 0
        try:
            while not self._stopping.is_set():
                before = logged
                try:
                    if conn is None:
                        conn = await loop.run_in_executor(thread, self._connect)
                    logged = await loop.run_in_executor(thread, self._checkpoint, conn)
                except sqlite3.Error as error:  # a locked or missing file: the writer's backstop covers it
                    log.warning("WAL checkpoint failed: %s", error)
                grew = logged != before  # the log moved on (or started over) since the last pass
                self.passes += grew
                try:
                    await asyncio.wait_for(self._stopping.wait(), BUSY_INTERVAL if grew else IDLE_INTERVAL)
                except TimeoutError:
                    pass
        finally:
            if conn is not None:
                await loop.run_in_executor(thread, conn.close)
            thread.shutdown(wait=False)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> int:
        """One PASSIVE checkpoint; the pages in the log (copied or not)."""
        _busy, logged, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return logged
