"""Group commit of meter values: many stations' samples written in one transaction.

A commit per MeterValues message costs the database far more than the rows it writes, and with
SQLite's single writer every station waits for every other's commit. So calls queue here and a
writer takes whatever has queued: one multi-row insert, one update of the sessions' live
readings, one commit. Every caller awaits the commit of its own batch, so a station is answered
only once its values are durable. Under light load a batch holds one message and nothing waits
longer than before; under load batches grow and commits per second stay few.

SQLite has one writer, so batches follow each other. PostgreSQL takes a few batches at once on
separate connections, so that one batch's commit (a WAL flush) overlaps the next one's inserts;
it gets its rows by COPY. A station has one call outstanding at a time (OCPP-J), so no two
batches touch one session.

If a batch fails (say a station was deleted meanwhile and its rows break a foreign key), its
messages are written again one by one, so that only the faulty one fails.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, case, or_, select, update

from wattson.db import Database, utcnow
from wattson.sessions.meter import Sample, energy_reading
from wattson.sessions.models import ACTIVE, MeterValue, Session

log = logging.getLogger("wattson.sessions")

#: Messages per transaction at most: keeps a transaction (and SQLite's write lock) short.
MAX_BATCH = 500
#: Transactions in flight at once on a database with concurrent writers.
CONCURRENT_BATCHES = 4
#: Sessions whose id is remembered by (station, transaction id): ids never change.
CACHED_SESSIONS = 20_000

COLUMNS = ("session_id", "charge_point_id", "evse", "connector", "timestamp", "measurand", "value", "numeric", "unit",
           "phase", "context", "location", "format", "received_at")
_meter_values = MeterValue.__table__
_sessions = Session.__table__
_FIND = select(_sessions.c.id, _sessions.c.charge_point_id, _sessions.c.transaction_id)
_at = bindparam("at", type_=_sessions.c.meter_last_at.type)
_wh = bindparam("wh", type_=_sessions.c.meter_last.type)
#: Move a session's live reading forward, never back, and only while it is active (a stop may
#: have been committed meanwhile by another connection).
_ADVANCE = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("sid"), _sessions.c.status == ACTIVE,
           or_(_sessions.c.meter_last_at.is_(None), _sessions.c.meter_last_at <= _at))
    .values(meter_last=_wh, meter_last_at=_at, updated_at=bindparam("now", type_=_sessions.c.updated_at.type),
            energy_wh=case((_wh > _sessions.c.meter_start, _wh - _sessions.c.meter_start), else_=0))
)
_PG_FIND = ("SELECT id, charge_point_id, transaction_id FROM sessions "
            "WHERE charge_point_id = ANY($1::text[]) AND transaction_id = ANY($2::text[])")
_PG_ADVANCE = (
    "UPDATE sessions AS s SET meter_last = v.wh, meter_last_at = v.at, updated_at = $4, "
    "energy_wh = CASE WHEN v.wh > s.meter_start THEN v.wh - s.meter_start ELSE 0 END "
    "FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) AS v(id, at, wh) "
    f"WHERE s.id = v.id AND s.status = '{ACTIVE}' AND (s.meter_last_at IS NULL OR s.meter_last_at <= v.at)")


@dataclass(slots=True)
class MeterMessage:
    """One station message's samples: at ``evse``/``connector``, in ``transaction_id`` if any."""

    charge_point_id: str
    evse: int
    connector: int | None
    transaction_id: str | None
    samples: list[Sample]


