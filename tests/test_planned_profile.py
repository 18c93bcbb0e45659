"""The TxProfile that carries an ISO 15118 EV's plan and its circuit's allocation at once
(``profiles.planned_tx_profile``): the plan's shape from the moment it goes, each period capped at
the allocation, the fail-safe tail after the hold; valid for 2.0.1 and 2.1 by the ``ocpp``
package's schemas. Pure: no server."""

from datetime import timedelta

from test_load_profiles import NOW, built, valid

from wattson.loadmgmt import profiles
from wattson.loadmgmt.charging_needs import planned_of
from wattson.loadmgmt.ev_needs import Period, Plan
from wattson.loadmgmt.needs_service import as_sent, stored_json

#: wait for the night rate at 22:00, charge until 23:59:34, then open again from the departure at 02:00
NIGHT = Plan(NOW, "A", 3, (Period(0, 0.0), Period(14400, 16.0), Period(21574, 0.0), Period(28800, 16.0)),
             79488.0, True)


def limits(params) -> list[tuple[int, float]]:
    return [(p.start_period, p.limit) for p in params.profile.schedule.periods]


def test_the_plan_is_capped_period_by_period_at_the_allocation():
    params = profiles.planned_tx_profile(1, "TX1", NIGHT, NOW, 0, limit_a=10.0)
    assert limits(params) == [(0, 0.0), (14400, 10.0), (21574, 0.0), (28800, 10.0)]  # the shape, not a flat 10 A
    profile = params.profile
    assert (profile.id, profile.purpose, profile.kind, profile.transaction_id) == (18001, "TxProfile", "Absolute",
                                                                                 "TX1")
    assert profile.schedule.start_schedule == NOW
    assert all(p.number_phases == 3 for p in profile.schedule.periods)
    assert limits(profiles.planned_tx_profile(1, "TX1", NIGHT, NOW, 0, limit_a=32.0)) == \
        [(0, 0.0), (14400, 16.0), (21574, 0.0), (28800, 16.0)]  # never raised above the plan
    assert limits(profiles.planned_tx_profile(1, "TX1", NIGHT, NOW, 0)) == limits(
        profiles.planned_tx_profile(1, "TX1", NIGHT, NOW, 0, limit_a=16.0))  # no cap: the plan as it is


def test_the_fail_safe_share_follows_the_hold_and_a_pause_stays_a_pause():
    params = profiles.planned_tx_profile(1, "TX1", NIGHT, NOW, 600, limit_a=10.0, failsafe_a=8.0)
    assert limits(params) == [(0, 0.0), (14400, 8.0), (21574, 0.0), (28800, 8.0)]  # all after the hold
    charging_now = Plan(NOW, "A", 3, (Period(0, 16.0), Period(3600, 0.0), Period(28800, 16.0)), None, True)
    assert limits(profiles.planned_tx_profile(1, "TX1", charging_now, NOW, 600, 12.0, 8.0)) == \
        [(0, 12.0), (600, 8.0), (3600, 0.0), (28800, 8.0)]
    assert limits(profiles.planned_tx_profile(1, "TX1", charging_now, NOW, 600, 0.0, 8.0)) == [(0, 0.0)]  # paused
    assert limits(profiles.planned_tx_profile(1, "TX1", charging_now, NOW, 0, 12.0, 8.0)) == \
        [(0, 12.0), (3600, 0.0), (28800, 12.0)]  # a hold of 0: no tail


def test_a_plan_that_started_earlier_goes_from_the_moment_it_is_sent():
    later = NOW + timedelta(seconds=15000)  # inside the night stretch
    params = profiles.planned_tx_profile(2, "TX2", NIGHT, later, 600, limit_a=11.3, failsafe_a=7.0)
    assert params.profile.schedule.start_schedule == later
    assert limits(params) == [(0, 11.3), (600, 7.0), (6574, 0.0), (13800, 7.0)]  # the same instants as planned
    assert profiles.planned_tx_profile(2, "TX2", NIGHT, later + timedelta(microseconds=999_999), 0).profile \
        .schedule.start_schedule == later  # in whole seconds, as the EV's schedule will say its time base
    gone = NOW + timedelta(hours=10)  # after the departure: the open period alone
    assert limits(profiles.planned_tx_profile(2, "TX2", NIGHT, gone, 0, limit_a=9.0)) == [(0, 9.0)]


def test_units_the_station_takes():
    in_w = profiles.planned_tx_profile(1, "TX1", NIGHT, NOW, 600, 10.0, 8.0, phases=3, unit="W")
    assert in_w.profile.schedule.charging_rate_unit == "W"
    assert limits(in_w) == [(0, 0.0), (14400, 5520.0), (21574, 0.0), (28800, 5520.0)]  # 8 A × 230 V × 3
    dc = Plan(NOW, "W", None, (Period(0, 0.0), Period(3600, 50000.0)), None, True)
    dc_profile = profiles.planned_tx_profile(1, "TX1", dc, NOW, 0, limit_a=32.0)
    assert limits(dc_profile) == [(0, 0.0), (3600, 22080.0)]  # 32 A × 230 V × 3
    assert all(p.number_phases is None for p in dc_profile.profile.schedule.periods)
    single = Plan(NOW, "A", 1, (Period(0, 32.0),), None, True)
    assert limits(profiles.planned_tx_profile(1, "TX1", single, NOW, 0, 20.0, phases=1, unit="W")) == [(0, 4600.0)]


def test_planned_profiles_are_valid_for_the_stations():
    cases = [profiles.planned_tx_profile(1, "TX1", NIGHT, NOW, 600, 10.37, 8.0),
             profiles.planned_tx_profile(1, "TX1", NIGHT, NOW + timedelta(seconds=15000), 600, 16.3, 0.0, unit="W"),
             profiles.planned_tx_profile(3, "TX3", Plan(NOW, "W", None, (Period(0, 49999.5),), None, True), NOW, 0)]
    for params in cases:
        for version in ("2.0.1", "2.1"):
            action, payload = built(version, params)
            assert action == "SetChargingProfile"
            valid(version, action, payload)
    action, payload = built("2.0.1", cases[0])
    periods = payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
    assert [(p["startPeriod"], p["limit"]) for p in periods] == [(0, 0.0), (14400, 8.0), (21574, 0.0), (28800, 8.0)]


def test_a_needs_row_keeps_what_went_and_what_was_planned():
    params = profiles.planned_tx_profile(1, "TX1", NIGHT, NOW, 600, failsafe_a=8.0)
    offer = as_sent(NIGHT, params)
    assert offer.periods == (Period(0, 0.0), Period(14400, 8.0), Period(21574, 0.0), Period(28800, 8.0))
    stored = stored_json(offer, NIGHT)
    assert stored["periods"] == [{"start_s": p.start_s, "limit": p.limit} for p in offer.periods]  # the API's plan
    assert planned_of(stored) == NIGHT  # what the load controller caps at each allocation
    assert planned_of(offer.to_json()) == offer  # a row from before: as sent
