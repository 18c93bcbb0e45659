"""ISO 15118 charging needs (OCPP 2.x K15–K17): the schedule Wattson offers an EV. No I/O.

An EV says how much energy it wants and when it leaves (NotifyEVChargingNeeds); Wattson answers
with a TxProfile whose periods deliver that energy by the departure, in the cheapest periods of the
session's tariff first, never above what the EVSE may draw (its circuit allocation, else its own
maximum). The EV then says what it will actually draw (NotifyEVChargingSchedule), which must stay
within what was offered. docs/smart-charging.md "ISO 15118 charging needs" explains the choices.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from wattson.tariffs.pricing import Interval, price_session, rate_changes

VOLTAGE_V = 230.0  # phase to neutral: how an AC current per phase becomes power
MIN_AC_A = 6.0  # IEC 61851: below this an AC EV cannot charge (pause instead)
#: phases an AC energy transfer mode draws on (DC and 2.1's bidirectional modes: none, planned in W)
AC_PHASES = {"AC_single_phase": 1, "AC_two_phase": 2, "AC_three_phase": 3}
#: at most this many periods when the station does not say (maxScheduleTuples); OCPP 2.0.1 K01: 1024
DEFAULT_MAX_PERIODS = 24
#: charge this much longer than the energy needs at the limit: EVs ramp up and taper off
ENERGY_MARGIN = 0.1
TOLERANCE = 0.01  # relative: an EV schedule this much above the offer still counts as within it
_PROBE_WH = Decimal(10_000)  # energy priced to read a tariff's price per kWh at an instant
FINE_CURRENCY = "CLF"  # ISO 4217 with four decimals (pricing.minor_units)


@dataclass(frozen=True, slots=True)
class EvNeeds:
    """What the EV asked for, in neither version's words (the v2.x adapter reads the message)."""

    transfer_mode: str                  # requestedEnergyTransfer, e.g. AC_three_phase or DC
    departure: datetime | None = None
    energy_wh: float | None = None      # energyAmount
    min_current_a: float | None = None  # evMinCurrent (AC), per phase
    max_current_a: float | None = None  # evMaxCurrent, per phase (AC) or DC current
    max_voltage_v: float | None = None  # evMaxVoltage
    max_power_w: float | None = None    # evMaxPower (DC)
    max_periods: int | None = None      # maxScheduleTuples

    @property
    def phases(self) -> int | None:
        """The phases an AC EV draws on; None for DC."""
        return AC_PHASES.get(self.transfer_mode)

    def to_json(self) -> dict:
        return {"transfer_mode": self.transfer_mode, "departure": _iso(self.departure), "energy_wh": self.energy_wh,
                "min_current_a": self.min_current_a, "max_current_a": self.max_current_a,
                "max_voltage_v": self.max_voltage_v, "max_power_w": self.max_power_w,
                "max_periods": self.max_periods}


@dataclass(frozen=True, slots=True)
class Period:
    start_s: int   # seconds from the schedule's start
    limit: float   # A per phase (unit "A") or W (unit "W"); an EV's schedule may give none (None)


@dataclass(frozen=True, slots=True)
class Plan:
    """A charging schedule for the EV: periods from ``start``, in ``unit``, on ``phases``."""

    start: datetime
    unit: str                     # "A" (AC, per phase) or "W" (DC)
    phases: int | None            # AC: the number of phases the limit applies to
    periods: tuple[Period, ...]
    deliverable_wh: float | None  # what the periods allow before the departure; None without a departure
    feasible: bool                # the energy asked for fits before the departure (True when nothing was asked)

    def to_json(self) -> dict:
        return {"start": _iso(self.start), "unit": self.unit, "phases": self.phases,
                "periods": [{"start_s": p.start_s, "limit": p.limit} for p in self.periods],
                "deliverable_wh": self.deliverable_wh, "feasible": self.feasible}


@dataclass(frozen=True, slots=True)
class PriceStep:
    """From ``at`` on (until the next step) energy costs ``price`` per kWh."""

    at: datetime
    price: Decimal


