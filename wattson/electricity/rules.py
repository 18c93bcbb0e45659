"""Pricing energy the operator buys: which rate is in force, and what a session's energy cost.

A rate has a base price per kWh and optional time-of-use periods (weekdays, from–to local time,
price) read in the rate's time zone; energy outside every period costs the base price. A rate is
in force from ``valid_from`` (inclusive) to ``valid_to`` (exclusive); of the rates in force at an
instant, a location's own rates win over the default ones (``is_default``), and among them the latest ``valid_from`` (then the highest id). Energy is spread over time linearly
between the readings given: the session's meter samples, or just its start and stop.
"""

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

KWH = Decimal(1000)
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)
LATEST = datetime.max.replace(tzinfo=timezone.utc)
END_OF_DAY = "24:00"


@dataclass(frozen=True, slots=True)
class Period:
    """``weekdays`` ISO numbers (1 = Monday); ``start``/``end`` local "HH:MM", ``end`` may be "24:00"."""
    weekdays: frozenset[int]
    start: str
    end: str
    price_per_kwh: Decimal

    def covers(self, local: datetime) -> bool:
        at = local.strftime("%H:%M:%S")
        return local.isoweekday() in self.weekdays and self.start <= at[:5] and at < _end_text(self.end)


@dataclass(frozen=True, slots=True)
class Rate:
    id: int
    currency: str
    price_per_kwh: Decimal
    time_zone: str = "UTC"
    periods: tuple[Period, ...] = ()
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    location_ids: frozenset[int] = field(default_factory=frozenset)
    is_default: bool = False  # for every location without a rate of its own in force

    @property
    def begins(self) -> datetime:
        return self.valid_from or EARLIEST

    @property
    def ends(self) -> datetime:
        return self.valid_to or LATEST

    @property
    def fixed(self) -> bool:
        return not self.periods

    def price_at(self, local: datetime) -> Decimal:
        for period in self.periods:
            if period.covers(local):
                return period.price_per_kwh
        return self.price_per_kwh


def _end_text(end: str) -> str:
    return "24:00:00" if end == END_OF_DAY else f"{end}:00"


def period_problem(start: str, end: str) -> str | None:
    """Why a period's times are wrong, or None: both "HH:MM", start before end (an overnight span
    is two periods: until "24:00" and from "00:00")."""
    for value in (start, end):
        if value != END_OF_DAY:
            try:
                time.fromisoformat(value)
            except ValueError:
                return f"{value!r} is not a time HH:MM"
            if len(value) != 5:
                return f"{value!r} is not a time HH:MM"
    if start == END_OF_DAY:
        return "a period cannot start at 24:00"
    if not start < end:
        return f"from ({start}) must be before to ({end}); split an overnight period at midnight"
    return None


def rates_for(rates: list[Rate], location_id: int | None) -> list[Rate]:
    """The rates that may apply at a location, best first: its own, then the default ones."""
    own = [r for r in rates if location_id is not None and location_id in r.location_ids]
    default = [r for r in rates if r.is_default]
    order = lambda r: (r.begins, r.id)  # noqa: E731
    return sorted(own, key=order, reverse=True) + sorted(default, key=order, reverse=True)


def rate_at(candidates: list[Rate], at: datetime) -> Rate | None:
    """The rate in force at ``at`` of ``rates_for``'s list (the first one valid then)."""
    for rate in candidates:
        if rate.begins <= at < rate.ends:
            return rate
    return None


def single_fixed_rate(candidates: list[Rate], start: datetime, end: datetime) -> Rate | None:
    """The one fixed rate in force over all of [start, end], if it is one (energy cost is then
    energy × price, which SQL sums); None if rates change or vary by time of day in between."""
    rate = rate_at(candidates, start)
    if rate is None or not rate.fixed or _changes(candidates, start, end):
        return None
    return rate


def _changes(candidates: list[Rate], start: datetime, end: datetime) -> list[datetime]:
    """The instants in (start, end] where the rate in force may change (a validity bound)."""
    return sorted({t for r in candidates for t in (r.valid_from, r.valid_to)
                   if t is not None and start < t <= end})


def _local_edges(rate: Rate, start: datetime, end: datetime) -> list[datetime]:
    """The instants in (start, end) where ``rate``'s time-of-use price may change: its periods'
    edges and midnight in its time zone, day by day (DST handled by the zone)."""
    if rate.fixed:
        return []
    zone = ZoneInfo(rate.time_zone)
    edges = set()
    day: date = start.astimezone(zone).date()
    last: date = end.astimezone(zone).date()
    marks = {"00:00"} | {p.start for p in rate.periods} | {p.end for p in rate.periods if p.end != END_OF_DAY}
    while day <= last:
        for mark in marks:
            local = datetime.combine(day, time.fromisoformat(mark), zone)
            at = local.astimezone(timezone.utc)
            if start < at < end:
                edges.add(at)
        day += timedelta(days=1)
    return sorted(edges)


