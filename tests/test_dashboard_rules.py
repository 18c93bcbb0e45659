"""The dashboard's rules without I/O: charts, what the live stream reports, where a login may
send the browser, the login throttle, operator passwords."""

from datetime import datetime, timedelta, timezone

import pytest

from wattson.dashboard import charts, live
from wattson.dashboard.auth import LoginThrottle
from wattson.dashboard.routes import _next
from wattson.operators import passwords


def test_bars_scale_to_a_round_maximum_and_escape_labels():
    svg = charts.bars("Energy <per> day", [("01.12", 7.0), ("02.12", 0.0), ("<b>", 3.5)], "kWh")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "&lt;per&gt;" in svg and "<b>" not in svg
    assert svg.count("<rect") == 3
    assert ">10<" in svg  # 7 rounds up to an axis of 10
    heights = [float(part.split("'")[0]) for part in svg.split("height='")[1:]]
    assert heights[1] == 0 and heights[0] == pytest.approx(2 * heights[2])


def test_lines_place_points_on_a_shared_time_axis():
    t0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    svg = charts.lines("Power", [("kW", [(t0, 0.0), (t0 + timedelta(minutes=30), 11.0)]),
                                 ("kWh", [(t0 + timedelta(minutes=15), 2.0)])], "kW · kWh")
    assert svg.count("<polyline") == 2
    assert "10:00" in svg and "10:30" in svg
    assert "no readings yet" in charts.lines("Power", [("kW", [])], "kW")


def test_the_axis_maximum_is_round_and_never_below_the_data():
    for top, expected in ((0, 1), (0.3, 0.5), (1, 1), (7, 10), (12, 20), (101, 200), (2600, 5000)):
        assert charts._nice(top) == expected


def test_the_stream_names_the_kinds_whose_stamps_moved():
    before = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
    assert live.changed(None, before) == ["stations", "sessions", "commands", "connections", "circuits"]
    assert live.changed(before, before) == []
    assert live.changed(before, (1, 2, 3, 4, 50, 6, 7, 8, 9, 10, 11)) == ["sessions"]
    assert live.changed(before, (1, 20, 3, 4, 5, 6, 70, 8, 90, 10, 11)) == ["stations", "commands", "connections"]
    assert live.changed(before, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12)) == ["circuits"]  # a profile was sent


@pytest.mark.parametrize("target, expected", [
    (None, "/"), ("", "/"), ("/stations?status=online", "/stations?status=online"),
    ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("stations", "/"), ("/\\evil.example", "/"), ("/ok\\x", "/")])
def test_after_login_only_a_local_path_is_followed(target, expected):
    assert _next(target) == expected


def test_wrong_passwords_slow_an_account_down_and_the_right_one_clears_it():
    throttle = LoginThrottle(free=3)
    for _ in range(3):
        assert throttle.wait("a@example.com", "10.0.0.1") == 0
        throttle.failed("a@example.com", "10.0.0.1")
    assert throttle.wait("a@example.com", "10.0.0.9") > 0  # the account, from any address
    assert throttle.wait("b@example.com", "10.0.0.9") == 0  # another account elsewhere is not held back
    throttle.succeeded("a@example.com", "10.0.0.1")
    assert throttle.wait("a@example.com", "10.0.0.9") == 0


def test_one_address_guessing_many_accounts_is_slowed_too():
    throttle = LoginThrottle(free=2)
    for i in range(8):
        assert throttle.wait(f"user{i}@example.com", "10.0.0.1") == 0
        throttle.failed(f"user{i}@example.com", "10.0.0.1")
    assert throttle.wait("someone@example.com", "10.0.0.1") > 0


def test_operator_passwords():
    assert passwords.problem("short") and passwords.problem(" padded password ")
    assert passwords.problem("x" * 257)
    assert passwords.problem("correct horse battery") is None
    generated = {passwords.generate() for _ in range(20)}
    assert len(generated) == 20 and all(passwords.problem(p) is None for p in generated)