def limit_of(needs: EvNeeds, evse_max_a: float, evse_max_w: float | None = None) -> float:
    """The most the schedule may offer: the EVSE's (or its allocation's) limit and the EV's own
    maximum, in A per phase for AC and in W for DC."""
    if needs.phases is not None:
        return min(evse_max_a, needs.max_current_a if needs.max_current_a is not None else evse_max_a)
    watts = [evse_max_w if evse_max_w is not None else evse_max_a * 3 * VOLTAGE_V]
    if needs.max_power_w is not None:
        watts.append(needs.max_power_w)
    if needs.max_current_a is not None and needs.max_voltage_v is not None:
        watts.append(needs.max_current_a * needs.max_voltage_v)
    return min(watts)


def plan(needs: EvNeeds, now: datetime, limit: float, prices: Sequence[PriceStep] = ()) -> Plan:
    """The schedule that delivers ``needs.energy_wh`` by ``needs.departure`` at up to ``limit``
    (``limit_of``), charging in the cheapest stretches first (the earliest of equal price).

    Without a departure or an energy amount, or when the energy does not fit before the departure,
    the EV may charge at the limit throughout; so too when waiting saves nothing (one price, or
    no tariff). The charging time has ENERGY_MARGIN on top. An AC limit below the EV's (or
    IEC 61851's) minimum current is a pause (0 A). After the departure the limit stays open, for
    an EV that stays on."""
    ac = needs.phases is not None
    unit = "A" if ac else "W"
    floor = max(MIN_AC_A, needs.min_current_a or 0.0) if ac else 0.0
    limit = round(max(0.0, float(limit)), 1)
    if limit < floor:
        limit = 0.0
    power_w = limit * needs.phases * VOLTAGE_V if ac else limit
    open_ended = Plan(now, unit, needs.phases, (Period(0, limit),), None, True)
    if needs.departure is None or needs.energy_wh is None:
        return open_ended
    horizon = math.floor((needs.departure - now).total_seconds())
    if horizon <= 0:
        return open_ended
    deliverable = power_w * horizon / 3600.0
    if needs.energy_wh <= 0:
        return Plan(now, unit, needs.phases, (Period(0, 0.0), Period(horizon, limit)), 0.0, True)
    if power_w <= 0 or deliverable <= needs.energy_wh:
        return Plan(now, unit, needs.phases, (Period(0, limit),), deliverable, deliverable >= needs.energy_wh)
    stretches = _stretches(now, horizon, prices)
    if len({price for _, _, price in stretches}) == 1:  # nothing to gain by waiting
        return Plan(now, unit, needs.phases, (Period(0, limit),), deliverable, True)
    seconds = min(horizon, needs.energy_wh * (1 + ENERGY_MARGIN) / power_w * 3600.0)
    charging = _cheapest_first(stretches, seconds)
    periods = _periods(charging, horizon, limit)
    most = needs.max_periods or DEFAULT_MAX_PERIODS
    if len(periods) > most:  # too fine for the station: charge at once, which is never late
        periods = _periods([(0, math.ceil(seconds))], horizon, limit)
        if len(periods) > most:
            return Plan(now, unit, needs.phases, (Period(0, limit),), deliverable, True)
    return Plan(now, unit, needs.phases, tuple(periods), deliverable, True)


def _stretches(now: datetime, horizon: int, prices: Sequence[PriceStep]) -> list[tuple[int, int, Decimal]]:
    """(start_s, end_s, price) covering [0, horizon): the price in force in each stretch."""
    ordered = sorted(prices, key=lambda step: step.at)
    cuts = sorted({0, horizon} | {math.ceil((s.at - now).total_seconds()) for s in ordered
                                  if 0 < (s.at - now).total_seconds() < horizon})
    stretches = []
    for start, end in zip(cuts, cuts[1:]):
        at = now + timedelta(seconds=start)
        in_force = [s.price for s in ordered if s.at <= at]
        stretches.append((start, end, in_force[-1] if in_force else Decimal(0)))
    return stretches


def _cheapest_first(stretches: list[tuple[int, int, Decimal]], seconds_needed: float) -> list[tuple[int, int]]:
    """The (start_s, end_s) spans to charge in: cheapest stretches first, each from its beginning."""
    chosen, left = [], math.ceil(seconds_needed)
    for start, end, _ in sorted(stretches, key=lambda s: (s[2], s[0])):
        if left <= 0:
            break
        take = min(end - start, left)
        chosen.append((start, start + take))
        left -= take
    return sorted(chosen)


