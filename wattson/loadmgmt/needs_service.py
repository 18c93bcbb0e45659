"""ISO 15118 charging needs (OCPP 2.x K15–K17): answer them, plan the schedule, send it, check
the EV's own schedule against it (docs/smart-charging.md "ISO 15118 charging needs").

The v2.x adapter reads the messages into ``EvNeeds`` and calls ``received`` / ``ev_schedule``; the
plan itself is ``ev_needs.plan``, the prices ``ev_needs.energy_prices``. Wattson can offer a
schedule when it has something to plan by: the EVSE is on a circuit (its allocation bounds the
offer) or the session has a tariff (its cheap hours shape it). Otherwise the answer stays
Rejected (2.1: NoChargingProfile) with that reason, as before.
"""

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select

from wattson.db import Database, utcnow
from wattson.db.errors import log_failure
from wattson.errors import WattsonError
from wattson.loadmgmt import ev_needs, profiles
from wattson.loadmgmt.allocation import allocate
from wattson.loadmgmt.charging_needs import EvChargingNeeds, planned_of, stored_plan
from wattson.loadmgmt.ev_needs import EvNeeds, Period, Plan
from wattson.loadmgmt.limits import ACCEPTED, ChargingLimit
from wattson.sessions.models import ACTIVE, Session
from wattson.stations.models import ChargePoint, Evse

log = logging.getLogger("wattson.loadmgmt")

ACCEPT, REJECT = "Accepted", "Rejected"
NO_PLAN = "NoPlan"  # the reason code when there is nothing to plan by
DEFAULT_EVSE_A = 32.0  # an EVSE whose maximum nobody entered: the most a type 2 socket carries
PLAN_HORIZON = timedelta(days=2)  # the furthest departure a plan looks at prices for
#: new offers after EV schedules beyond the offer, per needs: an EV that keeps asking for more is
#: left with the last offer (the station enforces it) rather than renegotiating for ever
RENEGOTIATIONS = 3


@dataclass(frozen=True, slots=True)
class Answer:
    """What NotifyEVChargingNeeds is answered: ``status``, and when not Accepted a reason code
    and why."""

    status: str
    code: str | None = None
    reason: str | None = None

    @property
    def planned(self) -> bool:
        return self.status == ACCEPT


