"""Direct payment end to end, against real servers (SQLite and PostgreSQL) and a raw OCPP 1.6
station: products, the seed-000 by_code answer, pay → remote start → charge → stop → capture,
and every way it can go wrong: declined card, charger that never starts, the cost reaching the
hold, a restart mid-session, refunds, webhooks, rate limiting."""

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import unique
from fixture_failures import started_once
from ocpp_client import now, station
from payment_kit import (CARD_3DS_FAILS, CARD_DECLINED, pay, priced_evse, serve,
                         wait_for_state)
from wattson.payments.providers.base import sign

# Seed 000's sample answer: the shape by_code must have, field for field.
SEED_SAMPLE = json.loads("""{
"id": 1, "id_transaction": 1, "hw_code": "sample string 2",
"products": [{"id": "34a51869-90d5-4787-a5d1-a42faccda28b", "name": "sample string 2", "reservation_time": 3,
              "blocking_value": 4.0, "id_product": 5, "amount_with_vat": 6.0}],
"code": "sample string 3", "name": "sample string 4", "inclusion": "sample string 5",
"is_possible_to_charge": true, "is_possible_to_charge_direct_payment": true,
"state": {"code": "sample string 1", "is_cabel": true, "id": 3, "name": "sample string 4"},
"charging_station": {"code": "sample string 1", "is_cabel": true, "id": 3, "name": "sample string 4"},
"address": {"id": 1, "street": "sample string 2", "descriptive_number": "sample string 3",
            "house_number": "sample string 4", "post_code": "sample string 5", "city": "sample string 6",
            "country": {"code": "sample string 1", "is_cabel": true, "id": 3, "name": "sample string 4"},
            "type": {"code": "sample string 1", "is_cabel": true, "id": 3, "name": "sample string 4"}},
"charging_speed": {"code": "sample string 1", "is_cabel": true, "id": 3, "name": "sample string 4"},
"is_socket": true, "is_public": true,
"location": {"code": "sample string 1", "is_cabel": true, "id": 3, "name": "sample string 4"},
"rated_power": 1.0,
"connector": {"code": "sample string 1", "is_cabel": true, "id": 3, "name": "sample string 4"},
"output_power_from_manufacturer": 1.0, "output_power_avaiable_max": 1.0, "output_current_manufacturer": 1.0,
"output_voltage_manufacturer": 1.0, "output_power_from": 1.0, "output_power_to": 1.0, "output_current": 1.0,
"charging_start_hour": 1, "charging_start_minute": 1, "charging_start_second": 1, "still_continues": true,
"planned_charging_end": "2026-02-08T14:10:06Z", "charging_start": "2026-02-08T14:10:06Z", "percent": 11}""")


def same_shape(sample, actual, path="$") -> list[str]:
    """Where ``actual`` differs from the sample's shape: keys, nesting and JSON types (a number
    is a number whether written 1 or 1.0; dates are ISO 8601 strings)."""
    if isinstance(sample, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {type(actual).__name__}, not an object"]
        problems = [f"{path}: keys differ: missing {sorted(set(sample) - set(actual))}, "
                    f"extra {sorted(set(actual) - set(sample))}"] if set(sample) != set(actual) else []
        return problems + [p for k in sample if k in actual for p in same_shape(sample[k], actual[k], f"{path}.{k}")]
    if isinstance(sample, list):
        if not isinstance(actual, list) or not actual:
            return [f"{path}: not a non-empty list"]
        return [p for i, item in enumerate(actual) for p in same_shape(sample[0], item, f"{path}[{i}]")]
    if actual is None:
        return [f"{path}: null"]
    kinds = {bool: (bool,), int: (int,), float: (int, float), str: (str,)}[type(sample)]
    if isinstance(actual, bool) and type(sample) is not bool or not isinstance(actual, kinds):
        return [f"{path}: {type(actual).__name__}, not {type(sample).__name__}"]
    if path.endswith(("planned_charging_end", "charging_start")):
        datetime.fromisoformat(actual.replace("Z", "+00:00"))
    return []


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def payment_server(request, tmp_path_factory):
    yield from started_once(request, serve(tmp_path_factory.mktemp(f"payments-{request.param}"), request.param))


async def start_charging(st, meter_start=0) -> tuple[str, int]:
    """Answer the remote start and begin the transaction for its token: (idTag, transactionId)."""
    frame = await st.next_call()
    assert frame[2] == "RemoteStartTransaction", frame
    assert frame[3]["connectorId"] == 1
    await st.answer(frame, {"status": "Accepted"})
    tag = frame[3]["idTag"]
    await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
    started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": meter_start,
                                               "timestamp": now()})
    assert started["idTagInfo"]["status"] == "Accepted"
    return tag, started["transactionId"]


