"""Charging periods and power of a session, derived from its meter samples. No I/O.

The rule (``charging_periods``):

1. The points of the energy curve are the session's start ``(started_at, meter_start)``, every
   reading of the outlet's energy register (``Energy.Active.Import.Register`` without a phase, in
   Wh or kWh, rounded to whole Wh as ``meter.energy_reading`` does) strictly between start and
   stop, and, for a finished session, its stop ``(stopped_at, meter_stop)``. The start and stop
   values the station reported in StartTransaction/StopTransaction win over a sample at the very
   same instant; readings outside the session's time span (clock skew, late duplicates) are
   ignored. Readings may arrive in any order: they are sorted by time, and of several readings
   at one instant the highest counts.
2. Each pair of consecutive points is an interval ``[a, b)``. Energy flowed when the register
   rose: the interval is ``charging`` with ``energy_wh = b − a``. When it stayed put the interval
   is ``idle`` (EV suspended, full, or just parked). A register that went backwards (meter swap,
   reset) is ``idle`` with 0 Wh, and the next interval counts from the new value.
3. Adjacent intervals of the same state merge into one period, so periods alternate between
   ``charging`` and ``idle``. Each has ``duration_s`` and ``average_power_w`` (its energy over
   its duration; 0 for idle).

An active session's periods end at its latest reading: nothing is known about the time since.
With no reading at all an active session has no periods, and a finished one has a single period
from start to stop. As long as the register never goes backwards, the periods' energies add up
to the session's ``energy_wh``.

``power_summary`` reads ``Power.Active.Import`` samples (W or kW): the latest, the peak and the
mean of the samples. Samples without a phase are the outlet's total and are used when present;
otherwise the per-phase samples of each instant are added up.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Protocol

from wattson.sessions.meter import ENERGY_REGISTER, to_wh

POWER = "Power.Active.Import"
CURRENT = "Current.Import"
CHARGING = "charging"
IDLE = "idle"
_W_PER_UNIT = {"W": 1.0, "kW": 1000.0}


class Reading(Protocol):
    """What a sample must offer: ``meter.Sample`` and the ``MeterValue`` row both do."""

    timestamp: datetime
    measurand: str
    unit: str | None
    phase: str | None

    @property
    def numeric(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class ChargingPeriod:
    start_at: datetime
    end_at: datetime
    state: str  # charging | idle
    energy_wh: int

    @property
    def duration_s(self) -> float:
        return (self.end_at - self.start_at).total_seconds()

    @property
    def average_power_w(self) -> float:
        seconds = self.duration_s
        return round(self.energy_wh * 3600 / seconds, 1) if seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class PowerSummary:
    latest_w: float
    peak_w: float
    average_w: float


def register_readings(samples: Iterable[Reading]) -> list[tuple[datetime, int]]:
    """The outlet's energy register readings as (time, whole Wh), in the order given."""
    readings = []
    for sample in samples:
        if sample.measurand != ENERGY_REGISTER or sample.phase is not None:
            continue
        number = sample.numeric
        wh = None if number is None else to_wh(number, sample.unit)
        if wh is not None:
            readings.append((sample.timestamp, round(wh)))
    return readings


def charging_periods(started_at: datetime, meter_start_wh: int, samples: Iterable[Reading],
                     stopped_at: datetime | None = None, meter_stop_wh: int | None = None,
                     merge: bool = True) -> list[ChargingPeriod]:
    """The session's alternating charging and idle periods; the rule is in the module docstring.
    ``merge=False`` keeps one period per pair of readings (pricing needs to know when the energy
    flowed, not only how much)."""
    best: dict[datetime, int] = {}
    for at, wh in register_readings(samples):
        if at <= started_at or (stopped_at is not None and at >= stopped_at):
            continue
        best[at] = max(wh, best.get(at, wh))
    points = [(started_at, meter_start_wh), *sorted(best.items())]
    if stopped_at is not None and meter_stop_wh is not None and stopped_at > started_at:
        points.append((stopped_at, meter_stop_wh))
    periods: list[ChargingPeriod] = []
    for (a_at, a_wh), (b_at, b_wh) in zip(points, points[1:]):
        energy = max(0, b_wh - a_wh)
        state = CHARGING if energy > 0 else IDLE
        if merge and periods and periods[-1].state == state:
            last = periods[-1]
            periods[-1] = ChargingPeriod(last.start_at, b_at, state, last.energy_wh + energy)
        else:
            periods.append(ChargingPeriod(a_at, b_at, state, energy))
    return periods


