"""Charge points over HTTP: create with every field, update, delete and its refusals, filters,
pages, security profiles and the write-only password, roles."""

import asyncio

import httpx
from sqlalchemy import func, select

from conftest import READY_BOUND_S, unique
from ocpp_client import now, station
from wattson.db import Database
from wattson.sessions.models import MeterValue
from wattson.settings import async_database_url

PASSWORD = "n7Qk2vX9pL4sW8dR"


async def add_location(api: httpx.AsyncClient) -> int:
    r = await api.post("/api/v1/locations", json={"name": unique("Site")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def fields_of(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error" and error["details"], error
    return [d["field"] for d in error["details"]]


async def test_create_with_every_field(server):
    async with server.api() as api:
        location = await add_location(api)
        cp = unique()
        r = await api.post("/api/v1/charge-points", json={
            "id": cp, "name": "Gate", "location_id": location, "registration_status": "Pending",
            "admin_status": "out_of_order", "security_profile": 1, "password": PASSWORD})
        assert r.status_code == 201, r.text
        out = r.json()
        assert (out["id"], out["name"], out["location_id"], out["registration_status"], out["admin_status"]) == (
            cp, "Gate", location, "Pending", "out_of_order")
        assert (out["security_profile"], out["has_password"]) == (1, True)
        assert "password" not in out and "password_hash" not in out and PASSWORD not in r.text
        assert out["evses"] == [] and out["network_status"] == "never_connected" and out["updated_at"]
        got = await api.get(f"/api/v1/charge-points/{cp}")
        assert got.json() == out and PASSWORD not in got.text

        plain = (await api.post("/api/v1/charge-points", json={"id": unique()})).json()
        assert (plain["location_id"], plain["admin_status"], plain["security_profile"], plain["has_password"],
                plain["registration_status"]) == (None, "enabled", 0, False, "Accepted")


async def test_create_validation(server):
    async with server.api() as api:
        cases = [
            ({"security_profile": 2, "password": PASSWORD}, "body.security_profile"),
            ({"security_profile": 3}, "body.security_profile"),
            ({"security_profile": 4}, "body.security_profile"),
            ({"security_profile": -1}, "body.security_profile"),
            ({"security_profile": 1}, "body.password"),
            ({"security_profile": 1, "password": "short"}, "body.password"),
            ({"security_profile": 1, "password": "x" * 41}, "body.password"),
            ({"security_profile": 1, "password": "ümlaut-ümlaut-ümlaut"}, "body.password"),
            ({"password": PASSWORD}, "body.password"),  # a password without profile 1
            ({"location_id": 2147483000}, "body.location_id"),  # no such location
            ({"location_id": 0}, "body.location_id"),
            ({"location_id": 2**40}, "body.location_id"),
            ({"admin_status": "broken"}, "body.admin_status"),
            ({"registration_status": "Maybe"}, "body.registration_status"),
            ({"name": "x" * 256}, "body.name"),
            ({"name": "a\nb"}, "body.name"),
            ({"id": "has space"}, "body.id"),
            ({"id": "ünïcode"}, "body.id"),
        ]
        for extra, field in cases:
            r = await api.post("/api/v1/charge-points", json={"id": unique(), **extra})
            assert field in fields_of(r), (extra, r.text)
        r = await api.post("/api/v1/charge-points", json={"id": unique(), "security_profile": 2})
        assert "security profile 2 needs TLS: set WATTSON_TLS_CERT and WATTSON_TLS_KEY" in r.text
        r = await api.post("/api/v1/charge-points", json={"id": unique(), "location_id": 2147483000})
        assert "location 2147483000 does not exist" in r.json()["error"]["message"]
        r = await api.post("/api/v1/charge-points", json={"id": unique(), "security_profile": 1, "password": "short"})
        assert "short" not in r.text  # a password is never echoed


async def test_update(server):
    async with server.api() as api:
        cp = await server.add_station(name="Old name")
        path = f"/api/v1/charge-points/{cp}"
        location = await add_location(api)
        r = await api.patch(path, json={"name": "New name", "location_id": location, "admin_status": "disabled"})
        assert r.status_code == 200, r.text
        out = r.json()
        assert (out["name"], out["location_id"], out["admin_status"], out["registration_status"]) == (
            "New name", location, "disabled", "Accepted")
        assert (await api.get(f"/api/v1/locations/{location}")).json()["charge_point_ids"] == [cp]
        out = (await api.patch(path, json={"location_id": None, "name": None})).json()
        assert (out["location_id"], out["name"], out["admin_status"]) == (None, None, "disabled")
        assert (await api.patch(path, json={})).json()["admin_status"] == "disabled"

        for body, field in (({"location_id": 2147483000}, "body.location_id"),
                            ({"admin_status": None}, "body.admin_status"),
                            ({"registration_status": None}, "body.registration_status"),
                            ({"registration_status": "Blocked"}, "body.registration_status"),
                            ({"security_profile": None}, "body.security_profile"), ({"id": "other"}, "body.id"),
                            ({"network_status": "online"}, "body.network_status")):
            assert field in fields_of(await api.patch(path, json=body)), body
        missing = await api.patch("/api/v1/charge-points/NOPE-404", json={"name": "x"})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert (await api.patch("/api/v1/charge-points/a%20b", json={"name": "x"})).status_code in (404, 422)


async def test_security_profile_and_password(server):
    async with server.api() as api:
        cp = await server.add_station()
        path = f"/api/v1/charge-points/{cp}"
        r = await api.patch(path, json={"security_profile": 1})
        assert "body.password" in fields_of(r) and "needs a password" in r.json()["error"]["message"]
        r = await api.patch(path, json={"password": PASSWORD})  # profile 0: no use for a password
        assert "body.password" in fields_of(r)
        r = await api.patch(path, json={"security_profile": 3, "password": PASSWORD})
        assert "body.security_profile" in fields_of(r) and "needs TLS" in r.text
        assert "body.password" in fields_of(await api.patch(path, json={"security_profile": 1, "password": "x" * 15}))

        r = await api.patch(path, json={"security_profile": 1, "password": PASSWORD})
        assert r.status_code == 200 and (r.json()["security_profile"], r.json()["has_password"]) == (1, True)
        assert PASSWORD not in r.text and "password" not in r.json()
        assert (await api.patch(path, json={"name": "kept"})).json()["has_password"] is True
        r = await api.patch(path, json={"security_profile": 1})  # already has one: kept
        assert (r.json()["security_profile"], r.json()["has_password"]) == (1, True)
        r = await api.patch(path, json={"password": "another-password-of-24"})  # rotate
        assert r.status_code == 200 and r.json()["has_password"] is True
        assert "body.password" in fields_of(await api.patch(path, json={"password": None}))  # profile 1 needs it
        r = await api.patch(path, json={"security_profile": 0})
        assert (r.json()["security_profile"], r.json()["has_password"]) == (0, False)  # forgotten
        assert "body.password" in fields_of(await api.patch(path, json={"security_profile": 1}))  # so needed again
        spec = (await api.get("/api/openapi.json")).json()["components"]["schemas"]
        assert "password" not in spec["ChargePointOut"]["properties"]
        assert "password_hash" not in spec["ChargePointOut"]["properties"]
        assert spec["ChargePointUpdate"]["properties"]["password"]["writeOnly"] is True


async def test_registration_status_answers_the_next_boot(server):
    async with server.api() as api:
        cp = await server.add_station()
        await api.patch(f"/api/v1/charge-points/{cp}", json={"registration_status": "Pending"})
        async with station(server.ws_url, cp) as st:
            assert (await st.boot())["status"] == "Pending"
        await api.patch(f"/api/v1/charge-points/{cp}", json={"registration_status": "Accepted"})
        async with station(server.ws_url, cp) as st:
            assert (await st.boot())["status"] == "Accepted"


async def test_delete_and_its_refusals(server):
    async with server.api() as api:
        cp, neighbour = await server.add_station(), await server.add_station()
        path = f"/api/v1/charge-points/{cp}"
        evse = (await api.post(f"{path}/evses", json={"number": 1, "connectors": [{"number": 1}]})).json()
        for identity in (neighbour, cp):
            async with station(server.ws_url, identity) as st:
                await st.boot()
                await st.ok("StatusNotification", {"connectorId": 2, "errorCode": "NoError", "status": "Available",
                                                   "timestamp": now()})
                await st.ok("MeterValues", {"connectorId": 0, "meterValue": [{"timestamp": now(), "sampledValue": [
                    {"value": "1234", "measurand": "Energy.Active.Import.Register"}]}]})  # outside any session
                if identity == cp:
                    r = await api.delete(path)
                    assert r.status_code == 409 and "connected" in r.json()["error"]["message"]
        assert await _meter_value_rows(server, cp) == await _meter_value_rows(server, neighbour) == 1
        await _wait_offline(api, cp)
        r = await api.delete(path)
        assert r.status_code == 204 and r.content == b""
        # Its readings went with it (no foreign key takes them); the other station's stayed.
        assert (await _meter_value_rows(server, cp), await _meter_value_rows(server, neighbour)) == (0, 1)
        assert (await api.get(path)).status_code == 404
        assert (await api.get(f"/api/v1/evses/{evse['id']}")).status_code == 404  # EVSEs went with it
        assert (await api.get(f"{path}/status-history")).status_code == 404
        assert (await api.delete(path)).status_code == 404
        assert (await api.get("/api/v1/evses", params={"charge_point_id": cp})).json()["data"] == []


async def test_a_station_with_sessions_is_never_deleted(server):
    cp = await server.add_station()
    tag = await server.add_tag()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        start = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": now()})
        await st.ok("StopTransaction", {"transactionId": start["transactionId"], "meterStop": 1500,
                                        "timestamp": now()})
    async with server.api() as api:
        await _wait_offline(api, cp)
        r = await api.delete(f"/api/v1/charge-points/{cp}")
        assert r.status_code == 409, r.text
        assert "has 1 session; set admin_status instead" in r.json()["error"]["message"]
        assert r.json()["error"]["details"] == {"sessions": 1}
        assert (await api.get(f"/api/v1/charge-points/{cp}")).status_code == 200
        r = await api.patch(f"/api/v1/charge-points/{cp}", json={"admin_status": "disabled"})
        assert r.json()["admin_status"] == "disabled"


async def _meter_value_rows(server, cp: str) -> int:
    db = Database(async_database_url(server.env["WATTSON_DATABASE_URL"]))
    try:
        async with db.session() as s:
            return await s.scalar(select(func.count()).select_from(MeterValue).where(MeterValue.charge_point_id == cp))
    finally:
        await db.dispose()


async def _wait_offline(api: httpx.AsyncClient, cp: str) -> None:
    for _ in range(int(READY_BOUND_S / 0.05)):
        if (await api.get(f"/api/v1/charge-points/{cp}")).json()["network_status"] == "offline":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{cp} did not go offline")


async def test_list_filters_and_pages(server):
    async with server.api() as api:
        location = await add_location(api)
        cps = sorted([await server.add_station(location_id=location, admin_status=status)
                      for status in ("enabled", "disabled", "out_of_order", "enabled", "disabled")])
        ids, cursor, pages = [], None, 0
        while True:
            r = await api.get("/api/v1/charge-points",
                              params={"location_id": location, "limit": 2, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200, r.text
            ids += [cp["id"] for cp in r.json()["data"]]
            pages += 1
            cursor = r.json()["next_cursor"]
            if not cursor:
                break
        assert ids == cps and pages == 3

        async def listed(**params) -> list[str]:
            r = await api.get("/api/v1/charge-points", params={"location_id": location, **params})
            assert r.status_code == 200, r.text
            return [cp["id"] for cp in r.json()["data"]]

        by_id = {cp: (await api.get(f"/api/v1/charge-points/{cp}")).json() for cp in cps}
        assert await listed(admin_status="disabled") == [c for c in cps if by_id[c]["admin_status"] == "disabled"]
        assert await listed(admin_status="out_of_order") == [
            c for c in cps if by_id[c]["admin_status"] == "out_of_order"]
        assert await listed(network_status="never_connected") == cps
        async with station(server.ws_url, cps[0]) as st:
            await st.boot()
            assert await listed(network_status="online") == [cps[0]]
        await _wait_offline(api, cps[0])
        assert await listed(network_status="offline") == [cps[0]]
        assert await listed(network_status="online") == []
        for params in ({"admin_status": "broken"}, {"network_status": "away"}, {"location_id": 0},
                       {"location_id": "x"}, {"location_id": 2**40}):
            assert (await api.get("/api/v1/charge-points", params=params)).status_code == 422, params


async def test_roles(server):
    async with server.api() as admin:
        viewer = (await admin.post("/api/v1/api-keys", json={"name": "cp-viewer", "role": "viewer"})).json()["key"]
        operator = (await admin.post("/api/v1/api-keys", json={"name": "cp-op", "role": "operator"})).json()["key"]
    cp = await server.add_station()
    path = f"/api/v1/charge-points/{cp}"
    async with server.api(viewer) as v:
        assert (await v.get(path)).status_code == 200
        assert (await v.get("/api/v1/charge-points", params={"admin_status": "enabled"})).status_code == 200
        assert (await v.patch(path, json={"name": "x"})).status_code == 403
        assert (await v.delete(path)).status_code == 403
    async with server.api(operator) as o:
        assert (await o.patch(path, json={"name": "x"})).status_code == 200
        assert (await o.delete(path)).status_code == 204


async def test_every_endpoint_is_documented_with_examples(server):
    async with httpx.AsyncClient(base_url=server.http_url) as anon:
        spec = (await anon.get("/api/openapi.json")).json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    expected = {
        "/api/v1/locations": {"get", "post"}, "/api/v1/locations/{location_id}": {"get", "patch", "delete"},
        "/api/v1/charge-points": {"get", "post"},
        "/api/v1/charge-points/{charge_point_id}": {"get", "patch", "delete"},
        "/api/v1/charge-points/{charge_point_id}/evses": {"post"},
        "/api/v1/evses": {"get"}, "/api/v1/evses/{evse_id}": {"get", "patch", "delete"},
        "/api/v1/evses/{evse_id}/connectors": {"post"}, "/api/v1/connectors/{connector_id}": {"patch", "delete"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
        for method in methods & {"post", "patch"}:
            ref = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            schema = schemas[ref.rsplit("/", 1)[1]]
            assert schema.get("examples") and schema.get("additionalProperties") is False, (path, method)
        for method in methods & {"delete"}:
            assert "204" in paths[path][method]["responses"], path


async def test_concurrent_creation_gives_one_station_and_conflicts(server):
    cp = unique()
    async with server.api() as api:
        answers = await asyncio.gather(*(api.post("/api/v1/charge-points", json={"id": cp}) for _ in range(6)))
        assert sorted(r.status_code for r in answers) == [201] + [409] * 5, [r.text for r in answers]
