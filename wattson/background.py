"""A process's background loops, stopped between their rounds rather than inside one.

A round cancelled mid-way leaves its database connection rolling back while the pool is being
disposed: SQLAlchemy logs a traceback, and PostgreSQL sees a connection vanish. So ``stop`` asks
the loop to end and waits for the running round (up to a grace); only a round that outlives the
grace is cancelled.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from wattson.db.errors import log_failure

#: the longest ``stop`` waits for a running round before cancelling it
GRACE_S = 10.0


class Loop:
    """One named background task whose body pauses with ``pause`` between rounds."""

    def __init__(self, name: str):
        self.name = name
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, body: Callable[[], Awaitable[None]]) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(body(), name=self.name)

    def every(self, seconds: float, job: Callable[[], Awaitable[object]], log: logging.Logger, what: str) -> None:
        """Await ``job()`` every ``seconds`` (the first after one interval) until stopped; a round
        that fails is logged (one line when the database is away) and the next one tries again."""
        async def body() -> None:
            while await self.pause(seconds):
                try:
                    await job()
                except Exception as error:  # noqa: BLE001 - the job must outlive any one round
                    log_failure(log, what, error)
        self.start(body)

    async def pause(self, seconds: float, wake: asyncio.Event | None = None) -> bool:
        """Wait ``seconds``, or until ``wake`` is set; False once the loop is asked to stop."""
        if self._stopping.is_set():
            return False
        waiters = [asyncio.ensure_future(self._stopping.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return not self._stopping.is_set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def stop(self, grace: float = GRACE_S) -> None:
        """Let the running round finish (up to ``grace``), then end the loop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
