"""Group commit of meter values: many stations' samples written in one transaction.

Meter values are most of what stations send, and a commit per message costs the database far
more than the rows it writes. So messages go through ``db/group_commit.py``: whatever has queued
is written as one multi-row insert, one update of the sessions' live readings, one commit, and
every station is answered once its batch is durable. On SQLite the batch runs whole on the
driver's thread; on PostgreSQL a batch of meter values alone is one statement. A station has one
call outstanding at a time (OCPP-J), so no two batches touch one session.

OCPP 2.x TransactionEvent Updated events of active transactions (the common case: meter values
and charging state, no token) come the same way (``transactions.py``): a message then carries its
event, and the batch reads the sessions' state (locked, on PostgreSQL), recognises repeats by
sequence number, moves the state on with the very rule of the careful path
(``transactions.apply_event``), and writes the events, their samples and the sessions' new state.
An event the batch cannot apply so (unknown or finished transaction, EVSE not yet named) is
answered ``CAREFUL`` and written nothing: the caller takes the careful path.

A session whose reading or state a batch moves is sent as a ``session.updated`` webhook event at
most once per ``WATTSON_WEBHOOK_SESSION_UPDATE_S`` (``producers.SessionUpdates``, in memory): a
batch with sessions due reads them once more and inserts their events, in its transaction (on
PostgreSQL a batch of meter values alone then takes one); a batch with none due costs nothing more.
"""

import hashlib
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from wattson.db import Database, utcnow
from wattson.db.engine import on_sqlite_thread
from wattson.db.group_commit import GroupCommit
from wattson.sessions.meter import Sample, energy_reading, pack
from wattson.sessions.models import ACTIVE, MeterValue, TransactionEvent
from wattson.webhooks.producers import RAW_COLUMNS, SESSION_FIELDS, SessionUpdates, raw_event, session_rows_data

log = logging.getLogger("wattson.sessions")

#: Sessions whose id is remembered by (station, transaction id): ids never change.
CACHED_SESSIONS = 20_000

COLUMNS = ("session_id", "charge_point_id", "evse", "connector", "timestamp", "samples", "received_at", "digest")
_meter_values = MeterValue.__table__
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
#: Move a session's live reading forward, never back, and only while it is active (a stop may
#: have been committed meanwhile by another connection). Parameters: reading, time, now, id.
_ADVANCE = ("UPDATE sessions SET meter_last = :wh, meter_last_at = :at, updated_at = :now, "
            "energy_wh = CASE WHEN :wh > meter_start THEN :wh - meter_start ELSE 0 END "
            f"WHERE id = :sid AND status = '{ACTIVE}' AND (meter_last_at IS NULL OR meter_last_at <= :at)")
#: Of MOVED, the columns an Updated event seldom changes (a late event begins the session or its
#: readings earlier) and that start-ordered indexes hold: SQLite rewrites every index of a column
#: it is told to set, changed or not, so the common update leaves them out.
SELDOM = ("started_at", "meter_start", "meter_start_at")
#: An Updated event's new state of its session. Parameters: the columns, now, id.
_MOVE, _MOVE_ALL = (f"UPDATE sessions SET {', '.join(f'{c} = :{c}' for c in columns)}, updated_at = :now "
                    "WHERE id = :sid" for columns in ([c for c in MOVED if c not in SELDOM], MOVED))
_PG_FIND = ("SELECT s.id, s.charge_point_id, s.transaction_id FROM sessions AS s "
            "JOIN unnest($1::text[], $2::text[]) AS k(cp, tx) ON s.charge_point_id = k.cp AND s.transaction_id = k.tx")
_PG_ADVANCE = (
    "UPDATE sessions AS s SET meter_last = v.wh, meter_last_at = v.at, updated_at = $4, "
    "energy_wh = CASE WHEN v.wh > s.meter_start THEN v.wh - s.meter_start ELSE 0 END "
    "FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) AS v(id, at, wh) "
    f"WHERE s.id = v.id AND s.status = '{ACTIVE}' AND (s.meter_last_at IS NULL OR s.meter_last_at <= v.at)")
