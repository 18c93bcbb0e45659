"""Charging sessions: start, meter values and stop, each persisted as it arrives."""

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import orjson
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.access.rules import ACCEPTED, AuthResult, concurrent
from wattson.access.service import AccessService
from wattson.api.types import MAX_ID
from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.db.one_of import one_of
from wattson.db.paging import newest_first
from wattson.errors import Invalid
from wattson.sessions import remote_starts, stale
from wattson.sessions.meter import Sample, energy_between, energy_reading, pack
from wattson.sessions.meter_writer import MeterMessage, MeterWriter, row_digest
from wattson.sessions.models import ACTIVE, FINISHED, MeterValue, Session
from wattson.sessions.start_writer import CAREFUL, Start, StartWriter, session_for
from wattson.stations import reservations
from wattson.stations.models import ChargePoint, Reservation, StationEvent
from wattson.stations.service import StationService
from wattson.webhooks.outbox import emit
from wattson.webhooks.producers import SessionUpdates, reservation_data, session_data

log = logging.getLogger("wattson.sessions")
#: Instants looked at for a session's latest sample of one measurand.
RECENT = 5
#: The stop reason of a 1.6 session closed because a new one started on its connector.
STOP_NOT_RECEIVED = "StopNotReceived"
#: stop reasons of sessions Wattson closed itself: a StopTransaction that comes after all applies
LATE_STOP_WINS = frozenset({STOP_NOT_RECEIVED, *stale.POLICY_REASONS})


def emit_session(s: AsyncSession, type: str, session: Session) -> None:
    """A session event in ``s``'s transaction (the session flushed: it has its id)."""
    emit(s, type, session.id, session_data(session), session.charge_point_id)


@dataclass(slots=True)
class SessionFilter:
    """Filters of the sessions list; every one given must hold. Time windows include their
    lower bound and exclude their upper bound: ``started_after <= started_at < started_before``.
    ``stopped_before`` also means started before it, as a session starts before it stops (see
    ``sessions/query.py``: it lets the started_at index serve)."""

    charge_point_id: str | None = None
    evse: int | None = None  # the OCPP EVSE number, at ``charge_point_id``
    evse_id: int | None = None  # the EVSE row id
    location_id: int | None = None
    driver_id: int | None = None
    id_tag: str | None = None
    status: str | None = None
    started_after: datetime | None = None
    started_before: datetime | None = None
    stopped_after: datetime | None = None
    stopped_before: datetime | None = None

    def check(self) -> None:
        """Raises Invalid for combinations that cannot mean anything."""
        problems = []
        if self.evse is not None and self.charge_point_id is None:
            problems.append({"field": "query.evse", "message": "an EVSE number needs charge_point_id"})
        for name, low, high in (("started", self.started_after, self.started_before),
                                ("stopped", self.stopped_after, self.stopped_before)):
            if low is not None and high is not None and low > high:
                problems.append({"field": f"query.{name}_after", "message": f"later than {name}_before"})
        if problems:
            raise Invalid("invalid session filter", problems)


