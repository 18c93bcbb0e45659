"""The event stream (``GET /api/v1/events/stream``): the outbox's events as Server-Sent Events.

One ``Feed`` per API process polls the outbox for ids after the last it released (one query a
second however many listen) and hands each new batch to every listener. Reading the table, not
the bus, works alike in one process and in a cluster. A listener that falls behind (its queue is
full: a slow client) drops what is queued and reads the rest from the table itself, from the last
id it sent; one that connects with ``Last-Event-ID`` catches up the same way: so a listener never
holds more than its bounded queue, and misses nothing the outbox still keeps (docs/webhooks.md)."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from wattson.db import Database
from wattson.webhooks.delivery import GAP_WAIT_S, body_of
from wattson.webhooks.models import WebhookEvent

log = logging.getLogger("wattson.webhooks")
#: Rows one query reads at most (the feed's poll, a listener's catch-up page).
PAGE = 200
#: Batches a listener's queue holds; when it is full the listener catches up from the table.
QUEUE_BATCHES = 16
#: How long an id missing between two committed ones is waited for: on PostgreSQL a transaction
#: may commit after one that took a later id; a rolled-back one leaves its id unused for good.
#: The delivery worker's fan-out waits as long.
GAP_GRACE_S = GAP_WAIT_S


@dataclass
class Gap:
    """The first id not yet seen after the cursor, and since when (monotonic seconds) it is missing."""
    missing: int
    since: float


def release(cursor: int, ids: list[int], gap: Gap | None, now: float, grace: float = GAP_GRACE_S
            ) -> tuple[int, Gap | None]:
    """How far the feed may move on: the new cursor (every id up to it is released, in order) and
    the gap it waits on. ``ids`` are the committed ids after ``cursor``, ascending. An id missing
    between them is waited for ``grace`` seconds, then skipped, so events go out in id order and
    a client resuming after an id has seen everything before it."""
    for event_id in ids:
        expected = cursor + 1
        if event_id > expected:
            if gap is None or gap.missing != expected:
                gap = Gap(expected, now)
            if now - gap.since < grace:
                return cursor, gap
        cursor, gap = event_id, None
    return cursor, gap


PING = "ping"


@dataclass(frozen=True)
class Filter:
    """What one listener asked for: event types (None: all) and a station (None: all). A ``ping``
    is for the one webhook it tests, never for a stream."""
    types: frozenset[str] | None = None
    charge_point_id: str | None = None

    def admits(self, event: WebhookEvent) -> bool:
        return (event.type != PING and (self.types is None or event.type in self.types)
                and (self.charge_point_id is None or event.charge_point_id == self.charge_point_id))

    def where(self, query):
        query = query.where(WebhookEvent.type != PING)
        if self.types is not None:
            query = query.where(WebhookEvent.type.in_(sorted(self.types)))
        if self.charge_point_id is not None:
            query = query.where(WebhookEvent.charge_point_id == self.charge_point_id)
        return query


def frame(event: WebhookEvent) -> bytes:
    """One SSE message: the outbox id as ``id:`` (what ``Last-Event-ID`` resumes after), and as
    ``data:`` the very bytes a webhook delivery of the event POSTs."""
    return b"id: %d\ndata: %s\n\n" % (event.id, body_of(event))


@dataclass(eq=False)
class Listener:
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_BATCHES))
    behind: bool = False  # its queue overflowed: it reads from the table until it has caught up


class Feed:
    """Polls the outbox while anyone listens; every batch of new events goes to every listener."""

    def __init__(self, db: Database, every: float = 1.0):
        self.db, self.every = db, every
        self.cursor: int | None = None  # the last id released; None until the first poll
        self._ready = asyncio.Event()
        self._listeners: set[Listener] = set()
        self._task: asyncio.Task | None = None

    async def subscribe(self) -> Listener:
        """A new listener, once the feed knows where the outbox stands (its cursor)."""
        listener = Listener()
        self._listeners.add(listener)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="event-stream-feed")
        await self._ready.wait()
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    async def _run(self) -> None:
        gap = None
        while self._listeners:
            try:
                async with self.db.session() as s:
                    if self.cursor is None:
                        self.cursor = (await s.scalar(select(func.max(WebhookEvent.id)))) or 0
                        rows = []
                    else:
                        rows = list((await s.scalars(select(WebhookEvent).where(WebhookEvent.id > self.cursor)
                                                     .order_by(WebhookEvent.id).limit(PAGE))).all())
            except Exception as error:  # the database is away: listeners wait, and catch up later
                log.debug("event stream feed: %s", error)
                await asyncio.sleep(self.every * 5)
                continue
            self._ready.set()
            cursor, gap = release(self.cursor, [row.id for row in rows], gap, time.monotonic())
            batch = [row for row in rows if row.id <= cursor]
            self.cursor = cursor
            if batch:
                for listener in list(self._listeners):
                    if listener.queue.full():
                        listener.behind = True  # never held for a slow one: it reads the table itself
                    else:
                        listener.queue.put_nowait(batch)
            if len(rows) < PAGE or not batch:
                await asyncio.sleep(self.every)
        self._ready.clear()
        self.cursor = None  # nobody listened for a while: the next listener starts from the table's end

    async def page(self, after: int, upto: int, wanted: Filter) -> list[WebhookEvent]:
        """Released events after ``after`` up to ``upto`` that ``wanted`` admits, oldest first, one page."""
        async with self.db.session() as s:
            query = select(WebhookEvent).where(WebhookEvent.id > after, WebhookEvent.id <= upto)
            return list((await s.scalars(wanted.where(query).order_by(WebhookEvent.id).limit(PAGE))).all())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def stream(feed: Feed, wanted: Filter, after: int | None, disconnected: Callable[[], Awaitable[bool]],
                 keepalive_s: float = 15.0) -> AsyncIterator[bytes]:
    """The SSE body: every event ``wanted`` admits after ``after`` (None: from now on), in id
    order, each once; a comment line every ``keepalive_s`` of quiet keeps proxies from closing it."""
    yield b"retry: 3000\n\n"
    listener = await feed.subscribe()
    try:
        position = feed.cursor if after is None else after
        catch_up = after is not None
        while not await disconnected():
            if listener.behind or catch_up:
                while not listener.queue.empty():  # all of it is in the table, up to the cursor read now
                    listener.queue.get_nowait()
                listener.behind, catch_up, upto = False, False, feed.cursor
                while True:
                    rows = await feed.page(position, upto, wanted)
                    for row in rows:
                        position = row.id
                        yield frame(row)
                    if len(rows) < PAGE:
                        break
                position = max(position, upto)
                continue
            try:
                batch = await asyncio.wait_for(listener.queue.get(), keepalive_s)
            except asyncio.TimeoutError:
                yield b": keep-alive\n\n"
                continue
            for row in batch:
                if row.id > position:
                    position = row.id
                    if wanted.admits(row):
                        yield frame(row)
    finally:
        feed.unsubscribe(listener)
