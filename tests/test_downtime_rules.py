"""Downtime without I/O: the interval maths (``downtime/intervals.py``: merge, clip, subtract,
intersect, total), checked on examples and against a minute-by-minute model on generated
intervals (hypothesis), and the rules of ``downtime/rules.py``: down runs of connectors and
stations, offline stretches from folded connection rows, the availability figure."""

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from wattson.downtime import intervals as iv
from wattson.downtime import rules
from wattson.downtime.rules import Figure, Run

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def span(a: float, b: float) -> tuple:
    return t(a), t(b)


# --- examples -------------------------------------------------------------------------------------
def test_merge_joins_overlapping_and_touching_and_drops_empty():
    assert iv.merge([(5, 7), (1, 3), (3, 4), (6, 9), (10, 10), (12, 11)]) == [(1, 4), (5, 9)]
    assert iv.merge([]) == []


def test_clip_keeps_the_window():
    assert iv.clip([(0, 5), (8, 20), (25, 30)], 3, 22) == [(3, 5), (8, 20)]
    assert iv.clip([(0, 2)], 3, 10) == []


def test_subtract_cuts_holes():
    assert iv.subtract([(0, 10)], [(2, 3), (5, 7)]) == [(0, 2), (3, 5), (7, 10)]
    assert iv.subtract([(0, 10)], [(-5, 20)]) == []
    assert iv.subtract([(0, 4), (6, 10)], [(3, 7)]) == [(0, 3), (7, 10)]
    assert iv.subtract([(0, 4)], []) == [(0, 4)]


def test_intersect_holds_where_all_do():
    assert iv.intersect([(0, 10)], [(2, 4), (6, 12)], [(3, 7)]) == [(3, 4), (6, 7)]
    assert iv.intersect([(0, 10)]) == [(0, 10)]
    assert iv.intersect() == []
    assert iv.intersect([(0, 10)], []) == []


def test_total_counts_overlaps_once():
    assert iv.total([span(0, 10), span(5, 15)]) == timedelta(minutes=15)


# --- properties against a model: a set of whole minutes ---------------------------------------------
def minutes(intervals) -> set[int]:
    return {m for a, b in intervals for m in range(a, b)}


interval = st.tuples(st.integers(0, 60), st.integers(0, 60))
interval_lists = st.lists(interval, max_size=8)


def merged(intervals) -> bool:
    return all(a < b for a, b in intervals) and all(b1 < a2 for (_, b1), (a2, _) in zip(intervals, intervals[1:]))


@SETTINGS
@given(interval_lists)
def test_merge_is_the_union(intervals):
    out = iv.merge(intervals)
    assert merged(out) and minutes(out) == minutes(intervals)


@SETTINGS
@given(interval_lists, st.integers(0, 60), st.integers(0, 60))
def test_clip_is_the_union_within_the_window(intervals, start, end):
    out = iv.clip(intervals, start, end)
    assert merged(out) and minutes(out) == minutes(intervals) & set(range(start, end))


@SETTINGS
@given(interval_lists, interval_lists)
def test_subtract_is_the_difference(intervals, removed):
    out = iv.subtract(intervals, removed)
    assert merged(out) and minutes(out) == minutes(intervals) - minutes(removed)


@SETTINGS
@given(st.lists(interval_lists, min_size=1, max_size=4))
def test_intersect_is_the_intersection(sets):
    out = iv.intersect(*sets)
    assert merged(out) and minutes(out) == set.intersection(*(minutes(s) for s in sets))


@SETTINGS
@given(interval_lists, interval_lists)
def test_planned_and_unplanned_add_up(planned, unplanned):
    """However the periods lie: planned + unplanned + available = the period, the figure between 0 and 100."""
    f = rules.figure(t(10), t(50), [span(a, b) for a, b in planned], [span(a, b) for a, b in unplanned])
    assert f.period_s == 40 * 60
    assert f.planned_s == 60 * len(minutes(planned) & set(range(10, 50)))
    assert f.unplanned_s == 60 * len((minutes(unplanned) - minutes(planned)) & set(range(10, 50)))
    if f.availability is not None:
        assert 0 <= f.availability <= 100


