"""The circuit rules without I/O (loadmgmt/rules.py): schedules of unmanaged load in a circuit's
time zone, freshness of readings, an EVSE's phases through its phase rotation, currents from stored
meter samples, and loops in the tree."""

from datetime import datetime, timedelta, timezone

import pytest

from wattson.loadmgmt import rules

UTC = timezone.utc
DAY = [{"from": "07:00", "to": "19:00", "current_a": 20.0}]
NIGHT = [{"from": "22:00", "to": "06:00", "current_a": 8.0}]


@pytest.mark.parametrize("at, expected", [
    ("2026-12-04T06:59:59+00:00", 0.0),   # before from
    ("2026-12-04T07:00:00+00:00", 20.0),  # from is inclusive
    ("2026-12-04T18:59:00+00:00", 20.0),
    ("2026-12-04T19:00:00+00:00", 0.0),   # to is exclusive
])
def test_a_day_schedule_runs_from_inclusive_to_exclusive(at, expected):
    assert rules.scheduled_a(DAY, "UTC", datetime.fromisoformat(at)) == expected


@pytest.mark.parametrize("at, expected", [
    ("2026-12-04T21:59:00+00:00", 0.0), ("2026-12-04T22:00:00+00:00", 8.0), ("2026-12-04T23:59:00+00:00", 8.0),
    ("2026-12-05T00:00:00+00:00", 8.0), ("2026-12-05T05:59:00+00:00", 8.0), ("2026-12-05T06:00:00+00:00", 0.0),
])
def test_a_schedule_whose_to_is_earlier_runs_past_midnight(at, expected):
    assert rules.scheduled_a(NIGHT, "UTC", datetime.fromisoformat(at)) == expected


def test_a_schedule_is_read_in_the_circuits_time_zone_across_daylight_saving():
    # Berlin is UTC+1 in winter, UTC+2 in summer: 07:00 local is 06:00 and 05:00 UTC.
    winter, summer = datetime(2026, 12, 4, 6, 0, tzinfo=UTC), datetime(2026, 7, 4, 5, 0, tzinfo=UTC)
    for at in (winter, summer):
        assert rules.scheduled_a(DAY, "Europe/Berlin", at) == 20.0
        assert rules.scheduled_a(DAY, "Europe/Berlin", at - timedelta(minutes=1)) == 0.0
    assert rules.scheduled_a(DAY, "UTC", winter) == 0.0


def test_entries_running_at_once_add_up_and_24_00_is_midnight():
    entries = DAY + [{"from": "12:00", "to": "24:00", "current_a": 5}, {"from": "00:00", "to": "24:00", "current_a": 1}]
    assert rules.scheduled_a(entries, "UTC", datetime(2026, 12, 4, 12, 30, tzinfo=UTC)) == 26.0
    assert rules.scheduled_a(entries, "UTC", datetime(2026, 12, 4, 23, 59, tzinfo=UTC)) == 6.0
    assert rules.scheduled_a(entries, "UTC", datetime(2026, 12, 4, 0, 0, tzinfo=UTC)) == 1.0
    assert rules.scheduled_a(None, "UTC", datetime(2026, 12, 4, tzinfo=UTC)) == 0.0


@pytest.mark.parametrize("entries, problem", [
    ([{"from": "24:00", "to": "01:00", "current_a": 1}], "entry 1: from must be HH:MM"),
    ([{"from": "7:00", "to": "08:00", "current_a": 1}], "entry 1: from must be HH:MM"),
    ([{"from": "07:00", "to": "24:01", "current_a": 1}], "entry 1: to must be HH:MM"),
    ([{"from": "07:00", "to": "07:60", "current_a": 1}], "entry 1: to must be HH:MM"),
    (DAY + [{"from": "08:00", "to": "08:00", "current_a": 1}], "entry 2: from and to must differ"),
    ([{"from": "00:00", "to": "24:00", "current_a": -1}], "entry 1: current_a must be a number"),
    ([{"from": "00:00", "to": "24:00", "current_a": True}], "entry 1: current_a must be a number"),
    ([{"from": "00:00", "to": "24:00", "current_a": 10_001}], "entry 1: current_a must be a number"),
])
def test_unusable_schedules_are_refused_with_the_entry(entries, problem):
    assert rules.schedule_problem(entries).startswith(problem)


def test_usable_schedules_pass():
    assert rules.schedule_problem(DAY + NIGHT + [{"from": "00:00", "to": "24:00", "current_a": 0}]) is None
    assert rules.schedule_problem([]) is None


