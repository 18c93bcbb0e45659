"""Costs told to stations (wattson.station_cost.rules, pricing.rate_changes): pure rules."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from wattson.ocpp.v201.commands import TABLE as V201
from wattson.station_cost import rules
from wattson.tariffs.pricing import rate_changes

T0 = datetime(2026, 11, 20, 20, 30, tzinfo=timezone.utc)  # 21:30 in Prague
NIGHT = {"id": "T1", "currency": "EUR", "elements": [
    {"price_components": [{"type": "ENERGY", "price": 0.20, "vat": 21}],
     "restrictions": {"start_time": "22:00", "end_time": "06:00"}},
    {"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 21}, {"type": "FLAT", "price": 1, "vat": 21}]},
    {"price_components": [{"type": "ENERGY", "price": 0.10}], "restrictions": {"min_kwh": 20}},
], "tariff_alt_text": [{"language": "cs", "text": "0,40 EUR/kWh"}, {"language": "en", "text": "0.40 EUR/kWh"}]}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_2x_station_listens_unless_its_tariff_cost_controller_says_no():
    cost = lambda variable: (rules.TARIFF_COST_CTRLR, variable, "Cost")  # noqa: E731
    assert rules.listens("2.0.1", {})  # unknown: tried (a refusal is remembered)
    assert rules.listens("2.1", {cost("Enabled"): "true", cost("Available"): "TRUE"})
    assert not rules.listens("2.0.1", {cost("Enabled"): "false"})
    assert not rules.listens("2.0.1", {cost("Available"): "False"})
    assert rules.listens("2.0.1", {(rules.TARIFF_COST_CTRLR, "Enabled", "Tariff"): "false"})  # tariffs only
    assert not rules.listens(None, {})


def test_a_16_station_listens_only_once_it_says_it_does_california_pricing():
    key = (rules.V16_CONFIGURATION, rules.CALIFORNIA_KEY, None)
    assert not rules.listens("1.6", {})
    assert not rules.listens("1.6", {key: "false"})
    assert rules.listens("1.6", {key: " true "})


def test_the_watched_keys_are_the_device_models_own_keys():
    assert set(rules.WATCHED.values()) == {(rules.TARIFF_COST_CTRLR, "Enabled", "Cost"),
                                           (rules.TARIFF_COST_CTRLR, "Available", "Cost"),
                                           (rules.V16_CONFIGURATION, rules.CALIFORNIA_KEY, None)}
    assert "TariffCostCtrlr||||Enabled|Cost|Actual" in rules.WATCHED


def test_an_update_is_due_an_interval_later_or_when_the_rate_may_change():
    assert not rules.due(at(0.5), at(0), 60, [], 0, 100, [])
    assert rules.due(at(1), at(0), 60, [], 0, 100, [])
    assert rules.due(at(0.5), at(0), 60, [at(0.25)], 0, 100, [])  # a time-of-day boundary passed
    assert not rules.due(at(0.5), at(0), 60, [at(0)], 0, 100, [])  # passed before the last update
    assert rules.due(at(0.5), at(0), 60, [], 19_000, 20_000, [Decimal(20_000)])  # crossed 20 kWh
    assert not rules.due(at(0.5), at(0), 60, [], 20_000, 21_000, [Decimal(20_000)])
    assert not rules.due(at(10), at(0), 0, [at(5)], 0, 100, [])  # 0 turns running updates off


def test_the_rounds_come_at_least_every_max_round():
    assert rules.round_s(5) == 5
    assert rules.round_s(600) == rules.MAX_ROUND_S
    assert rules.round_s(0) == rules.MAX_ROUND_S


def test_rate_changes_name_the_boundaries_after_the_last_update():
    changes, bounds = rate_changes(NIGHT, T0, T0, at(120), "Europe/Prague")
    assert datetime(2026, 11, 20, 21, 0, tzinfo=timezone.utc) in changes  # 22:00 local
    assert all(T0 < x <= at(120) for x in changes)
    assert bounds == [Decimal(20_000)]
    later, _ = rate_changes(NIGHT, T0, at(31), at(120), "Europe/Prague")
    assert datetime(2026, 11, 20, 21, 0, tzinfo=timezone.utc) not in later
    assert rate_changes({"currency": "EUR", "elements": [{"price_components": [
        {"type": "ENERGY", "price": 0.3}]}]}, T0, T0, at(600), "UTC") == ([], [])


@pytest.mark.parametrize("currency, total, number", [("EUR", Decimal("5.57"), 5.57), ("EUR", Decimal("5.575"), 5.58),
                                                     ("JPY", Decimal("412"), 412.0), ("KWD", Decimal("1.2345"), 1.235)])
def test_amounts_are_numbers_at_the_currencys_minor_units(currency, total, number):
    assert rules.amount(total, currency) == number


def test_cost_updated_is_the_neutral_command_and_its_201_call():
    params = rules.cost_updated("tx-1", Decimal("3.149"), "EUR")
    assert params.total_cost == Decimal("3.15")
    assert V201["cost-updated"](params) == ("CostUpdated", {"totalCost": 3.15, "transactionId": "tx-1"})


def test_the_ended_answers_message_says_the_total():
    assert rules.final_message(Decimal("5.57"), "EUR", 8000) == {"format": "UTF8",
                                                                  "content": "Total 5.57 EUR for 8.000 kWh"}


def test_california_messages_follow_the_white_paper():
    running = rules.running_cost("17", at(10), 1500, Decimal("1.6"), "EUR", True, NIGHT)
    assert (running.vendor_id, running.message_id) == ("org.openchargealliance.costmsg", "RunningCost")
    assert json.loads(running.data) == {
        "transactionId": 17, "timestamp": "2026-11-20T20:40:00.000Z", "meterValue": 1500, "cost": 1.6,
        "state": "Charging", "chargingPrice": {"kWhPrice": 0.484, "flatFee": 1.21}}
    assert json.loads(rules.running_cost("17", at(10), 1500, Decimal(0), "EUR", False, NIGHT).data)["state"] == "Idle"
    final = rules.final_cost("17", Decimal("5.57"), "EUR", 8000)
    assert final.message_id == "FinalCost"
    assert json.loads(final.data) == {"transactionId": 17, "cost": 5.57, "priceText": "Total 5.57 EUR for 8.000 kWh"}
    price = rules.user_price("TAG-1", NIGHT, "EUR")
    assert price.message_id == "SetUserPrice"
    assert json.loads(price.data) == {"idToken": "TAG-1", "priceText": "0.40 EUR/kWh"}  # English first
    assert rules.user_price("TAG-1", {"currency": "EUR", "elements": []}, "EUR") is None


def test_16_configuration_keys_become_device_model_values():
    from wattson.ocpp.v16.protocol import configuration_values

    values = configuration_values([{"key": rules.CALIFORNIA_KEY, "readonly": True, "value": "true"},
                                   {"key": "K" * 60, "readonly": False}])
    assert [(v.address.key, v.value, v.mutability) for v in values] == [
        ("OCPP16Configuration||||CustomDisplayCostAndPrice||Actual", "true", "ReadOnly"),
        (f"OCPP16Configuration||||{'K' * 50}||Actual", None, "ReadWrite")]
    assert values[0].address.key in rules.WATCHED


def test_duration_boundaries_count_from_the_sessions_start_whatever_the_window():
    tariff = {"currency": "EUR", "elements": [
        {"price_components": [{"type": "TIME", "price": 2}], "restrictions": {"min_duration": 1800}},
        {"price_components": [{"type": "TIME", "price": 1}]}]}
    assert rate_changes(tariff, T0, at(20), at(40), "UTC")[0] == [at(30)]
    assert rate_changes(tariff, T0, at(30), at(40), "UTC")[0] == []  # passed at the last update
    assert rate_changes(tariff, T0, at(10), at(20), "UTC")[0] == []