def _periods(charging: list[tuple[int, int]], horizon: int, limit: float) -> list[Period]:
    """Schedule periods: ``limit`` inside the charging spans, 0 between them, ``limit`` from the
    departure on; neighbours with the same limit merged."""
    raw, at = [], 0
    for start, end in charging:
        if start > at:
            raw.append((at, 0.0))
        raw.append((start, limit))
        at = end
    if at < horizon:
        raw.append((at, 0.0))
    raw.append((horizon, limit))
    periods: list[Period] = []
    for start, value in raw:
        if periods and periods[-1].start_s == start:
            periods.pop()
        if not periods or periods[-1].limit != value:
            periods.append(Period(start, value))
    return periods


# --- the tariff's prices over time ---------------------------------------------------------------
def energy_prices(tariff: Mapping[str, Any], time_zone: str, session_start: datetime, now: datetime,
                  until: datetime, power_kw: float) -> list[PriceStep]:
    """What a kWh charged at ``power_kw`` costs (energy and charging time, excl. VAT) from ``now``
    to ``until`` in a session started at ``session_start``: a step at ``now`` and at every instant
    the tariff's time, day or duration restrictions may change it."""
    instants, _ = rate_changes(tariff, session_start, now, until, time_zone)
    steps = []
    for at in [now, *(moment for moment in instants if now < moment < until)]:
        price = _price_per_kwh(tariff, time_zone, session_start, at, power_kw)
        if not steps or steps[-1].price != price:
            steps.append(PriceStep(at, price))
    return steps


def _price_per_kwh(tariff: Mapping[str, Any], time_zone: str, session_start: datetime, at: datetime,
                   power_kw: float) -> Decimal:
    """A short probe of charging at ``at``: its energy and time cost per kWh. Priced as if in a
    currency of four decimals, so that rounding to cents does not blur a short probe."""
    tariff = {**tariff, "currency": FINE_CURRENCY}
    seconds = 60
    before = [Interval(session_start, at, Decimal(0), False)] if at > session_start else []
    probe = Interval(at, at + timedelta(seconds=seconds), _PROBE_WH, True, power_kw=Decimal(str(power_kw)))
    empty = price_session(tariff, before, time_zone) if before else None
    priced = price_session(tariff, [*before, probe], time_zone)
    energy = priced.energy.excl_vat - (empty.energy.excl_vat if empty else 0)
    time_cost = priced.time.excl_vat - (empty.time.excl_vat if empty else 0)
    # the probe's charging time is a minute; at power_kw a kWh takes 1 / power_kw hours
    per_kwh_time = time_cost * Decimal(3600) / Decimal(seconds) / Decimal(str(max(power_kw, 0.001)))
    return energy / (_PROBE_WH / 1000) + per_kwh_time


# --- the EV's own schedule (K16 / K17) -------------------------------------------------------
def schedule_within(ev_start: datetime, ev_unit: str, ev_periods: Sequence[Period], offer: Plan,
                    ev_duration: int | None = None) -> bool:
    """Whether the EV's schedule (NotifyEVChargingSchedule, periods from ``ev_start``) never asks
    more than ``offer`` at any moment it covers. Limits in another unit than the offer's are
    converted at VOLTAGE_V on the offer's phases; a period without a limit (None: 2.1's
    setpoint-only periods) asks nothing to compare."""
    phases = offer.phases or 3
    shift = (ev_start - offer.start).total_seconds()
    moments = {0.0} | {float(p.start_s) for p in ev_periods} | {o.start_s - shift for o in offer.periods}
    for moment in sorted(m for m in moments if m >= 0):
        if ev_duration is not None and moment >= ev_duration:
            continue
        asked, allowed = _limit_at(ev_periods, moment), _limit_at(offer.periods, moment + shift)
        if asked is None or allowed is None:
            continue
        if _convert(asked, ev_unit, offer.unit, phases) > allowed * (1 + TOLERANCE) + 1e-9:
            return False
    return True


def _limit_at(periods: Sequence[Period], moment: float) -> float | None:
    started = [p for p in periods if p.start_s <= moment]
    return max(started, key=lambda p: p.start_s).limit if started else None


def _convert(value: float, unit: str, to: str, phases: int) -> float:
    if unit == to:
        return value
    return value * phases * VOLTAGE_V if to == "W" else value / (phases * VOLTAGE_V)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
