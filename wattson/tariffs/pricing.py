"""The pricing engine: a charging session priced against an OCPI 2.2.1 Tariff. No I/O.

``price_session`` cuts the session into pieces inside which no restriction can change its
verdict, looks up for every piece and dimension the first Tariff Element whose restrictions all
hold, adds up volume × price per dimension, applies ``step_size`` once per session (ENERGY on its
own, TIME and PARKING_TIME together, as the CDRs chapter requires), rounds every receipt line to
the currency's minor units and finally clamps the total with ``min_price``/``max_price``.
docs/pricing.md explains the model, the algorithm and the rounding rule with examples.

Internally instants are integer microseconds since the epoch and energy is Wh as ``Decimal``, so
a session priced in one piece or in many gives the same amounts.
"""

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from wattson.tariffs.restrictions import Moment, Restrictions, to_decimal

ENERGY, TIME, PARKING_TIME, FLAT = "ENERGY", "TIME", "PARKING_TIME", "FLAT"
_UNIT = {ENERGY: Decimal(1000), TIME: Decimal(3600), PARKING_TIME: Decimal(3600)}  # Wh per kWh, s per h
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_US = timedelta(microseconds=1)
_GRID = Decimal("1e-9")           # Wh: resolution of energy interpolated inside an interval
_VOLUME = Decimal("0.000001")     # reported kWh and hours
_OCPI_NUMBER = Decimal("0.0001")  # OCPI numbers carry 4 decimals
_ZERO = Decimal(0)

_EXPONENTS = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}
_MINOR_UNITS = {code: exponent for exponent, codes in _EXPONENTS.items() for code in codes.split()}