class SessionService:
    def __init__(self, db: Database, access: AccessService, billing=None, update_interval_s: float = 60.0):
        self.db = db
        self.access = access
        self.billing = billing  # sessions/billing.BillingService: prices sessions and issues CDRs
        #: which running sessions are due a session.updated webhook event (at most one per interval)
        self.updates = SessionUpdates(update_interval_s)

    async def authorize(self, id_tag: str, charge_point_id: str, exclude_session: int | None = None) -> AuthResult:
        """The token's answer at this charger, or ConcurrentTx when it already runs another session."""
        result = await self.access.authorize(id_tag, charge_point_id)
        if not result.accepted:
            return result
        async with self.db.session() as s:
            return await self._unless_concurrent(s, id_tag, result, exclude_session)

    @staticmethod
    async def _unless_concurrent(s: AsyncSession, id_tag: str, result: AuthResult,
                                 exclude_session: int | None = None, at: tuple | None = None) -> AuthResult:
        """An accepted ``result``, or ConcurrentTx when the tag already runs another session
        (``blocks``)."""
        if not result.accepted:
            return result
        for row in await s.execute(SessionService.holders(s, {id_tag})):
            if SessionService.blocks(row, id_tag, exclude_session, at):
                return concurrent(result)
        return result

    @staticmethod
    def holders(s: AsyncSession, id_tags: set[str]):
        """The running sessions these tags were accepted for, since their station's last boot:
        what may hold a tag (``blocks``)."""
        return (select(Session.id, Session.id_tag, Session.charge_point_id, Session.evse, Session.connector,
                       Session.last_seq_no)
                .join(ChargePoint, ChargePoint.id == Session.charge_point_id)
                .where(one_of(s, Session.id_tag, id_tags), Session.status == ACTIVE, Session.auth_status == ACCEPTED,
                       or_(ChargePoint.booted_at.is_(None), ChargePoint.booted_at <= Session.started_at)))

    @staticmethod
    def blocks(holder, id_tag: str, exclude_session: int | None, at: tuple | None) -> bool:
        """Whether a ``holders`` row keeps ``id_tag`` from starting another session. Only sessions
        the tag was accepted for count: a refused start blocks nothing. A transaction does not
        outlive a reboot of its station: one started before the station's last boot waits for
        its StopTransaction but no longer holds the tag; nor one on the (station, EVSE,
        connector) ``at`` that a new 1.6 start there closes (``_close_unstopped``)."""
        if holder.id_tag != id_tag or holder.id == exclude_session:
            return False
        return at is None or holder.last_seq_no is not None or \
            (holder.charge_point_id, holder.evse, holder.connector) != at

    async def start(self, charge_point_id: str, evse: int, connector: int, id_tag: str | None,
                    meter_start: int, timestamp: datetime, reservation_id: int | None = None,
                    transaction_id: str | None = None) -> tuple[Session, AuthResult | None]:
        """Open a session. A retry of the same start (after a lost response) returns the
        session it created the first time, so the station gets the same transaction id.

        Opened with other stations' starts in one transaction (``start_writer``); what that
        does not handle takes ``_start_carefully``."""
        start = Start(charge_point_id, evse, connector, id_tag, timestamp, meter_start, reservation_id,
                      transaction_id=transaction_id)
        outcome = await self.start_writer.submit(start)
        if outcome == CAREFUL:
            return await self._start_carefully(start)
        session, auth = outcome
        log.info("session %s started on %s EVSE %s for %s (%s)", session.id, charge_point_id, evse, id_tag,
                 auth.status if auth else "no tag")
        return session, auth

    @cached_property
    def start_writer(self) -> StartWriter:
        return StartWriter(self)

    async def _start_carefully(self, start: Start) -> tuple[Session, AuthResult | None]:
        """One start by itself. What is read first (a retry? the tag's answer, its other
        sessions) is one short transaction, and the session is written by another."""
        charge_point_id, evse, connector, id_tag = start.charge_point_id, start.evse, start.connector, start.id_tag
        auth, here = None, (charge_point_id, evse, connector)
        async with self.db.session() as s:
            existing = await s.scalar(select(Session).where(
                Session.charge_point_id == charge_point_id, Session.evse == evse, Session.connector == connector,
                Session.id_tag == id_tag, Session.started_at == start.timestamp,
                Session.meter_start == start.meter_start))
            if existing is None and id_tag:
                auth = await self.access.own_answer(s, id_tag, charge_point_id)
                if auth is not None:
                    auth = await self._unless_concurrent(s, id_tag, auth, at=here)
        if existing is not None:
            return existing, await self._auth_for(id_tag, charge_point_id, existing.id)
        if id_tag and auth is None:  # a token only a fallback may know: asked outside any transaction
            auth = await self.access.fallback_answer(id_tag, charge_point_id)
            if auth.accepted:
                async with self.db.session() as s:
                    auth = await self._unless_concurrent(s, id_tag, auth, at=here)
        async with self.db.session() as s:
            closed = await self._close_unstopped(s, charge_point_id, evse, connector, start.timestamp)
            evse_row = await StationService.ensure_evse(s, charge_point_id, evse)
            location_id = await s.scalar(select(ChargePoint.location_id).where(ChargePoint.id == charge_point_id))
            session = session_for(start, evse_row.id, location_id, auth)
            s.add(session)
            await s.flush()
            if session.transaction_id is None:
                session.transaction_id = str(session.id)
            session.remote_start_id = remote_starts.started_by(
                await remote_starts.accepted_since(s, {charge_point_id}, utcnow() - remote_starts.WINDOW_1_6),
                charge_point_id, evse, id_tag)
            if start.reservation_id is not None:
                await self.use_reservation(s, charge_point_id, start.reservation_id, session.id)
            if self.billing is not None:
                await self.billing.choose_tariff(s, session)
            emit_session(s, "session.started", session)
        log.info("session %s started on %s EVSE %s for %s (%s)", session.id, charge_point_id, evse, id_tag,
                 auth.status if auth else "no tag")
        for session_id in closed:
            await self.settle(session_id)
        return session, auth

    @staticmethod
    async def _close_unstopped(s: AsyncSession, charge_point_id: str, evse: int, connector: int,
                               timestamp: datetime) -> list[int]:
        """Earlier 1.6 transactions still open on this connector lost their StopTransaction (or
        the station never sends one, as after a ConcurrentTx answer): a station sends its
        transaction messages in order, so a new start means they are over. Closed at their last
        reading, as 2.x's lost Ended (``transactions.close_unended``); a StopTransaction that
        turns up after all still has the last word. The ids of the sessions closed."""
        from wattson.sessions.transactions import close_unended  # transactions imports this module
        unstopped = list(await s.scalars(select(Session).where(
            Session.charge_point_id == charge_point_id, Session.evse == evse, Session.connector == connector,
            Session.status == ACTIVE, Session.last_seq_no.is_(None), Session.started_at <= timestamp)))
        for old in unstopped:
            close_unended(old, STOP_NOT_RECEIVED)
            emit_session(s, "session.ended", old)
            log.warning("%s started a transaction on EVSE %s while %s had not stopped; session %s closed",
                        charge_point_id, evse, old.transaction_id, old.id)
            s.add(StationEvent(charge_point_id=charge_point_id, kind="transaction_stop_missing",
                               data={"transaction_id": old.transaction_id, "session_id": old.id},
                               timestamp=timestamp))
        return [old.id for old in unstopped]

    async def _auth_for(self, id_tag: str | None, charge_point_id: str, session_id: int) -> AuthResult | None:
        return await self.authorize(id_tag, charge_point_id, exclude_session=session_id) if id_tag else None

    async def add_meter_values(self, charge_point_id: str, evse: int, connector: int | None,
                               transaction_id: str | None, samples: list[Sample]) -> None:
        """Store the samples (with the session of ``transaction_id``, when known) and move an active
        session's energy forward; returns once committed. Written with other stations' values in
        one transaction (``meter_writer``): meter values are most of what stations send."""
        await self.meter_writer.write(MeterMessage(charge_point_id, evse, connector, transaction_id, samples))

    @cached_property
    def meter_writer(self) -> MeterWriter:
        return MeterWriter(self.db, self.updates)

    async def stop(self, charge_point_id: str, transaction_id: str, meter_stop: int, timestamp: datetime,
                   reason: str | None = None, id_tag: str | None = None,
                   samples: list[Sample] | None = None) -> Session | None:
        """Close a session; None (and a station event) when the transaction is unknown.
        A repeated stop of a finished session changes nothing."""
        samples = samples or []
        async with self.db.session() as s:
            session = await self.by_transaction(s, charge_point_id, transaction_id)
            if session is None:
                log.warning("%s stopped unknown transaction %s; recorded as a station event", charge_point_id,
                            transaction_id)
                s.add(StationEvent(charge_point_id=charge_point_id, kind="unknown_transaction",
                                   data={"transaction_id": transaction_id, "meter_stop": meter_stop,
                                         "reason": reason, "id_tag": id_tag}, timestamp=timestamp))
                return None
            if session.status == FINISHED and session.stop_reason not in LATE_STOP_WINS:
                return session
            await self.store_samples(s, charge_point_id, session.evse, session.connector, session, samples)
            self._apply_reading(session, samples)
            session.status, session.stopped_at, session.meter_stop = FINISHED, timestamp, meter_stop
            session.stop_reason, session.stop_id_tag = reason, id_tag
            session.energy_wh = energy_between(session.meter_start, meter_stop)
            emit_session(s, "session.ended", session)
        self.updates.ended(session.id)
        log.info("session %s stopped on %s: %s Wh, %s", session.id, charge_point_id, session.energy_wh, reason)
        await self.settle(session.id)
        return session

    async def settle(self, session_id: int) -> None:
        """Price a finished session and issue its CDR (when a tariff applies to it)."""
        if self.billing is not None:
            await self.billing.settle(session_id)

    async def get(self, session_id: int) -> Session:
        async with self.db.session() as s:
            return await get_or_404(s, Session, session_id, "session")

    async def find(self, where: SessionFilter, limit: int,
                   before: tuple[datetime, int] | None = None) -> list[Session]:
        """Newest first; ``before`` is the (started_at, id) of the last item of the previous page."""
        where.check()
        query = newest_first(select(Session), Session.started_at, Session.id, limit, before)
        for column, value in ((Session.charge_point_id, where.charge_point_id), (Session.evse, where.evse),
                              (Session.evse_id, where.evse_id), (Session.location_id, where.location_id),
                              (Session.driver_id, where.driver_id), (Session.id_tag, where.id_tag),
                              (Session.status, where.status)):
            if value is not None:
                query = query.where(column == value)
        for column, low, high in ((Session.started_at, where.started_after, where.started_before),
                                  (Session.stopped_at, where.stopped_after, where.stopped_before)):
            if low is not None:
                query = query.where(column >= low)
            if high is not None:
                query = query.where(column < high)
        if where.stopped_before is not None:
            query = query.where(Session.started_at < where.stopped_before)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def meter_values(self, session_id: int, limit: int = 10_000) -> list[Sample]:
        """The session's samples in time order, at most ``limit``."""
        samples: list[Sample] = []
        async with self.db.session() as s:
            rows = await s.stream_scalars(MeterValue.of_session(session_id))
            async for row in rows:
                samples.extend(row.unpacked())
                if len(samples) >= limit:
                    break
        return samples[:limit]

    async def all_samples(self, session_id: int, measurands: frozenset[str] | None = None) -> list[Sample]:
        """All the session's samples (of these measurands) in time order: what charging periods,
        the power summary and pricing are derived from (``periods.py``)."""
        async with self.db.session() as s:
            return [x for row in await s.scalars(MeterValue.of_session(session_id)) for x in row.unpacked()
                    if measurands is None or x.measurand in measurands]

    async def latest_sample(self, session_id: int, measurand: str) -> Sample | None:
        """The session's latest sample of ``measurand`` among its last few instants."""
        async with self.db.session() as s:
            rows = await s.scalars(select(MeterValue).where(MeterValue.session_id == session_id)
                                   .order_by(MeterValue.timestamp.desc(), MeterValue.id.desc()).limit(RECENT))
            for row in rows:
                found = [x for x in row.unpacked() if x.measurand == measurand]
                if found:
                    return found[-1]
        return None

    @staticmethod
    async def by_transaction(s: AsyncSession, charge_point_id: str, transaction_id: str) -> Session | None:
        return await s.scalar(select(Session).where(Session.charge_point_id == charge_point_id,
                                                    Session.transaction_id == transaction_id))

    @staticmethod
    async def use_reservation(s: AsyncSession, charge_point_id: str, reservation_id: int, session_id: int) -> None:
        """A session that names its station's active reservation ends it."""
        if 0 <= reservation_id <= MAX_ID:
            used = await s.scalars(update(Reservation).where(
                Reservation.id == reservation_id, Reservation.charge_point_id == charge_point_id,
                Reservation.status == reservations.ACTIVE).values(
                status=reservations.USED, session_id=session_id, updated_at=utcnow()).returning(Reservation))
            for row in used:
                emit(s, "reservation.ended", row.id, reservation_data(row), row.charge_point_id)

    @staticmethod
    async def store_samples(s: AsyncSession, charge_point_id: str, evse: int, connector: int | None,
                            session: Session | None, samples: list[Sample]) -> None:
        """As the meter writer stores them: a row already stored (a resent message) is skipped."""
        rows = pack(samples)
        if not rows:
            return
        if session is not None and session.id is None:
            await s.flush()
        session_id = session.id if session is not None else None
        insert = pg_insert if s.bind.dialect.name == "postgresql" else sqlite_insert
        await s.execute(insert(MeterValue).on_conflict_do_nothing(), [
            {"session_id": session_id, "charge_point_id": charge_point_id, "evse": evse, "connector": connector,
             "timestamp": at, "samples": stored, "received_at": utcnow(),
             "digest": row_digest(session_id, charge_point_id, evse, connector, at, orjson.dumps(stored).decode())}
            for at, stored in rows])

    @staticmethod
    def _apply_reading(session: Session, samples: list[Sample]) -> None:
        reading = energy_reading(samples)
        if reading is None:
            return
        at, wh = reading
        if session.meter_last_at is None or at >= session.meter_last_at:
            session.meter_last, session.meter_last_at = wh, at
            session.energy_wh = energy_between(session.meter_start, wh)
