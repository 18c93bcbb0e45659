"""OCPP 2.x transactions: a stream of numbered events (Started, Updated, Ended) mapped onto the
same sessions as OCPP 1.6's StartTransaction / MeterValues / StopTransaction.

Events can arrive late (queued while the station was offline), twice (a lost response makes the
station resend) or not at all (a lost Ended). So every event is kept with its sequence number; a
repeat is recognised and applied once; state fields follow the highest sequence number seen;
energy follows the readings' own timestamps, whatever the arrival order; and a session whose
Ended never came is closed when the next transaction starts on its EVSE.

Most events are Updated events of a running transaction carrying meter values: those go through
the group commit of ``meter_writer`` with other stations' messages, applying the same rules
(``apply_event``). Everything else — Started, Ended, a token to answer, a reservation, a remote start's id, an
unknown or finished transaction — takes the careful path below, one event per transaction.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from wattson.access.rules import AuthResult
from wattson.db import Database
from wattson.db.lookup import get_or_404
from wattson.sessions import remote_starts, stale
from wattson.sessions.meter import Sample, energy_between, energy_readings
from wattson.sessions.meter_writer import REPEAT, WRITTEN, MeterMessage
from wattson.sessions.models import ACTIVE, FINISHED, Session, TransactionEvent
from wattson.sessions.service import SessionService, emit_session
from wattson.sessions.start_writer import CAREFUL, Start, session_for
from wattson.stations.models import ChargePoint, StationEvent
from wattson.stations.service import StationService

log = logging.getLogger("wattson.sessions")

STARTED, UPDATED, ENDED = "started", "updated", "ended"
#: stop reason of a session closed because a newer transaction started on its EVSE first
ENDED_NOT_RECEIVED = "EndedNotReceived"
#: stop reasons of sessions Wattson closed itself: an Ended event that comes after all applies
LATE_ENDED_WINS = frozenset({ENDED_NOT_RECEIVED, *stale.POLICY_REASONS})


@dataclass(slots=True)
class TxEvent:
    """One transaction event, version-neutral (the 2.x adapters fill it)."""

    transaction_id: str
    event_type: str  # STARTED | UPDATED | ENDED
    seq_no: int
    timestamp: datetime
    trigger_reason: str
    evse: int | None = None
    connector: int | None = None
    id_tag: str | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    offline: bool = False
    samples: list[Sample] = field(default_factory=list)


# --- rules (no I/O) -----------------------------------------------------------------------
def apply_event(session: Session, event: TxEvent, auth: AuthResult | None) -> None:
    """Move a session on by one event, whichever order the events arrive in."""
    if event.event_type == STARTED:
        session.started_at, session.start_reason = event.timestamp, event.trigger_reason
    elif event.timestamp < session.started_at:  # the Started event is late or lost: begin earlier
        session.started_at = event.timestamp
    # A remote start names its transaction in the Started event, or, when the cable came first
    # (F01), in the Updated event of triggerReason RemoteStart: one id per transaction, so the
    # Started event's counts, else the first one any event names, whatever the arrival order.
    if event.remote_start_id is not None and (event.event_type == STARTED or session.remote_start_id is None):
        session.remote_start_id = event.remote_start_id
    if event.reservation_id is not None:
        session.reservation_id = event.reservation_id
    if event.id_tag is not None:
        if event.event_type == ENDED:
            session.stop_id_tag = event.id_tag
        elif session.id_tag is None or event.event_type == STARTED:
            session.id_tag = event.id_tag
            session.auth_status = auth.status if auth else None
            session.driver_id = auth.driver_id if auth else None
    if session.last_seq_no is None or event.seq_no > session.last_seq_no:
        session.last_seq_no = event.seq_no
        # Ended without a chargingState: charging is over, but the state is not known.
        session.charging_state = event.charging_state or (None if event.event_type == ENDED
                                                          else session.charging_state)
    ending = event.event_type == ENDED and (session.status == ACTIVE or session.stop_reason in LATE_ENDED_WINS)
    if ending:  # its own readings count in full, even one stamped a moment after the event
        session.status = ACTIVE
    apply_readings(session, event.samples)
    if ending:
        session.status, session.stopped_at = FINISHED, event.timestamp
        session.stop_reason = event.stopped_reason or "Local"
        session.meter_stop = session.meter_last


def apply_readings(session: Session, samples: list[Sample]) -> None:
    """The earliest register reading of the transaction is its start, the latest (up to the
    stop) its current or final value: true whichever order the events arrive in."""
    readings = energy_readings(samples)
    if not readings:
        return
    first_at, first_wh = readings[0]
    if session.meter_start_at is None or first_at < session.meter_start_at:
        session.meter_start, session.meter_start_at = first_wh, first_at
    finished = session.status == FINISHED
    for at, wh in reversed(readings):
        if finished and at > session.stopped_at:
            continue
        if session.meter_last_at is None or at >= session.meter_last_at:
            session.meter_last, session.meter_last_at = wh, at
        break
    session.energy_wh = energy_between(session.meter_start, session.meter_last)
    if finished:
        session.meter_stop = session.meter_last


async def apply_new_event(s, session: Session, event: TxEvent, auth: AuthResult | None) -> None:
    """Keep an event not seen before and apply it to its session (in ``s``'s transaction)."""
    s.add(TransactionEvent(
        session_id=session.id, charge_point_id=session.charge_point_id, transaction_id=event.transaction_id,
        seq_no=event.seq_no, event_type=event.event_type, trigger_reason=event.trigger_reason,
        timestamp=event.timestamp, offline=event.offline, charging_state=event.charging_state,
        stopped_reason=event.stopped_reason, id_tag=event.id_tag))
    await SessionService.store_samples(s, session.charge_point_id, session.evse, session.connector, session,
                                       event.samples)
    apply_event(session, event, auth)
    if event.reservation_id is not None:
        await SessionService.use_reservation(s, session.charge_point_id, event.reservation_id, session.id)


def close_unended(session: Session, reason: str = ENDED_NOT_RECEIVED) -> None:
    """A transaction whose Ended (1.6: StopTransaction) was lost: finished at the last moment
    known of it."""
    session.status, session.stop_reason = FINISHED, reason
    session.stopped_at = max(session.meter_last_at or session.started_at, session.started_at)
    session.meter_stop = session.meter_last
    session.energy_wh = energy_between(session.meter_start, session.meter_last)


# --- the service ---------------------------------------------------------------------------
class TransactionService:
    def __init__(self, db: Database, sessions: SessionService):
        self.db = db
        self.sessions = sessions

    async def record(self, charge_point_id: str, event: TxEvent) -> AuthResult | None:
        """Apply one event; a repeat of an event already applied changes nothing and gets the
        same kind of answer. The token's answer is returned when the event names one."""
        if event.event_type != ENDED and event.id_tag is None and event.remote_start_id is not None:
            async with self.db.session() as s:  # the token of Wattson's own RequestStartTransaction
                event.id_tag = await remote_starts.token_of(s, charge_point_id, event.remote_start_id)
        if event.event_type == STARTED and event.evse:
            outcome = await self.sessions.start_writer.submit(Start(
                charge_point_id, event.evse, event.connector or 1, event.id_tag, event.timestamp,
                reservation_id=event.reservation_id, transaction_id=event.transaction_id, event=event))
            if outcome != CAREFUL:
                session, auth = outcome
                log.info("session %s started on %s EVSE %s: transaction %s (%s)", session.id, charge_point_id,
                         event.evse, event.transaction_id, event.trigger_reason)
                return auth
        if (event.event_type == UPDATED and event.id_tag is None and event.reservation_id is None
                and event.remote_start_id is None):  # the batch's sessions carry no remote_start_id
            outcome = await self.sessions.meter_writer.write(MeterMessage(
                charge_point_id, event.evse or 0, event.connector, event.transaction_id, event.samples, event))
            if outcome == REPEAT:
                self._log_repeat(charge_point_id, event)
            if outcome in (WRITTEN, REPEAT):
                return None
        return await self._record_carefully(charge_point_id, event)

    async def _record_carefully(self, charge_point_id: str, event: TxEvent) -> AuthResult | None:
        """One event in its own transactions: authorisation, opening, tariff, settling."""
        async with self.db.session() as s:
            session = await SessionService.by_transaction(s, charge_point_id, event.transaction_id)
            repeat = session is not None and await s.scalar(select(TransactionEvent.id).where(
                TransactionEvent.session_id == session.id, TransactionEvent.seq_no == event.seq_no)) is not None
        auth = None
        if event.id_tag is not None:
            auth = await self.sessions.authorize(event.id_tag, charge_point_id,
                                                 exclude_session=session.id if session else None)
        if repeat:
            self._log_repeat(charge_point_id, event)
            return auth
        closed: list[int] = []  # older sessions on the EVSE closed for want of their Ended
        async with self.db.session() as s:
            session = await SessionService.by_transaction(s, charge_point_id, event.transaction_id)
            opened = session is None
            if opened:
                session = await self._open(s, charge_point_id, event, closed)
            elif event.evse and session.evse == 0:  # the EVSE is named after the first event
                evse_row = await StationService.ensure_evse(s, charge_point_id, event.evse)
                session.evse, session.evse_id, session.connector = event.evse, evse_row.id, event.connector or 1
            was_active, driver_before = session.status == ACTIVE, session.driver_id
            ended_before = None if was_active else (session.stopped_at, session.stop_reason, session.meter_stop)
            await apply_new_event(s, session, event, auth)
            # The tariff is chosen at the start; a 2.x transaction may name its driver only then.
            if self.sessions.billing is not None and (opened or (was_active and session.driver_id != driver_before)):
                await self.sessions.billing.choose_tariff(s, session)
            self._emit(s, session, opened, was_active, ended_before)
        if was_active and session.status == FINISHED:
            log.info("session %s (transaction %s) ended on %s: %s Wh, %s", session.id, event.transaction_id,
                     charge_point_id, session.energy_wh, session.stop_reason)
        for session_id in closed:
            await self.sessions.settle(session_id)
        if session.status == FINISHED and (was_active or event.event_type == ENDED):
            await self.sessions.settle(session.id)  # settle() issues nothing new when nothing changed
        return auth

    def _emit(self, s, session: Session, opened: bool, was_active: bool, ended_before: tuple | None) -> None:
        """The webhook events of one event applied: started, ended (again, when a late Ended
        corrects a session Wattson closed itself), or a throttled updated."""
        if opened:
            emit_session(s, "session.started", session)
        if session.status == FINISHED:
            if was_active or ended_before != (session.stopped_at, session.stop_reason, session.meter_stop):
                emit_session(s, "session.ended", session)
                self.sessions.updates.ended(session.id)
        elif not opened and self.sessions.updates.due([session.id]):
            emit_session(s, "session.updated", session)

    @staticmethod
    def _log_repeat(charge_point_id: str, event: TxEvent) -> None:
        log.info("%s repeated event %s of transaction %s; ignored", charge_point_id, event.seq_no,
                 event.transaction_id)

    async def _open(self, s, charge_point_id: str, event: TxEvent, closed: list[int]) -> Session:
        """The session of a transaction seen for the first time (normally by its Started event)."""
        evse = event.evse or 0
        evse_row = await StationService.ensure_evse(s, charge_point_id, evse) if evse else None
        location_id = await s.scalar(select(ChargePoint.location_id).where(ChargePoint.id == charge_point_id))
        if evse:
            closed.extend(await self._close_unended(s, charge_point_id, evse, event))
        session = session_for(Start(charge_point_id, evse, event.connector or (1 if evse else 0), event.id_tag,
                                    event.timestamp, transaction_id=event.transaction_id, event=event),
                              evse_row.id if evse_row else None, location_id, None)
        s.add(session)
        await s.flush()
        log.info("session %s started on %s EVSE %s: transaction %s (%s)", session.id, charge_point_id, evse,
                 event.transaction_id, event.trigger_reason)
        return session

    @staticmethod
    async def _close_unended(s, charge_point_id: str, evse: int, event: TxEvent) -> list[int]:
        """Earlier 2.x transactions still open on this EVSE lost their Ended: a station runs one
        transaction per EVSE and sends its events in order. The ids of the sessions closed."""
        stale = list(await s.scalars(select(Session).where(
            Session.charge_point_id == charge_point_id, Session.evse == evse, Session.status == ACTIVE,
            Session.last_seq_no.is_not(None), Session.started_at <= event.timestamp)))
        for old in stale:
            close_unended(old)
            emit_session(s, "session.ended", old)
            log.warning("%s started transaction %s on EVSE %s while %s had not ended; session %s closed",
                        charge_point_id, event.transaction_id, evse, old.transaction_id, old.id)
            s.add(StationEvent(charge_point_id=charge_point_id, kind="transaction_end_missing",
                               data={"transaction_id": old.transaction_id, "session_id": old.id,
                                     "superseded_by": event.transaction_id}, timestamp=event.timestamp))
        return [old.id for old in stale]

    async def events(self, session_id: int) -> list[TransactionEvent]:
        """A session's transaction events in the station's order."""
        async with self.db.session() as s:
            await get_or_404(s, Session, session_id, "session")
            return list(await s.scalars(select(TransactionEvent).where(TransactionEvent.session_id == session_id)
                                        .order_by(TransactionEvent.seq_no)))
