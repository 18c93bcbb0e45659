"""The charging profiles that enforce an allocation, without I/O (docs/smart-charging.md,
"Profiles and fail-safe").

A managed station gets two kinds of profile, both as the neutral ``set-charging-profile``
command that each version's builder turns into its own SetChargingProfile:

- a **fail-safe** TxDefaultProfile on EVSE 0: the station's share of its circuit when every EVSE
  placed on it charges at once (``failsafe_shares``), after a wait of one hold. It applies to
  every transaction that has no TxProfile: one that starts while the station cannot reach
  Wattson, or in the moment before its TxProfile arrives. Not a
  ChargePointMaxProfile: that caps the station as a whole, allocations included, and an EVSE may
  be allocated more than its share while the others are idle.
- a **live** TxProfile per charging EVSE (``tx_profile``): the allocated limit for ``hold_s``
  seconds, then the fail-safe share. Wattson sends it again well before then; a station that
  loses Wattson mid-session falls back to the safe limit by itself, however long it stays away.
  An EVSE whose ISO 15118 EV has a plan (K15) gets that plan instead (``planned_tx_profile``),
  each period capped at the allocated limit, with the same fail-safe tail.

Limits are per phase in A, or in W (A × voltage × phases) for a 2.x station whose
SmartChargingCtrlr.RateUnit takes only W (1.6: ChargingScheduleAllowedChargingRateUnit only
Power). They are rounded down, to 0.1 A or 1 W: never above what was allocated.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from wattson.stations import commands as c
from wattson.stations.device_model import V16_CONFIGURATION, VariableAddress

A, W = "A", "W"
#: an AC EV cannot charge below this: a share under it pauses the EVSE (IEC 61851-1)
MIN_AC_A = 6.0
VOLTAGE_V = 230.0
#: Wattson's profiles sit at this stack level; a manual profile of the same purpose higher up
#: takes precedence at the station (docs/smart-charging.md)
STACK_LEVEL = 1
#: the fail-safe's id; EVSE n's TxProfile is TX_PROFILE_ID + n (a profile of the same id replaces it)
FAILSAFE_PROFILE_ID = 18_000
TX_PROFILE_ID = 18_000
#: where a station says which units its charging schedules take
RATE_UNIT_V2 = VariableAddress("SmartChargingCtrlr", "RateUnit")
RATE_UNIT_V16 = VariableAddress(V16_CONFIGURATION, "ChargingScheduleAllowedChargingRateUnit")


def rate_unit(version: str | None, allowed: str | None) -> str:
    """The unit to send: A unless the station says it takes only W. 2.x RateUnit is a member
    list of ``A`` and ``W``; 1.6's key lists ``Current`` and ``Power``. Unknown: A, which both
    versions' smart charging profiles define."""
    if not allowed:
        return A
    members = {m.strip().lower() for m in allowed.split(",") if m.strip()}
    current, power = ("current", "power") if version == "1.6" else ("a", "w")
    return W if power in members and current not in members else A


def rate_unit_key(version: str | None) -> str:
    """The device model key ``rate_unit`` reads for a station of this version."""
    return (RATE_UNIT_V16 if version == "1.6" else RATE_UNIT_V2).key


def down(value: float, unit: str = A) -> float:
    """``value`` rounded down to what a profile carries: 0.1 A (1.6's multipleOf, 2.0.1's one
    digit) or 1 W. A tiny epsilon keeps 16.3 from becoming 16.2 through binary fractions."""
    if unit == W:
        return float(math.floor(value + 1e-6))
    return math.floor(value * 10 + 1e-6) / 10


def in_unit(limit_a: float, unit: str, phases: int, voltage_v: float = VOLTAGE_V) -> float:
    """A per-phase current limit in the profile's unit, rounded down."""
    return down(limit_a * voltage_v * phases, W) if unit == W else down(limit_a)


