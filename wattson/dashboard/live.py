"""Live updates: one query a second tells what changed (stations, sessions, commands, connection
attempts, circuits and the charging profiles sent for them), and every open dashboard hears it
through Server-Sent Events; the page then re-fetches only the parts that show that kind of
thing. Reading the database, not the bus, works the same in one process and in a
cluster, and costs one cheap query per second per API process however many operators watch."""

import asyncio
import logging
from collections.abc import AsyncIterator

import orjson
from sqlalchemy import func, select

from wattson.db import Database
from wattson.diagnostics.models import ConnectionEvent
from wattson.loadmgmt.limits import ChargingLimit
from wattson.loadmgmt.models import Circuit
from wattson.sessions.models import MeterValue, Session
from wattson.stations.models import ChargePoint, Command, StationEvent, StatusEvent

log = logging.getLogger("wattson.dashboard")
KEEPALIVE_S = 15.0


def _stamps():
    """What moves when something happens, per kind: maxima of indexed columns (one round trip)."""
    scalar = lambda q: q.scalar_subquery()  # noqa: E731
    return select(
        scalar(select(func.max(ChargePoint.updated_at))),
        scalar(select(func.max(StatusEvent.id))),
        scalar(select(func.max(StationEvent.id))),
        scalar(select(func.max(Session.updated_at))),
        scalar(select(func.max(MeterValue.id))),
        scalar(select(func.max(Command.completed_at))),
        scalar(select(func.count()).select_from(Command)),
        scalar(select(func.max(ConnectionEvent.last_at))),
        scalar(select(func.max(ConnectionEvent.id))),
        scalar(select(func.max(Circuit.updated_at))),  # a handful of rows
        scalar(select(func.max(ChargingLimit.id))),  # the primary key: profiles the load controller sent
    )


KINDS = (("stations", (0, 1, 2)), ("sessions", (3, 4)), ("commands", (5, 6)), ("connections", (7, 8)),
         ("circuits", (9, 10)))


def changed(before: tuple | None, after: tuple) -> list[str]:
    """The kinds whose stamps differ (all of them the first time)."""
    if before is None:
        return [kind for kind, _ in KINDS]
    return [kind for kind, columns in KINDS if any(before[i] != after[i] for i in columns)]


class Pulse:
    """Polls the stamps while anyone listens, and hands each change to every listener's queue."""

    def __init__(self, db: Database, every: float = 1.0):
        self.db, self.every = db, every
        self._listeners: set[asyncio.Queue] = set()
        self._task: asyncio.Task | None = None

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=8)
        self._listeners.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="dashboard-pulse")
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._listeners.discard(queue)

    async def _run(self) -> None:
        last = None
        while self._listeners:
            try:
                async with self.db.session() as s:
                    now = tuple((await s.execute(_stamps())).one())
            except Exception as error:  # the database is away: the pages say so when they reload
                log.debug("dashboard pulse: %s", error)
                await asyncio.sleep(self.every * 5)
                continue
            kinds = changed(last, now) if last is not None else []
            last = now
            if kinds:
                for queue in list(self._listeners):
                    if not queue.full():  # a stalled browser misses beats, never holds the others
                        queue.put_nowait(kinds)
            await asyncio.sleep(self.every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def stream(pulse: Pulse, disconnected) -> AsyncIterator[bytes]:
    """The SSE body: ``event: change`` with the changed kinds; a comment line keeps proxies open."""
    yield b"retry: 3000\n\n"
    queue = pulse.subscribe()
    try:
        while not await disconnected():
            try:
                kinds = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except asyncio.TimeoutError:
                yield b": keep-alive\n\n"
                continue
            yield b"event: change\ndata: " + orjson.dumps(kinds) + b"\n\n"
    finally:
        pulse.unsubscribe(queue)