#: A row already stored (the same instant's samples, resent after a lost answer) is skipped by its
#: digest, which the unique indexes of meter values hold (migration 0012).
_PG_INSERT_VALUES = (f"INSERT INTO meter_values ({', '.join(COLUMNS)}) SELECT * FROM unnest($1::int[], $2::text[], "
                     "$3::int[], $4::int[], $5::timestamptz[], $6::json[], $7::timestamptz[], $8::bigint[]) "
                     "ON CONFLICT DO NOTHING")
_PG_INSERT_EVENTS = (f"INSERT INTO transaction_events ({', '.join(EVENT_COLUMNS)}) SELECT * FROM unnest($1::int[], "
                     "$2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::timestamptz[], $8::bool[], "
                     "$9::text[], $10::text[], $11::text[], $12::timestamptz[])")
_PG_STATE = (f"SELECT {', '.join('s.' + c for c in STATE_COLUMNS)} FROM sessions AS s "
             "JOIN unnest($1::text[], $2::text[]) AS k(cp, tx) ON s.charge_point_id = k.cp AND s.transaction_id = k.tx "
             "ORDER BY s.id FOR UPDATE OF s")
_PG_SEEN = ("SELECT e.session_id, e.seq_no FROM transaction_events AS e "
            "JOIN unnest($1::int[], $2::int[]) AS k(sid, seq) ON e.session_id = k.sid AND e.seq_no = k.seq")
_PG_MOVE = (
    "UPDATE sessions AS s SET started_at = v.started_at, last_seq_no = v.last_seq_no, "
    "charging_state = v.charging_state, meter_start = v.meter_start, meter_start_at = v.meter_start_at, "
    "meter_last = v.meter_last, meter_last_at = v.meter_last_at, energy_wh = v.energy_wh, updated_at = $10 "
    "FROM unnest($1::int[], $2::timestamptz[], $3::int[], $4::text[], $5::bigint[], $6::timestamptz[], "
    "$7::bigint[], $8::timestamptz[], $9::bigint[]) "
    "AS v(id, started_at, last_seq_no, charging_state, meter_start, meter_start_at, meter_last, meter_last_at, "
    "energy_wh) WHERE s.id = v.id")


_PG_INSERT_WEBHOOK_EVENTS = (f"INSERT INTO webhook_events ({', '.join(RAW_COLUMNS)}) "
                             "VALUES ($1, $2, $3, $4, $5::json, $6)")


def _after(sql: str, parameters: int) -> str:
    """``sql`` with its parameters renumbered to follow ``parameters`` others in one statement."""
    return re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + parameters}", sql)


#: Meter values without events: the rows ($1-$8, as COLUMNS) and the sessions' new readings
#: (as _PG_ADVANCE's, from $9) in one statement.
_PG_VALUES = f"WITH added AS ({_PG_INSERT_VALUES}) {_after(_PG_ADVANCE, 8)}"
#: A batch's events applied: the meter value rows ($1-$8), the events ($9-$20, as EVENT_COLUMNS)
#: and the sessions' new state (as _PG_MOVE's, from $21) in one statement.
_PG_EVENTS = (f"WITH added AS ({_PG_INSERT_VALUES}), events AS ({_after(_PG_INSERT_EVENTS, 8)}) "
              f"{_after(_PG_MOVE, 20)}")


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

    def __init__(self, row: Iterable):
        for name, value in zip(STATE_COLUMNS, row):
            setattr(self, name, value)

    @classmethod
    def from_sqlite(cls, row) -> "_State":
        """From the driver's row: SQLite's timestamps are text (UTC)."""
        values = list(row)
        for i in _STATE_TIMES:
            values[i] = _from_sqlite_text(values[i])
        return cls(values)

    def seldom(self) -> tuple:
        return self.started_at, self.meter_start, self.meter_start_at


_STATE_TIMES = [i for i, name in enumerate(STATE_COLUMNS) if name.endswith("_at")]


