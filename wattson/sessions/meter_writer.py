"""Group commit of meter values: many stations' samples written in one transaction.

Meter values are most of what stations send, and a commit per message costs the database far
more than the rows it writes. So messages go through ``db/group_commit.py``: whatever has queued
is written as one multi-row insert (on PostgreSQL by COPY), one update of the sessions' live
readings, one commit, and every station is answered once its batch is durable. A station has one
call outstanding at a time (OCPP-J), so no two batches touch one session.

OCPP 2.x TransactionEvent Updated events of active transactions (the common case: meter values
and charging state, no token) come the same way (``transactions.py``): a message then carries its
event, and the batch reads the sessions' state (locked, on PostgreSQL), recognises repeats by
sequence number, moves the state on with the very rule of the careful path
(``transactions.apply_event``), and writes the events, their samples and the sessions' new state.
An event the batch cannot apply so (unknown or finished transaction, EVSE not yet named) is
answered ``CAREFUL`` and written nothing: the caller takes the careful path.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, or_, select, update

from wattson.db import Database, utcnow
from wattson.db.group_commit import GroupCommit
from wattson.sessions.meter import Sample, energy_reading
from wattson.sessions.models import ACTIVE, MeterValue, Session, TransactionEvent

log = logging.getLogger("wattson.sessions")

#: Sessions whose id is remembered by (station, transaction id): ids never change.
CACHED_SESSIONS = 20_000

COLUMNS = ("session_id", "charge_point_id", "evse", "connector", "timestamp", "measurand", "value", "numeric", "unit",
           "phase", "context", "location", "format", "received_at")
_meter_values = MeterValue.__table__
_sessions = Session.__table__
_events = TransactionEvent.__table__
#: What ``write`` answers for a message with an event: applied and committed, a repeat of an
#: event already stored (nothing written), or to be applied by the careful path (nothing written).
WRITTEN, REPEAT, CAREFUL = "written", "repeat", "careful"
EVENT_COLUMNS = ("session_id", "charge_point_id", "transaction_id", "seq_no", "event_type", "trigger_reason",
                 "timestamp", "offline", "charging_state", "stopped_reason", "id_tag", "received_at")
#: The session columns an Updated event reads or moves (``transactions.apply_event``).
STATE_COLUMNS = ("id", "charge_point_id", "transaction_id", "status", "evse", "connector", "started_at",
                 "meter_start", "meter_start_at", "meter_last", "meter_last_at", "last_seq_no", "charging_state",
                 "energy_wh")
MOVED = ("started_at", "last_seq_no", "charging_state", "meter_start", "meter_start_at", "meter_last",
         "meter_last_at", "energy_wh")
_STATE = select(*(_sessions.c[name] for name in STATE_COLUMNS))
_SEEN = select(_events.c.session_id, _events.c.seq_no)
_MOVE = (update(_sessions).where(_sessions.c.id == bindparam("sid"))
         .values(updated_at=bindparam("now", type_=_sessions.c.updated_at.type),
                 **{name: bindparam(f"new_{name}", type_=_sessions.c[name].type) for name in MOVED}))
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
_PG_STATE = (f"SELECT {', '.join('s.' + c for c in STATE_COLUMNS)} FROM sessions AS s "
             "JOIN unnest($1::text[], $2::text[]) AS k(cp, tx) ON s.charge_point_id = k.cp AND s.transaction_id = k.tx "
             "ORDER BY s.id FOR UPDATE OF s")
_PG_SEEN = "SELECT session_id, seq_no FROM transaction_events WHERE session_id = ANY($1::int[]) AND seq_no = ANY($2::int[])"
_PG_MOVE = (
    "UPDATE sessions AS s SET started_at = v.started_at, last_seq_no = v.last_seq_no, "
    "charging_state = v.charging_state, meter_start = v.meter_start, meter_start_at = v.meter_start_at, "
    "meter_last = v.meter_last, meter_last_at = v.meter_last_at, energy_wh = v.energy_wh, updated_at = $10 "
    "FROM unnest($1::int[], $2::timestamptz[], $3::int[], $4::text[], $5::bigint[], $6::timestamptz[], "
    "$7::bigint[], $8::timestamptz[], $9::bigint[]) "
    "AS v(id, started_at, last_seq_no, charging_state, meter_start, meter_start_at, meter_last, meter_last_at, "
    "energy_wh) WHERE s.id = v.id")


@dataclass(slots=True)
class MeterMessage:
    """One station message's samples: at ``evse``/``connector``, in ``transaction_id`` if any."""

    charge_point_id: str
    evse: int
    connector: int | None
    transaction_id: str | None
    samples: list[Sample]
    #: an OCPP 2.x Updated event (``transactions.TxEvent``) the samples came with, if any
    event: Any = None