def priced_pieces(candidates: list[Rate], start: datetime, end: datetime):
    """(from, to, rate, price per kWh) pieces covering [start, end), the rate None where none is in force."""
    bounds = [start, *_changes(candidates, start, end), end]
    for a, b in zip(bounds, bounds[1:]):
        if a >= b:
            continue
        rate = rate_at(candidates, a)
        if rate is None:
            yield a, b, None, None
            continue
        cuts = [a, *_local_edges(rate, a, b), b]
        zone = ZoneInfo(rate.time_zone)
        for x, y in zip(cuts, cuts[1:]):
            yield x, y, rate, rate.price_at(x.astimezone(zone))


@dataclass(frozen=True, slots=True)
class EnergyCost:
    amount: Decimal
    currency: str


def energy_cost(candidates: list[Rate], readings: list[tuple[datetime, int]]) -> EnergyCost | None:
    """What the energy between time-ordered register ``readings`` (instant, Wh) cost the operator,
    spread linearly between consecutive readings; None when no rate covers some energy or the
    rates in force differ in currency. A drop in the register counts as no energy."""
    total, currencies = Decimal(0), set()
    for (a, wh_a), (b, wh_b) in zip(readings, readings[1:]):
        energy = Decimal(max(wh_b - wh_a, 0))
        if not energy:
            continue
        if b <= a:  # energy at one instant: the price then
            rate = rate_at(candidates, a)
            if rate is None:
                return None
            currencies.add(rate.currency)
            total += energy * rate.price_at(a.astimezone(ZoneInfo(rate.time_zone))) / KWH
            continue
        span = Decimal((b - a).total_seconds())
        for x, y, rate, price in priced_pieces(candidates, a, b):
            if rate is None:
                return None
            currencies.add(rate.currency)
            total += energy * Decimal((y - x).total_seconds()) / span * price / KWH
    if not currencies:  # no energy flowed: nothing to pay, in the currency of the rate then
        rate = rate_at(candidates, readings[0][0]) if readings else None
        return None if rate is None else EnergyCost(Decimal(0), rate.currency)
    if len(currencies) > 1:
        return None
    return EnergyCost(total, currencies.pop())


def linear(start: datetime, stop: datetime, energy_wh: int) -> list[tuple[datetime, int]]:
    """A session's readings when only its start and stop are known."""
    return [(start, 0), (max(stop, start), energy_wh)]


class CostTable:
    """``energy_cost`` of many sessions' linear spreads within one window, the window's price
    pieces cut once: each session then costs a binary search and its few pieces (the statistics
    price tens of thousands of sessions of a time-of-use site this way)."""

    def __init__(self, candidates: list[Rate], start: datetime, end: datetime):
        self._bounds: list[float] = []
        self._pieces: list[tuple[float, float, Decimal | None, str | None]] = []
        for a, b, rate, price in priced_pieces(candidates, start, max(end, start + timedelta(seconds=1))):
            self._bounds.append(a.timestamp())
            self._pieces.append((a.timestamp(), b.timestamp(), price, rate.currency if rate else None))

    def cost(self, start: datetime, stop: datetime, energy_wh: int) -> EnergyCost | None:
        """As ``energy_cost(candidates, linear(start, stop, energy_wh))``, for [start, stop] within the window."""
        a, b = start.timestamp(), max(stop, start).timestamp()
        i = max(bisect_right(self._bounds, a) - 1, 0)
        if not self._pieces or a < self._pieces[0][0] or b > self._pieces[-1][1]:
            return None
        energy = Decimal(max(energy_wh, 0))
        if b == a or not energy:
            _, _, price, currency = self._pieces[i]
            return None if price is None else EnergyCost(energy * price / KWH, currency)
        total, currencies, span = Decimal(0), set(), Decimal(b - a)
        while i < len(self._pieces) and self._pieces[i][0] < b:
            x, y, price, currency = self._pieces[i]
            if price is None:
                return None
            currencies.add(currency)
            total += Decimal(min(y, b) - max(x, a)) * price
            i += 1
        if len(currencies) != 1:
            return None
        return EnergyCost(energy * total / span / KWH, currencies.pop())