class EvNeedsService:
    def __init__(self, db: Database, commands, load=None, hold_s: int = 0):
        self.db = db
        self.commands = commands  # stations/command_service.py: the schedule goes as set-charging-profile
        self.load = load  # loadmgmt/service.py LoadService: the circuits' snapshot, for the allocation
        self.hold_s = hold_s  # WATTSON_LOADMGMT_HOLD_S: on a circuit, the offer falls to the fail-safe after it
        self._sending: set[asyncio.Task] = set()
        self._renegotiated: dict[int, int] = {}  # needs row → new offers after a rejected EV schedule

    async def received(self, charge_point_id: str, evse: int, needs: EvNeeds, no_plan_status: str = REJECT
                       ) -> Answer:
        """K15/K17: keep the needs with the EVSE's running session and say whether a schedule
        follows (K15.FR.03/04); when it does, it is planned and sent once this answer has gone
        (K15.FR.07). ``no_plan_status``: the version's word for "no schedule will come"."""
        async with self.db.session() as s:
            session = await s.scalar(select(Session).where(
                Session.charge_point_id == charge_point_id, Session.evse == evse, Session.status == ACTIVE,
                Session.transaction_id.is_not(None)).order_by(Session.started_at.desc()).limit(1))
            circuit = await _circuit_of(s, charge_point_id, evse)
            if session is None:
                answer = Answer(no_plan_status, "NoTransaction",
                                f"no transaction runs on EVSE {evse}: a TxProfile needs one")
            elif circuit is None and not session.tariff_snapshot:
                answer = Answer(no_plan_status, NO_PLAN, f"EVSE {evse} is on no circuit and its session has no "
                                                         "tariff: Wattson has nothing to plan a schedule by")
            else:
                answer = Answer(ACCEPT)
            row = EvChargingNeeds(charge_point_id=charge_point_id, evse=evse,
                                  session_id=session.id if session else None, received_at=utcnow(),
                                  transfer_mode=needs.transfer_mode, departure_at=needs.departure,
                                  energy_wh=needs.energy_wh, min_current_a=needs.min_current_a,
                                  max_current_a=needs.max_current_a, max_voltage_v=needs.max_voltage_v,
                                  max_power_w=needs.max_power_w, max_periods=needs.max_periods,
                                  status=answer.status, reason=answer.reason)
            s.add(row)
        if answer.planned:
            self._spawn(self._plan_and_send(row.id), f"ev-needs-{row.id}")
        else:
            log.info("%s EVSE %s charging needs: %s", charge_point_id, evse, answer.reason)
        return answer

    async def ev_schedule(self, charge_point_id: str, evse: int, time_base: datetime, unit: str,
                          periods: list[Period], duration: int | None) -> bool:
        """K16.FR.06/07: whether the EV's schedule keeps within what was offered last: Wattson's
        plan for the needs, or the load controller's TxProfile limit when that went later (it
        replaced the plan at the station); recorded with the needs. Outside it, a new offer is
        planned (within the allocation as it is now) and goes once this answer has (K16.FR.08)."""
        async with self.db.session() as s:
            row = await s.scalar(select(EvChargingNeeds).where(
                EvChargingNeeds.charge_point_id == charge_point_id, EvChargingNeeds.evse == evse)
                .order_by(EvChargingNeeds.id.desc()).limit(1))
            session = await s.scalar(select(Session).where(
                Session.charge_point_id == charge_point_id, Session.evse == evse, Session.status == ACTIVE)
                .order_by(Session.started_at.desc()).limit(1))
            if row is not None and session is not None and row.session_id != session.id:
                row = None  # needs of an earlier session
            offer = stored_plan(row.plan) if row is not None and row.plan else None
            planned = planned_of(row.plan) if row is not None and row.plan else None
            controller = await _controller_offer(s, session.id, planned, self.hold_s) if session is not None else None
            if controller is not None and (offer is None or controller.start >= offer.start):
                offer = controller
            within = offer is None or ev_needs.schedule_within(time_base, unit, periods, offer, duration)
            if row is not None:
                row.ev_schedule = {"time_base": time_base.isoformat(), "unit": unit, "duration": duration,
                                   "periods": [{"start_s": p.start_s, "limit": p.limit} for p in periods]}
                row.ev_schedule_status = ACCEPT if within else REJECT
                row.ev_schedule_at = utcnow()
        if not within and row is not None and row.plan:
            again = self._renegotiated.get(row.id, 0) < RENEGOTIATIONS
            log.info("%s EVSE %s: the EV's schedule exceeds the offer: %s", charge_point_id, evse,
                     "a new one goes" if again else f"offered {RENEGOTIATIONS} times again already, it stands")
            if again:
                if len(self._renegotiated) > 10_000:  # rows long done: only the newest needs are renegotiated
                    self._renegotiated.clear()
                self._renegotiated[row.id] = self._renegotiated.get(row.id, 0) + 1
                self._spawn(self._plan_and_send(row.id), f"ev-renegotiate-{row.id}")
        return within

    async def drain(self) -> None:
        """Let schedules under way go (or time out) before shutting down."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    async def _allocation_a(self, circuit: int | None, key: tuple[str, int], now: datetime
                            ) -> tuple[float | None, float | None]:
        """The EVSE's share of its circuit now, as the load controller would allocate it (its
        tree's strategy), and its fail-safe share (when every EVSE there charges at once); None,
        None off a circuit."""
        if circuit is None or self.load is None:
            return None, None
        snapshot = await self.load.snapshot(now=now)
        parents = {node.id: node.parent_id for node in snapshot.circuits}
        root, seen = circuit, set()
        while parents.get(root) is not None and root not in seen:
            seen.add(root)
            root = parents[root]
        allocations = allocate(snapshot.circuits, snapshot.demands, snapshot.strategies.get(root, "equal"), now)
        found = allocations.get(key)
        failsafe = profiles.failsafe_shares(snapshot.circuits, snapshot.placed).get(circuit)
        return (None if found is None else found.limit_a), failsafe

    def _spawn(self, coroutine, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _plan_and_send(self, row_id: int) -> None:
        try:
            await self._send(row_id)
        except WattsonError as error:  # offline, or a command the station's version cannot take
            log.warning("charging needs %s: the schedule did not go: %s", row_id, error)
            await self._failed(row_id, type(error).__name__)
        except Exception as error:  # noqa: BLE001 - a background task: nothing above it to tell
            log_failure(log, f"charging needs {row_id}: the schedule", error)

    async def _failed(self, row_id: int, why: str) -> None:
        try:
            async with self.db.session() as s:
                (await s.get(EvChargingNeeds, row_id)).profile_status = why[:20]
        except Exception as error:  # noqa: BLE001 - as above
            log_failure(log, f"charging needs {row_id}: recording the failure", error)

    async def _send(self, row_id: int) -> None:
        now = utcnow()
        async with self.db.session() as s:
            row = await s.get(EvChargingNeeds, row_id)
            session = await s.get(Session, row.session_id) if row is not None else None
            if session is None:  # its station (or session) deleted meanwhile: nothing to send to
                return
            evse = await s.scalar(select(Evse).where(Evse.charge_point_id == row.charge_point_id,
                                                     Evse.number == row.evse))
            circuit = await _circuit_of(s, row.charge_point_id, row.evse)
            accepted = await _allocated_a(s, session.id)
        needs = row.needs()
        evse_a = _evse_max_a(evse)
        allocated, failsafe_a = await self._allocation_a(circuit, (row.charge_point_id, row.evse), now)
        for bound in (accepted, allocated):
            if bound is not None:
                evse_a = min(evse_a, bound)
        limit = ev_needs.limit_of(needs, evse_a, evse.max_power_w if evse and evse.max_power_w else None)
        planned = ev_needs.plan(needs, now, limit, _prices(session, needs, limit, now))
        params = profiles.planned_tx_profile(row.evse, session.transaction_id, planned, now, self.hold_s,
                                             failsafe_a=failsafe_a)  # within the allocation already
        offer = as_sent(planned, params)
        async with self.db.session() as s:  # before it goes: the EV's schedule may follow at once (K16)
            (await s.get(EvChargingNeeds, row_id)).plan = stored_json(offer, planned)
        record = await self.commands.submit(row.charge_point_id, "set-charging-profile",
                                            params.model_dump(mode="json", exclude_none=True), wait=True)
        answered = ((record.status if record.state == "completed" else None) or record.state)[:20]
        async with self.db.session() as s:
            stored = await s.get(EvChargingNeeds, row_id)
            if stored is not None:
                stored.command_id, stored.profile_status = record.id, answered
        log.info("%s EVSE %s: schedule for the EV's needs sent (%d periods, %s): %s", row.charge_point_id,
                 row.evse, len(offer.periods), "feasible" if offer.feasible else "not feasible by the departure",
                 answered)


def _prices(session: Session, needs: EvNeeds, limit: float, now: datetime) -> list[ev_needs.PriceStep]:
    """The session's tariff's prices up to the departure; none without a tariff or departure, or
    when the tariff cannot be read so (then the EV charges at once: never later than asked)."""
    if not session.tariff_snapshot or needs.departure is None or needs.departure <= now:
        return []
    try:
        return ev_needs.energy_prices(session.tariff_snapshot, session.time_zone or "UTC", session.started_at,
                                      now, min(needs.departure, now + PLAN_HORIZON), _power_kw(needs, limit))
    except (ArithmeticError, KeyError, TypeError, ValueError) as error:
        log.warning("session %s: its tariff's prices not read for the EV's schedule (%s: %s): charging at once",
                    session.id, type(error).__name__, error)
        return []


def stored_json(offer: Plan, planned: Plan) -> dict:
    """What a needs row keeps: the offer as sent (``plan``: the API's and the K16 check's), and the
    periods as planned (``planned``)."""
    return {**offer.to_json(), "planned": [{"start_s": p.start_s, "limit": p.limit} for p in planned.periods]}


def as_sent(planned: Plan, params) -> Plan:
    """The plan as a TxProfile carries it (``profiles.planned_tx_profile``): from its start, in its
    unit, with its periods."""
    schedule = params.profile.schedule
    return replace(planned, start=schedule.start_schedule, unit=schedule.charging_rate_unit,
                   periods=tuple(Period(p.start_period, p.limit) for p in schedule.periods))


async def _circuit_of(s, charge_point_id: str, evse: int) -> int | None:
    """The circuit an EVSE hangs on: its own, else its charge point's."""
    own = await s.scalar(select(Evse.circuit_id).where(Evse.charge_point_id == charge_point_id,
                                                       Evse.number == evse))
    if own is not None:
        return own
    return await s.scalar(select(ChargePoint.circuit_id).where(ChargePoint.id == charge_point_id))


