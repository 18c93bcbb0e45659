"""Tariffs over HTTP: the OCPI tariff shape validated, CRUD, assignments and which tariff a new
session gets, the network settings, and price estimates."""

from datetime import datetime, timedelta, timezone

import pytest

from conftest import start_server, unique
from ocpp_client import station

SIMPLE = {"currency": "EUR", "elements": [{"price_components": [
    {"type": "ENERGY", "price": 0.30, "vat": 20, "step_size": 1}]}]}


def tariff(price: float = 0.30, **extra) -> dict:
    return {"currency": "EUR", "elements": [{"price_components": [
        {"type": "ENERGY", "price": price, "vat": 20, "step_size": 1}]}], **extra}


async def test_crud_round_trip(server):
    tariff_id = unique("T")
    body = {"id": tariff_id, "currency": "eur", "type": "REGULAR",
            "tariff_alt_text": [{"language": "en", "text": "0.30/kWh"}],
            "min_price": {"excl_vat": 1}, "max_price": {"excl_vat": 50, "incl_vat": 60},
            "elements": [{"price_components": [{"type": "TIME", "price": 1.2, "vat": 21, "step_size": 300}],
                          "restrictions": {"start_time": "22:00", "end_time": "06:00",
                                           "day_of_week": ["SATURDAY", "SUNDAY"], "min_kwh": 0.5, "max_power": 22}},
                         {"price_components": [{"type": "ENERGY", "price": 0.3}]}],
            "start_date_time": "2026-01-01T00:00:00+01:00",
            "energy_mix": {"is_green_energy": True, "supplier_name": "Green Co"}}
    async with server.api() as api:
        r = await api.post("/api/v1/tariffs", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["currency"] == "EUR" and created["id"] == tariff_id and created["assignments"] == 0
        assert created["start_date_time"] == "2025-12-31T23:00:00Z"
        assert created["elements"][0]["restrictions"]["day_of_week"] == ["SATURDAY", "SUNDAY"]
        assert created["elements"][1]["price_components"][0] == {"type": "ENERGY", "price": 0.3, "vat": None,
                                                                 "step_size": 1}
        assert (await api.get(f"/api/v1/tariffs/{tariff_id}")).json() == created
        assert (await api.post("/api/v1/tariffs", json=body)).status_code == 409
        listed = (await api.get("/api/v1/tariffs", params={"type": "REGULAR", "limit": 500})).json()["data"]
        assert tariff_id in [t["id"] for t in listed]
        r = await api.put(f"/api/v1/tariffs/{tariff_id}", json=tariff(0.5))
        assert r.status_code == 200 and r.json()["elements"][0]["price_components"][0]["price"] == 0.5
        assert r.json()["type"] is None and r.json()["last_updated"] >= created["last_updated"]
        assert (await api.delete(f"/api/v1/tariffs/{tariff_id}")).status_code == 204
        assert (await api.get(f"/api/v1/tariffs/{tariff_id}")).status_code == 404
        generated = (await api.post("/api/v1/tariffs", json=SIMPLE)).json()["id"]
        assert len(generated) == 12


@pytest.mark.parametrize("change, field", [
    ({"currency": "XYZ"}, "currency"),
    ({"elements": []}, "elements"),
    ({"elements": [{"price_components": [{"type": "ENERGY", "price": -1}]}]}, "price"),
    ({"elements": [{"price_components": [{"type": "ENERGY", "price": 0.123456}]}]}, "price"),
    ({"elements": [{"price_components": [{"type": "ENERGY", "price": 1, "vat": 101}]}]}, "vat"),
    ({"elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 0}]}]}, "step_size"),
    ({"elements": [{"price_components": [{"type": "KWH", "price": 1}]}]}, "type"),
    ({"elements": [{"price_components": [{"type": "ENERGY", "price": 1}],
                    "restrictions": {"start_time": "25:00"}}]}, "start_time"),
    ({"elements": [{"price_components": [{"type": "ENERGY", "price": 1}],
                    "restrictions": {"min_kwh": 10, "max_kwh": 5}}]}, "restrictions"),
    ({"elements": [{"price_components": [{"type": "ENERGY", "price": 1}],
                    "restrictions": {"day_of_week": ["MONDAY", "MONDAY"]}}]}, "restrictions"),
    ({"elements": [{"price_components": [{"type": "ENERGY", "price": 1}], "restrictions": {"weekday": 1}}]},
     "weekday"),
    ({"min_price": {"excl_vat": 10}, "max_price": {"excl_vat": 5}}, "body"),
    ({"start_date_time": "2026-02-01T00:00:00Z", "end_date_time": "2026-01-01T00:00:00Z"}, "body"),
    ({"id": "has space"}, "id"),
    ({"id": "x" * 37}, "id"),
    ({"colour": "red"}, "colour"),
])
async def test_invalid_tariffs_are_422_with_the_field(server, change, field):
    async with server.api() as api:
        r = await api.post("/api/v1/tariffs", json={**SIMPLE, **change})
    assert r.status_code == 422, r.text
    assert field in str(r.json()["error"]["details"])


async def test_roles_and_unknown_ids(server):
    async with server.api() as api:
        viewer = (await api.post("/api/v1/api-keys", json={"name": "tariff-viewer", "role": "viewer"})).json()["key"]
        assert (await api.put("/api/v1/tariffs/NOPE", json=SIMPLE)).status_code == 404
        assert (await api.delete("/api/v1/tariffs/NOPE")).status_code == 404
        assert (await api.post("/api/v1/tariffs/NOPE/estimate", json={"energy_kwh": 1, "duration_minutes": 1})
                ).status_code == 404
        assert (await api.delete("/api/v1/tariff-assignments/999999")).status_code == 404
        assert (await api.get("/api/v1/cdrs/999999")).status_code == 404
        assert (await api.post("/api/v1/cdrs/999999/credit", json={"reason": "x"})).status_code == 404
    async with server.api(viewer) as api:
        assert (await api.get("/api/v1/tariffs")).status_code == 200
        assert (await api.post("/api/v1/tariffs", json=SIMPLE)).status_code == 403
        assert (await api.patch("/api/v1/settings", json={"default_tariff_id": None})).status_code == 403


async def test_assignments_decide_the_tariff_of_new_sessions(server):
    """Group override first (most specific place first), then everyone's (connector before EVSE
    before charge point before location), then the default. A tariff outside its validity
    window is passed over."""
    async with server.api() as api:
        location = (await api.post("/api/v1/locations", json={"name": "Depot", "time_zone": "Europe/Berlin"})).json()
        cp_id = unique()
        await api.post("/api/v1/charge-points", json={"id": cp_id, "location_id": location["id"]})
        evse = (await api.post(f"/api/v1/charge-points/{cp_id}/evses",
                               json={"number": 1, "connectors": [{"number": 1}]})).json()
        connector = evse["connectors"][0]
        group = (await api.post("/api/v1/driver-groups", json={"name": unique("staff")})).json()
        driver = (await api.post("/api/v1/drivers", json={"name": "Eva", "home_group_id": group["id"]})).json()
        staff_tag, guest_tag = await server.add_tag(driver_id=driver["id"]), await server.add_tag()
        ids = {}
        for name, body in (("location", {"location_id": location["id"]}), ("cp", {"charge_point_id": cp_id}),
                           ("staff", {"location_id": location["id"], "driver_group_id": group["id"]}),
                           ("expired", {"connector_id": connector["id"]})):
            ids[name] = unique("T")
            validity = {"end_date_time": "2020-01-01T00:00:00Z"} if name == "expired" else {}
            assert (await api.post("/api/v1/tariffs", json={"id": ids[name], **tariff(**validity)})).status_code == 201
            r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": ids[name], **body})
            assert r.status_code == 201, r.text
        r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": ids["cp"], "charge_point_id": cp_id})
        assert r.status_code == 409
        r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": ids["cp"], "charge_point_id": cp_id,
                                                                "evse_id": evse["id"]})
        assert r.status_code == 422
        r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": ids["cp"]})
        assert r.status_code == 422 and "settings" in r.json()["error"]["message"]
        r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": ids["cp"], "location_id": 99999})
        assert r.status_code == 422
        assert (await api.delete(f"/api/v1/tariffs/{ids['cp']}")).status_code == 409

        async def session_tariff(tag: str, tx_start: str) -> str:
            async with station(server.ws_url, cp_id) as st:
                await st.boot()
                tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                       "timestamp": tx_start}))["transactionId"]
                await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 10, "timestamp": tx_start})
            sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id, "id_tag": tag})).json()
            return sessions["data"][0]["tariff_id"]

        now = datetime.now(timezone.utc)
        assert await session_tariff(staff_tag, (now - timedelta(minutes=5)).isoformat()) == ids["staff"]
        assert await session_tariff(guest_tag, (now - timedelta(minutes=4)).isoformat()) == ids["cp"]
        listed = (await api.get("/api/v1/tariff-assignments", params={"charge_point_id": cp_id})).json()["data"]
        assert [a["tariff_id"] for a in listed] == [ids["cp"]]
        assert (await api.delete(f"/api/v1/tariff-assignments/{listed[0]['id']}")).status_code == 204
        assert await session_tariff(guest_tag, (now - timedelta(minutes=3)).isoformat()) == ids["location"]

        async def applicable(**params) -> int | str:
            r = await api.get(f"/api/v1/charge-points/{cp_id}/tariff", params=params)
            return r.json()["id"] if r.status_code == 200 else r.status_code

        assert await applicable(evse=1, driver_group_id=group["id"]) == ids["staff"]
        assert await applicable(evse=1) == ids["location"]
        assert await applicable(evse=1, at="2019-06-01T00:00:00Z") == ids["expired"]  # valid back then
        assert await applicable(kind="ad_hoc") == 404
        ad_hoc = unique("T")
        await api.post("/api/v1/tariffs", json={"id": ad_hoc, **tariff(0.6, type="AD_HOC_PAYMENT")})
        r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": ad_hoc, "kind": "ad_hoc",
                                                                "evse_id": evse["id"]})
        assert r.status_code == 201, r.text
        assert await applicable(kind="ad_hoc", evse=1) == ad_hoc and await applicable(kind="ad_hoc") == 404
        assert await applicable(evse=1) == ids["location"]  # the ad hoc tariff is not the regular one
        assert (await api.get("/api/v1/charge-points/NOPE/tariff")).status_code == 404


