"""The direct payment's state machine and rules, as pure functions."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from wattson.payments import machine as m
from wattson.payments.driver import power_band
from wattson.payments.providers.base import InvalidSignature, sign, verify
from wattson.payments.providers.sandbox import card_problems


def test_the_happy_path_is_a_chain_of_allowed_transitions():
    state = m.CREATED
    for event in ("authorized", "start_requested", "session_started", "stop_requested", "session_finished",
                  "captured"):
        state = m.transition(state, event)
    assert state == m.CAPTURED
    assert m.transition(m.CAPTURED, "refunded") == m.CAPTURED
    assert m.transition(m.CAPTURED, "refunded_fully") == m.REFUNDED


@pytest.mark.parametrize("state", [m.AUTHORIZED, m.STARTING, m.FINISHED])
def test_every_hold_that_is_not_captured_goes_back_through_releasing(state):
    assert m.transition(state, "release") == m.RELEASING
    assert m.transition(m.RELEASING, "released") == m.RELEASED


@pytest.mark.parametrize("state,event", [
    (m.CREATED, "captured"),  # no capture without a hold
    (m.CHARGING, "captured"),  # nor before the session ended
    (m.CAPTURED, "captured"),  # never twice
    (m.RELEASED, "captured"),
    (m.DECLINED, "start_requested"),  # a declined card starts nothing
    (m.FAILED, "start_requested"),
    (m.CHARGING, "release"),  # a running session's hold is settled, not dropped
    (m.RELEASING, "session_started"),  # a hold on its way back never gets a session
    (m.CAPTURED, "release"),
])
def test_forbidden_transitions_raise(state, event):
    with pytest.raises(m.InvalidTransition):
        m.transition(state, event)


def test_settled_states_have_nothing_left_to_do_but_refunds():
    for state in m.SETTLED:
        assert set(m.allowed(state)) <= {"refunded", "refunded_fully"}
    for state in m.OPEN:
        assert m.allowed(state), state
    assert set(m.OPEN) | m.SETTLED == set(m.STATES)


LIMITS = m.Limits(hold=Decimal("10.00"), max_duration_s=1800, max_energy_wh=20_000)


@pytest.mark.parametrize("elapsed,energy,cost,margin,reason", [
    (60, 1000, Decimal("1.00"), 0, None),
    (1800, 1000, Decimal("1.00"), 0, m.TIME_LIMIT),
    (60, 20_000, Decimal("1.00"), 0, m.ENERGY_LIMIT),
    (60, 1000, Decimal("10.00"), 0, m.AMOUNT_REACHED),
    (60, 1000, Decimal("9.50"), 5, m.AMOUNT_REACHED),  # 5 % of the hold kept back
    (60, 1000, Decimal("9.49"), 5, None),
])
def test_stop_conditions(elapsed, energy, cost, margin, reason):
    assert m.stop_reason(LIMITS, m.Progress(elapsed, energy, cost), Decimal(margin)) == reason


def test_a_money_only_product_stops_on_the_amount_alone():
    limits = m.Limits(hold=Decimal("5"))
    assert m.stop_reason(limits, m.Progress(10**6, 10**9, Decimal("4.99"))) is None
    assert m.stop_reason(limits, m.Progress(1, 1, Decimal("5"))) == m.AMOUNT_REACHED


@pytest.mark.parametrize("total,captured,released", [
    (Decimal("3.21"), Decimal("3.21"), Decimal("6.79")),
    (Decimal("12.00"), Decimal("10.00"), Decimal("0.00")),  # never above the hold
    (Decimal("0"), Decimal("0"), Decimal("10.00")),
    (None, Decimal("0"), Decimal("10.00")),  # no price: nothing taken
    (Decimal("-1"), Decimal("0"), Decimal("10.00")),
])
def test_capture_is_the_price_capped_at_the_hold(total, captured, released):
    assert m.capture_amount(total, Decimal("10.00")) == (captured, released)


def test_percent_is_the_most_used_limit():
    assert m.percent(LIMITS, m.Progress(900, 1000, Decimal("1"))) == 50
    assert m.percent(LIMITS, m.Progress(60, 15_000, Decimal("1"))) == 75
    assert m.percent(LIMITS, m.Progress(60, 0, Decimal("20"))) == 100


def test_elapsed_time_in_hours_minutes_seconds():
    start = datetime(2026, 2, 8, 14, 0, tzinfo=timezone.utc)
    assert m.elapsed_hms(start, start + timedelta(hours=1, minutes=2, seconds=3)) == (1, 2, 3)
    assert m.elapsed_hms(None, start) is None


def test_webhook_signatures():
    body = b'{"id": "evt_1"}'
    header = sign(body, "secret", at=1_000_000)
    verify(body, header, "secret", now=1_000_100)
    for bad_body, bad_header, now in ((b"{}", header, 1_000_100), (body, header.replace("v1=", "v1=0"), 1_000_100),
                                      (body, header, 1_000_000 + 301), (body, None, 1_000_000)):
        with pytest.raises(InvalidSignature):
            verify(bad_body, bad_header, "secret", now=now)


def test_card_checks():
    today = datetime(2026, 6, 1, tzinfo=timezone.utc)
    good = {"card_number": "4242 4242 4242 4242", "exp_month": 6, "exp_year": 2026, "cvc": "123"}
    assert card_problems(good, today) == []
    assert card_problems({**good, "card_number": "4242424242424241"}, today)  # Luhn
    assert card_problems({**good, "exp_month": 5}, today)  # expired
    assert card_problems({**good, "cvc": "12"}, today)


@pytest.mark.parametrize("kind,watts,band", [
    ("AC", 1, "AC_SLOW"), ("AC", 7399, "AC_SLOW"), ("AC", 7400, "AC_MEDIUM"), ("AC", 7401, "AC_MEDIUM"),
    ("AC", 11000, "AC_MEDIUM"), ("AC", 22000, "AC_MEDIUM"), ("AC", 22001, "AC_FAST"), ("AC", 43000, "AC_FAST"),
    ("AC", 43001, "AC_FAST"),
    ("DC", 1, "DC_SLOW"), ("DC", 49999, "DC_SLOW"), ("DC", 50000, "DC_FAST"), ("DC", 50001, "DC_FAST"),
    ("DC", 149999, "DC_FAST"), ("DC", 150000, "DC_ULTRA_FAST"), ("DC", 150001, "DC_ULTRA_FAST"),
    ("DC", 350000, "DC_ULTRA_FAST"), ("DC", 350001, "DC_ULTRA_FAST"),
])
def test_afir_power_bands_at_and_just_above_every_edge(kind, watts, band):
    """AFIR Annex III: AC slow < 7.4 kW <= medium <= 22 kW < fast; DC slow < 50 kW <= fast < 150 kW <= ultra-fast."""
    assert power_band(kind, watts)[0] == band
