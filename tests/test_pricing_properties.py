"""Properties of the pricing engine, on generated tariffs and sessions (hypothesis).

Sessions start near DST changes in four time zones (one with a 30-minute shift). Intervals last
whole seconds and carry energy at a rate with at most 3 decimals in Wh/s, so an interval can be
split at any whole second with the energy split exactly in proportion.

Monotonicity is checked on "uniform" tariffs: one price, VAT rate and step_size per dimension,
and only restrictions of time (time of day, day, date, duration). That is where it holds: OCPI's
step_size rule prices the rounding surplus at the *last* element and rounds only the last of
TIME/PARKING_TIME, so with different prices per element, or kWh and power bands, more energy or
time can cost less (docs/pricing.md, "What the rule implies").
"""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from wattson.tariffs.pricing import Interval, price_session

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None)
ZONES = ["UTC", "Europe/Prague", "America/New_York", "Australia/Lord_Howe"]
ANCHORS = [datetime(2024, 3, 30, 12, tzinfo=timezone.utc), datetime(2024, 10, 26, 12, tzinfo=timezone.utc),
           datetime(2024, 3, 9, 18, tzinfo=timezone.utc), datetime(2024, 4, 6, 3, tzinfo=timezone.utc),
           datetime(2024, 6, 7, 20, tzinfo=timezone.utc)]
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
DIMENSIONS = ["ENERGY", "TIME", "PARKING_TIME", "FLAT"]
ENERGY_STEPS = [0, 1, 100, 500, 1000]
TIME_STEPS = [0, 1, 60, 300, 900, 1800]

money = st.decimals(min_value=0, max_value=10, places=2)
vat_rates = st.sampled_from([None, 0, Decimal("5.2"), 10, 20, 21])
wall_times = st.sampled_from(["00:00", "02:30", "06:00", "09:15", "17:00", "22:00", "23:59"])


def maybe(strategy):
    return st.one_of(st.none(), strategy)


def pair(low_key: str, high_key: str, values) -> st.SearchStrategy[dict]:
    """A lower bound, an upper bound, or both (possibly crossing: such an element never holds)."""
    return st.one_of(st.builds(lambda a: {low_key: a}, values), st.builds(lambda b: {high_key: b}, values),
                     st.builds(lambda a, b: {low_key: a, high_key: b}, values, values))


TIME_KINDS = {
    "time": pair("start_time", "end_time", wall_times),
    "days": st.builds(lambda d: {"day_of_week": d},
                      st.lists(st.sampled_from(DAYS), min_size=1, max_size=6, unique=True)),
    "date": pair("start_date", "end_date", st.sampled_from(["2024-03-31", "2024-04-07", "2024-10-27", "2024-10-28"])),
    "duration": pair("min_duration", "max_duration", st.integers(0, 6 * 3600)),
}
OTHER_KINDS = {
    "kwh": pair("min_kwh", "max_kwh", st.decimals(0, 100, places=1)),
    "power": pair("min_power", "max_power", st.integers(0, 120)),
    "current": pair("min_current", "max_current", st.integers(0, 64)),
    "reservation": st.just({"reservation": "RESERVATION"}),
}


@st.composite
def restrictions_of(draw, kinds: dict) -> dict:
    """One or two kinds of restriction, so that restricted elements do hold now and then."""
    chosen = draw(st.lists(st.sampled_from(sorted(kinds)), min_size=1, max_size=2, unique=True))
    return {key: value for kind in chosen for key, value in draw(kinds[kind]).items()}


def time_restrictions() -> st.SearchStrategy[dict]:
    return restrictions_of(TIME_KINDS)


def any_restrictions() -> st.SearchStrategy[dict]:
    return restrictions_of({**TIME_KINDS, **OTHER_KINDS})