class MeterWriter:
    def __init__(self, db: Database):
        self.db = db
        self.postgres = db.dialect == "postgresql"
        self.concurrency = CONCURRENT_BATCHES if self.postgres else 1
        self._queue: list[tuple[MeterMessage, asyncio.Future]] = []
        self._writers = 0
        self._session_ids: dict[tuple[str, str], int] = {}
        self._insert: tuple[str, Callable] | None = None

    async def write(self, message: MeterMessage) -> None:
        """Store the samples and advance the session's energy; returns once committed."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._queue.append((message, done))
        if self._writers < self.concurrency:
            self._writers += 1
            loop.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        """Write batches while calls are queued. On PostgreSQL one connection serves the whole
        run (no checkout and ping per batch); SQLite's single connection is handed back between
        batches, so that other writers get their turn."""
        try:
            if self.postgres:
                async with self.db.engine.connect() as conn:
                    pg = (await conn.get_raw_connection()).driver_connection
                    while self._queue:
                        if not await self._commit(self._take(), lambda ms: self._write_postgres(pg, ms)):
                            break  # the connection may be broken: the next run takes a fresh one
            else:
                while self._queue:
                    await self._commit(self._take(), self._write_sqlite)
        finally:
            self._writers -= 1
            if self._queue and self._writers == 0:  # left behind by a failed run
                self._writers += 1
                asyncio.get_running_loop().create_task(self._drain())

    def _take(self) -> list[tuple[MeterMessage, asyncio.Future]]:
        batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        return batch

    async def _commit(self, batch: list[tuple[MeterMessage, asyncio.Future]], write) -> bool:
        """Write a batch; False when it failed and was written again message by message."""
        try:
            await write([m for m, _ in batch])
        except Exception as error:  # noqa: BLE001 - isolate the message at fault
            self._session_ids.clear()  # in case a remembered session is gone
            if len(batch) == 1:
                _settle(batch[0][1], error)
                return False
            log.warning("a batch of %d meter value messages failed (%s); writing them one by one", len(batch), error)
            for item in batch:
                await self._commit([item], write)
            return False
        for _, done in batch:
            _settle(done, None)
        return True

    # --- what is written ---------------------------------------------------------------------
    def _rows(self, messages: list[MeterMessage], stamp: Callable, now) -> tuple[list[tuple], dict]:
        """The meter_values rows, and per session the latest energy reading of the batch."""
        received = stamp(now)
        rows, latest = [], {}
        for m in messages:
            session_id = self._session_ids.get((m.charge_point_id, m.transaction_id))
            cp, evse, connector = m.charge_point_id, m.evse, m.connector
            at = stamped = None
            for x in m.samples:
                if x.timestamp is not at:  # the samples of one meterValue share their timestamp
                    at, stamped = x.timestamp, stamp(x.timestamp)
                rows.append((session_id, cp, evse, connector, stamped, x.measurand, x.value, x.numeric, x.unit,
                             x.phase, x.context, x.location, x.format, received))
            reading = energy_reading(m.samples) if session_id is not None else None
            if reading is not None:
                # As if applied in arrival order: a later reading wins when it is not older.
                previous = latest.get(session_id)
                if previous is None or reading[0] >= previous[0]:
                    latest[session_id] = reading
        return rows, latest

    def _unknown(self, messages: list[MeterMessage]) -> set[tuple[str, str]]:
        return {key for m in messages if m.transaction_id is not None
                and (key := (m.charge_point_id, m.transaction_id)) not in self._session_ids}

    def _remember(self, found) -> None:
        if len(self._session_ids) > CACHED_SESSIONS:
            self._session_ids.clear()
        for sid, cp, tx in found:
            self._session_ids[(cp, tx)] = sid

    # --- SQLite: executemany of tuples, in the driver's parameter style ----------------------
    async def _write_sqlite(self, messages: list[MeterMessage]) -> None:
        async with self.db.engine.begin() as conn:
            sql, stamp = self._insert_for(conn.dialect)
            unknown = self._unknown(messages)
            if unknown:
                self._remember(await conn.execute(_FIND.where(
                    _sessions.c.charge_point_id.in_({cp for cp, _ in unknown}),
                    _sessions.c.transaction_id.in_({tx for _, tx in unknown}))))
            now = utcnow()
            rows, latest = self._rows(messages, stamp, now)
            if rows:
                await conn.exec_driver_sql(sql, rows)
            if latest:
                await conn.execute(_ADVANCE, [{"sid": sid, "at": at, "wh": wh, "now": now}
                                              for sid, (at, wh) in latest.items()])

    def _insert_for(self, dialect) -> tuple[str, Callable]:
        """The INSERT in the driver's own parameter style, and the column type's conversion of a
        timestamp: rows go to the driver as tuples, skipping per-row statement processing."""
        if self._insert is None:
            mark = {"qmark": "?", "format": "%s"}[dialect.paramstyle]
            stamp = _meter_values.c.timestamp.type.bind_processor(dialect) or (lambda value: value)
            self._insert = (f"INSERT INTO {_meter_values.name} ({', '.join(COLUMNS)}) "
                            f"VALUES ({', '.join([mark] * len(COLUMNS))})", stamp)
        return self._insert

    # --- PostgreSQL: COPY and one UPDATE from arrays, on the asyncpg connection ---------------
    async def _write_postgres(self, pg, messages: list[MeterMessage]) -> None:
        async with pg.transaction():
            unknown = self._unknown(messages)
            if unknown:
                self._remember(await pg.fetch(_PG_FIND, list({cp for cp, _ in unknown}),
                                              list({tx for _, tx in unknown})))
            now = utcnow()
            rows, latest = self._rows(messages, _same, now)
            if rows:
                await pg.copy_records_to_table(_meter_values.name, records=rows, columns=COLUMNS)
            if latest:
                ids = list(latest)
                await pg.execute(_PG_ADVANCE, ids, [latest[i][0] for i in ids], [latest[i][1] for i in ids], now)


def _same(value):
    return value


def _settle(done: asyncio.Future, error: BaseException | None) -> None:
    if done.done():  # the caller went away (its connection closed)
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
