"""The load controller: keeps every managed station's charging profiles at what the allocation says
(docs/smart-charging.md, "Profiles and fail-safe").

It runs in the worker (one per cluster: ``Runtime._start_jobs``) and looks once a second at what
changed, in the database, so it works the same in one process and in a cluster: the outbox's
``session.started`` / ``session.ended`` (re-allocate now), ``charge_point.connected`` /
``charge_point.booted`` (that station's profiles are sent again: it may have lost them), the
newest meter value's id (draws moved: re-allocate, at most every ``DRAW_EVERY_S``), a TxProfile
about to fall back to its fail-safe tail (refresh it), and every ``interval_s`` a full round.

A round takes the load service's snapshot, runs ``allocate`` per circuit tree and sends, through
the command bus (the neutral ``set-charging-profile``, built and checked by the gateway holding
the station), only what changed: a fail-safe share that moved, a limit that moved by at least
``threshold_a`` (or paused, or resumed), a session that has no TxProfile yet. Decreases go
first, increases only once every decrease is answered: a circuit is never over its limit because
one EVSE was raised before another was lowered. No command rows: one per session per change
would bury the operators' own commands; ``charging_limits`` keeps each profile and its answer.
A session whose ISO 15118 EV has a plan (K15, ``needs_service``) is sent that plan capped at its
limit (``profiles.planned_tx_profile``) rather than the flat limit, so the plan is not lost.

A station that answers Rejected or a CALLERROR is recorded and its EVSE counted at its maximum
(``managed=False``) for the rest of the session; one that does not answer (or is offline) is
counted at the limit it last accepted, else its maximum, and tried again at the next round.
Each accepted change is checked with GetCompositeSchedule; a mismatch is recorded, not acted on.

What was sent is kept in memory and starts empty, so a restarted controller (a new worker, a
restarted Wattson) sends every online station its fail-safe and every session its limit again.
"""

import asyncio
import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from wattson.background import Loop
from wattson.bus import CommandBus
from wattson.db import Database, utcnow
from wattson.db.errors import log_failure
from wattson.db.one_of import one_of
from wattson.errors import CommandNotSupported, Invalid, StationOffline
from wattson.loadmgmt import charging_needs, profiles
from wattson.loadmgmt.allocation import allocate
from wattson.loadmgmt.limits import ACCEPTED, FAILED, REJECTED, ChargingLimit
from wattson.loadmgmt.models import Circuit
from wattson.sessions.models import ACTIVE, MeterValue, Session
from wattson.stations import commands as c
from wattson.stations.models import ChargePoint, DeviceVariable
from wattson.stations.status import ONLINE
from wattson.webhooks.delivery import GAP_WAIT_S
from wattson.webhooks.models import WebhookEvent

log = logging.getLogger("wattson.loadmgmt")

#: stations sent to at once: a station slow to answer holds up only its own messages
CONCURRENCY = 20
#: how often the controller looks for what changed
TICK_S = 1.0
#: the shortest time between two rounds started by meter values alone
DRAW_EVERY_S = 5.0
#: the window GetCompositeSchedule is asked for (the first period is what counts)
COMPOSITE_S = 60
SESSION_EVENTS = ("session.started", "session.ended")
STATION_EVENTS = ("charge_point.connected", "charge_point.booted")


@dataclass(slots=True)
class Sent:
    """The TxProfile a station accepted for a session's EVSE."""

    session_id: int
    limit_a: float
    limit: float
    unit: str
    at: datetime
    row_id: int


@dataclass(slots=True)
class Message:
    """One profile to send in a round, and what to remember of it."""

    params: c.SetChargingProfile
    key: tuple[str, int]
    limit_a: float
    phases: int | None
    unit: str
    session_id: int | None = None
    refresh_of: Sent | None = None  # the same limit again, before its hold runs out
    verify: bool = False


@dataclass(slots=True)
class Plan:
    """What one round sends: per station, decreases (and fail-safes) first, then increases."""

    first: dict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))
    then: dict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))