async def meter(st, tx, wh, amps=15.8):
    await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": now(),
        "sampledValue": [{"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                         {"value": str(amps), "measurand": "Current.Import", "unit": "A", "phase": "L1"}]}]})


async def answer_stop(st, tx, wh):
    frame = await st.next_call()
    assert frame[2] == "RemoteStopTransaction" and frame[3]["transactionId"] == tx, frame
    await st.answer(frame, {"status": "Accepted"})
    await st.ok("StopTransaction", {"transactionId": tx, "meterStop": wh, "timestamp": now(), "reason": "Remote"})
    await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})


async def online(st):
    await st.boot()
    await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})


async def test_products_are_managed_through_the_operator_api(payment_server):
    async with payment_server.api() as api:
        place = await priced_evse(api)
        product = place["products"][0]
        assert product["blocking_value"] == 50 and product["max_duration_min"] == 30
        r = await api.post("/api/v1/payment-products", json={"name": "Up to 20 kWh", "blocking_value": 40,
                                                             "max_energy_kwh": 20, "charge_point_id": place["cp_id"]})
        assert r.status_code == 201 and r.json()["max_energy_kwh"] == 20
        second = r.json()
        listed = (await api.get("/api/v1/payment-products", params={"charge_point_id": place["cp_id"]})).json()
        assert [p["id"] for p in listed["data"]] == [second["id"]]
        r = await api.patch(f"/api/v1/payment-products/{second['id']}", json={"blocking_value": 45.5, "position": 1})
        assert r.status_code == 200 and r.json()["blocking_value"] == 45.5
        for bad in ({"name": "x", "blocking_value": 0}, {"name": "x", "blocking_value": 1.234},
                    {"name": "x", "blocking_value": 5, "evse_id": place["evse_pk"], "location_id": 1},
                    {"name": "x", "blocking_value": 5, "evse_id": 99999}, {"name": "x"}):
            r = await api.post("/api/v1/payment-products", json=bad)
            assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", (bad, r.text)
        assert (await api.patch(f"/api/v1/payment-products/{second['id']}", json={"name": None})).status_code == 422

        # The QR code for the sticker opens the driver page.
        png = await api.get(f"/api/v1/evses/{place['evse_pk']}/qr-code")
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
        assert png.headers["x-driver-url"].endswith(f"/driver/{place['evse_id']}")
        svg = await api.get(f"/api/v1/evses/{place['evse_pk']}/qr-code", params={"format": "svg"})
        assert svg.status_code == 200 and b"<svg" in svg.content and svg.headers["content-type"] == "image/svg+xml"

        # Both products with their prices, before any start (the station is offline: not payable).
        cp = (await api.get(f"/driver/api/v1/charging_points/by_code/{place['evse_id'].lower()}")).json()
        assert [p["id_product"] for p in cp["products"]] == [product["id"], second["id"]]
        assert cp["is_possible_to_charge_direct_payment"] is False and cp["state"]["code"] == "OFFLINE"
        # 30 min at 11 kW = 5.5 kWh: (2.75 + 1.00 + 1.00) * 1.21 = 5.75 incl. VAT.
        assert cp["products"][0]["amount_with_vat"] == 5.75
        assert (await api.delete(f"/api/v1/payment-products/{second['id']}")).status_code == 204


