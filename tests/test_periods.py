"""Charging periods and power from meter samples (wattson.sessions.periods): pure rules."""

from datetime import datetime, timedelta, timezone

from wattson.sessions.meter import Sample
from wattson.sessions.periods import (CHARGING, IDLE, billing_periods, charging_periods, current_peaks, power_summary,
                                      register_readings)

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def energy(minutes: float, value: str, unit: str | None = "Wh", **kw) -> Sample:
    return Sample(timestamp=at(minutes), value=value, unit=unit, **kw)


def power(minutes: float, value: str, unit: str | None = "W", phase: str | None = None) -> Sample:
    return Sample(timestamp=at(minutes), value=value, measurand="Power.Active.Import", unit=unit, phase=phase)


def shape(periods) -> list[tuple]:
    return [(p.start_at, p.end_at, p.state, p.energy_wh) for p in periods]


def test_charging_then_suspended_then_charging_again():
    samples = [energy(10, "1500"), energy(20, "3000"), energy(30, "3000"), energy(40, "3000"), energy(50, "4000")]
    periods = charging_periods(T0, 0, samples, at(60), 4000)
    assert shape(periods) == [(T0, at(20), CHARGING, 3000), (at(20), at(40), IDLE, 0),
                              (at(40), at(50), CHARGING, 1000), (at(50), at(60), IDLE, 0)]
    first = periods[0]
    assert first.duration_s == 1200 and first.average_power_w == 9000.0  # 3000 Wh in 20 min
    assert periods[1].average_power_w == 0.0
    assert sum(p.energy_wh for p in periods) == 4000


def test_no_readings():
    # Finished: one period from start to stop, from the start and stop registers alone.
    assert shape(charging_periods(T0, 100, [], at(90), 7600)) == [(T0, at(90), CHARGING, 7500)]
    assert shape(charging_periods(T0, 100, [], at(90), 100)) == [(T0, at(90), IDLE, 0)]
    # Active: nothing is known after the start.
    assert charging_periods(T0, 100, []) == []


def test_one_reading_of_an_active_session():
    periods = charging_periods(T0, 1000, [energy(15, "2000")])
    assert shape(periods) == [(T0, at(15), CHARGING, 1000)]
    assert periods[0].average_power_w == 4000.0


def test_unsorted_readings_and_duplicates_at_one_instant():
    samples = [energy(30, "3000"), energy(10, "1000"), energy(20, "2000"), energy(20, "1990")]
    assert shape(charging_periods(T0, 0, samples)) == [(T0, at(30), CHARGING, 3000)]


def test_register_going_backwards_counts_zero_and_restarts_from_the_new_value():
    samples = [energy(10, "5000"), energy(20, "100"), energy(30, "900")]  # meter swapped at ~15 min
    periods = charging_periods(T0, 4000, samples, at(40), 1400)
    assert shape(periods) == [(T0, at(10), CHARGING, 1000), (at(10), at(20), IDLE, 0),
                              (at(20), at(40), CHARGING, 1300)]


def test_kwh_units_phases_other_measurands_and_unreadable_values():
    samples = [energy(10, "1.5", "kWh"), energy(10, "700", phase="L1"),
               Sample(timestamp=at(12), value="16", measurand="Current.Import", unit="A"),
               energy(15, "garbage"), energy(16, "999", format="SignedData"), energy(17, "2", "kvarh"),
               energy(20, "2.25", "kWh"), energy(25, "2250", None)]  # no unit: Wh
    assert register_readings(samples) == [(at(10), 1500), (at(20), 2250), (at(25), 2250)]
    assert shape(charging_periods(T0, 500, samples)) == [(T0, at(20), CHARGING, 1750), (at(20), at(25), IDLE, 0)]


def test_readings_outside_the_session_and_at_its_edges_are_ignored():
    samples = [energy(-5, "0"), energy(0, "999"), energy(30, "2000"), energy(60, "9999"), energy(70, "12000")]
    # The start and stop registers win over samples at the same instant; outside ones are dropped.
    assert shape(charging_periods(T0, 1000, samples, at(60), 3000)) == [(T0, at(60), CHARGING, 2000)]


def test_zero_length_session():
    assert charging_periods(T0, 100, [energy(0, "100")], T0, 100) == []


def test_power_summary():
    assert power_summary([energy(10, "100")]) is None
    summary = power_summary([power(10, "7000"), power(5, "3.5", "kW"), power(20, "1000"), power(15, "oops")])
    assert (summary.latest_w, summary.peak_w, summary.average_w) == (1000.0, 7000.0, 3833.3)


def test_power_summary_adds_phases_when_there_is_no_total():
    samples = [power(10, "2000", phase="L1"), power(10, "2100", phase="L2"), power(10, "1900", phase="L3"),
               power(20, "1000", phase="L1"), power(20, "1000", phase="L2"), power(20, "1000", phase="L3")]
    summary = power_summary(samples)
    assert (summary.latest_w, summary.peak_w, summary.average_w) == (3000.0, 6000.0, 4500.0)
    # With a total present, phases are not added on top of it.
    assert power_summary([*samples, power(15, "5000")]).peak_w == 5000.0


def billing_shape(periods) -> list[tuple]:
    return [(p.start_at, p.end_at, p.energy_wh, p.charging) for p in periods]


def test_unmerged_periods_keep_each_reading_interval():
    samples = [energy(10, "1500"), energy(20, "3000")]
    periods = charging_periods(T0, 0, samples, at(30), 4000, merge=False)
    assert shape(periods) == [(T0, at(10), CHARGING, 1500), (at(10), at(20), CHARGING, 1500),
                              (at(20), at(30), CHARGING, 1000)]


def test_suspended_time_is_charging_time_and_finishing_is_parking():
    samples = [energy(20, "3000"), energy(40, "3000")]
    periods = charging_periods(T0, 0, samples, at(60), 3000, merge=False)
    states = [(at(50), "Finishing"), (T0 - timedelta(minutes=1), "Charging"), (at(30), "SuspendedEV")]
    assert billing_shape(billing_periods(periods, states)) == [
        (T0, at(20), 3000, True),  # energy flowed
        (at(20), at(30), 0, False),  # no energy, still "Charging" reported: the car took nothing (parked)
        (at(30), at(40), 0, True),  # SuspendedEV: charging time
        (at(40), at(50), 0, True),
        (at(50), at(60), 0, False),  # Finishing: parking
    ]


def test_idle_time_without_any_state_is_parking():
    periods = charging_periods(T0, 0, [energy(10, "500")], at(20), 500, merge=False)
    assert billing_shape(billing_periods(periods, [])) == [(T0, at(10), 500, True), (at(10), at(20), 0, False)]


def test_current_peaks_per_billing_period():
    periods = billing_periods(charging_periods(T0, 0, [energy(10, "500")], at(20), 900, merge=False), [])
    current = [Sample(timestamp=at(m), value=v, measurand="Current.Import", unit="A", phase=p)
               for m, v, p in ((5, "16", "L1"), (10, "31.5", "L2"), (10, "30", "L1"), (25, "40", "L1"))]
    assert current_peaks(current, periods) == [31.5, None]  # 25 min is after the last period; 10 belongs to the first