class LoadController:
    def __init__(self, db: Database, load, bus: CommandBus, interval_s: float, threshold_a: float, hold_s: int,
                 timeout: float):
        self.db = db
        self.load = load  # LoadService: the snapshot of circuits and demands
        self.bus = bus
        self.interval_s = interval_s
        self.threshold_a = threshold_a
        self.hold_s = hold_s
        self.timeout = timeout
        self._loop = Loop("load-controller")
        self._sent: dict[tuple[str, int], Sent] = {}
        self._failsafe: dict[str, tuple[float, int | None, str]] = {}  # station → (share, phases in W, unit) accepted
        self._failsafe_refused: dict[str, tuple[float, int | None, str]] = {}  # … refused: not sent again
        self._failsafe_unanswered: set[str] = set()  # stations that did not answer theirs: the next full round
        self._refused: set[int] = set()  # sessions whose station refused a TxProfile
        self._failed: set[tuple[str, int]] = set()  # EVSEs whose last TxProfile got no answer
        self._cursor: int | None = None  # outbox events up to it are handled
        self._seen: dict[int, datetime] = {}  # events after the cursor already handled, by id
        self._meter: int | None = None
        self._circuits: tuple | None = None

    def start(self) -> None:
        """Start afresh: a worker that lost the worker lock and took it back cannot know what
        another one sent meanwhile, so it sends everything again, as after a restart."""
        self._sent.clear()
        self._failsafe.clear()
        self._failsafe_refused.clear()
        self._failsafe_unanswered.clear()
        self._failed.clear()
        self._cursor = None
        self._seen.clear()
        self._loop.start(self._run)

    async def stop(self) -> None:
        await self._loop.stop()

    async def _run(self) -> None:
        next_full, next_draw, again = 0.0, 0.0, True  # the first round at once: restore after a restart
        while True:
            try:
                if self._cursor is None:
                    await self._begin()
                sessions_moved, draws_moved = await self._look()
                now = time.monotonic()
                full = now >= next_full
                if (again or full or sessions_moved or self._refresh_due() or (draws_moved and now >= next_draw)):
                    if full:
                        next_full = now + self.interval_s
                    next_draw = now + DRAW_EVERY_S
                    again = await self.round(full=full) is False
            except Exception as error:  # noqa: BLE001 - the loop must outlive any one round
                log_failure(log, "load controller round failed", error)
                again = True
            if not await self._loop.pause(TICK_S):
                return

    async def _begin(self) -> None:
        """Where the outbox and the meter values stand, and which running sessions' stations
        refused their profiles (remembered across restarts: they are not asked again)."""
        async with self.db.session() as s:
            self._cursor = await s.scalar(select(func.max(WebhookEvent.id))) or 0
            self._meter, *circuits = (await s.execute(_stamps())).one()
            self._circuits = tuple(circuits)
            self._refused = set(await s.scalars(
                select(ChargingLimit.session_id).join(Session, Session.id == ChargingLimit.session_id)
                .where(Session.status == ACTIVE, ChargingLimit.status == REJECTED)))

    async def _look(self) -> tuple[bool, bool]:
        """Whether sessions started or ended or circuits changed, and whether meter values came,
        since the last look; stations that (re)connected or booted lose what they were sent, so the
        round sends it again."""
        async with self.db.session() as s:
            events = (await s.execute(
                select(WebhookEvent.id, WebhookEvent.type, WebhookEvent.charge_point_id, WebhookEvent.created_at)
                .where(WebhookEvent.id > self._cursor, WebhookEvent.type.in_(SESSION_EVENTS + STATION_EVENTS))
                .order_by(WebhookEvent.id))).all()
            meter, *stamps = (await s.execute(_stamps())).one()
        circuits = tuple(stamps)
        sessions_moved = circuits != self._circuits  # a limit, a margin or an unmanaged reading changed
        self._circuits = circuits
        for event_id, event_type, charge_point_id, created_at in events:
            if event_id in self._seen:
                continue
            self._seen[event_id] = created_at
            if event_type in STATION_EVENTS:
                self.forget(charge_point_id)
            sessions_moved = True  # a station back is sent its profiles now, too
        self._settle()
        draws_moved, self._meter = meter != self._meter, meter
        return sessions_moved, draws_moved

    def _settle(self) -> None:
        """Move the cursor past the events older than GAP_WAIT_S. On PostgreSQL an event may
        commit after one with a later id, so the recent ones are read again (and skipped as seen)
        until no earlier one can still appear, as the webhook fan-out waits for such gaps."""
        settled = utcnow() - timedelta(seconds=GAP_WAIT_S)
        old = [event_id for event_id, at in self._seen.items() if at < settled]
        if old:
            self._cursor = max(self._cursor, max(old))
            self._seen = {event_id: at for event_id, at in self._seen.items() if event_id > self._cursor}

    def forget(self, charge_point_id: str | None) -> None:
        """A station (re)connected: what it accepted before may be gone."""
        self._failsafe.pop(charge_point_id, None)
        self._failsafe_refused.pop(charge_point_id, None)
        self._failsafe_unanswered.discard(charge_point_id)
        for key in [key for key in self._sent if key[0] == charge_point_id]:
            del self._sent[key]

    def _refresh_due(self) -> bool:
        waiting = [sent.at for key, sent in self._sent.items() if key not in self._failed]
        if self.hold_s <= 0 or not waiting:
            return False
        oldest = min(waiting)
        return (utcnow() - oldest).total_seconds() >= self.hold_s / 2

    # --- a round ---------------------------------------------------------------------------------
    async def round(self, now: datetime | None = None, full: bool = True) -> bool:
        """Allocate every circuit tree and send what changed. False when a decrease was refused
        or got no answer: the increases wait for a new allocation, at the next look. A full round
        (every interval) tries again the EVSEs whose profile got no answer; until then they are
        counted at what they last accepted."""
        now = now or utcnow()
        if full:
            self._failed.clear()
            self._failsafe_unanswered.clear()
        snapshot = await self.load.snapshot(now=now)
        if not snapshot.circuits and not self._failsafe:
            return True
        shares = profiles.failsafe_shares(snapshot.circuits, snapshot.placed)
        station_share = _station_shares(snapshot.placed, shares)
        gone = {cp for cp in self._failsafe if cp not in station_share}  # taken off their circuits
        stations = set(station_share) | {d.key[0] for d in snapshot.demands} | gone
        online, units = await self._stations(stations)
        for charge_point_id in stations - online:  # what it holds is on record (offered_a); it is sent
            self.forget(charge_point_id)          # everything again when it is back
        sessions = await self._transactions(snapshot.sessions)
        plans = await charging_needs.latest_plans(self.db, [session_id for session_id, _ in sessions.values()])
        demands = [self._effective(d, sessions.get(d.key), online) for d in snapshot.demands]
        allocation = _allocate_trees(snapshot.circuits, demands, snapshot.strategies, now)
        voltage = {node.id: node.voltage_v for node in snapshot.circuits}
        plan = Plan()
        for charge_point_id, share in station_share.items():
            if charge_point_id not in online:
                continue
            phases = min((d.phases for d in demands if d.key[0] == charge_point_id), key=len, default=())
            unit = profiles.rate_unit(snapshot.versions.get(charge_point_id), units.get(charge_point_id))
            message = self._failsafe_message(charge_point_id, share, unit, len(phases),
                                             _station_voltage(snapshot.placed, charge_point_id, voltage))
            if message is not None:
                plan.first[charge_point_id].append(message)
        for demand in demands:
            session = sessions.get(demand.key)
            cp = demand.key[0]
            if session is None or cp not in online or not demand.managed or demand.key not in allocation:
                continue
            unit = profiles.rate_unit(snapshot.versions.get(cp), units.get(cp))
            message, lower = self._tx_message(demand, session, allocation[demand.key], unit,
                                              station_share.get(cp, 0.0), voltage.get(demand.circuit_id,
                                                                                      profiles.VOLTAGE_V), now,
                                              plans.get(session[0]))
            if message is not None:
                (plan.first if lower else plan.then)[cp].append(message)
        if not await self._send_all(plan.first, now):
            return False
        done = await self._send_all(plan.then, now)
        await asyncio.gather(*(self._release(cp) for cp in gone & online))
        return done

    def _effective(self, demand, session: tuple[int, str] | None, online: set[str]):
        """The demand as the allocation must see it: a refused one at its maximum; one that cannot
        be reached at what it obeys (its last accepted limit, as remembered or recorded), else at
        its maximum."""
        if session is None:
            return demand
        if session[0] in self._refused:
            return replace(demand, managed=False)
        if demand.key[0] not in online or demand.key in self._failed:
            sent = self._sent.get(demand.key)
            held = (sent.limit_a if sent is not None and sent.session_id == session[0]
                    else demand.offered_a if demand.offered_a is not None else demand.max_a)
            return replace(demand, managed=False, max_a=held)
        return demand

    def _failsafe_message(self, charge_point_id: str, share: float, unit: str, phases: int,
                          voltage_v: float) -> Message | None:
        """The station's fail-safe, unless the one it has (or refused) is within the threshold: an
        unmanaged meter's every reading moves the share a little."""
        if charge_point_id in self._failsafe_unanswered:
            return None
        phases = phases or 1  # in W without a known EV: one phase, the safe side
        params = profiles.failsafe_profile(share, unit, phases, voltage_v, self.hold_s)
        phases_in_w = phases if unit == profiles.W else None
        for known in (self._failsafe.get(charge_point_id), self._failsafe_refused.get(charge_point_id)):
            if known is not None and known[1:] == (phases_in_w, unit) and (known[0] == share or (
                    abs(known[0] - share) < self.threshold_a and (known[0] == 0) == (share == 0))):
                return None
        return Message(params, (charge_point_id, 0), share, phases_in_w, unit)

    def _tx_message(self, demand, session: tuple[int, str], allocated, unit: str, share: float, voltage_v: float,
                    now: datetime, planned=None) -> tuple[Message | None, bool]:
        """The TxProfile to send for a demand, if any, and whether it lowers the EVSE's limit.
        ``planned``: the plan for its ISO 15118 EV's needs, which the profile keeps, capped at
        the limit (the limit is what counts for the threshold and the order of sending)."""
        session_id, transaction_id = session
        limit_a = profiles.down(allocated.limit_a)

        def build(limit: float) -> c.SetChargingProfile:
            if planned is not None:
                return profiles.planned_tx_profile(demand.key[1], transaction_id, planned, now, self.hold_s, limit,
                                                   share, allocated.phases, unit, voltage_v)
            return profiles.tx_profile(demand.key[1], transaction_id, limit, allocated.phases, share, now,
                                       self.hold_s, unit, voltage_v)

        params = build(limit_a)
        message = Message(params, demand.key, limit_a, allocated.phases, unit, session_id, verify=True)
        sent = self._sent.get(demand.key)
        if sent is None or sent.session_id != session_id or sent.unit != unit:
            return message, limit_a <= self._obeyed(demand, share)
        moved = abs(limit_a - sent.limit_a) >= self.threshold_a or (limit_a == 0) != (sent.limit_a == 0)
        if moved:
            return message, limit_a < sent.limit_a
        if self.hold_s > 0 and (now - sent.at).total_seconds() >= self.hold_s / 2:
            return Message(build(sent.limit_a), demand.key, sent.limit_a, allocated.phases, unit, session_id,
                           refresh_of=sent), True
        return None, False

    def _obeyed(self, demand, share: float) -> float:
        """What an EVSE without a TxProfile from this controller follows now: the limit on record
        for its session (after a restart or a reconnect); else its fail-safe (0 while it waits,
        else the share); else nothing, its maximum."""
        if demand.offered_a is not None:
            return demand.offered_a
        if not self._failsafe.get(demand.key[0]):
            return demand.max_a
        return 0.0 if self.hold_s > 0 else share

    # --- sending ---------------------------------------------------------------------------------
    async def _send_all(self, plan: dict[str, list[Message]], now: datetime) -> bool:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def station(charge_point_id: str, messages: list[Message]) -> bool:
            async with gate:
                ok = True
                for message in messages:
                    try:
                        ok = await self._send(charge_point_id, message, now) and ok
                    except Exception as error:  # noqa: BLE001 - one station's failure must not end the round
                        log_failure(log, f"{charge_point_id}: charging profile not sent", error)
                        ok = False
                return ok

        results = await asyncio.gather(*(station(cp, messages) for cp, messages in plan.items() if messages))
        return all(results)

    async def _send(self, charge_point_id: str, message: Message, now: datetime) -> bool:
        """Send one profile and record the answer; whether the round may go on to its increases:
        a TxProfile accepted, or any fail-safe (the allocation does not count on those)."""
        periods = message.params.profile.schedule.periods
        limit = periods[-1 if message.key[1] == 0 else 0].limit  # the fail-safe's after its wait
        try:
            action, payload = await self.bus.prepare(charge_point_id, "set-charging-profile", message.params)
        except (StationOffline, CommandNotSupported, Invalid) as error:
            status, reason = (FAILED if isinstance(error, StationOffline) else REJECTED), str(error)
        else:
            outcome = await self.bus.send(charge_point_id, action, payload, self.timeout)
            status, reason = _judged(outcome)
        if status == ACCEPTED and message.refresh_of is not None:
            message.refresh_of.at = now
            await self._refreshed(message.refresh_of.row_id, now)
            return True
        row_id = await self._record(charge_point_id, message, limit, now, status, reason)
        evse = message.key[1]
        if status == ACCEPTED:
            self._failed.discard(message.key)
            if evse == 0:
                self._failsafe[charge_point_id] = (message.limit_a, message.phases, message.unit)
            else:
                self._sent[message.key] = Sent(message.session_id, message.limit_a, limit, message.unit, now, row_id)
                if message.verify:
                    await self._verify(charge_point_id, evse, limit, message.unit, row_id)
            return True
        log.info("%s: %s for EVSE %s %s (%s)", charge_point_id, message.params.profile.purpose, evse, status, reason)
        if evse == 0:
            self._failsafe.pop(charge_point_id, None)
            if status == REJECTED:
                self._failsafe_refused[charge_point_id] = (message.limit_a, message.phases, message.unit)
            else:
                self._failsafe_unanswered.add(charge_point_id)
            return True
        if status == REJECTED and message.session_id is not None:
            self._refused.add(message.session_id)
        else:
            self._failed.add(message.key)
        return False

    async def _release(self, charge_point_id: str) -> None:
        """A station no longer on any circuit: Wattson's profiles cleared from it (the ones this
        controller knows it sent), so its sessions are no longer held to an allocation."""
        ids = [profiles.FAILSAFE_PROFILE_ID] + [profiles.TX_PROFILE_ID + evse for cp, evse in self._sent
                                                 if cp == charge_point_id]
        self.forget(charge_point_id)
        for profile_id in ids:
            try:
                action, payload = await self.bus.prepare(charge_point_id, "clear-charging-profile",
                                                         c.ClearChargingProfile(id=profile_id))
                outcome = await self.bus.send(charge_point_id, action, payload, self.timeout)
            except Exception as error:  # noqa: BLE001 - a profile left is the operator's to clear
                log_failure(log, f"{charge_point_id}: profile {profile_id} not cleared", error)
                continue
            log.info("%s: off its circuit, profile %s cleared: %s", charge_point_id, profile_id,
                     outcome.status or outcome.state)

    async def _verify(self, charge_point_id: str, evse: int, limit: float, unit: str, row_id: int) -> None:
        """Ask the station what it will do now and record whether that is what it was sent."""
        try:
            action, payload = await self.bus.prepare(charge_point_id, "get-composite-schedule", c.GetCompositeSchedule(
                evse=evse, duration=COMPOSITE_S, charging_rate_unit=unit))
        except (StationOffline, CommandNotSupported, Invalid) as error:
            log.info("%s: composite schedule not asked: %s", charge_point_id, error)
            return
        outcome = await self.bus.send(charge_point_id, action, payload, self.timeout)
        composite = profiles.composite_limit(outcome.response if outcome.state == c.COMPLETED else None)
        verified = profiles.verified(limit, unit, composite)
        if verified is False:
            log.warning("%s: EVSE %s composite schedule %s %s, not the %s %s sent", charge_point_id, evse,
                        composite[0], composite[1], limit, unit)
        async with self.db.session() as s:
            await s.execute(update(ChargingLimit).where(ChargingLimit.id == row_id).values(
                composite_limit=None if composite is None else composite[0], verified=verified))

    # --- the database ----------------------------------------------------------------------------
    async def _stations(self, charge_point_ids: set[str]) -> tuple[set[str], dict[str, str]]:
        """The online ones, and each one's stated rate units (device model)."""
        if not charge_point_ids:
            return set(), {}
        keys = {profiles.RATE_UNIT_V2.key, profiles.RATE_UNIT_V16.key}
        async with self.db.session() as s:
            online = set(await s.scalars(select(ChargePoint.id).where(
                one_of(s, ChargePoint.id, charge_point_ids), ChargePoint.network_status == ONLINE)))
            units = dict((await s.execute(select(DeviceVariable.charge_point_id, DeviceVariable.value).where(
                one_of(s, DeviceVariable.charge_point_id, charge_point_ids),
                one_of(s, DeviceVariable.key, keys)))).all())
        return online, units

    async def _transactions(self, sessions: dict[tuple[str, int], int]) -> dict[tuple[str, int], tuple[int, str]]:
        """(station, EVSE) → (session id, transaction id) of the snapshot's active sessions."""
        if not sessions:
            return {}
        async with self.db.session() as s:
            ids = dict((await s.execute(select(Session.id, Session.transaction_id).where(
                one_of(s, Session.id, set(sessions.values())), Session.transaction_id.is_not(None)))).all())
        return {key: (session_id, ids[session_id]) for key, session_id in sessions.items() if session_id in ids}

    async def _record(self, charge_point_id: str, message: Message, limit: float, now: datetime, status: str,
                      reason: str | None) -> int:
        profile = message.params.profile
        row = ChargingLimit(charge_point_id=charge_point_id, evse=message.key[1], session_id=message.session_id,
                            purpose=profile.purpose, profile_id=profile.id, limit_a=message.limit_a,
                            phases=message.phases, limit=limit, unit=message.unit, sent_at=now, status=status,
                            reason=reason)
        async with self.db.session() as s:
            s.add(row)
            await s.flush()
            return row.id

    async def _refreshed(self, row_id: int, now: datetime) -> None:
        async with self.db.session() as s:
            await s.execute(update(ChargingLimit).where(ChargingLimit.id == row_id).values(refreshed_at=now))


