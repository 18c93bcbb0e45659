"""A process's background jobs: one repeated at an interval, and a task stopped."""

import asyncio
import logging

from wattson.db.errors import log_failure


async def every(seconds: float, job, log: logging.Logger, what: str) -> None:
    """Await ``job()`` every ``seconds`` (the first after one interval) until cancelled; a round
    that fails is logged (one line when the database is away) and the next one tries again."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception as error:  # noqa: BLE001 - the job must outlive any one round
            log_failure(log, what, error)


async def stop(task: asyncio.Task | None) -> None:
    """Cancel ``task`` (if any) and wait until it has ended."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
