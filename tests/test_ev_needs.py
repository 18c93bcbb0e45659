"""The schedule Wattson offers an EV from its ISO 15118 charging needs (loadmgmt/ev_needs.py), and
the check of the EV's own schedule against it: pure functions, no server."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from wattson.loadmgmt.ev_needs import (EvNeeds, Period, Plan, PriceStep, energy_prices, limit_of, plan,
                                       schedule_within)
from wattson.ocpp.v201.charging_needs import ev_schedule_of, needs_answer, needs_of
from wattson.ocpp.validation import SchemaSet

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def needs(hours: float | None = 8, energy_wh: float | None = 20_000, **more) -> EvNeeds:
    limits = {"min_current_a": 6, "max_current_a": 32, "max_voltage_v": 400, **more}
    return EvNeeds("AC_three_phase", NOW + hours * HOUR if hours is not None else None, energy_wh, **limits)


def limit_at(offer: Plan, seconds: float) -> float:
    return max((p for p in offer.periods if p.start_s <= seconds), key=lambda p: p.start_s).limit


def delivered_wh(offer: Plan, until_s: int) -> float:
    """Energy the plan allows before ``until_s`` on three phases at 230 V."""
    bounds = [p.start_s for p in offer.periods] + [until_s]
    return sum(p.limit * 3 * 230 * (max(0, min(end, until_s) - p.start_s)) / 3600
               for p, end in zip(offer.periods, bounds[1:]))


def test_without_a_departure_or_an_energy_the_ev_charges_at_the_limit():
    for asked in (needs(hours=None), needs(energy_wh=None)):
        offer = plan(asked, NOW, 16)
        assert (offer.unit, offer.phases, offer.periods) == ("A", 3, (Period(0, 16.0),))
        assert offer.feasible


def test_one_price_charges_at_once_and_keeps_the_limit():
    offer = plan(needs(), NOW, 16, [PriceStep(NOW, Decimal("0.30"))])
    assert offer.periods == (Period(0, 16.0),)
    assert offer.feasible and offer.deliverable_wh == pytest.approx(16 * 3 * 230 * 8)


def test_the_cheapest_stretch_comes_first_and_the_energy_arrives_by_the_departure():
    prices = [PriceStep(NOW, Decimal("0.40")), PriceStep(NOW + 4 * HOUR, Decimal("0.20")),
              PriceStep(NOW + 6 * HOUR, Decimal("0.50"))]
    offer = plan(needs(), NOW, 16, prices)
    assert offer.feasible
    assert limit_at(offer, 0) == 0.0  # dear: wait
    assert limit_at(offer, 4 * 3600) == 16.0  # cheap: charge
    assert delivered_wh(offer, 8 * 3600) >= 20_000
    assert delivered_wh(offer, 4 * 3600) == 0  # nothing in the dear hours before the cheap ones
    assert limit_at(offer, 8 * 3600) == 16.0  # after the departure the limit stays open
    assert [p.start_s for p in offer.periods] == sorted({p.start_s for p in offer.periods})


def test_energy_beyond_the_cheap_stretch_takes_the_next_cheapest():
    prices = [PriceStep(NOW, Decimal("0.30")), PriceStep(NOW + 1 * HOUR, Decimal("0.10")),
              PriceStep(NOW + 2 * HOUR, Decimal("0.50"))]
    offer = plan(needs(hours=4, energy_wh=15_000), NOW, 16, prices)  # 11 kW: more than an hour
    assert limit_at(offer, 3600) == 16.0 and limit_at(offer, 0) == 16.0  # the cheap hour, then 0.30
    assert limit_at(offer, 2 * 3600 + 60) == 0.0  # never the dearest
    assert delivered_wh(offer, 4 * 3600) >= 15_000


def test_energy_that_cannot_fit_is_charged_at_the_limit_throughout():
    offer = plan(needs(hours=1, energy_wh=50_000), NOW, 16, [PriceStep(NOW, Decimal(1)),
                                                              PriceStep(NOW + HOUR / 2, Decimal(0))])
    assert offer.periods == (Period(0, 16.0),) and not offer.feasible


def test_a_limit_below_the_ev_minimum_is_a_pause():
    offer = plan(needs(), NOW, 5)
    assert offer.periods == (Period(0, 0.0),)
    offer = plan(needs(min_current_a=10), NOW, 8)  # above IEC's 6 A, below the EV's own minimum
    assert offer.periods == (Period(0, 0.0),)


def test_a_departure_in_the_past_leaves_the_limit_open():
    assert plan(needs(hours=-1), NOW, 16).periods == (Period(0, 16.0),)


def test_no_more_periods_than_the_ev_takes():
    prices = [PriceStep(NOW + i * HOUR / 4, Decimal(i % 2)) for i in range(32)]  # cheap, dear, cheap, ...
    offer = plan(needs(energy_wh=30_000, max_periods=3), NOW, 16, prices)
    assert len(offer.periods) <= 3
    assert delivered_wh(offer, 8 * 3600) >= 30_000


def test_limit_of_takes_the_lower_of_evse_and_ev():
    assert limit_of(needs(), 16) == 16
    assert limit_of(EvNeeds("AC_single_phase", max_current_a=10), 32) == 10
    dc = EvNeeds("DC", max_current_a=200, max_voltage_v=400, max_power_w=50_000)
    assert limit_of(dc, 32, 150_000) == 50_000
    offer = plan(EvNeeds("DC", energy_wh=10_000, departure=NOW + HOUR), NOW, 50_000)
    assert (offer.unit, offer.phases, offer.periods) == ("W", None, (Period(0, 50_000.0),))


def test_the_evs_schedule_within_the_offer_is_accepted_and_above_it_rejected():
    offer = Plan(NOW, "A", 3, (Period(0, 0.0), Period(3600, 16.0)), None, True)
    assert schedule_within(NOW, "A", [Period(0, 0.0), Period(3600, 16.0)], offer)
    assert schedule_within(NOW + 1800 * timedelta(seconds=1), "A", [Period(0, 0.0), Period(1800, 12.0)], offer)
    assert not schedule_within(NOW, "A", [Period(0, 6.0)], offer)  # charges while it should wait
    assert not schedule_within(NOW, "A", [Period(0, 0.0), Period(3600, 20.0)], offer)
    assert schedule_within(NOW, "W", [Period(0, 0.0), Period(3600, 11_040.0)], offer)  # 16 A x 3 x 230 V
    assert not schedule_within(NOW, "W", [Period(0, 0.0), Period(3600, 13_000.0)], offer)
    assert schedule_within(NOW, "A", [Period(0, None)], offer)  # 2.1 setpoints only: nothing to compare
    assert schedule_within(NOW, "A", [Period(0, 20.0)], offer, ev_duration=0) is True


def test_energy_prices_follow_the_tariffs_time_of_day():
    tariff = {"id": "T", "currency": "EUR", "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.10, "step_size": 1}],
         "restrictions": {"start_time": "22:00", "end_time": "06:00"}},
        {"price_components": [{"type": "ENERGY", "price": 0.40, "step_size": 1}]}]}
    steps = energy_prices(tariff, "UTC", NOW - HOUR, NOW, NOW + 14 * HOUR, 11.0)
    assert [(s.at.hour, s.price) for s in steps] == [(18, Decimal("0.40")), (22, Decimal("0.10")),
                                                    (6, Decimal("0.40"))]
    offer = plan(needs(hours=12, energy_wh=20_000), NOW, 16, steps)
    assert limit_at(offer, 0) == 0.0 and limit_at(offer, 4 * 3600) == 16.0  # waits for 22:00


def test_time_priced_tariffs_count_the_charging_time_per_kwh():
    tariff = {"id": "T", "currency": "EUR", "elements": [
        {"price_components": [{"type": "TIME", "price": 2.00, "step_size": 1}]}]}
    (step,) = energy_prices(tariff, "UTC", NOW, NOW, NOW + HOUR, 10.0)
    assert step.price == pytest.approx(Decimal("0.2"), abs=Decimal("0.01"))  # 2 EUR an hour at 10 kW


@pytest.mark.parametrize("schemas", [SchemaSet("v201"), SchemaSet("v21")])
def test_the_messages_read_and_the_answers_validate(schemas):
    request = {"evseId": 1, "maxScheduleTuples": 12, "chargingNeeds": {
        "requestedEnergyTransfer": "AC_three_phase", "departureTime": "2026-12-05T02:00:00Z",
        "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6, "evMaxCurrent": 16, "evMaxVoltage": 400}}}
    schemas.validate_request("NotifyEVChargingNeeds", request)
    read = needs_of(request)
    assert read == EvNeeds("AC_three_phase", NOW + 8 * HOUR, 20000.0, 6.0, 16.0, 400.0, None, 12)
    dc = needs_of({"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "DC", "dcChargingParameters": {
        "evMaxCurrent": 125, "evMaxVoltage": 400, "evMaxPower": 50000, "energyAmount": 30000}}})
    assert (dc.phases, dc.max_power_w, dc.energy_wh, dc.departure) == (None, 50000.0, 30000.0, None)
    for answer in (needs_answer("Accepted", None, None), needs_answer("Rejected", "NoPlan", "x" * 600)):
        schemas.validate_response("NotifyEVChargingNeeds", answer)
    schedule = {"timeBase": "2026-12-04T18:00:00Z", "evseId": 1, "chargingSchedule": {
        "id": 1, "chargingRateUnit": "A", "duration": 3600,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0}, {"startPeriod": 600, "limit": 16}]}}
    schemas.validate_request("NotifyEVChargingSchedule", schedule)
    assert ev_schedule_of(schedule) == (NOW, "A", [Period(0, 0.0), Period(600, 16.0)], 3600)
