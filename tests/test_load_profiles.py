"""The profiles that enforce an allocation (wattson.loadmgmt.profiles): pure rules, and every
profile built for OCPP 1.6, 2.0.1 and 2.1 valid against the ``ocpp`` package's own JSON schemas,
checked here with ``jsonschema`` (as the ocpp library's stations check what they receive), not
with Wattson's validator."""

import decimal
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import ocpp
import pytest

from wattson.loadmgmt import profiles
from wattson.loadmgmt.allocation import Allocation, CircuitNode
from wattson.ocpp.v16.commands import TABLE as V16
from wattson.ocpp.v201.commands import TABLE as V201

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=timezone.utc)
SCHEMAS = Path(ocpp.__file__).parent


def valid(version: str, action: str, payload: dict, response: bool = False) -> None:
    """``payload`` is valid for ``action`` by the ocpp package's schema. Schema and payload are
    read with decimal numbers, as the ocpp library reads them: a binary 16.3 is no multiple of 0.1."""
    folder, name = ("v16", action + ("Response" if response else "")) if version == "1.6" else (
        "v201" if version == "2.0.1" else "v21", action + ("Response" if response else "Request"))
    schema = json.loads((SCHEMAS / folder / "schemas" / f"{name}.json").read_text(), parse_float=decimal.Decimal)
    jsonschema.validate(json.loads(json.dumps(payload), parse_float=decimal.Decimal), schema)


def built(version: str, params) -> tuple[str, dict]:
    table = V16 if version == "1.6" else V201
    return table["set-charging-profile"](params)


def test_the_rate_unit_is_amperes_unless_the_station_takes_only_watts():
    assert profiles.rate_unit("2.0.1", None) == "A"
    assert profiles.rate_unit("2.0.1", "A,W") == "A"
    assert profiles.rate_unit("2.0.1", "W") == "W"
    assert profiles.rate_unit("2.1", " W , ") == "W"
    assert profiles.rate_unit("1.6", "Current,Power") == "A"
    assert profiles.rate_unit("1.6", "Power") == "W"
    assert profiles.rate_unit("1.6", "W") == "A"  # not a 1.6 spelling: the station's default
    assert profiles.rate_unit_key("2.0.1") == "SmartChargingCtrlr||||RateUnit||Actual"
    assert profiles.rate_unit_key("1.6").endswith("ChargingScheduleAllowedChargingRateUnit||Actual")


def test_limits_are_rounded_down_never_up():
    assert profiles.down(10.66666) == 10.6
    assert profiles.down(16.3) == 16.3  # not 16.2 through a binary fraction
    assert profiles.down(7399.9, "W") == 7399.0
    assert profiles.in_unit(16, "W", 3) == 11040.0  # 16 A × 230 V × 3
    assert profiles.in_unit(10.0, "W", 1, voltage_v=240) == 2400.0
    assert profiles.in_unit(10.05, "A", 3) == 10.0


def test_the_fail_safe_share_is_the_lowest_share_on_the_path_up():
    grid = CircuitNode(1, None, 100.0, unmanaged_a=(30.0, 10.0, 0.0), safety_margin_a=2.0)
    row = CircuitNode(2, 1, 32.0)
    wall = CircuitNode(3, 1, 63.0)
    placed = {2: [("A", 1), ("A", 2), ("B", 1)], 3: [("C", n) for n in range(1, 6)]}
    shares = profiles.failsafe_shares([grid, row, wall], placed)
    # grid: (100 - 2 - 30) / 8 = 8.5; row: 32 / 3 = 10.66 → 8.5; wall: 63 / 5 = 12.6 → 8.5
    assert shares == {1: 8.5, 2: 8.5, 3: 8.5}
    placed[3] = [("C", n) for n in range(1, 12)]  # 14 EVSEs: 68 / 14 = 4.86 A, below 6 A: paused
    assert profiles.failsafe_shares([grid, row, wall], placed) == {1: 0.0, 2: 0.0, 3: 0.0}


