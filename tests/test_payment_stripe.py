"""The Stripe provider through the official `stripe` package, against a loopback stand-in for the
endpoints it calls (no traffic leaves the machine): holds, declines, 3-D Secure, capture of part
of a hold, idempotency, release, refunds, webhook signatures; then a whole paid session."""

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest

from ocpp_client import station
from payment_kit import priced_evse, serve, wait_for_state
from stripe_standin import StripeStandIn
from test_payments import answer_stop, meter, online, start_charging
from wattson.payments.providers import DECLINED, FAILED, SUCCEEDED, InvalidSignature
from wattson.payments.providers.base import sign
from wattson.payments.providers.stripe import StripeProvider


@pytest.fixture(scope="module")
def standin():
    server = StripeStandIn()
    yield server
    server.close()


def provider(standin) -> StripeProvider:
    return StripeProvider(SimpleNamespace(stripe_secret_key="sk_test_wattson", stripe_api_base=standin.url,
                                          stripe_publishable_key="pk_test_wattson", stripe_webhook_secret="whsec_t"))


async def test_hold_capture_release_refund(standin):
    stripe = provider(standin)
    held = await stripe.authorize(Decimal("20.00"), "EUR", {"payment_method": "pm_card_visa"}, "k1", "test")
    assert held.status == SUCCEEDED and held.card == "visa •••• 4242"
    assert standin.intents[held.reference]["amount"] == 2000
    assert standin.intents[held.reference]["capture_method"] == "manual"
    again = await stripe.authorize(Decimal("20.00"), "EUR", {"payment_method": "pm_card_visa"}, "k1", "test")
    assert again.reference == held.reference  # the same key: the same hold, not a second one
    assert await stripe.find("k1") == held.reference

    assert (await stripe.capture(held.reference, Decimal("25.00"), "EUR", "k1:capture-too-much")).status == FAILED
    captured = await stripe.capture(held.reference, Decimal("7.35"), "EUR", "k1:capture")
    assert captured.ok and standin.intents[held.reference]["amount_received"] == 735
    repeat = await stripe.capture(held.reference, Decimal("7.35"), "EUR", "k1:capture")
    assert repeat.ok and standin.intents[held.reference]["amount_received"] == 735  # once
    assert (await stripe.refund(held.reference, Decimal("1.00"), "EUR", "k1:refund:0")).ok
    assert (await stripe.refund(held.reference, Decimal("7.00"), "EUR", "k1:refund:1")).status == FAILED

    other = await stripe.authorize(Decimal("5"), "EUR", {"payment_method": "pm_card_visa"}, "k2", "test")
    assert (await stripe.release(other.reference, "k2:release")).ok
    assert (await stripe.release(other.reference, "k2:release-again")).ok  # already cancelled: fine
    assert standin.intents[other.reference]["status"] == "canceled"


async def test_declines_and_authentication(standin):
    stripe = provider(standin)
    declined = await stripe.authorize(Decimal("5"), "EUR", {"payment_method": "pm_card_chargeDeclined"}, "k3", "t")
    assert (declined.status, declined.message) == (DECLINED, "card_declined")
    challenge = await stripe.authorize(Decimal("5"), "EUR", {"payment_method": "pm_card_authenticationRequired"},
                                       "k4", "t")
    assert challenge.status == FAILED and standin.intents[challenge.reference]["status"] == "canceled"


def test_webhooks_are_verified_with_stripes_scheme(standin):
    stripe = provider(standin)
    body = json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.canceled",
                       "data": {"object": {"id": "pi_1", "object": "payment_intent"}}}).encode()
    event = stripe.webhook(body, sign(body, "whsec_t"))
    assert (event.id, event.type, event.reference) == ("evt_1", "payment_intent.canceled", "pi_1")
    with pytest.raises(InvalidSignature):
        stripe.webhook(body, sign(body, "another secret"))


async def test_a_paid_session_with_stripe(standin, tmp_path):
    for server in serve(tmp_path, payment_provider="stripe", stripe_secret_key="sk_test_wattson",
                        stripe_publishable_key="pk_test_wattson", stripe_api_base=standin.url):
        async with server.api() as api:
            place = await priced_evse(api)
            config = (await api.get("/driver/api/v1/config")).json()
            assert config == {"provider": "stripe", "publishable_key": "pk_test_wattson"}
            async with station(server.ws_url, place["cp_id"]) as st:
                await online(st)
                body = {"evse_id": place["evse_id"], "product_id": place["products"][0]["uid"]}
                declined = await api.post("/driver/api/v1/payments",
                                          json={**body, "payment_method": "pm_card_chargeDeclined"})
                assert declined.status_code == 402
                r = await api.post("/driver/api/v1/payments", json={**body, "payment_method": "pm_card_visa"})
                assert r.status_code == 201, r.text
                payment = r.json()
                _, tx = await start_charging(st)
                await meter(st, tx, 900)
                await wait_for_state(api, payment["session_id"], "charging")
                await api.post(f"/driver/api/v1/payments/{payment['session_id']}/stop")
                await answer_stop(st, tx, 1000)
                done = await wait_for_state(api, payment["session_id"], "captured")
            cdr = (await api.get("/api/v1/cdrs", params={"charge_point_id": place["cp_id"]})).json()["data"][0]
            intent = next(i for i in standin.intents.values() if i["status"] == "succeeded"
                          and i["metadata"]["wattson_key"].startswith(payment["session_id"]))
            assert done["amount_captured"] == cdr["total_incl_vat"]
            assert intent["amount_received"] == round(cdr["total_incl_vat"] * 100) < intent["amount"] == 5000