class _State:
    """A session's columns that an Updated event moves, as read by the batch: what
    ``transactions.apply_event`` is given in place of the ORM object."""

    __slots__ = STATE_COLUMNS

    def __init__(self, row):
        for name, value in zip(STATE_COLUMNS, row):
            setattr(self, name, value)


class MeterWriter(GroupCommit):
    what = "meter value message"
    raw_postgres = True

    def __init__(self, db: Database):
        super().__init__(db)
        self._session_ids: dict[tuple[str, str], int] = {}
        self._insert: tuple[str, str, Callable] | None = None

    async def write(self, message: MeterMessage) -> str | None:
        """Store the samples and advance the session's energy; returns once committed. For a
        message with an event: WRITTEN, REPEAT or CAREFUL."""
        return await self.submit(message)

    def _failed(self) -> None:
        self._session_ids.clear()  # in case a remembered session is gone

    # --- what is written ---------------------------------------------------------------------
    def _rows(self, messages: list[MeterMessage], outcomes: list, states: dict, stamp: Callable,
              now) -> tuple[list[tuple], dict]:
        """The meter_values rows, and per session without an event the latest energy reading of
        the batch (those with one moved their state in ``_apply``)."""
        received = stamp(now)
        rows, latest = [], {}
        for m, outcome in zip(messages, outcomes):
            if m.event is not None:
                if outcome != WRITTEN:
                    continue
                state = states[m.charge_point_id, m.transaction_id]
                session_id, cp, evse, connector = state.id, m.charge_point_id, state.evse, state.connector
            else:
                session_id = self._session_ids.get((m.charge_point_id, m.transaction_id))
                cp, evse, connector = m.charge_point_id, m.evse, m.connector
            at = stamped = None
            for x in m.samples:
                if x.timestamp is not at:  # the samples of one meterValue share their timestamp
                    at, stamped = x.timestamp, stamp(x.timestamp)
                rows.append((session_id, cp, evse, connector, stamped, x.measurand, x.value, x.numeric, x.unit,
                             x.phase, x.context, x.location, x.format, received))
            reading = energy_reading(m.samples) if session_id is not None and m.event is None else None
            if reading is not None:
                # As if applied in arrival order: a later reading wins when it is not older.
                previous = latest.get(session_id)
                if previous is None or reading[0] >= previous[0]:
                    latest[session_id] = reading
        return rows, latest

    def _unknown(self, messages: list[MeterMessage]) -> set[tuple[str, str]]:
        return {key for m in messages if m.transaction_id is not None and m.event is None
                and (key := (m.charge_point_id, m.transaction_id)) not in self._session_ids}

    @staticmethod
    def _apply(messages: list[MeterMessage], states: dict, seen: set) -> tuple[list, list]:
        """Each message's outcome, and the states its events moved. In arrival order, so a repeat
        within the batch is one too."""
        from wattson.sessions.transactions import apply_event  # transactions imports this module
        outcomes, moved = [], {}
        for m in messages:
            event = m.event
            if event is None:
                outcomes.append(None)
                continue
            state = states.get((m.charge_point_id, m.transaction_id))
            if state is None or state.status != ACTIVE or (event.evse and state.evse == 0):
                outcomes.append(CAREFUL)
            elif (state.id, event.seq_no) in seen:
                outcomes.append(REPEAT)
            else:
                apply_event(state, event, None)
                seen.add((state.id, event.seq_no))
                moved[state.id] = state
                outcomes.append(WRITTEN)
        return outcomes, list(moved.values())

    @staticmethod
    def _event_rows(messages: list[MeterMessage], outcomes: list, states: dict, stamp: Callable,
                    now) -> list[tuple]:
        received = stamp(now)
        return [(states[m.charge_point_id, m.transaction_id].id, m.charge_point_id, m.transaction_id, e.seq_no,
                 e.event_type, e.trigger_reason, stamp(e.timestamp), e.offline, e.charging_state, e.stopped_reason,
                 e.id_tag, received)
                for m, outcome in zip(messages, outcomes) if outcome == WRITTEN and (e := m.event) is not None]

    def _remember(self, found) -> None:
        if len(self._session_ids) > CACHED_SESSIONS:
            self._session_ids.clear()
        for sid, cp, tx in found:
            self._session_ids[(cp, tx)] = sid

    # --- SQLite: executemany of tuples, in the driver's parameter style ----------------------
    async def _write(self, conn, messages: list[MeterMessage], changes: set) -> list:
        sql, event_sql, stamp = self._insert_for(conn.dialect)
        unknown = self._unknown(messages)
        if unknown:
            self._remember(await conn.execute(_FIND.where(
                _sessions.c.charge_point_id.in_({cp for cp, _ in unknown}),
                _sessions.c.transaction_id.in_({tx for _, tx in unknown}))))
        states, seen = {}, set()
        keyed = {(m.charge_point_id, m.transaction_id): m.event.seq_no for m in messages if m.event is not None}
        if keyed:
            states = {(st.charge_point_id, st.transaction_id): st for st in map(_State, await conn.execute(
                _STATE.where(_sessions.c.charge_point_id.in_({cp for cp, _ in keyed}),
                             _sessions.c.transaction_id.in_({tx for _, tx in keyed}))))}
            if states:
                seen = {tuple(r) for r in await conn.execute(_SEEN.where(
                    _events.c.session_id.in_({st.id for st in states.values()}),
                    _events.c.seq_no.in_(set(keyed.values()))))}
        outcomes, moved = self._apply(messages, states, seen)
        changes.update(("session", st.id) for st in moved)  # as the careful path's ORM writes are
        now = utcnow()
        rows, latest = self._rows(messages, outcomes, states, stamp, now)
        if moved:
            await conn.exec_driver_sql(event_sql, self._event_rows(messages, outcomes, states, stamp, now))
            await conn.execute(_MOVE, [{"sid": st.id, "now": now, **{f"new_{c}": getattr(st, c) for c in MOVED}}
                                       for st in moved])
        if rows:
            await conn.exec_driver_sql(sql, rows)
        if latest:
            await conn.execute(_ADVANCE, [{"sid": sid, "at": at, "wh": wh, "now": now}
                                          for sid, (at, wh) in latest.items()])
        return outcomes

    def _insert_for(self, dialect) -> tuple[str, str, Callable]:
        """The INSERTs (meter values, transaction events) in the driver's own parameter style, and
        the column type's conversion of a timestamp: rows go to the driver as tuples, skipping
        per-row statement processing."""
        if self._insert is None:
            mark = {"qmark": "?", "format": "%s"}[dialect.paramstyle]
            stamp = _meter_values.c.timestamp.type.bind_processor(dialect) or (lambda value: value)
            self._insert = tuple(f"INSERT INTO {table.name} ({', '.join(columns)}) "
                                 f"VALUES ({', '.join([mark] * len(columns))})"
                                 for table, columns in ((_meter_values, COLUMNS), (_events, EVENT_COLUMNS))) + (stamp,)
        return self._insert

    # --- PostgreSQL: COPY and one UPDATE from arrays, on the asyncpg connection ---------------
    async def _write_postgres(self, pg, messages: list[MeterMessage], changes: set) -> list:
        unknown = self._unknown(messages)
        if unknown:
            self._remember(await pg.fetch(_PG_FIND, list({cp for cp, _ in unknown}),
                                          list({tx for _, tx in unknown})))
        states, seen = {}, set()
        keyed = {(m.charge_point_id, m.transaction_id): m.event.seq_no for m in messages if m.event is not None}
        if keyed:
            states = {(st.charge_point_id, st.transaction_id): st for st in map(_State, await pg.fetch(
                _PG_STATE, [cp for cp, _ in keyed], [tx for _, tx in keyed]))}
            if states:
                seen = {tuple(r) for r in await pg.fetch(_PG_SEEN, [st.id for st in states.values()],
                                                         list(set(keyed.values())))}
        outcomes, moved = self._apply(messages, states, seen)
        changes.update(("session", st.id) for st in moved)  # as the careful path's ORM writes are
        now = utcnow()
        rows, latest = self._rows(messages, outcomes, states, _same, now)
        if moved:
            await pg.copy_records_to_table(_events.name, columns=EVENT_COLUMNS,
                                           records=self._event_rows(messages, outcomes, states, _same, now))
            await pg.execute(_PG_MOVE, *([getattr(st, c) for st in moved] for c in ("id",) + MOVED), now)
        if rows:
            await pg.copy_records_to_table(_meter_values.name, records=rows, columns=COLUMNS)
        if latest:
            ids = list(latest)
            await pg.execute(_PG_ADVANCE, ids, [latest[i][0] for i in ids], [latest[i][1] for i in ids], now)
        return outcomes


def _same(value):
    return value