# --- the rules ------------------------------------------------------------------------------------
def test_an_evse_is_down_while_all_its_connectors_are():
    runs = [Run(1, 1, "Faulted", "GroundFailure", t(0), t(30)), Run(1, 2, "Unavailable", None, t(10), t(40)),
            Run(2, 1, "Faulted", None, t(0), None)]
    assert rules.status_downtime(runs, 1, {1, 2}, t(60)) == [span(10, 30)]
    assert rules.status_downtime(runs, 1, {1}, t(60)) == [span(10, 30)]  # connector 2 reported: counted too
    assert rules.status_downtime(runs, 1, {1, 2, 3}, t(60)) == []  # connector 3 never down
    assert rules.status_downtime(runs, 2, {1}, t(60)) == [span(0, 60)]  # still going: until the end
    assert rules.status_downtime(runs, 3, {1}, t(60)) == []


def test_a_1_6_connector_without_number_is_connector_1():
    runs = [Run(1, None, "Faulted", None, t(0), t(5))]
    assert rules.status_downtime(runs, 1, {1}, t(60)) == [span(0, 5)]


def test_the_station_itself_down_covers_all_evses():
    runs = [Run(None, None, "Unavailable", None, t(5), t(15)), Run(1, 1, "Faulted", None, t(0), t(2))]
    assert rules.station_downtime(runs, t(60)) == [span(5, 15)]


def test_offline_between_disconnect_and_connect():
    points = [(t(0), True), (t(10), False), (t(25), True)]
    assert rules.offline_intervals(points, False, None, None, t(60)) == [span(10, 25)]


def test_folded_rows_give_their_first_and_last_time():
    """Disconnects at 10 and 30 folded into one row (first 10, last 30), connects at 12 and 35 into another."""
    points = [(t(10), False), (t(30), False), (t(12), True), (t(35), True)]
    assert rules.offline_intervals(points, False, None, None, t(60)) == [span(10, 12), span(30, 35)]


def test_offline_still_going_lasts_until_the_end_or_the_connect():
    points = [(t(10), False)]
    assert rules.offline_intervals(points, True, t(10), None, t(60)) == [span(10, 60)]
    assert rules.offline_intervals(points, False, t(10), t(20), t(60)) == [span(10, 20)]
    assert rules.offline_intervals(points, False, t(10), None, t(60)) == []  # connected, when unknown


def test_offline_now_without_a_recorded_disconnect_counts_from_last_seen():
    points = [(t(0), True)]
    assert rules.offline_intervals(points, True, t(40), None, t(60)) == [span(40, 60)]
    assert rules.offline_intervals([], True, t(40), None, t(60)) == [span(40, 60)]
    assert rules.offline_intervals([], False, t(40), None, t(60)) == []  # never connected: not an outage


def test_a_disconnect_and_connect_at_one_instant_is_no_downtime():
    points = [(t(5), True), (t(5), False)]
    assert rules.offline_intervals(points, False, None, None, t(60)) == []


def test_the_figure_leaves_planned_downtime_out_of_the_period():
    """A 30-day month, 4 h maintenance, 7.1875 h fault of which 1 h within the maintenance."""
    start, end = T0, T0 + timedelta(days=30)
    planned = [(t(60), t(300))]
    unplanned = [(t(240), t(240 + 431.25))]
    f = rules.figure(start, end, planned, unplanned)
    assert f.planned_s == 4 * 3600 and f.unplanned_s == (431.25 - 60) * 60
    expected = 100 * (1 - f.unplanned_s / (30 * 86400 - 4 * 3600))
    assert f.availability == round(expected, 2)


def test_the_figure_of_a_period_all_planned_is_none():
    f = rules.figure(t(0), t(60), [span(-10, 70)], [span(0, 60)])
    assert (f.planned_s, f.unplanned_s, f.availability) == (3600, 0, None)


def test_figures_add_up_weighted_by_their_periods():
    total = Figure(100, 0, 10) + Figure(100, 50, 0)
    assert total.availability == round(100 * (1 - 10 / 150), 2)


def test_the_reason_names_the_error_code():
    assert rules.reason(Run(1, 1, "Faulted", "GroundFailure", t(0), None)) == "Faulted (GroundFailure)"
    assert rules.reason(Run(1, 1, "Unavailable", "NoError", t(0), None)) == "Unavailable"


def test_a_notice_speaks_the_drivers_language_or_the_nearest():
    messages = {"de-AT": "Servus", "cs": "Dobrý den", "en": "Hello"}
    assert rules.message_for(messages, "cs") == "Dobrý den"
    assert rules.message_for(messages, "de") == "Servus"
    assert rules.message_for({"de": "Hallo"}, "de-AT") == "Hallo"
    assert rules.message_for(messages, "fr") == "Hello"
    assert rules.message_for({"pl": "Cześć", "cs": "Ahoj"}, "fr") == "Ahoj"
    assert rules.message_for({}, "en") is None
