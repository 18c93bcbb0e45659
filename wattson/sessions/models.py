"""Charging sessions (transactions) and their meter value time series."""

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, SmallInteger, String, Text, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from wattson.db import Base, utcnow
from wattson.sessions.meter import Sample, unpack
from wattson.tariffs import models as _tariffs  # noqa: F401 (tariff_snapshots, which sessions refer to)

ACTIVE = "active"
FINISHED = "finished"


class Session(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_cp_tx", "charge_point_id", "transaction_id", unique=True),
        Index("ix_sessions_started", "started_at", "id"),  # keyset pages and deep offsets from the index alone
        Index("ix_sessions_id_tag_status", "id_tag", "status"),
        Index("ix_sessions_tag_started", "id_tag", "started_at"),  # the session query's tag filter
        Index("ix_sessions_cp_started", "charge_point_id", "started_at"),
        Index("ix_sessions_driver_started", "driver_id", "started_at"),
        Index("ix_sessions_location_started", "location_id", "started_at"),
        Index("ix_sessions_stopped", "stopped_at", "started_at"),  # stop windows counted from the index
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # Wattson's own session id
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    evse_id: Mapped[int | None] = mapped_column(ForeignKey("evses.id", ondelete="SET NULL"))
    evse: Mapped[int]  # the OCPP EVSE number
    connector: Mapped[int]
    transaction_id: Mapped[str | None] = mapped_column(String(36))  # the protocol's id
    id_tag: Mapped[str | None] = mapped_column(String(36))
    # Who and where, as they were at the start: later edits to tags or stations don't move history.
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("drivers.id", ondelete="SET NULL"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    auth_status: Mapped[str | None] = mapped_column(String(16))  # what we answered at start
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    started_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    meter_start: Mapped[int] = mapped_column(BigInteger)  # Wh
    # When the start reading was taken: 1.6 gives meterStart at the start; a 2.x station's
    # earliest energy register reading of the transaction is its start (sessions/transactions.py).
    meter_start_at: Mapped[datetime | None]
    meter_stop: Mapped[int | None] = mapped_column(BigInteger)
    meter_last: Mapped[int | None] = mapped_column(BigInteger)  # latest energy register reading, Wh
    meter_last_at: Mapped[datetime | None]
    energy_wh: Mapped[int] = mapped_column(BigInteger, default=0)
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    stop_id_tag: Mapped[str | None] = mapped_column(String(36))
    reservation_id: Mapped[int | None]
    # OCPP 2.x transaction state: what started it, where charging stands, the last event applied.
    start_reason: Mapped[str | None] = mapped_column(String(32))
    charging_state: Mapped[str | None] = mapped_column(String(16))
    remote_start_id: Mapped[int | None]
    last_seq_no: Mapped[int | None]
    # Pricing: the tariff chosen at the start, copied whole so that later edits never reprice it,
    # the location's time zone its time-of-day rules are read in, and the final price once stopped.
    tariff_id: Mapped[str | None] = mapped_column(String(36))
    tariff_snapshot: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # the same copy as stored once for every session that took it (GET /tariff-snapshots/{id})
    tariff_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("tariff_snapshots.id", ondelete="RESTRICT"))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    cost: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # PricedSession.to_json(), once final
    charging_priority: Mapped[int | None]  # load management: overrides the driver group's (loadmgmt/)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _two_columns(name: str, doc: str, sql: str, sqlite_sql: str) -> type[FunctionElement]:
    """A SQL expression of two columns, written out per dialect (``{0}``, ``{1}``): one text for
    an index and the queries that must match it, so that the planner reads order from the index."""

    def render(template):
        def compile_(element, compiler, **kw) -> str:
            return template.format(*(compiler.process(clause, **kw) for clause in element.clauses))
        return compile_

    cls = type(name, (FunctionElement,), {"__doc__": doc, "inherit_cache": True})
    compiles(cls)(render(sql))
    compiles(cls, "sqlite")(render(sqlite_sql))
    return cls


elapsed = _two_columns("elapsed", """``end − start`` of two timestamps: days as a float on SQLite
    (julianday), an interval on PostgreSQL; either orders sessions by duration.""",
                       "({0} - {1})", "(julianday({0}) - julianday({1}))")

# The session query's sort by duration: finished sessions by stop − start (active ones are few).
Index("ix_sessions_duration", elapsed(Session.stopped_at, Session.started_at), Session.id,
      sqlite_where=Session.stopped_at.is_not(None), postgresql_where=Session.stopped_at.is_not(None))


finished_energy = _two_columns("finished_energy", """A finished session's energy from its start and stop
    readings: ``energy_between`` in SQL (a register that went backwards, or no stop reading, is
    zero; GREATEST skips a NULL), equal to its ``energy_wh``.

    The sort by energy reads finished sessions in this order from an index instead of one on
    ``energy_wh``: the live reading updates ``energy_wh`` of every running session with every
    meter value, and on PostgreSQL an update of an indexed column writes a new entry into every
    index of the table (no HOT update), which halved the meter value throughput.""",
                               "GREATEST({0} - {1}, 0)", "max(coalesce({0} - {1}, 0), 0)")

# The session query's sort by energy: finished sessions from their readings (active ones are few).
Index("ix_sessions_finished_energy", finished_energy(Session.meter_stop, Session.meter_start), Session.id,
      sqlite_where=Session.stopped_at.is_not(None), postgresql_where=Session.stopped_at.is_not(None))


class SessionDay(Base):
    """How many sessions started on each day (UTC). Kept by triggers on ``sessions`` (migration
    0006) in the same transaction as the rows: the session query's exact total of all sessions,
    and where its deep pages in start order begin, without counting a million index entries.
    A day's count is the sum of its shards: on PostgreSQL each connection adds to its own, so
    that concurrent starts never wait for one another's commit (migration 0013)."""

    __tablename__ = "session_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    sessions: Mapped[int]


class MeterValue(Base):
    """One meterValue element as OCPP has it: the samples a station took at one instant (each a
    measurand with its value, unit, phase, context, location and format; ``meter.pack``), stored
    together because they are written and read together."""

    __tablename__ = "meter_values"
    __table_args__ = (
        # Unique with the row's digest (``meter_writer.row_digest``): a message a station resends
        # after a lost answer is stored once (migration 0012).
        Index("ix_meter_values_session_time", "session_id", "timestamp", "digest", unique=True),
        # Readings outside any session, found by station: ``StationService.delete`` removes them.
        Index("ix_meter_values_cp_unassigned", "charge_point_id", "timestamp", "digest", unique=True,
              sqlite_where=text("session_id IS NULL"), postgresql_where=text("session_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    # No foreign key: a cascade from the station would need an index on every row's station, and
    # each index costs a page written per station per batch (migration 0010). A station with
    # sessions is never deleted; its readings in sessions go with them, the others with it.
    charge_point_id: Mapped[str] = mapped_column(String(48))
    evse: Mapped[int]  # 0: the station's main meter
    connector: Mapped[int | None]
    timestamp: Mapped[datetime]
    samples: Mapped[list] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    digest: Mapped[int | None] = mapped_column(BigInteger)  # None for rows stored before 0012

    def unpacked(self) -> list[Sample]:
        return unpack(self.timestamp, self.samples)

    @classmethod
    def of_session(cls, session_id: int):
        """The session's rows in time order (the order its samples are read in)."""
        return select(cls).where(cls.session_id == session_id).order_by(cls.timestamp, cls.id)


class TransactionEvent(Base):
    """One OCPP 2.x TransactionEvent as received: its sequence number makes a repeat recognisable
    and lets events queued offline be applied in the order the station produced them."""

    __tablename__ = "transaction_events"
    # A session is one (station, transaction id): its sequence numbers are the event's identity.
    __table_args__ = (Index("ix_transaction_events_session_seq", "session_id", "seq_no", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    charge_point_id: Mapped[str] = mapped_column(String(48))
    transaction_id: Mapped[str] = mapped_column(String(36))
    seq_no: Mapped[int]
    event_type: Mapped[str] = mapped_column(String(8))  # started | updated | ended
    trigger_reason: Mapped[str] = mapped_column(String(32))
    timestamp: Mapped[datetime]
    offline: Mapped[bool] = mapped_column(default=False)
    charging_state: Mapped[str | None] = mapped_column(String(16))
    stopped_reason: Mapped[str | None] = mapped_column(String(32))
    id_tag: Mapped[str | None] = mapped_column(String(36))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cdr(Base):
    """A charge detail record: the priced account of one finished session, never changed once
    issued. A correction is a credit CDR (negated amounts, ``credit_of_id`` naming the original),
    usually followed by a new CDR; ``sequence`` numbers a session's CDRs from 0."""

    __tablename__ = "cdrs"
    __table_args__ = (
        Index("ix_cdrs_session_sequence", "session_id", "sequence", unique=True),
        Index("ix_cdrs_created", "created_at", "id"),
        Index("ix_cdrs_cp_created", "charge_point_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="RESTRICT"))
    sequence: Mapped[int] = mapped_column(default=0)
    credit: Mapped[bool] = mapped_column(default=False)
    credit_of_id: Mapped[int | None] = mapped_column(ForeignKey("cdrs.id", ondelete="RESTRICT"))
    reason: Mapped[str | None] = mapped_column(String(255))
    charge_point_id: Mapped[str] = mapped_column(String(48))
    location_id: Mapped[int | None]
    driver_id: Mapped[int | None]
    id_tag: Mapped[str | None] = mapped_column(String(36))
    start_date_time: Mapped[datetime]
    end_date_time: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    tariff_id: Mapped[str | None] = mapped_column(String(36))
    total_energy_wh: Mapped[int] = mapped_column(BigInteger)
    total_excl_vat: Mapped[str] = mapped_column(String(24))  # exact decimal, as text on every backend
    total_incl_vat: Mapped[str] = mapped_column(String(24))
    body: Mapped[dict]  # the OCPI 2.2.1 CDR object, with the tariff snapshot and charging periods
    pricing: Mapped[dict]  # tariffs.pricing.PricedSession.to_json(): every line of the price, for receipts
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