@st.composite
def price_bounds(draw, incl_required: bool = False):
    """min_price ≤ max_price, each with or without incl_vat (incl ≥ excl)."""
    def bound(excl):
        incl = excl + draw(st.decimals(0, 5, places=2))
        return {"excl_vat": str(excl), **({"incl_vat": str(incl)} if incl_required or draw(st.booleans()) else {})}

    low = draw(st.decimals(0, 20, places=2))
    high = low + draw(st.decimals(0, 30, places=2))
    extra = {}
    if draw(st.booleans()):
        extra["min_price"] = bound(low)
    if draw(st.booleans()):
        extra["max_price"] = bound(high)
        if "incl_vat" in extra.get("min_price", {}) and "incl_vat" in extra["max_price"]:
            lowest = Decimal(extra["min_price"]["incl_vat"])
            extra["max_price"]["incl_vat"] = str(max(lowest, Decimal(extra["max_price"]["incl_vat"])))
    return extra


def component(kind, price, vat, step) -> dict:
    return {"type": kind, "price": str(price), "step_size": step, **({} if vat is None else {"vat": vat})}


@st.composite
def tariffs(draw) -> dict:
    """Anything the specification allows: per element its own prices, VAT, steps and restrictions."""
    elements = []
    count = draw(st.integers(1, 5))
    for index in range(count):
        kinds = draw(st.lists(st.sampled_from(DIMENSIONS), min_size=1, max_size=4, unique=True))
        components = [component(k, draw(money), draw(vat_rates),
                                draw(st.sampled_from(ENERGY_STEPS if k == "ENERGY" else TIME_STEPS))) for k in kinds]
        element = {"price_components": components}
        if index < count - 1 or draw(st.booleans()):  # the last one may be a fallback
            element["restrictions"] = draw(any_restrictions())
        elements.append(element)
    return {"id": "T", "currency": "EUR", "elements": elements, **draw(price_bounds())}


@st.composite
def uniform_tariffs(draw) -> dict:
    """One component per dimension, used by every element that prices it; restrictions of time only.
    Time-restricted TIME/PARKING_TIME elements get step 1 s, unrestricted ones any step."""
    shared = {k: (draw(money), draw(vat_rates)) for k in DIMENSIONS}
    energy_step = draw(st.sampled_from(ENERGY_STEPS))
    time_restricted = draw(st.booleans())
    time_step = 1 if time_restricted else draw(st.sampled_from(TIME_STEPS))
    elements = []
    for _ in range(draw(st.integers(1, 4))):
        kinds = draw(st.lists(st.sampled_from(DIMENSIONS), min_size=1, max_size=4, unique=True))
        restricted = draw(st.booleans()) and (time_restricted or not {"TIME", "PARKING_TIME"} & set(kinds))
        element = {"price_components": [component(k, *shared[k], energy_step if k == "ENERGY" else time_step)
                                        for k in kinds]}
        if restricted:
            element["restrictions"] = draw(time_restrictions())
        elements.append(element)
    return {"id": "U", "currency": "EUR", "elements": elements, **draw(price_bounds(incl_required=True))}


@st.composite
def sessions(draw) -> tuple[list[Interval], str]:
    start = draw(st.sampled_from(ANCHORS)) + timedelta(seconds=draw(st.integers(0, 2 * 86400)))
    intervals = []
    for _ in range(draw(st.integers(1, 6))):
        start += timedelta(seconds=draw(st.sampled_from([0, 0, 0, 0, 600])))  # now and then a gap
        end = start + timedelta(seconds=draw(st.one_of(st.integers(1, 120), st.integers(600, 4 * 3600))))
        charging = draw(st.sampled_from([True, True, False]))
        rate = Decimal(draw(st.integers(0, 40000))) / 1000 if charging else Decimal(0)  # Wh/s, up to 144 kW
        seconds = int((end - start).total_seconds())
        intervals.append(Interval(start, end, rate * seconds, charging,
                                  power_kw=draw(maybe(st.integers(0, 150).map(Decimal))),
                                  current_a=draw(maybe(st.integers(0, 64).map(Decimal)))))
        start = end
    return intervals, draw(st.sampled_from(ZONES))


def seconds_of(interval: Interval) -> int:
    return int((interval.end - interval.start).total_seconds())


def replaced(intervals: list[Interval], index: int, *new: Interval) -> list[Interval]:
    return intervals[:index] + list(new) + intervals[index + 1:]


def assert_not_cheaper(more, less) -> None:
    assert more.total_excl_vat >= less.total_excl_vat
    assert more.total_incl_vat >= less.total_incl_vat