class MeterWriter(GroupCommit):
    what = "meter value message"
    raw_postgres = True

    def __init__(self, db: Database, updates: SessionUpdates | None = None):
        super().__init__(db)
        self._session_ids: dict[tuple[str, str], int] = {}
        self._sqlite: _SqliteStatements | None = None
        self.updates = updates  # which sessions are due a session.updated; None: no such events

    def _due(self, moved: list, latest: dict) -> list[int]:
        """The sessions this batch moved that are due a session.updated event."""
        if self.updates is None or not (moved or latest):
            return []
        return self.updates.due([st.id for st in moved] + list(latest))

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
            for at, stored in pack(m.samples):
                text = orjson.dumps(stored).decode()
                rows.append((session_id, cp, evse, connector, stamp(at), text, received,
                             row_digest(session_id, cp, evse, connector, at, text)))
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
    def _doubtful(messages: list[MeterMessage], states: dict) -> set[tuple[int, int]]:
        """The (session, sequence number) pairs that may be repeats: only an event numbered no
        higher than the highest its session has applied can be one, so a station counting up
        (the common case) costs no look-up."""
        return {(state.id, m.event.seq_no) for m in messages if m.event is not None
                and (state := states.get((m.charge_point_id, m.transaction_id))) is not None
                and state.last_seq_no is not None and m.event.seq_no <= state.last_seq_no}

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

    # --- SQLite: the whole batch on the driver's thread, tuples in its parameter style -------
    async def _write(self, conn, messages: list[MeterMessage], changes: set) -> list:
        if self._sqlite is None:
            self._sqlite = _SqliteStatements(conn.dialect)
        return await on_sqlite_thread(conn, self._write_sqlite, messages, changes)

    def _write_sqlite(self, db: sqlite3.Connection, messages: list[MeterMessage], changes: set) -> list:
        """Runs on aiosqlite's thread (``on_sqlite_thread``), in the transaction of ``_write``'s
        connection; touches nothing the event loop does meanwhile (the queue is taken already)."""
        sql = self._sqlite
        stamp = sql.stamp
        unknown = self._unknown(messages)
        if unknown:
            self._remember(_select_pairs(db, "id, charge_point_id, transaction_id", "sessions",
                                         ("charge_point_id", "transaction_id"), unknown))
        states, seen = {}, set()
        keyed = {(m.charge_point_id, m.transaction_id) for m in messages if m.event is not None}
        if keyed:
            found = _select_pairs(db, ", ".join(STATE_COLUMNS), "sessions", ("charge_point_id", "transaction_id"),
                                  keyed)
            states = {(st.charge_point_id, st.transaction_id): st for st in map(_State.from_sqlite, found)}
            doubtful = self._doubtful(messages, states)
            if doubtful:
                seen = set(_select_pairs(db, "session_id, seq_no", "transaction_events", ("session_id", "seq_no"),
                                         doubtful))
        loaded = {st.id: st.seldom() for st in states.values()}
        outcomes, moved = self._apply(messages, states, seen)
        changes.update(("session", st.id) for st in moved)  # as the careful path's ORM writes are
        now = utcnow()
        rows, latest = self._rows(messages, outcomes, states, stamp, now)
        stamped_now = stamp(now)
        if moved:
            db.executemany(sql.insert_events, self._event_rows(messages, outcomes, states, stamp, now))
            for statement, rows_moved in sql.moves(moved, loaded, stamped_now):
                db.executemany(statement, rows_moved)
        if rows:
            db.executemany(sql.insert_values, rows)
        if latest:
            db.executemany(sql.advance, [(wh, stamp(at), stamped_now, wh, wh, sid, stamp(at))
                                         for sid, (at, wh) in latest.items()])
        due = self._due(moved, latest)
        if due:
            found = db.execute(f"SELECT {', '.join(SESSION_FIELDS)} FROM sessions WHERE status = '{ACTIVE}' "
                               f"AND id IN ({', '.join('?' * len(due))})", due).fetchall()
            db.executemany(sql.insert_webhook_events, [raw_event("session.updated", session, stamped_now)
                                                       for session in session_rows_data(found, text_times=True)])
        return outcomes

    # --- PostgreSQL: on the asyncpg connection; one statement when no event is in the batch ----
    async def _write_postgres(self, pg, messages: list[MeterMessage], changes: set) -> list:
        unknown = self._unknown(messages)
        if unknown:
            self._remember(await pg.fetch(_PG_FIND, *zip(*unknown)))
        if all(m.event is None for m in messages):
            # Meter values alone (OCPP 1.6, 2.x MeterValues): their rows and the sessions' readings
            # in one statement, its own transaction: one round trip, no BEGIN and COMMIT.
            now = utcnow()
            rows, latest = self._rows(messages, [None] * len(messages), {}, _same, now)
            due = self._due([], latest)
            if not due:
                await pg.execute(_PG_VALUES, *_columns(rows, COLUMNS), *_readings(latest), now)
                return [None] * len(messages)
            async with pg.transaction():
                await pg.execute(_PG_VALUES, *_columns(rows, COLUMNS), *_readings(latest), now)
                await self._updated_postgres(pg, due, now)
            return [None] * len(messages)
        async with pg.transaction():
            return await self._write_events_postgres(pg, messages, changes)

    @staticmethod
    async def _updated_postgres(pg, due: list[int], now) -> None:
        found = await pg.fetch(f"SELECT {', '.join(SESSION_FIELDS)} FROM sessions "
                               f"WHERE status = '{ACTIVE}' AND id = ANY($1::int[])", due)
        await pg.executemany(_PG_INSERT_WEBHOOK_EVENTS, [raw_event("session.updated", session, now)
                                                         for session in session_rows_data(found, text_times=False)])

    async def _write_events_postgres(self, pg, messages: list[MeterMessage], changes: set) -> list:
        """A batch with 2.x events: the sessions' state locked and read, then the rows and the moved
        states written by one statement, in one transaction."""
        states, seen = {}, set()
        keyed = {(m.charge_point_id, m.transaction_id) for m in messages if m.event is not None}
        states = {(st.charge_point_id, st.transaction_id): st for st in map(_State, await pg.fetch(
            _PG_STATE, [cp for cp, _ in keyed], [tx for _, tx in keyed]))}
        doubtful = self._doubtful(messages, states)
        if doubtful:
            seen = {tuple(r) for r in await pg.fetch(_PG_SEEN, *zip(*doubtful))}
        outcomes, moved = self._apply(messages, states, seen)
        changes.update(("session", st.id) for st in moved)  # as the careful path's ORM writes are
        now = utcnow()
        rows, latest = self._rows(messages, outcomes, states, _same, now)
        if moved:  # the rows of WRITTEN events' samples, and of messages without events
            events = self._event_rows(messages, outcomes, states, _same, now)
            await pg.execute(_PG_EVENTS, *_columns(rows, COLUMNS), *_columns(events, EVENT_COLUMNS),
                             *([getattr(st, c) for st in moved] for c in ("id",) + MOVED), now)
        elif rows:
            await pg.execute(_PG_INSERT_VALUES, *_columns(rows, COLUMNS))
        if latest:
            await pg.execute(_PG_ADVANCE, *_readings(latest), now)
        due = self._due(moved, latest)
        if due:
            await self._updated_postgres(pg, due, now)
        return outcomes