async def test_a_paid_session_is_captured_at_its_cdr_total_and_the_rest_released(payment_server):
    async with payment_server.api() as api:
        place = await priced_evse(api)
        product = place["products"][0]
        async with station(payment_server.ws_url, place["cp_id"]) as st:
            await online(st)
            spelled = place["evse_id"].replace("*", "").lower()  # case and separators ignored
            cp = (await api.get(f"/driver/api/v1/charging_points/by_code/{spelled}")).json()
            assert cp["is_possible_to_charge_direct_payment"] is True and cp["state"]["code"] == "AVAILABLE"
            r = await pay(api, place["evse_id"], product, email="driver@example.com")
            assert r.status_code == 201, r.text
            payment = r.json()
            assert payment["state"] == "authorized" and payment["amount_held"] == 50
            tag, tx = await start_charging(st)
            await meter(st, tx, 1200)
            await wait_for_state(api, payment["session_id"], "charging")
            live = (await api.get(f"/driver/api/v1/charging_points/by_code/{spelled}",
                                  params={"session_id": payment["session_id"]})).json()
            assert same_shape(SEED_SAMPLE, live) == []
            assert live["still_continues"] is True and live["code"] == place["evse_id"]
            assert live["address"]["descriptive_number"] == "344" and live["address"]["country"]["code"] == "CZ"
            assert live["connector"]["code"] == "IEC_62196_T2" and live["is_socket"] is True
            assert live["output_current"] == 15.8 and 0 <= live["percent"] <= 100
            # Someone else sees the charger busy and cannot pay for it.
            other = (await api.get(f"/driver/api/v1/charging_points/by_code/{spelled}")).json()
            assert other["is_possible_to_charge_direct_payment"] is False and other["id_transaction"] is None
            assert (await pay(api, place["evse_id"], product)).status_code == 409

            status = (await api.post(f"/driver/api/v1/payments/{payment['session_id']}/stop")).json()
            assert status["state"] == "stopping" and status["stop_reason"] == "driver"
            await answer_stop(st, tx, 2500)
            done = await wait_for_state(api, payment["session_id"], "captured")

        session_id = live["id_transaction"]
        session = (await api.get(f"/api/v1/sessions/{session_id}")).json()
        assert session["tariff_id"] == place["tariff_id"]  # priced at the ad hoc tariff
        cdr = (await api.get("/api/v1/cdrs", params={"session_id": session_id})).json()["data"][0]
        assert done["amount_captured"] == cdr["total_incl_vat"] > 0
        assert done["amount_released"] == pytest.approx(50 - cdr["total_incl_vat"])
        receipt = await api.get(done["receipt_url"])
        assert receipt.status_code == 200 and "Charged to the card" in receipt.text and "21 %" in receipt.text
        pdf = await api.get(done["receipt_pdf_url"])
        assert pdf.content.startswith(b"%PDF")
        # The operator sees it, with its history; the token that started it is spent.
        listed = (await api.get("/api/v1/payments", params={"charge_point_id": place["cp_id"]})).json()["data"]
        detail = (await api.get(f"/api/v1/payments/{listed[0]['id']}")).json()
        assert [e["to_state"] for e in detail["events"]] == [
            "created", "authorized", "starting", "charging", "stopping", "finished", "captured"]
        assert detail["charging_session_id"] == session_id and detail["card"].endswith("4242")
        token = (await api.get("/api/v1/id-tokens", params={"uid": tag})).json()["data"][0]
        assert token["status"] == "Expired"

        # A refund, in part and then the rest; never more than was captured.
        pid = detail["id"]
        assert (await api.post(f"/api/v1/payments/{pid}/refund", json={"amount": 1000})).status_code == 422
        r = await api.post(f"/api/v1/payments/{pid}/refund", json={"amount": 0.5, "reason": "goodwill"})
        assert r.status_code == 200 and r.json()["amount_refunded"] == 0.5 and r.json()["state"] == "captured"
        r = await api.post(f"/api/v1/payments/{pid}/refund", json={})
        assert r.json()["state"] == "refunded" and r.json()["amount_refunded"] == cdr["total_incl_vat"]
        assert (await api.post(f"/api/v1/payments/{pid}/refund", json={})).status_code == 409


async def test_a_payment_charges_at_a_charger_in_a_charger_group(payment_server):
    """Charger groups keep out tags without a right, not the driver who pays there: by_code offers
    direct payment, and the payment's own token is admitted at its charger (only there, only while
    the payment is under way); the session charges and is captured."""
    async with payment_server.api() as api:
        place = await priced_evse(api, max_power_w=22000)
        group = (await api.post("/api/v1/charger-groups", json={"name": unique("members")})).json()
        neighbour = await payment_server.add_station()
        for cp_id in (place["cp_id"], neighbour):
            r = await api.put(f"/api/v1/charger-groups/{group['id']}/charge-points/{cp_id}")
            assert r.status_code == 200, r.text
        stranger = await payment_server.add_tag()
        async with station(payment_server.ws_url, place["cp_id"]) as st, \
                station(payment_server.ws_url, neighbour) as other:
            await online(st)
            await other.boot()
            assert (await st.ok("Authorize", {"idTag": stranger}))["idTagInfo"]["status"] == "Invalid"
            cp = (await api.get(f"/driver/api/v1/charging_points/by_code/{place['evse_id']}")).json()
            assert cp["is_possible_to_charge_direct_payment"] is True
            assert cp["charging_speed"]["code"] == "AC_MEDIUM" and cp["output_power_to"] == 22  # 22 kW: medium
            payment = (await pay(api, place["evse_id"], place["products"][0])).json()
            tag, tx = await start_charging(st)  # the start is Accepted
            assert (await st.ok("Authorize", {"idTag": tag}))["idTagInfo"]["status"] == "Accepted"
            assert (await other.ok("Authorize", {"idTag": tag}))["idTagInfo"]["status"] == "Invalid"
            await meter(st, tx, 1200)
            await wait_for_state(api, payment["session_id"], "charging")
            await api.post(f"/driver/api/v1/payments/{payment['session_id']}/stop")
            await answer_stop(st, tx, 2500)
            done = await wait_for_state(api, payment["session_id"], "captured")
            assert (await st.ok("Authorize", {"idTag": tag}))["idTagInfo"]["status"] != "Accepted"  # spent
        assert done["energy_kwh"] == 2.5 and done["amount_captured"] > 0
        assert done["amount_captured"] + done["amount_released"] == pytest.approx(50)