async def _allocated_a(s, session_id: int) -> float | None:
    """What the load controller last had the station accept for this session, A per phase."""
    return await s.scalar(select(ChargingLimit.limit_a).where(
        ChargingLimit.session_id == session_id, ChargingLimit.status == ACCEPTED)
        .order_by(ChargingLimit.id.desc()).limit(1))


async def _controller_offer(s, session_id: int, planned: Plan | None, hold_s: int) -> Plan | None:
    """The load controller's latest accepted TxProfile for the session, from when it last went
    (sent or refreshed): the EV's plan capped at the allocation with the fail-safe tail, built
    again as the controller built it (``profiles.planned_tx_profile``) when the plan was there
    then; else the flat limit it sent."""
    limit = await s.scalar(select(ChargingLimit).where(
        ChargingLimit.session_id == session_id, ChargingLimit.status == ACCEPTED, ChargingLimit.evse > 0)
        .order_by(ChargingLimit.id.desc()).limit(1))
    if limit is None:
        return None
    at = max(limit.sent_at, limit.refreshed_at or limit.sent_at)
    if planned is None or at < planned.start:
        return Plan(at, limit.unit, limit.phases, (Period(0, limit.limit),), None, True)
    failsafe = await s.scalar(select(ChargingLimit.limit_a).where(
        ChargingLimit.charge_point_id == limit.charge_point_id, ChargingLimit.evse == 0,
        ChargingLimit.status == ACCEPTED, ChargingLimit.sent_at <= at).order_by(ChargingLimit.id.desc()).limit(1))
    params = profiles.planned_tx_profile(limit.evse, "", planned, at, hold_s, limit.limit_a, failsafe,
                                         limit.phases, limit.unit)
    return as_sent(planned, params)


def _evse_max_a(evse: Evse | None) -> float:
    if evse is None:
        return DEFAULT_EVSE_A
    if evse.max_amperage_a:
        return float(evse.max_amperage_a)
    if evse.max_power_w:
        return evse.max_power_w / (ev_needs.VOLTAGE_V * (evse.phases or 3))
    return DEFAULT_EVSE_A


def _power_kw(needs: EvNeeds, limit: float) -> float:
    watts = limit * needs.phases * ev_needs.VOLTAGE_V if needs.phases else limit
    return max(watts, 1.0) / 1000