def failsafe_shares(circuits: Sequence, placed: Mapping[int, Iterable]) -> dict[int, float]:
    """Circuit id → the current (A per phase) each EVSE placed on it may draw when every EVSE on
    the whole tree charges at once: for the circuit and each one above it, what it can carry
    (``_capacity``) divided by the EVSEs placed below it; the lowest of these, rounded down, and 0
    below ``MIN_AC_A`` (the EVSEs there are paused while they are cut off from Wattson).

    ``circuits`` are allocation.CircuitNode; ``placed`` maps a circuit id to the (station, EVSE)
    keys placed directly on it."""
    by_id = {node.id: node for node in circuits}
    below = {node.id: 0 for node in circuits}
    unmanaged = {node.id: [0.0, 0.0, 0.0] for node in circuits}  # of the circuit and all below it
    for node in circuits:
        seen, above = set(), node
        while above is not None and above.id not in seen:
            seen.add(above.id)
            unmanaged[above.id] = [u + v for u, v in zip(unmanaged[above.id], node.unmanaged_a)]
            above = by_id.get(above.parent_id)
    for circuit_id, keys in placed.items():
        count = len(list(keys))
        seen, node = set(), by_id.get(circuit_id)
        while node is not None and node.id not in seen:  # every circuit on the path up counts them
            seen.add(node.id)
            below[node.id] += count
            node = by_id.get(node.parent_id)
    own = {node_id: _capacity(node, unmanaged[node_id]) / below[node_id] if below[node_id] else math.inf
           for node_id, node in by_id.items()}
    shares: dict[int, float] = {}
    for node_id in by_id:
        share, seen, node = math.inf, set(), by_id[node_id]
        while node is not None and node.id not in seen:
            seen.add(node.id)
            share = min(share, own[node.id])
            node = by_id.get(node.parent_id)
        share = down(share) if math.isfinite(share) else 0.0
        shares[node_id] = share if share >= MIN_AC_A else 0.0
    return shares


def _capacity(node, unmanaged_a: list[float]) -> float:
    """What a circuit can carry per phase for the EVSEs below it (never negative): its limit less
    its margin and the unmanaged load of its busiest phase; with a power cap, what is left of it
    after all unmanaged load, spread over three phases (an EVSE may use all three)."""
    phases = 1 if node.phases == 1 else 3
    capacity = node.max_current_a - node.safety_margin_a - max(unmanaged_a[:phases])
    if node.max_power_w is not None:
        capacity = min(capacity, (node.max_power_w / node.voltage_v - sum(unmanaged_a[:phases])) / phases)
    return max(capacity, 0.0)


def failsafe_profile(share_a: float, unit: str = A, phases: int = 3, voltage_v: float = VOLTAGE_V,
                     wait_s: int = 0) -> c.SetChargingProfile:
    """The station-wide TxDefaultProfile (EVSE 0) for every transaction without a TxProfile:
    nothing for its first ``wait_s`` seconds (pass the hold), then ``share_a`` per phase.
    Relative: it starts with each transaction and never ends.

    The wait is what keeps a new session safe: while Wattson is reachable its TxProfile comes
    within a second or two and replaces this; while it is not, the other sessions' TxProfiles
    still hold their allocations for up to the hold, and only after it are they all at their
    shares, so only then may the new one take its own. In W it assumes ``phases``: pass the
    fewest the station's EVSEs use, so a single-phase EV is not given three phases' power."""
    periods = [c.SchedulePeriod(start_period=0, limit=in_unit(share_a, unit, phases, voltage_v))]
    if wait_s > 0:
        periods = [c.SchedulePeriod(start_period=0, limit=0.0),
                   c.SchedulePeriod(start_period=wait_s, limit=periods[0].limit)]
    schedule = c.ChargingSchedule(charging_rate_unit=unit, periods=periods)
    return c.SetChargingProfile(evse=0, profile=c.ChargingProfile(
        id=FAILSAFE_PROFILE_ID, stack_level=STACK_LEVEL, purpose="TxDefaultProfile", kind="Relative",
        schedule=schedule))


def tx_profile(evse: int, transaction_id: str, limit_a: float, phases: int, failsafe_a: float, now: datetime,
               hold_s: int, unit: str = A, voltage_v: float = VOLTAGE_V) -> c.SetChargingProfile:
    """The running transaction's TxProfile: ``limit_a`` per phase on ``phases`` phases from
    ``now`` for ``hold_s`` seconds, then ``failsafe_a`` unless Wattson has replaced it by then."""
    periods = [c.SchedulePeriod(start_period=0, limit=in_unit(limit_a, unit, phases, voltage_v),
                                number_phases=phases)]
    if hold_s > 0:
        periods.append(c.SchedulePeriod(start_period=hold_s, limit=in_unit(failsafe_a, unit, phases, voltage_v),
                                        number_phases=phases))
    schedule = c.ChargingSchedule(charging_rate_unit=unit, start_schedule=now, periods=periods)
    return c.SetChargingProfile(evse=evse, profile=c.ChargingProfile(
        id=TX_PROFILE_ID + evse, stack_level=STACK_LEVEL, purpose="TxProfile", kind="Absolute",
        transaction_id=transaction_id, schedule=schedule))