def test_readings_count_while_fresh():
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert rules.fresh(now - timedelta(seconds=300), 300, now)
    assert not rules.fresh(now - timedelta(seconds=301), 300, now)
    assert not rules.fresh(None, 300, now) and not rules.fresh(now, None, now)
    assert not rules.fresh(now + timedelta(minutes=10), 300, now)  # from the future: a wrong clock


def test_unmanaged_load_adds_fixed_schedule_and_the_newest_fresh_reading():
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    older, newer = (now - timedelta(seconds=60), (10.0, 11.0, 12.0)), (now - timedelta(seconds=5), (1.0, 2.0, 3.0))
    assert rules.unmanaged_a(5.0, DAY, "UTC", [older, newer], now) == (26.0, 27.0, 28.0)
    assert rules.unmanaged_a(5.0, None, "UTC", [], now) == (5.0, 5.0, 5.0)
    assert rules.unmanaged_a(5.0, DAY, "UTC", [newer], now, phases=1) == (26.0, 0.0, 0.0)


@pytest.mark.parametrize("rotation, evse_phases, expected", [
    (None, 3, (0, 1, 2)), ("RST", 1, (0,)), ("STR", 1, (1,)), ("TRS", 1, (2,)), ("TSR", 3, (0, 1, 2)),
    (None, None, (0, 1, 2)),  # not known: counted on every phase
])
def test_an_evses_phases_follow_its_rotation(rotation, evse_phases, expected):
    assert rules.evse_phases(evse_phases, rotation, 3) == expected


def test_on_a_single_phase_circuit_everything_is_on_its_phase():
    assert rules.evse_phases(3, "TSR", 1) == (0,)
    assert rules.to_circuit_phases((10.0, 0.0, 0.0), "TSR", 1) == (10.0, 0.0, 0.0)


def test_meter_currents_are_moved_to_the_circuit_phases_by_the_rotation():
    # SRT: the EVSE's L1 is on the circuit's S (L2), its L2 on R (L1), its L3 on T (L3).
    assert rules.to_circuit_phases((16.0, 10.0, 4.0), "SRT", 3) == (10.0, 16.0, 4.0)
    assert rules.to_circuit_phases((16.0, 10.0, 4.0), None, 3) == (16.0, 10.0, 4.0)


def test_phase_currents_from_stored_samples():
    samples = [{"measurand": "Energy.Active.Import.Register", "value": "1200"},
               {"measurand": "Current.Import", "value": "15.5", "unit": "A", "phase": "L1"},
               {"measurand": "Current.Import", "value": "15.1", "phase": "L2-N"},
               {"measurand": "Current.Import", "value": "14.9", "phase": "L3"},
               {"measurand": "Current.Import", "value": "99", "phase": "L1", "location": "EV"},
               {"measurand": "Current.Import", "value": "99", "phase": "N"},
               {"measurand": "Current.Offered", "value": "32", "phase": "L1"}]
    assert rules.phase_currents(samples) == (15.5, 15.1, 14.9)
    assert rules.phase_currents([{"measurand": "Current.Import", "value": "7"}]) == (7.0, 7.0, 7.0)
    assert rules.phase_currents([{"measurand": "Current.Import", "value": "7"}], phases=1) == (7.0, 0.0, 0.0)
    assert rules.phase_currents([{"measurand": "Current.Import", "value": "12", "phase": "L1"}]) == (12.0, 0.0, 0.0)
    assert rules.phase_currents([{"measurand": "Energy.Active.Import.Register", "value": "5"}]) is None
    for bad in ("NaN", "abc", "-3"):
        assert rules.phase_currents([{"measurand": "Current.Import", "value": bad}]) is None
    assert rules.phase_currents([{"measurand": "Current.Import", "value": "5", "unit": "W"}]) is None


def test_a_parent_below_the_circuit_closes_a_loop():
    parents = {1: None, 2: 1, 3: 2, 4: None}
    assert rules.cycle_through(1, 3, parents) == [3, 2, 1]
    assert rules.cycle_through(2, 2, parents) == [2]
    assert rules.cycle_through(3, 4, parents) is None
    assert rules.cycle_through(1, None, parents) is None
    assert rules.cycle_through(2, 9, {**parents, 9: 10, 10: 9}) is None  # a loop elsewhere ends the walk


def test_subtree():
    parents = {1: None, 2: 1, 3: 2, 4: 1, 5: None}
    assert rules.subtree(1, parents) == {1, 2, 3, 4}
    assert rules.subtree(2, parents) == {2, 3}
    assert rules.subtree(5, parents) == {5}


def test_top_of():
    parents = {1: None, 2: 1, 3: 2, 5: None}
    assert (rules.top_of(3, parents), rules.top_of(1, parents), rules.top_of(5, parents)) == (1, 1, 5)