async def test_estimate_prices_a_hypothetical_session(server):
    tariff_id = unique("T")
    body = {"id": tariff_id, "currency": "EUR", "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.20, "vat": 21, "step_size": 1}],
         "restrictions": {"start_time": "22:00", "end_time": "06:00"}},
        {"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 21, "step_size": 1},
                              {"type": "PARKING_TIME", "price": 6, "vat": 21, "step_size": 60}]}]}
    async with server.api() as api:
        assert (await api.post("/api/v1/tariffs", json=body)).status_code == 201
        # 21:30 Prague: 30 min by day and 30 min by night at 10 kW, then 10 min parked.
        r = await api.post(f"/api/v1/tariffs/{tariff_id}/estimate", json={
            "energy_kwh": 10, "duration_minutes": 60, "power_kw": 10, "start_at": "2026-11-20T20:30:00Z",
            "parking_minutes": 10, "time_zone": "Europe/Prague"})
        assert r.status_code == 200, r.text
        cost = r.json()
        assert (cost["energy"]["excl_vat"], cost["parking"]["excl_vat"], cost["total_excl_vat"],
                cost["total_incl_vat"]) == (3.00, 1.00, 4.00, 4.84)
        r = await api.post(f"/api/v1/tariffs/{tariff_id}/estimate", json={
            "energy_kwh": 1, "duration_minutes": 1, "time_zone": "Mars/Olympus"})
        assert r.status_code == 422
        r = await api.post(f"/api/v1/tariffs/{tariff_id}/estimate", json={"energy_kwh": -1, "duration_minutes": 1})
        assert r.status_code == 422