async def test_a_declined_card_starts_nothing(payment_server):
    async with payment_server.api() as api:
        place = await priced_evse(api)
        async with station(payment_server.ws_url, place["cp_id"]) as st:
            await online(st)
            for card, code, state in ((CARD_DECLINED, "payment_declined", "declined"),
                                      (CARD_3DS_FAILS, "payment_declined", "failed")):
                r = await pay(api, place["evse_id"], place["products"][0], card=card)
                assert r.status_code == 402 and r.json()["error"]["code"] == code, r.text
                assert r.json()["error"]["details"]["state"] == state
            bad = await pay(api, place["evse_id"], place["products"][0], card={**CARD_DECLINED, "cvc": "x"})
            assert bad.status_code == 422
            with pytest.raises(asyncio.TimeoutError):
                await st.next_call(timeout=1.5)  # no remote start was sent
        payments = (await api.get("/api/v1/payments", params={"charge_point_id": place["cp_id"]})).json()["data"]
        assert sorted(p["state"] for p in payments) == ["declined", "failed", "failed"]
        assert all(p["charging_session_id"] is None and p["amount_captured"] is None for p in payments)


async def test_a_charger_that_does_not_start_gets_the_whole_hold_released(payment_server):
    async with payment_server.api() as api:
        place = await priced_evse(api)
        product = place["products"][0]
        async with station(payment_server.ws_url, place["cp_id"]) as st:
            await online(st)
            # Accepts the remote start, then never starts: the start timeout (4 s) releases the hold.
            payment = (await pay(api, place["evse_id"], product)).json()
            frame = await st.next_call()
            await st.answer(frame, {"status": "Accepted"})
            released = await wait_for_state(api, payment["session_id"], "released")
            assert released["amount_captured"] == 0 and released["amount_released"] == 50
            assert "did not start" in released["failure"]
            # Rejects the remote start: released at once.
            payment = (await pay(api, place["evse_id"], product)).json()
            frame = await st.next_call()
            await st.answer(frame, {"status": "Rejected"})
            released = await wait_for_state(api, payment["session_id"], "released")
            assert "refused" in released["failure"]
            # A late start with a released payment's token is refused.
            late = await st.ok("StartTransaction", {"connectorId": 1, "idTag": frame[3]["idTag"], "meterStart": 0,
                                                    "timestamp": now()})
            assert late["idTagInfo"]["status"] != "Accepted"
            await st.ok("StopTransaction", {"transactionId": late["transactionId"], "meterStop": 0,
                                            "timestamp": now()})
            # The station goes offline before charging: released.
            payment = (await pay(api, place["evse_id"], product)).json()
            await st.next_call()
        released = await wait_for_state(api, payment["session_id"], "released")
        assert released["amount_released"] == 50


async def test_the_session_stops_on_its_own_when_its_cost_reaches_the_hold(payment_server):
    async with payment_server.api() as api:
        place = await priced_evse(api, products=({"name": "Up to 5 CZK", "blocking_value": 5},))
        async with station(payment_server.ws_url, place["cp_id"]) as st:
            await online(st)
            payment = (await pay(api, place["evse_id"], place["products"][0])).json()
            _, tx = await start_charging(st)
            await meter(st, tx, 3000)  # (1.50 + 1.00) * 1.21 = 3.03 so far: goes on
            await wait_for_state(api, payment["session_id"], "charging")
            with pytest.raises(asyncio.TimeoutError):
                await st.next_call(timeout=1)
            await meter(st, tx, 7000)  # (3.50 + 1.00) * 1.21 = 5.45 >= 5: stopped by Wattson
            await answer_stop(st, tx, 7000)
            done = await wait_for_state(api, payment["session_id"], "captured")
        assert done["stop_reason"] == "authorization_amount_reached"
        assert done["amount_captured"] == 5 and done["amount_released"] == 0  # never above the hold