def minor_units(currency: str) -> int:
    """ISO 4217 exponent: how many decimals an amount in ``currency`` is rounded to."""
    return _MINOR_UNITS.get(currency.upper(), 2)


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch of the session with one state. Energy is assumed to flow at a constant rate inside it."""

    start: datetime                    # timezone-aware
    end: datetime                      # >= start; a zero-length interval must carry no energy
    energy_wh: Decimal                 # energy delivered within the interval (>= 0); int accepted too
    charging: bool                     # True: charging time (TIME); False: parking/idle time (PARKING_TIME)
    power_kw: Decimal | None = None    # for min/max_power restrictions; None: average power of the interval
    current_a: Decimal | None = None   # for min/max_current restrictions; None: such a restriction does not hold


@dataclass(frozen=True, slots=True)
class DimensionCost:
    volume: Decimal         # priced volume: kWh (ENERGY), hours (TIME, PARKING_TIME), 1 or 0 (FLAT)
    billed_volume: Decimal  # after step_size rounding
    excl_vat: Decimal
    vat: Decimal
    incl_vat: Decimal


@dataclass(frozen=True, slots=True)
class PricedSession:
    currency: str
    tariff_id: str | None
    energy: DimensionCost
    time: DimensionCost
    parking: DimensionCost
    flat: DimensionCost
    total_excl_vat: Decimal   # after min/max_price
    total_vat: Decimal
    total_incl_vat: Decimal
    reduction: Decimal        # excl. VAT taken off by max_price (> 0) or added by min_price (< 0)
    min_price_applied: bool
    max_price_applied: bool
    vat_lines: list[tuple[Decimal | None, Decimal, Decimal]]  # (vat %, base excl. VAT, VAT): sum to the totals
    charging_periods: list[dict]  # OCPI CDR ChargingPeriods, volumes as Decimal
    total_energy: Decimal         # kWh, all energy of the session
    total_time: Decimal           # hours, first start to last end
    total_parking_time: Decimal   # hours not charging

    def ocpi_totals(self) -> dict:
        """The CDR's total_* fields; a cost is None when its dimension was never priced."""
        def price(cost: DimensionCost) -> dict | None:
            if cost.volume == 0 and cost.excl_vat == 0 and cost.incl_vat == 0:
                return None
            return {"excl_vat": cost.excl_vat, "incl_vat": cost.incl_vat}

        return {
            "total_cost": {"excl_vat": self.total_excl_vat, "incl_vat": self.total_incl_vat},
            "total_fixed_cost": price(self.flat),
            "total_energy": _ocpi_number(self.total_energy),
            "total_energy_cost": price(self.energy),
            "total_time": _ocpi_number(self.total_time),
            "total_time_cost": price(self.time),
            "total_parking_time": _ocpi_number(self.total_parking_time),
            "total_parking_cost": price(self.parking),
        }

    def to_json(self) -> dict:
        """For storage: every Decimal as a string, so ``from_json`` gives back an equal object."""
        return {
            "currency": self.currency,
            "tariff_id": self.tariff_id,
            **{name: {k: str(getattr(getattr(self, name), k)) for k in DimensionCost.__slots__}
               for name in ("energy", "time", "parking", "flat")},
            **{name: str(getattr(self, name)) for name in _DECIMAL_FIELDS},
            "min_price_applied": self.min_price_applied,
            "max_price_applied": self.max_price_applied,
            "vat_lines": [[None if rate is None else str(rate), str(base), str(vat)]
                          for rate, base, vat in self.vat_lines],
            "charging_periods": [
                {**period, "dimensions": [{"type": d["type"], "volume": str(d["volume"])}
                                          for d in period["dimensions"]]}
                for period in self.charging_periods
            ],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "PricedSession":
        return cls(
            currency=d["currency"],
            tariff_id=d["tariff_id"],
            **{name: DimensionCost(**{k: Decimal(v) for k, v in d[name].items()})
               for name in ("energy", "time", "parking", "flat")},
            **{name: Decimal(d[name]) for name in _DECIMAL_FIELDS},
            min_price_applied=d["min_price_applied"],
            max_price_applied=d["max_price_applied"],
            vat_lines=[(None if rate is None else Decimal(rate), Decimal(base), Decimal(vat))
                       for rate, base, vat in d["vat_lines"]],
            charging_periods=[
                {**period, "dimensions": [{"type": dim["type"], "volume": Decimal(dim["volume"])}
                                          for dim in period["dimensions"]]}
                for period in d["charging_periods"]
            ],
        )


_DECIMAL_FIELDS = ("total_excl_vat", "total_vat", "total_incl_vat", "reduction",
                   "total_energy", "total_time", "total_parking_time")


def estimate_intervals(start: datetime, energy_wh: Decimal, duration_s: int, power_kw: Decimal | None = None,
                       parking_s: int = 0) -> list[Interval]:
    """A hypothetical session for a price estimate: ``duration_s`` of charging at a constant rate,
    then ``parking_s`` of parking. ``power_kw`` caps the energy that fits in the charging time
    (and supplies it when ``energy_wh`` is 0); no energy fits in zero seconds."""
    energy = to_decimal(energy_wh)
    if power_kw is not None:
        fits = (to_decimal(power_kw) * duration_s * 1000 / 3600).quantize(Decimal("0.001"), ROUND_FLOOR)
        energy = fits if energy == 0 else min(energy, fits)
    if duration_s == 0:
        energy = _ZERO
    end = start + timedelta(seconds=duration_s)
    intervals = [Interval(start, end, energy, True)]
    if parking_s > 0:
        intervals.append(Interval(end, end + timedelta(seconds=parking_s), _ZERO, False))
    return intervals


def price_session(tariff: Mapping[str, Any], intervals: Sequence[Interval], time_zone: str) -> PricedSession:
    """Price ``intervals`` with the OCPI ``tariff``; local-time restrictions use ``time_zone``."""
    zone = ZoneInfo(time_zone)
    with localcontext() as ctx:
        ctx.prec = 50  # enough digits that sums of volumes × prices stay exact
        elements = _parse_elements(tariff)
        spans = _spans(intervals)
        return _assemble(tariff, elements, spans, _pieces(elements, spans, zone), zone)


def rate_changes(tariff: Mapping[str, Any], start: datetime, after: datetime, until: datetime,
                 time_zone: str) -> tuple[list[datetime], list[Decimal]]:
    """Where the price of a session started at ``start`` may change: the instants in
    (``after``, ``until``] at which a time, date, weekday or duration restriction may flip, and the
    energies so far (Wh) at which a kWh restriction may. A station showing a running cost is
    told again at these (station_cost/). The work grows with ``until`` − ``after``, not with the
    session's length."""
    elements = _parse_elements(tariff)
    low, high = _us(after), _us(until) + 1
    walls = _cuts([_Element(replace(e.restrictions, min_duration_us=None, max_duration_us=None), e.components)
                   for e in elements], low, high, ZoneInfo(time_zone))
    durations = {_us(start) + bound for e in elements for bound in e.restrictions.duration_bounds_us()}
    instants = sorted({*walls, *(us for us in durations if low < us < high)})
    return ([_EPOCH + timedelta(microseconds=us) for us in instants],
            sorted({wh for e in elements for wh in e.restrictions.energy_bounds_wh()}))


# --- the tariff ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Component:
    element: int   # index of its Tariff Element
    price: Decimal
    vat: Decimal | None
    step: Decimal  # Wh or seconds; 0: no rounding


@dataclass(frozen=True, slots=True)
class _Element:
    restrictions: Restrictions
    components: dict[str, _Component]  # the element's first component of each dimension


def _parse_elements(tariff: Mapping[str, Any]) -> list[_Element]:
    elements = []
    for index, raw in enumerate(tariff.get("elements") or ()):
        components: dict[str, _Component] = {}
        for pc in raw.get("price_components") or ():
            vat = pc.get("vat")
            components.setdefault(pc["type"], _Component(
                index, to_decimal(pc["price"]), None if vat is None else to_decimal(vat),
                to_decimal(pc.get("step_size") or 0)))
        elements.append(_Element(Restrictions.parse(raw.get("restrictions")), components))
    return elements


def _first_holding(elements: list[_Element], moment: Moment, dimensions: Sequence[str]) -> dict[str, _Component]:
    """Per dimension, the component of the first element that has one and whose restrictions hold."""
    verdicts: dict[int, bool] = {}
    found = {}
    for dimension in dimensions:
        for index, element in enumerate(elements):
            if dimension in element.components:
                if index not in verdicts:
                    verdicts[index] = element.restrictions.holds(moment)
                if verdicts[index]:
                    found[dimension] = element.components[dimension]
                    break
    return found


# --- the session -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Span:
    start: int  # µs since the epoch
    end: int
    energy: Decimal
    charging: bool
    power: Decimal               # for restrictions
    power_given: Decimal | None  # for MAX_POWER in charging periods
    current: Decimal | None


@dataclass(frozen=True, slots=True)
class _Piece:
    start: int
    end: int
    energy: Decimal
    span: _Span
    moment: Moment
    components: dict[str, _Component]


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_US


def _local(us: int, zone: ZoneInfo) -> datetime:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(zone)


def _spans(intervals: Sequence[Interval]) -> list[_Span]:
    spans: list[_Span] = []
    last_end = None
    for iv in sorted(intervals, key=lambda iv: (iv.start, iv.end)):
        if iv.start.tzinfo is None or iv.end.tzinfo is None:
            raise ValueError("interval start and end must be timezone-aware")
        start, end, energy = _us(iv.start), _us(iv.end), to_decimal(iv.energy_wh)
        if end < start or energy < 0 or (end == start and energy > 0):
            raise ValueError(f"invalid interval {iv}: end before start, negative energy, or energy in no time")
        if end > start:
            if last_end is not None and start < last_end:
                raise ValueError("intervals overlap")
            last_end = end
        power_given = None if iv.power_kw is None else to_decimal(iv.power_kw)
        average = energy * 3_600_000 / (end - start) if end > start else _ZERO  # Wh per µs → kW
        spans.append(_Span(start, end, energy, iv.charging, average if power_given is None else power_given,
                           power_given, None if iv.current_a is None else to_decimal(iv.current_a)))
    return spans


def _cuts(elements: list[_Element], start: int, end: int, zone: ZoneInfo) -> list[int]:
    """Instants strictly inside the session where a time or duration restriction may flip."""
    cuts = {start + bound for e in elements for bound in e.restrictions.duration_bounds_us()}
    minutes = set().union(*(e.restrictions.wall_minutes() for e in elements))
    if minutes:
        walls = set()
        day, last = _local(start, zone).date() - timedelta(days=1), _local(end, zone).date() + timedelta(days=1)
        while day <= last:
            midnight = datetime(day.year, day.month, day.day)
            for minute in minutes:  # an ambiguous wall time happens twice, a skipped one never
                wall = midnight + timedelta(minutes=minute)
                walls.update(_us(wall.replace(tzinfo=zone, fold=fold)) for fold in (0, 1))
            day += timedelta(days=1)
        walls = sorted(walls)
        cuts.update(walls)
        cuts.update(_offset_changes(walls, zone))
    return sorted(c for c in cuts if start < c < end)


def _offset_changes(walls: list[int], zone: ZoneInfo) -> list[int]:
    """DST transitions between consecutive wall instants: the clock jumps over boundaries there."""
    def offset(us: int) -> timedelta:
        return _local(us, zone).utcoffset()

    changes = []
    for low, high in zip(walls, walls[1:]):
        if offset(low) != offset(high):
            before = offset(low)
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == before else (low, middle)
            changes.append(high)
    return changes


def _pieces(elements: list[_Element], spans: list[_Span], zone: ZoneInfo) -> list[_Piece]:
    """Cut every interval at the session's cuts and where the energy so far crosses a kWh bound,
    and find each piece's components from its state at its start."""
    if not spans:
        return []
    start = spans[0].start
    cuts = _cuts(elements, start, max(s.end for s in spans), zone)
    thresholds = sorted({wh for e in elements for wh in e.restrictions.energy_bounds_wh()})
    pieces: list[_Piece] = []
    so_far = _ZERO
    for span in spans:
        length = span.end - span.start
        if length == 0:
            continue
        floors: dict[int, Decimal | None] = dict.fromkeys(
            cuts[bisect_right(cuts, span.start):bisect_left(cuts, span.end)])
        for wh in thresholds:
            if so_far < wh < so_far + span.energy:
                at = span.start + math.ceil(Fraction(wh - so_far) * length / Fraction(span.energy))
                if at < span.end:
                    floors[at] = wh  # the first microsecond at or after the crossing
        times = [span.start, *sorted(floors), span.end]
        energies = [so_far]
        for at in times[1:-1]:
            reached = so_far + (span.energy * (at - span.start) / length).quantize(_GRID)
            energies.append(reached if floors[at] is None else max(reached, floors[at]))
        energies.append(so_far + span.energy)
        dimensions = (ENERGY, TIME if span.charging else PARKING_TIME)
        for a, b, ea, eb in zip(times, times[1:], energies, energies[1:]):
            moment = Moment(_local(a, zone), a - start, ea, span.power, span.current)
            pieces.append(_Piece(a, b, eb - ea, span, moment, _first_holding(elements, moment, dimensions)))
        so_far += span.energy
    return pieces


# --- money -----------------------------------------------------------------------------------

def _money(amount: Decimal, exponent: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-exponent), ROUND_HALF_UP)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to ``currency``'s minor units, as every priced line is."""
    return _money(Decimal(amount), minor_units(currency))


