"""Helpers of the direct payment tests: a priced EVSE with products, a paying driver, polling."""

import asyncio
import uuid

from conftest import READY_BOUND_S, start_server, unique

CARD_OK = {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}
CARD_DECLINED = {**CARD_OK, "card_number": "4000000000000002"}
CARD_3DS_FAILS = {**CARD_OK, "card_number": "4000000000003220"}

# Ad hoc tariff: 0.50/kWh + 2.00 per hour charging + 1.00 per session, all excl. 21 % VAT.
AD_HOC_TARIFF = {
    "currency": "CZK", "type": "AD_HOC_PAYMENT",
    "tariff_alt_text": [{"language": "en", "text": "0.61 CZK/kWh incl. VAT, 2.42 CZK/h, 1.21 CZK per session"},
                        {"language": "cs", "text": "0,61 Kč/kWh vč. DPH, 2,42 Kč/h, 1,21 Kč za nabíjení"}],
    "elements": [{"price_components": [{"type": "ENERGY", "price": 0.50, "vat": 21, "step_size": 1},
                                       {"type": "TIME", "price": 2.00, "vat": 21, "step_size": 1},
                                       {"type": "FLAT", "price": 1.00, "vat": 21, "step_size": 1}]}],
}


def payment_settings(**extra) -> dict:
    return {"command_timeout": "3", "payment_start_timeout": "4", "payment_poll_interval": "0.3",
            "driver_rate_limit": "100000", "payment_stop_margin": "0", **extra}


def serve(tmp, backend="sqlite", **extra):
    return start_server(tmp, backend, **payment_settings(**extra))


async def priced_evse(api, products=({"name": "Up to 30 min", "blocking_value": 50, "max_duration_min": 30},),
                      max_power_w=11000) -> dict:
    """A Prague location, a charge point with one EVSE (EVSE ID, Type 2 socket), its ad hoc tariff
    and products; the names of it all."""
    location = (await api.post("/api/v1/locations", json={
        "name": "Smíchov garage", "street": "Nádražní", "building_number": "344", "house_number": "23",
        "city": "Praha", "postal_code": "150 00", "country": "CZ", "time_zone": "Europe/Prague",
        "parking_type": "PARKING_GARAGE"})).json()
    cp_id = unique()
    r = await api.post("/api/v1/charge-points", json={"id": cp_id, "location_id": location["id"], "name": "Garage 1"})
    assert r.status_code == 201, r.text
    evse_id = f"CZ*WAT*E{uuid.uuid4().hex[:8].upper()}*1"
    r = await api.post(f"/api/v1/charge-points/{cp_id}/evses", json={
        "number": 1, "evse_id": evse_id, "current_type": "AC", "max_power_w": max_power_w, "max_voltage_v": 400,
        "max_amperage_a": 16, "phases": 3,
        "connectors": [{"number": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE"}]})
    assert r.status_code == 201, r.text
    evse = r.json()
    tariff_id = unique("ADHOC")
    r = await api.post("/api/v1/tariffs", json={"id": tariff_id, **AD_HOC_TARIFF})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff_id, "charge_point_id": cp_id,
                                                           "kind": "ad_hoc"})
    assert r.status_code == 201, r.text
    made = []
    for product in products:
        r = await api.post("/api/v1/payment-products", json={**product, "evse_id": evse["id"]})
        assert r.status_code == 201, r.text
        made.append(r.json())
    return {"cp_id": cp_id, "evse_id": evse_id, "evse_pk": evse["id"], "tariff_id": tariff_id,
            "location_id": location["id"], "products": made}


async def pay(client, evse_id: str, product: dict, card=CARD_OK, **extra):
    return await client.post("/driver/api/v1/payments", json={"evse_id": evse_id, "product_id": product["uid"],
                                                              "card": card, **extra})


async def wait_for_state(client, session_id: str, states, timeout: float = READY_BOUND_S) -> dict:
    states = {states} if isinstance(states, str) else set(states)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = (await client.get(f"/driver/api/v1/payments/{session_id}")).json()
        if body["state"] in states:
            return body
        assert asyncio.get_running_loop().time() < deadline, f"payment stuck in {body['state']}: {body}"
        await asyncio.sleep(0.2)