async def test_a_time_limited_product_stops_at_its_time(payment_server):
    async with payment_server.api() as api:
        place = await priced_evse(api, products=({"name": "1 min", "blocking_value": 50, "max_duration_min": 1},))
        async with station(payment_server.ws_url, place["cp_id"]) as st:
            await online(st)
            payment = (await pay(api, place["evse_id"], place["products"][0])).json()
            frame = await st.next_call()
            await st.answer(frame, {"status": "Accepted"})
            started_at = (datetime.now(timezone.utc) - timedelta(seconds=61)).isoformat().replace("+00:00", "Z")
            started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": frame[3]["idTag"],
                                                       "meterStart": 0, "timestamp": started_at})
            await answer_stop(st, started["transactionId"], 100)
            done = await wait_for_state(api, payment["session_id"], "captured")
        assert done["stop_reason"] == "time_limit"


async def test_bad_input_is_a_clear_client_error(payment_server):
    async with payment_server.api() as api:
        place = await priced_evse(api)
        for path in ("/driver/api/v1/charging_points/by_code/not-an-evse", "/driver/api/v1/charging_points/by_code/"
                     "CZ*WAT*E0*0", f"/driver/api/v1/charging_points/by_code/{place['evse_id']}?session_id=nope",
                     "/driver/api/v1/payments/nope", "/driver/api/v1/payments/nope/receipt"):
            r = await api.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (path, r.text)
        r = await api.post("/driver/api/v1/payments", json={"evse_id": place["evse_id"], "product_id": "nope",
                                                            "card": {"card_number": "1"}})
        assert r.status_code == 422
        r = await api.post("/driver/api/v1/payments", json={"evse_id": place["evse_id"], "product_id": "nope",
                                                            "card": {"card_number": "4242424242424242",
                                                                     "exp_month": 1, "exp_year": 2099,
                                                                     "cvc": "123"}})
        assert r.status_code == 422 and "not offered" in r.json()["error"]["message"]
        body = json.dumps({"id": "evt_1", "type": "hold.canceled", "data": {"reference": "sbx_x"}}).encode()
        r = await api.post("/webhooks/payments", content=body, headers={"Wattson-Signature": "t=1,v1=00"})
        assert r.status_code == 400
        r = await api.post("/webhooks/payments", content=body,
                           headers={"Wattson-Signature": sign(body, "whsec_sandbox")})
        assert r.status_code == 200 and r.json() == {"received": True, "payment": None}
        assert (await api.post("/driver/api/v1/payments/nope/stop")).status_code == 404


async def test_the_driver_api_is_rate_limited_per_client(tmp_path):
    for server in serve(tmp_path, driver_rate_limit="5"):
        async with server.api() as api:
            codes = [(await api.get("/driver/api/v1/charging_points/by_code/XX")).status_code for _ in range(7)]
            assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]
            r = await api.get("/driver/api/v1/config")
            assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
            assert (await api.get("/api/v1/payments")).status_code == 200  # the operator API is not limited


async def test_a_restart_mid_session_resumes_the_flow_and_settles(tmp_path):
    servers = serve(tmp_path)
    first = next(servers)
    async with first.api() as api:
        place = await priced_evse(api)
        async with station(first.ws_url, place["cp_id"]) as st:
            await online(st)
            payment = (await pay(api, place["evse_id"], place["products"][0])).json()
            _, tx = await start_charging(st)
            await meter(st, tx, 800)
            await wait_for_state(api, payment["session_id"], "charging")
    next(servers, None)  # stopped while the car charges

    servers = serve(tmp_path)  # the same database file
    second = next(servers)
    try:
        async with second.api() as api:
            async with station(second.ws_url, place["cp_id"]) as st:
                await st.boot()
                await meter(st, tx, 1500)
                await api.post(f"/driver/api/v1/payments/{payment['session_id']}/stop")
                await answer_stop(st, tx, 1600)
                done = await wait_for_state(api, payment["session_id"], "captured")
            cdr = (await api.get("/api/v1/cdrs", params={"charge_point_id": place["cp_id"]})).json()["data"][0]
            assert done["amount_captured"] == cdr["total_incl_vat"]
    finally:
        next(servers, None)