def row_digest(session_id: int | None, charge_point_id: str, evse: int, connector: int | None, at: datetime,
               samples: str) -> int:
    """A meter value row's identity as a signed 64-bit number: the same instant's samples, sent
    again by a station that got no answer (OCPP 1.6 has no sequence number), are the same row."""
    key = orjson.dumps((session_id, charge_point_id, evse, connector, at.astimezone(timezone.utc).isoformat(),
                        samples))
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big", signed=True)


def _same(value):
    return value


def _readings(latest: dict) -> tuple[list, list, list]:
    """The sessions' latest readings as _PG_ADVANCE's arrays: ids, times, Wh."""
    ids = list(latest)
    return ids, [latest[i][0] for i in ids], [latest[i][1] for i in ids]


def _columns(rows: list[tuple], names: tuple[str, ...]) -> list[list]:
    """Rows as one list per column: the arrays ``unnest`` makes rows of again."""
    return [list(column) for column in zip(*rows)] if rows else [[] for _ in names]


class _SqliteStatements:
    """The batch's statements in the driver's own parameter style, and timestamps as the column
    type stores them: rows go to the driver as tuples, skipping SQLAlchemy's per-row parameter
    processing (most of a batch's cost on the event loop)."""

    def __init__(self, dialect):
        self.stamp = _column_stamp(dialect)
        self.insert_values, self.insert_events = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))}){tail}"
            for table, columns, tail in ((_meter_values, COLUMNS, " ON CONFLICT DO NOTHING"),
                                         (_events, EVENT_COLUMNS, "")))
        self.advance = _positional(_ADVANCE)
        self.insert_webhook_events = (f"INSERT INTO webhook_events ({', '.join(RAW_COLUMNS)}) "
                                      f"VALUES ({', '.join(['?'] * len(RAW_COLUMNS))})")
        self.move, self.move_all = _positional(_MOVE), _positional(_MOVE_ALL)
        self.moving = [c for c in MOVED if c not in SELDOM]

    def moves(self, moved: list[_State], loaded: dict, now: str) -> list[tuple[str, list[tuple]]]:
        """The moved states' rows per statement that writes them: the short one unless a seldom
        column changed (``loaded``: each state's seldom columns as read)."""
        common = [st for st in moved if st.seldom() == loaded[st.id]]
        rare = [st for st in moved if st.seldom() != loaded[st.id]]
        return [(statement, [(*self._values(st, columns), now, st.id) for st in group])
                for statement, columns, group in ((self.move, self.moving, common), (self.move_all, MOVED, rare))
                if group]

    def _values(self, state: _State, columns) -> list:
        return [self.stamp(value) if name.endswith("_at") else value
                for name in columns for value in (getattr(state, name),)]