def power_summary(samples: Iterable[Reading]) -> PowerSummary | None:
    """Latest, peak and mean active import power in W; None without any power sample."""
    total: list[tuple[datetime, float]] = []
    by_phase: dict[datetime, float] = defaultdict(float)
    for sample in samples:
        if sample.measurand != POWER:
            continue
        factor = _W_PER_UNIT.get(sample.unit or "W")
        number = sample.numeric
        if factor is None or number is None:
            continue
        if sample.phase is None:
            total.append((sample.timestamp, number * factor))
        else:
            by_phase[sample.timestamp] += number * factor
    values = total or list(by_phase.items())
    if not values:
        return None
    watts = [w for _, w in values]
    latest = max(values, key=lambda v: v[0])[1]
    return PowerSummary(latest_w=round(latest, 1), peak_w=round(max(watts), 1),
                        average_w=round(sum(watts) / len(watts), 1))


#: Connector states in which time counts as charging time although no energy flows: the EV or the
#: charger paused the charge, the car is still being charged in the driver's eyes.
SUSPENDED = frozenset({"SuspendedEV", "SuspendedEVSE"})


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """A stretch of a session as pricing sees it: charging time (energy flowing, or the charge
    suspended by the EV or the charger) or parking time (connected, not charging)."""

    start_at: datetime
    end_at: datetime
    energy_wh: int
    charging: bool


def billing_periods(periods: list[ChargingPeriod], states: list[tuple[datetime, str]]) -> list[BillingPeriod]:
    """``periods`` (from ``charging_periods(..., merge=False)``) split into charging and parking
    time, each reading interval kept apart so that energy is priced when it flowed.

    A period in which energy flowed is charging time. An idle period is charging time while the
    connector's last reported state (``states``: (time, OCPP status or 2.x charging state), in any
    order; the state before the period counts from its start) is SuspendedEV or SuspendedEVSE,
    and parking time otherwise: the car is full, finishing, or just parked."""
    states = sorted(states)
    result: list[BillingPeriod] = []

    def add(start: datetime, end: datetime, energy: int, charging: bool) -> None:
        if end > start or energy:
            result.append(BillingPeriod(start, end, energy, charging))

    for period in periods:
        if period.state == CHARGING:
            add(period.start_at, period.end_at, period.energy_wh, True)
            continue
        cursor, state = period.start_at, _state_at(states, period.start_at)
        for at, next_state in states:
            if period.start_at < at < period.end_at:
                add(cursor, at, 0, state in SUSPENDED)
                cursor, state = at, next_state
        add(cursor, period.end_at, 0, state in SUSPENDED)
    return result


def _state_at(states: list[tuple[datetime, str]], at: datetime) -> str | None:
    current = None
    for when, state in states:
        if when > at:
            break
        current = state
    return current


def current_peaks(samples: Iterable[Reading], periods: list[BillingPeriod]) -> list[float | None]:
    """The highest ``Current.Import`` reading (A, any phase) taken in each period — a reading at
    time t describes the period that ends at t — or None where none was taken: what an OCPI
    min_current/max_current restriction is judged on."""
    readings = sorted((s.timestamp, s.numeric) for s in samples
                      if s.measurand == CURRENT and s.numeric is not None and (s.unit or "A") == "A")
    peaks = []
    for period in periods:
        inside = [amps for at, amps in readings if period.start_at < at <= period.end_at]
        peaks.append(max(inside) if inside else None)
    return peaks