@SETTINGS
@given(uniform_tariffs(), sessions(), st.data())
def test_more_energy_never_costs_less(tariff, session, data):
    intervals, zone = session
    index = data.draw(st.integers(0, len(intervals) - 1))
    extra = data.draw(st.decimals(Decimal("0.001"), 20000, places=3))
    iv = intervals[index]
    more = replaced(intervals, index, Interval(iv.start, iv.end, iv.energy_wh + extra, iv.charging,
                                               iv.power_kw, iv.current_a))
    assert_not_cheaper(price_session(tariff, more, zone), price_session(tariff, intervals, zone))


@SETTINGS
@given(uniform_tariffs(), sessions(), st.integers(1, 6 * 3600))
def test_a_longer_last_interval_never_costs_less(tariff, session, seconds):
    """The last interval goes on at the same rate (or keeps parking) for ``seconds`` more."""
    intervals, zone = session
    last = intervals[-1]
    rate = last.energy_wh / seconds_of(last)
    longer = Interval(last.start, last.end + timedelta(seconds=seconds), last.energy_wh + rate * seconds,
                      last.charging, last.power_kw, last.current_a)
    assert_not_cheaper(price_session(tariff, intervals[:-1] + [longer], zone), price_session(tariff, intervals, zone))


@SETTINGS
@given(tariffs(), sessions(), st.data())
def test_splitting_intervals_changes_nothing(tariff, session, data):
    """Any tariff: cutting intervals in two at any whole second, energy in proportion, gives the
    very same result, charging periods included. Every interval is cut, to find more."""
    intervals, zone = session
    split = []
    for iv in intervals:
        seconds = seconds_of(iv)
        if seconds < 2:
            split.append(iv)
            continue
        cut = data.draw(st.integers(1, seconds - 1))
        at, first = iv.start + timedelta(seconds=cut), iv.energy_wh * cut / seconds
        split += [Interval(iv.start, at, first, iv.charging, iv.power_kw, iv.current_a),
                  Interval(at, iv.end, iv.energy_wh - first, iv.charging, iv.power_kw, iv.current_a)]
    assert price_session(tariff, split, zone) == price_session(tariff, intervals, zone)


@SETTINGS
@given(tariffs(), sessions())
def test_step_size_never_undercharges(tariff, session):
    """Billed volume ≥ priced volume, and every dimension and the total cost at least as much as
    with no step_size at all."""
    intervals, zone = session
    exact_tariff = {**tariff, "elements": [
        {**e, "price_components": [{**pc, "step_size": 0} for pc in e["price_components"]]}
        for e in tariff["elements"]]}
    stepped, exact = price_session(tariff, intervals, zone), price_session(exact_tariff, intervals, zone)
    for name in ("energy", "time", "parking", "flat"):
        assert getattr(stepped, name).billed_volume >= getattr(stepped, name).volume
        assert getattr(stepped, name).volume == getattr(exact, name).volume
        assert getattr(stepped, name).excl_vat >= getattr(exact, name).excl_vat
    assert stepped.total_excl_vat >= exact.total_excl_vat


@SETTINGS
@given(tariffs(), sessions())
def test_min_and_max_price_hold_and_receipts_add_up(tariff, session):
    intervals, zone = session
    priced = price_session(tariff, intervals, zone)
    low, high = tariff.get("min_price", {}), tariff.get("max_price", {})
    for bound, check in ((low, lambda total, limit: total >= limit), (high, lambda total, limit: total <= limit)):
        if "excl_vat" in bound:
            assert check(priced.total_excl_vat, Decimal(bound["excl_vat"]))
        if "incl_vat" in bound:
            assert check(priced.total_incl_vat, Decimal(bound["incl_vat"]))
    lines = [priced.energy, priced.time, priced.parking, priced.flat]
    assert sum(d.excl_vat for d in lines) - priced.reduction == priced.total_excl_vat
    assert sum(base for _, base, _ in priced.vat_lines) == priced.total_excl_vat
    assert sum(vat for _, _, vat in priced.vat_lines) == priced.total_vat
    assert priced.total_excl_vat + priced.total_vat == priced.total_incl_vat