def _volume(amount: Decimal) -> Decimal:
    return amount.quantize(_VOLUME, ROUND_HALF_UP)


def _ocpi_number(amount: Decimal) -> Decimal:
    return amount.quantize(_OCPI_NUMBER, ROUND_HALF_UP)


class _Dimension:
    """One dimension's priced volume and exact amounts (volume × price, per VAT rate)."""

    def __init__(self) -> None:
        self.volume = _ZERO
        self.amounts: dict[Decimal | None, Decimal] = {}
        self.last: _Component | None = None  # the component that priced the latest volume

    def add(self, volume: Decimal, component: _Component) -> None:
        self.volume += volume
        self.amounts[component.vat] = self.amounts.get(component.vat, _ZERO) + volume * component.price
        if volume > 0:
            self.last = component

    def step_up(self) -> Decimal:
        """Round the total volume up to the last component's step; its price pays the surplus."""
        last = self.last
        if last is None or last.step <= 0:
            return self.volume
        billed = (self.volume / last.step).to_integral_value(ROUND_CEILING) * last.step
        self.amounts[last.vat] += (billed - self.volume) * last.price
        return billed


def _lines(amounts: Mapping[Decimal | None, Decimal], unit: Decimal, exponent: int) -> list[tuple]:
    """Receipt lines (vat %, excl, vat): excl rounded half-up, VAT from the rounded excl."""
    lines = []
    for rate, amount in amounts.items():
        excl = _money(amount / unit, exponent)
        lines.append((rate, excl, _ZERO if rate is None else _money(excl * rate / 100, exponent)))
    return lines