@pytest.fixture
def lone_server(tmp_path):
    """A server of its own: the network default tariff would price every other test's sessions."""
    yield from start_server(tmp_path, "sqlite")


async def test_the_network_default_prices_what_no_assignment_covers(lone_server):
    server = lone_server
    cp_id, tag = await server.add_station(), await server.add_tag()
    async with server.api() as api:
        assert (await api.get("/api/v1/settings")).json()["default_tariff_id"] is None
        assert (await api.patch("/api/v1/settings", json={"default_tariff_id": "NOPE"})).status_code == 422
        assert (await api.post("/api/v1/tariffs", json={"id": "NET", **tariff(0.50)})).status_code == 201
        r = await api.patch("/api/v1/settings", json={"default_tariff_id": "NET"})
        assert r.status_code == 200 and r.json()["default_tariff_id"] == "NET"
        assert (await api.delete("/api/v1/tariffs/NET")).status_code == 409
        async with station(server.ws_url, cp_id) as st:
            await st.boot()
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000,
                                                   "timestamp": "2026-11-20T10:00:00Z"}))["transactionId"]
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 11000,
                                            "timestamp": "2026-11-20T11:00:00Z"})
        session = (await api.get("/api/v1/sessions")).json()["data"][0]
        assert session["tariff_id"] == "NET"
        cost = (await api.get(f"/api/v1/sessions/{session['id']}")).json()["cost"]
        assert (cost["total_excl_vat"], cost["total_vat"], cost["total_incl_vat"]) == (5.00, 1.00, 6.00)
        assert (await api.patch("/api/v1/settings", json={"default_tariff_id": None})).json()["default_tariff_id"] \
            is None
        assert (await api.delete("/api/v1/tariffs/NET")).status_code == 204
        # The session keeps its copy: the receipt still prints.
        assert "€6.00" in (await api.get(f"/api/v1/sessions/{session['id']}/receipt")).text