def _column_stamp(dialect) -> Callable:
    """The timestamp column's bind conversion; for SQLite, the text the driver would store (its
    datetime adapter's ``isoformat``) made directly, when it is the very same."""
    processor = _meter_values.c.timestamp.type.bind_processor(dialect) or _same
    for probe in (datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc), datetime(2026, 1, 2, tzinfo=timezone.utc)):
        bound = processor(probe)
        if (bound.isoformat(" ") if isinstance(bound, datetime) else bound) != _sqlite_text(probe):
            return processor
    return _sqlite_text


def _sqlite_text(value: datetime | None) -> str | None:
    """Remembers the last few thousand: stations that sample on the same second share them, and
    formatting an aware datetime costs more than the look-up."""
    text = _texts.get(value)
    if text is None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Wattson stores aware UTC timestamps only")
        text = value.astimezone(timezone.utc).isoformat(" ")[:-6]  # without "+00:00"
        if len(_texts) >= 4096:
            _texts.clear()
        _texts[value] = text
    return text


_texts: dict[datetime, str] = {}


def _from_sqlite_text(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def _select_pairs(db: sqlite3.Connection, columns: str, table: str, keys: tuple[str, str], pairs) -> list[tuple]:
    """The rows of ``table`` whose two ``keys`` columns hold one of the ``pairs``. The pairs drive
    the join, one index look-up each; ``a IN (…) AND b IN (…)`` would probe every combination."""
    values = ", ".join(["(?, ?)"] * len(pairs))
    first, second = keys
    sql = (f"SELECT {columns} FROM (VALUES {values}) AS k CROSS JOIN {table} "
           f"ON {first} = k.column1 AND {second} = k.column2")
    return db.execute(sql, tuple(x for pair in pairs for x in pair)).fetchall()


def _positional(sql: str) -> str:
    """``:name`` parameters as SQLite's ``?``, in the order they appear."""
    return re.sub(r":\w+", "?", sql)

