"""Electricity rates' pure rules (which rate, what a session's energy cost) and the statistics' time buckets."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from wattson.electricity.rules import (CostTable, Period, Rate, energy_cost, linear, period_problem, rate_at, rates_for,
                                       single_fixed_rate)
from wattson.statistics.buckets import hour_start, local_start, offset_segments, span_problem

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = Period(frozenset({1, 2, 3, 4, 5}), "00:00", "06:00", Decimal("0.10"))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_fixed_rate_is_energy_times_price():
    rate = Rate(1, "EUR", Decimal("0.25"))
    cost = energy_cost([rate], linear(at(2026, 1, 1, 10), at(2026, 1, 1, 12), 8000))
    assert (cost.amount, cost.currency) == (Decimal("2.00"), "EUR")


def test_time_of_use_splits_the_energy_at_local_period_edges():
    # Monday 2021-03-29, Berlin CEST (UTC+2): 05:00–07:00 local, 6 kWh evenly: 3 at night, 3 by day.
    rate = Rate(1, "EUR", Decimal("0.30"), "Europe/Berlin", (NIGHT,))
    cost = energy_cost([rate], linear(at(2021, 3, 29, 3), at(2021, 3, 29, 5), 6000))
    assert cost.amount == Decimal("0.30") + Decimal("0.90")
    # Saturday: no period applies, all at the base price.
    assert energy_cost([rate], linear(at(2021, 3, 27, 3), at(2021, 3, 27, 5), 6000)).amount == Decimal("1.80")


def test_meter_samples_spread_energy_as_it_flowed():
    rate = Rate(1, "EUR", Decimal("0.30"), "Europe/Berlin", (NIGHT,))
    # 5 kWh in 04:00–05:00 local (night), none 05:00–06:00, 1 kWh in 06:00–07:00 (day).
    readings = [(at(2021, 3, 29, 2), 0), (at(2021, 3, 29, 3), 5000), (at(2021, 3, 29, 4), 5000),
                (at(2021, 3, 29, 5), 6000)]
    assert energy_cost([rate], readings).amount == Decimal("0.50") + Decimal("0.30")
    # a register that went back counts as nothing
    assert energy_cost([rate], [(at(2021, 3, 29, 2), 100), (at(2021, 3, 29, 3), 0)]).amount == 0


def test_which_rate_is_in_force():
    default = Rate(1, "EUR", Decimal("0.30"), is_default=True)
    old = Rate(2, "EUR", Decimal("0.20"), valid_to=at(2026, 6, 1), location_ids=frozenset({7}))
    new = Rate(3, "EUR", Decimal("0.22"), valid_from=at(2026, 6, 1), location_ids=frozenset({7}))
    later = Rate(4, "EUR", Decimal("0.21"), valid_from=at(2026, 9, 1), location_ids=frozenset({7}))
    rates = rates_for([default, old, new, later], 7)
    assert [rate_at(rates, t).id for t in (at(2026, 5, 31), at(2026, 6, 1), at(2026, 9, 2))] == [2, 3, 4]
    assert rate_at(rates_for([default, old], 8), at(2026, 5, 1)).id == 1  # another location: the default
    assert rate_at(rates_for([old], 8), at(2026, 5, 1)) is None
    assert rates_for([Rate(5, "EUR", Decimal("0.3"))], 8) == []  # assigned nowhere (its locations deleted)
    # across a change of rate: split where it changes; one fixed rate over all of it: SQL's energy × price
    cost = energy_cost(rates, linear(at(2026, 5, 31, 23), at(2026, 6, 1, 1), 2000))
    assert cost.amount == Decimal("0.20") + Decimal("0.22")
    assert single_fixed_rate(rates, at(2026, 5, 31, 23), at(2026, 6, 1, 1)) is None
    assert single_fixed_rate(rates, at(2026, 7, 1), at(2026, 7, 2)).id == 3


def test_no_rate_or_mixed_currencies_is_unknown():
    eur = Rate(1, "EUR", Decimal("0.3"), valid_to=at(2026, 1, 1, 11), is_default=True)
    chf = Rate(2, "CHF", Decimal("0.3"), valid_from=at(2026, 1, 1, 11), is_default=True)
    assert energy_cost([eur], linear(at(2026, 1, 1, 10), at(2026, 1, 1, 12), 1000)) is None
    assert energy_cost(rates_for([eur, chf], None), linear(at(2026, 1, 1, 10), at(2026, 1, 1, 12), 1000)) is None
    assert energy_cost([eur], linear(at(2026, 1, 1, 10), at(2026, 1, 1, 10), 0)).amount == 0


def test_period_times():
    assert period_problem("22:00", "24:00") is None and period_problem("00:00", "06:00") is None
    assert "before" in period_problem("22:00", "06:00")
    assert "HH:MM" in period_problem("7:00", "08:00") and "HH:MM" in period_problem("25:00", "26:00")
    assert period_problem("24:00", "24:00")


def test_offset_segments_follow_dst():
    segments = offset_segments(BERLIN, at(2021, 3, 1), at(2021, 11, 30))
    assert segments == [(at(2021, 3, 28, 1), 3600), (at(2021, 10, 31, 1), 7200), (None, 3600)]
    assert offset_segments(ZoneInfo("UTC"), at(2021, 1, 1), at(2022, 1, 1)) == [(None, 0)]


def test_buckets_start_in_the_zone():
    # the hour repeated when clocks go back: two buckets, keyed by their offset
    first = hour_start((int(at(2021, 10, 31, 0, 30).timestamp()) + 7200) // 3600, 7200, BERLIN)
    second = hour_start((int(at(2021, 10, 31, 1, 30).timestamp()) + 3600) // 3600, 3600, BERLIN)
    assert first.isoformat() == "2021-10-31T02:00:00+02:00" and second.isoformat() == "2021-10-31T02:00:00+01:00"
    assert local_start("2021-03-28", BERLIN).isoformat() == "2021-03-28T00:00:00+01:00"
    assert local_start("2021-10", BERLIN).isoformat() == "2021-10-01T00:00:00+02:00"
    assert span_problem("hour", at(2021, 1, 1), at(2021, 3, 1)) and span_problem("day", at(2021, 1, 2), at(2021, 1, 1))
    assert span_problem("day", at(2021, 1, 1), at(2021, 3, 1)) is None


def test_a_cost_table_prices_as_energy_cost_does():
    night = Rate(1, "EUR", Decimal("0.30"), "Europe/Berlin", (NIGHT,), valid_to=at(2021, 3, 29, 12),
                 location_ids=frozenset({1}))
    later = Rate(2, "EUR", Decimal("0.27"), valid_from=at(2021, 3, 29, 12), location_ids=frozenset({1}))
    rates = rates_for([night, later], 1)
    table = CostTable(rates, at(2021, 3, 26), at(2021, 4, 2))
    for start, hours, wh in ((at(2021, 3, 27, 22), 3, 9000), (at(2021, 3, 28, 0, 30), 2, 4000),
                             (at(2021, 3, 29, 3), 2, 6000), (at(2021, 3, 29, 11), 2, 2000),
                             (at(2021, 3, 30, 1), 0, 0), (at(2021, 3, 31, 1, 17), 30, 33333)):
        stop = start + timedelta(hours=hours)
        expected = energy_cost(rates, linear(start, stop, wh))
        got = table.cost(start, stop, wh)
        assert (round(got.amount, 10), got.currency) == (round(expected.amount, 10), expected.currency)
    assert table.cost(at(2021, 4, 1), at(2021, 4, 3), 1000) is None  # beyond the window
    assert CostTable(rates_for([later], 1), at(2021, 3, 26), at(2021, 4, 2)).cost(
        at(2021, 3, 29, 11), at(2021, 3, 29, 13), 1000) is None  # partly before any rate
