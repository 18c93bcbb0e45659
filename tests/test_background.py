"""Background loops stop between rounds (wattson/background.py): a round running when the process
stops ends on its own, so no database session is cancelled halfway through its rollback; only a
round that outlives the grace is cancelled. One such round on a real SQLite session, too."""

import asyncio
import logging

from sqlalchemy import text

from wattson.background import Loop
from wattson.db import Database

log = logging.getLogger("test")


async def test_a_running_round_finishes_before_the_loop_ends():
    loop, entered, release, finished = Loop("t"), asyncio.Event(), asyncio.Event(), []

    async def round_():
        entered.set()
        await release.wait()
        finished.append(True)

    loop.every(0, round_, log, "round failed")
    await entered.wait()
    stopping = asyncio.create_task(loop.stop())
    await asyncio.sleep(0)
    assert not stopping.done()  # waits for the round rather than cancelling it
    release.set()
    await stopping
    assert finished == [True] and not loop.running


async def test_a_round_past_the_grace_is_cancelled():
    loop, entered, cancelled = Loop("t"), asyncio.Event(), []

    async def stuck():
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    loop.every(0, stuck, log, "round failed")
    await entered.wait()
    await loop.stop(grace=0.01)
    assert cancelled == [True] and not loop.running


async def test_pause_wakes_early_and_says_when_to_stop():
    loop, wake = Loop("t"), asyncio.Event()
    answers = []

    async def body():
        while await loop.pause(3600, wake):
            answers.append("woken")
            wake.clear()
        answers.append("stopped")

    loop.start(body)
    wake.set()
    while not answers:
        await asyncio.sleep(0.01)
    await loop.stop()
    assert answers == ["woken", "stopped"]
    await loop.stop()  # twice, and before any start, is harmless
    await Loop("never started").stop()


async def test_a_failing_round_is_logged_and_the_next_one_runs(caplog):
    loop, rounds = Loop("t"), []

    async def flaky():
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("boom")

    loop.every(0, flaky, log, "round failed")
    while len(rounds) < 2:
        await asyncio.sleep(0.01)
    await loop.stop()
    assert "round failed" in caplog.text


async def test_stopping_mid_query_leaves_no_pool_error(tmp_path, caplog):
    """The shutdown flake this module exists for: a round inside a database session when the
    process stops, then the pool disposed. Nothing may be logged at ERROR."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bg.db'}")
    loop, inside, release = Loop("t"), asyncio.Event(), asyncio.Event()

    async def query():
        async with db.session() as s:
            await s.execute(text("select 1"))
            inside.set()
            await release.wait()
            await s.execute(text("select 2"))

    loop.every(0, query, log, "round failed")
    await inside.wait()
    stopping = asyncio.create_task(loop.stop())
    await asyncio.sleep(0)
    release.set()
    await stopping
    await db.dispose()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