def planned_tx_profile(evse: int, transaction_id: str, offer, now: datetime, hold_s: int,
                       limit_a: float | None = None, failsafe_a: float | None = None, phases: int | None = None,
                       unit: str | None = None, voltage_v: float = VOLTAGE_V) -> c.SetChargingProfile:
    """The running transaction's TxProfile for an ISO 15118 EV's plan (``ev_needs.Plan``, which
    may have started earlier): its periods from ``now`` on, each capped at ``limit_a`` (the EVSE's
    allocation, A per phase; None: no cap), and from ``hold_s`` on at most ``failsafe_a`` (None, or
    a hold of 0: no tail), as ``tx_profile`` does for a flat limit. One profile carries both the
    EV's shape and the circuit's bounds, so neither replaces the other at the station.

    ``unit``: the plan's own unless given (an AC plan is per phase in A, DC in W); ``phases``: the
    allocation's (else the plan's), for W and ``number_phases``."""
    unit = unit or offer.unit
    phases = phases or offer.phases
    per_phase = phases or 3
    now = now.replace(microsecond=0)  # as the messages carry it: the EV's schedule (K16) has this time base
    shift = max(0, math.floor((now - offer.start).total_seconds()))
    starts: dict[int, float] = {}
    for period in sorted(offer.periods, key=lambda p: p.start_s):  # the one in force at ``now`` opens it
        starts[max(0, period.start_s - shift)] = _converted(period.limit, offer.unit, unit,
                                                            offer.phases or per_phase, voltage_v)
    if limit_a is not None:
        cap = in_unit(limit_a, unit, per_phase, voltage_v)
        starts = {start: min(limit, cap) for start, limit in starts.items()}
    if failsafe_a is not None and hold_s > 0:
        fallback = in_unit(failsafe_a, unit, per_phase, voltage_v)
        in_force = [limit for start, limit in sorted(starts.items()) if start <= hold_s]
        starts.setdefault(hold_s, in_force[-1] if in_force else fallback)
        starts = {start: min(limit, fallback) if start >= hold_s else limit for start, limit in starts.items()}
    periods: list[c.SchedulePeriod] = []
    for start, limit in sorted(starts.items()):
        if not periods or periods[-1].limit != limit:  # neighbours with the same limit merged
            periods.append(c.SchedulePeriod(start_period=start, limit=limit, number_phases=phases))
    schedule = c.ChargingSchedule(charging_rate_unit=unit, start_schedule=now, periods=periods)
    return c.SetChargingProfile(evse=evse, profile=c.ChargingProfile(
        id=TX_PROFILE_ID + evse, stack_level=STACK_LEVEL, purpose="TxProfile", kind="Absolute",
        transaction_id=transaction_id, schedule=schedule))


def _converted(limit: float, unit: str, to: str, phases: int, voltage_v: float) -> float:
    """A plan's limit in the profile's unit (A per phase on ``phases`` ↔ W), rounded down."""
    if unit == to:
        return down(limit, to)
    return down(limit * voltage_v * phases, W) if to == W else down(limit / (voltage_v * phases))


def composite_limit(response: Mapping | None) -> tuple[float, str] | None:
    """The limit in force now, and its unit, from a GetCompositeSchedule answer of either version
    (1.6 ``chargingSchedule``, 2.x ``schedule``); None when the station gave none."""
    if not response or response.get("status") != "Accepted":
        return None
    schedule = response.get("chargingSchedule") or response.get("schedule") or {}
    periods = schedule.get("chargingSchedulePeriod") or []
    current = [p for p in periods if p.get("startPeriod", 0) <= 0]
    if not current or "limit" not in current[-1]:
        return None
    return float(current[-1]["limit"]), schedule.get("chargingRateUnit", A)


def verified(sent: float, unit: str, composite: tuple[float, str] | None) -> bool | None:
    """Whether the station's composite schedule holds what was sent (within the rounding of one
    step); None when it could not say, or said it in another unit."""
    if composite is None or composite[1] != unit:
        return None
    return abs(composite[0] - sent) <= (1.0 if unit == W else 0.1) + 1e-6