def _cost(lines: list[tuple], volume: Decimal, billed: Decimal, exponent: int) -> DimensionCost:
    excl = sum((line[1] for line in lines), _money(_ZERO, exponent))
    vat = sum((line[2] for line in lines), _money(_ZERO, exponent))
    return DimensionCost(volume, billed, excl, vat, excl + vat)


def _bound(raw: Mapping[str, Any] | None, exponent: int) -> tuple[Decimal, Decimal | None] | None:
    if raw is None or raw.get("excl_vat") is None:
        return None
    incl = raw.get("incl_vat")
    return _money(to_decimal(raw["excl_vat"]), exponent), None if incl is None else _money(to_decimal(incl), exponent)


def _allocate(total: Decimal, weights: list[Decimal], exponent: int) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``, in minor units, largest remainders first."""
    quantum = Decimal(1).scaleb(-exponent)
    whole = sum(weights, _ZERO)
    if whole == 0:
        weights, whole = [Decimal(1)] * len(weights), Decimal(len(weights))
    exact = [total * w / whole for w in weights]
    shares = [e.quantize(quantum, ROUND_FLOOR) for e in exact]
    left = int((total - sum(shares, _ZERO)) / quantum)
    for i in sorted(range(len(shares)), key=lambda i: (shares[i] - exact[i], i))[:left]:
        shares[i] += quantum
    return shares


def _clamp(tariff: Mapping[str, Any], excl: Decimal, vat: Decimal, exponent: int):
    """min_price/max_price on the total: excl. VAT first; incl. VAT becomes the bound's incl_vat
    or, when that is absent, excl plus the VAT scaled in proportion; then incl is bounded too."""
    low, high = _bound(tariff.get("min_price"), exponent), _bound(tariff.get("max_price"), exponent)
    new_excl, bound, applied_min, applied_max = excl, None, False, False
    if low and new_excl < low[0]:
        new_excl, bound, applied_min = low[0], low, True
    if high and new_excl > high[0]:
        new_excl, bound, applied_max = high[0], high, True
    if bound is None:
        new_incl = excl + vat
    elif bound[1] is not None:
        new_incl = bound[1]
    else:
        new_incl = new_excl + (_money(vat * new_excl / excl, exponent) if excl else _ZERO)
    if low and low[1] is not None and new_incl < low[1]:
        new_incl, applied_min = low[1], True
    if high and high[1] is not None and new_incl > high[1]:
        new_incl, applied_max = high[1], True
    return new_excl, new_incl, applied_min, applied_max


def _vat_lines(lines: list[tuple], excl: Decimal, vat: Decimal, exponent: int) -> list[tuple]:
    """One line per VAT rate; after min/max_price the bases and VAT are rescaled to the totals."""
    by_rate: dict[Decimal | None, list[Decimal]] = {}
    for rate, base, amount in lines:
        sums = by_rate.setdefault(rate, [_ZERO, _ZERO])
        sums[0] += base
        sums[1] += amount
    rates = sorted((r for r, (b, a) in by_rate.items() if b or a), key=lambda r: (r is None, r or _ZERO))
    bases = [by_rate[r][0] for r in rates]
    amounts = [by_rate[r][1] for r in rates]
    if not rates:
        return [(None, excl, vat)] if excl or vat else []
    if sum(bases, _ZERO) != excl or sum(amounts, _ZERO) != vat:
        bases, amounts = (_allocate(excl, bases, exponent),
                          _allocate(vat, amounts if any(amounts) else bases, exponent))
    return list(zip(rates, bases, amounts))


# --- putting it together ---------------------------------------------------------------------

def _assemble(tariff, elements, spans, pieces, zone) -> PricedSession:
    currency = tariff["currency"]
    exponent = minor_units(currency)
    dims = {ENERGY: _Dimension(), TIME: _Dimension(), PARKING_TIME: _Dimension()}
    last_time = None  # TIME and PARKING_TIME share one step_size rounding: the last one priced
    for piece in pieces:
        if ENERGY in piece.components:
            dims[ENERGY].add(piece.energy, piece.components[ENERGY])
        kind = TIME if piece.span.charging else PARKING_TIME
        if kind in piece.components:
            dims[kind].add(Decimal(piece.end - piece.start).scaleb(-6), piece.components[kind])
            last_time = kind

    lines, costs = [], {}
    for name, dim in dims.items():
        billed = dim.step_up() if name in (ENERGY, last_time) else dim.volume
        dim_lines = _lines(dim.amounts, _UNIT[name], exponent)
        lines += dim_lines
        costs[name] = _cost(dim_lines, _volume(dim.volume / _UNIT[name]), _volume(billed / _UNIT[name]), exponent)

    flat = _cost([], _ZERO, _ZERO, exponent)
    if spans:
        first = spans[0]
        start = pieces[0].moment if pieces else Moment(_local(first.start, zone), 0, _ZERO, first.power,
                                                          first.current)
        component = _first_holding(elements, start, (FLAT,)).get(FLAT)
        if component is not None:
            flat_lines = _lines({component.vat: component.price}, Decimal(1), exponent)
            lines += flat_lines
            flat = _cost(flat_lines, Decimal(1), Decimal(1), exponent)

    excl = sum((line[1] for line in lines), _money(_ZERO, exponent))
    vat = sum((line[2] for line in lines), _money(_ZERO, exponent))
    total_excl, total_incl, applied_min, applied_max = (
        _clamp(tariff, excl, vat, exponent) if spans else (excl, excl + vat, False, False))
    session_us = (max(s.end for s in spans) - spans[0].start) if spans else 0
    parking_us = sum(s.end - s.start for s in spans if not s.charging)
    return PricedSession(
        currency=currency,
        tariff_id=tariff.get("id"),
        energy=costs[ENERGY],
        time=costs[TIME],
        parking=costs[PARKING_TIME],
        flat=flat,
        total_excl_vat=total_excl,
        total_vat=total_incl - total_excl,
        total_incl_vat=total_incl,
        reduction=excl - total_excl,
        min_price_applied=applied_min,
        max_price_applied=applied_max,
        vat_lines=_vat_lines(lines, total_excl, total_incl - total_excl, exponent),
        charging_periods=_charging_periods(pieces, tariff.get("id")),
        total_energy=_volume(sum((s.energy for s in spans), _ZERO) / 1000),
        total_time=_volume(Decimal(session_us) / 3_600_000_000),
        total_parking_time=_volume(Decimal(parking_us) / 3_600_000_000),
    )


def _iso(us: int) -> str:
    moment = _EPOCH + timedelta(microseconds=us)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if moment.microsecond else f"{text}Z"


def _charging_periods(pieces: list[_Piece], tariff_id: str | None) -> list[dict]:
    """OCPI ChargingPeriods: a new one whenever the state, or the element pricing any dimension,
    changes (or after a gap between intervals)."""
    groups: list[list[_Piece]] = []
    for piece in pieces:
        key = _period_key(piece)
        if groups and groups[-1][-1].end == piece.start and _period_key(groups[-1][-1]) == key:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    periods = []
    for group in groups:
        charging = group[0].span.charging
        energy = sum((p.energy for p in group), _ZERO)
        hours = Decimal(sum(p.end - p.start for p in group)) / 3_600_000_000
        dimensions = []
        if charging or energy:
            dimensions.append({"type": ENERGY, "volume": _ocpi_number(energy / 1000)})
        dimensions.append({"type": TIME if charging else PARKING_TIME, "volume": _ocpi_number(hours)})
        for kind, values in (("MAX_POWER", [p.span.power_given for p in group]),
                             ("MAX_CURRENT", [p.span.current for p in group])):
            known = [v for v in values if v is not None]
            if known:
                dimensions.append({"type": kind, "volume": _ocpi_number(max(known))})
        periods.append({"start_date_time": _iso(group[0].start), "dimensions": dimensions, "tariff_id": tariff_id})
    return periods


def _period_key(piece: _Piece) -> tuple:
    return (piece.span.charging,) + tuple(
        c.element if (c := piece.components.get(d)) else None for d in (ENERGY, TIME, PARKING_TIME))