def test_unmanaged_load_below_a_circuit_and_a_power_cap_count_for_it_too():
    grid = CircuitNode(1, None, 100.0, max_power_w=30_000.0)
    row = CircuitNode(2, 1, 40.0, unmanaged_a=(10.0, 10.0, 10.0))
    shares = profiles.failsafe_shares([grid, row], {2: [("A", 1), ("A", 2)]})
    # grid: power 30 kW / 230 V = 130.4 A over the phases, less 30 A unmanaged: 100.4 / 3 = 33.5 per
    # phase, / 2 = 16.7; row: (40 - 10) / 2 = 15
    assert shares == {1: 16.7, 2: 15.0}
    single = CircuitNode(3, None, 16.0, phases=1)
    assert profiles.failsafe_shares([single], {3: [("S", 1), ("S", 2)]}) == {3: 8.0}
    assert profiles.failsafe_shares([single], {}) == {3: 0.0}  # nothing placed: nothing to share


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
@pytest.mark.parametrize("unit", ["A", "W"])
def test_a_tx_profile_holds_the_allocation_then_falls_to_the_fail_safe_share(version, unit):
    allocation = Allocation(("CP", 2), 10.66667, 3)
    params = profiles.tx_profile(2, "77", allocation.limit_a, allocation.phases, 8.5, NOW, 600, unit)
    action, payload = built(version, params)
    valid(version, action, payload)
    if version == "1.6":
        profile = payload["csChargingProfiles"]
        assert payload["connectorId"] == 2 and profile["transactionId"] == 77
        schedule = profile["chargingSchedule"]
        assert profile["chargingProfileId"] == profiles.TX_PROFILE_ID + 2
    else:
        profile = payload["chargingProfile"]
        assert payload["evseId"] == 2 and profile["transactionId"] == "77"
        [schedule] = profile["chargingSchedule"]
        assert profile["id"] == profiles.TX_PROFILE_ID + 2 and schedule["id"] == profile["id"]
    assert profile["chargingProfilePurpose"] == "TxProfile" and profile["chargingProfileKind"] == "Absolute"
    assert profile["stackLevel"] == profiles.STACK_LEVEL
    assert schedule["startSchedule"] == "2026-12-04T18:00:00.000Z"
    assert schedule["chargingRateUnit"] == unit
    first, tail = schedule["chargingSchedulePeriod"]
    if unit == "A":
        assert (first["limit"], tail["limit"]) == (10.6, 8.5)
    else:
        assert (first["limit"], tail["limit"]) == (7360.0, 5865.0)  # 10.667 A / 8.5 A × 230 V × 3, down
    assert (first["startPeriod"], tail["startPeriod"]) == (0, 600)
    assert first["numberPhases"] == tail["numberPhases"] == 3


def test_a_tx_profile_without_hold_has_one_period_and_a_pause_is_a_zero_limit():
    params = profiles.tx_profile(1, "5", 0.0, 1, 6.0, NOW, 0)
    action, payload = built("1.6", params)
    valid("1.6", action, payload)
    assert payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 0.0, "numberPhases": 1}]


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_the_fail_safe_is_a_station_wide_default_profile_that_waits_one_hold(version):
    params = profiles.failsafe_profile(8.5)
    action, payload = built(version, params)
    valid(version, action, payload)
    profile = payload["csChargingProfiles"] if version == "1.6" else payload["chargingProfile"]
    schedule = profile["chargingSchedule"] if version == "1.6" else profile["chargingSchedule"][0]
    assert payload.get("connectorId", payload.get("evseId")) == 0
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    assert profile["chargingProfileKind"] == "Relative" and "startSchedule" not in schedule
    assert "transactionId" not in profile
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 8.5}]
    waiting = profiles.failsafe_profile(8.5, wait_s=600)
    action, payload = built(version, waiting)
    valid(version, action, payload)
    assert [(p.start_period, p.limit) for p in waiting.profile.schedule.periods] == [(0, 0.0), (600, 8.5)]
    watts = profiles.failsafe_profile(8.5, "W", 1)
    action, payload = built(version, watts)
    valid(version, action, payload)
    assert watts.profile.schedule.periods[0].limit == 1955.0  # one phase: the safe side for any EV


def test_every_limit_from_0_to_80_amperes_in_tenths_is_valid_for_16():
    for tenths in range(0, 801):
        action, payload = built("1.6", profiles.tx_profile(1, "1", tenths / 10, 3, 6.0, NOW, 600))
        valid("1.6", action, payload)


def test_the_composite_schedule_is_read_from_either_versions_answer():
    v16 = {"status": "Accepted", "connectorId": 1, "scheduleStart": "2026-12-04T18:00:00Z",
           "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
               {"startPeriod": 0, "limit": 10.6}, {"startPeriod": 600, "limit": 8.5}]}}
    valid("1.6", "GetCompositeSchedule", v16, response=True)
    assert profiles.composite_limit(v16) == (10.6, "A")
    v201 = {"status": "Accepted", "schedule": {"evseId": 1, "duration": 60, "scheduleStart": "2026-12-04T18:00:00Z",
                                               "chargingRateUnit": "W", "chargingSchedulePeriod": [
                                                   {"startPeriod": 0, "limit": 7314}]}}
    valid("2.0.1", "GetCompositeSchedule", v201, response=True)
    assert profiles.composite_limit(v201) == (7314.0, "W")
    assert profiles.composite_limit({"status": "Rejected"}) is None
    assert profiles.composite_limit(None) is None
    assert profiles.verified(10.6, "A", (10.6, "A")) is True
    assert profiles.verified(10.6, "A", (16.0, "A")) is False
    assert profiles.verified(7314.0, "W", (7314.4, "W")) is True
    assert profiles.verified(10.6, "A", (7314.0, "W")) is None  # another unit: not comparable
    assert profiles.verified(10.6, "A", None) is None


def test_profile_times_are_utc():
    later = NOW.astimezone(timezone(timedelta(hours=1)))
    action, payload = built("2.0.1", profiles.tx_profile(1, "T", 16, 3, 8, later, 600))
    assert payload["chargingProfile"]["chargingSchedule"][0]["startSchedule"] == "2026-12-04T18:00:00.000Z"