def _stamps():
    """The newest meter value's id and the circuits' latest change (with their count, for a
    deletion), in one round trip."""
    return select(select(func.max(MeterValue.id)).scalar_subquery(),
                  select(func.max(Circuit.updated_at)).scalar_subquery(),
                  select(func.count()).select_from(Circuit).scalar_subquery())


def _judged(outcome: c.Outcome) -> tuple[str, str | None]:
    """accepted, rejected (Rejected or a CALLERROR) or failed (no answer), with the reason."""
    if outcome.state == c.COMPLETED:
        if outcome.status == "Accepted":
            return ACCEPTED, None
        return REJECTED, f"station answered {outcome.status}"
    if outcome.error_code:
        return REJECTED, f"{outcome.error_code}: {outcome.error_description or ''}".rstrip(": ")
    return FAILED, outcome.error_description or outcome.state


def _station_shares(placed: dict, shares: dict[int, float]) -> dict[str, float]:
    """Station → its fail-safe share: the lowest of its placed EVSEs' circuits'."""
    result: dict[str, float] = {}
    for circuit_id, keys in placed.items():
        for charge_point_id, _ in keys:
            result[charge_point_id] = min(result.get(charge_point_id, math.inf), shares.get(circuit_id, 0.0))
    return result


def _station_voltage(placed: dict, charge_point_id: str, voltage: dict[int, float]) -> float:
    return min((voltage.get(circuit_id, profiles.VOLTAGE_V) for circuit_id, keys in placed.items()
                if any(cp == charge_point_id for cp, _ in keys)), default=profiles.VOLTAGE_V)


def _allocate_trees(circuits, demands, strategies: dict[int, str], now: datetime) -> dict:
    """``allocate`` per circuit tree, each with its root's strategy."""
    by_id = {node.id: node for node in circuits}

    def root(node_id):
        seen = set()
        while by_id[node_id].parent_id in by_id and node_id not in seen:
            seen.add(node_id)
            node_id = by_id[node_id].parent_id
        return node_id

    trees: dict[int, tuple[list, list]] = {}
    for node in circuits:
        trees.setdefault(root(node.id), ([], []))[0].append(node)
    for demand in demands:
        if demand.circuit_id in by_id:
            trees[root(demand.circuit_id)][1].append(demand)
    result = {}
    for root_id, (nodes, tree_demands) in trees.items():
        if tree_demands:
            result.update(allocate(nodes, tree_demands, strategies.get(root_id, "equal"), now))
    return result
