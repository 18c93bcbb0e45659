"""EVSEs and connectors over HTTP: create with connectors, EVSE ID rules, derived hardware status,
update, delete, list with filters and pages, errors and roles; and EVSEs stations report themselves."""

import asyncio
import random

import httpx

from conftest import unique
from ocpp_client import now, station

T2 = {"number": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE"}


def evse_id() -> str:
    """A fresh ISO-form EVSE ID, spelled with separators."""
    return f"DE*W{random.randint(10, 99)}*E{random.randrange(10**12):012d}"


def fields_of(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error" and error["details"], error
    return [d["field"] for d in error["details"]]


async def add_evse(api: httpx.AsyncClient, cp: str, **body) -> dict:
    r = await api.post(f"/api/v1/charge-points/{cp}/evses", json={"number": 1, **body})
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_and_read(server):
    cp = await server.add_station()
    code = evse_id()
    async with server.api() as api:
        evse = await add_evse(api, cp, evse_id=code.lower(), physical_reference="A1", label="Left bay",
                              current_type="AC", max_power_w=22000, max_voltage_v=400, max_amperage_a=32, phases=3,
                              admin_status="disabled", allows_reservation=False,
                              connectors=[T2, {"number": 2, "standard": "DOMESTIC_F", "format": "SOCKET",
                                               "power_type": "AC_1_PHASE"}])
        assert evse["evse_id"] == code  # upper case, separators kept
        assert (evse["charge_point_id"], evse["number"], evse["physical_reference"], evse["label"]) == (
            cp, 1, "A1", "Left bay")
        assert (evse["current_type"], evse["max_power_w"], evse["max_voltage_v"], evse["max_amperage_a"],
                evse["phases"]) == ("AC", 22000, 400, 32, 3)
        assert (evse["admin_status"], evse["allows_reservation"], evse["hardware_status"]) == ("disabled", False, None)
        assert [(c["number"], c["standard"], c["format"], c["power_type"], c["hardware_status"], c["error_code"],
                 c["status_at"]) for c in evse["connectors"]] == [
            (1, "IEC_62196_T2", "SOCKET", "AC_3_PHASE", None, None, None),
            (2, "DOMESTIC_F", "SOCKET", "AC_1_PHASE", None, None, None)]
        assert all(isinstance(c["id"], int) for c in evse["connectors"]) and evse["created_at"] and evse["updated_at"]
        assert (await api.get(f"/api/v1/evses/{evse['id']}")).json() == evse

        dc = await add_evse(api, cp, number=2, current_type="DC", max_power_w=150000)
        assert (dc["evse_id"], dc["connectors"], dc["admin_status"], dc["allows_reservation"]) == (None, [], "enabled",
                                                                                                     True)
        station_out = (await api.get(f"/api/v1/charge-points/{cp}")).json()
        # The station lists its EVSEs with id and evse_id, plus the rest.
        assert [(e["id"], e["number"], e["evse_id"]) for e in station_out["evses"]] == [
            (evse["id"], 1, code), (dc["id"], 2, None)]
        assert station_out["evses"][0] == evse


async def test_evse_ids_are_unique_network_wide_in_any_spelling(server):
    cp1, cp2 = await server.add_station(), await server.add_station()
    code = evse_id()
    async with server.api() as api:
        first = await add_evse(api, cp1, evse_id=code)
        for spelling in (code, code.lower(), code.replace("*", ""), code.replace("*", "", 1)):
            r = await api.post(f"/api/v1/charge-points/{cp2}/evses", json={"number": 1, "evse_id": spelling})
            assert r.status_code == 409, (spelling, r.text)
            error = r.json()["error"]
            assert f"EVSE {first['id']}" in error["message"] and cp1 in error["message"]
            assert (error["details"]["evse"], error["details"]["charge_point_id"]) == (first["id"], cp1)
        second = await add_evse(api, cp2)
        r = await api.patch(f"/api/v1/evses/{second['id']}", json={"evse_id": code.replace("*", "")})
        assert r.status_code == 409 and r.json()["error"]["details"]["evse"] == first["id"]
        # The same EVSE may be given its own ID again, in another spelling.
        r = await api.patch(f"/api/v1/evses/{first['id']}", json={"evse_id": code.replace("*", "").lower()})
        assert r.status_code == 200 and r.json()["evse_id"] == code.replace("*", "")
        # Cleared, the ID is free for another EVSE.
        assert (await api.patch(f"/api/v1/evses/{first['id']}", json={"evse_id": None})).json()["evse_id"] is None
        r = await api.patch(f"/api/v1/evses/{second['id']}", json={"evse_id": code})
        assert r.status_code == 200 and r.json()["evse_id"] == code
        din = "+49*810*" + str(random.randrange(10**9))
        assert (await add_evse(api, cp1, number=2, evse_id=din))["evse_id"] == din


async def test_create_validation_and_conflicts(server):
    cp = await server.add_station()
    async with server.api() as api:
        path = f"/api/v1/charge-points/{cp}/evses"
        cases = [
            ({}, "body.number"),
            ({"number": 0}, "body.number"),
            ({"number": -1}, "body.number"),
            ({"number": 2**31}, "body.number"),
            ({"number": 1, "evse_id": "DE-AB7-E840"}, "body.evse_id"),
            ({"number": 1, "evse_id": "DE*AB7*E*"}, "body.evse_id"),
            ({"number": 1, "evse_id": ""}, "body.evse_id"),
            ({"number": 1, "evse_id": "X" * 49}, "body.evse_id"),
            ({"number": 1, "current_type": "AC/DC"}, "body.current_type"),
            ({"number": 1, "phases": 2}, "body.phases"),
            ({"number": 1, "max_power_w": 0}, "body.max_power_w"),
            ({"number": 1, "max_power_w": 10**12}, "body.max_power_w"),
            ({"number": 1, "max_voltage_v": -230}, "body.max_voltage_v"),
            ({"number": 1, "max_amperage_a": 1.5}, "body.max_amperage_a"),
            ({"number": 1, "admin_status": "maintenance"}, "body.admin_status"),
            ({"number": 1, "allows_reservation": "perhaps"}, "body.allows_reservation"),
            ({"number": 1, "physical_reference": "x" * 17}, "body.physical_reference"),
            ({"number": 1, "label": ""}, "body.label"),
            ({"number": 1, "status": "Available"}, "body.status"),
            ({"number": 1, "connectors": [{"number": 0}]}, "body.connectors.0.number"),
            ({"number": 1, "connectors": [{"standard": "IEC_62196_T2"}]}, "body.connectors.0.number"),
            ({"number": 1, "connectors": [{"number": 1, "standard": "TYPE2"}]}, "body.connectors.0.standard"),
            ({"number": 1, "connectors": [{"number": 1, "format": "PLUG"}]}, "body.connectors.0.format"),
            ({"number": 1, "connectors": [{"number": 1, "power_type": "AC"}]}, "body.connectors.0.power_type"),
            ({"number": 1, "connectors": [{"number": 1, "colour": "blue"}]}, "body.connectors.0.colour"),
            ({"number": 1, "connectors": [T2, T2]}, "body.connectors"),
        ]
        for body, field in cases:
            assert field in fields_of(await api.post(path, json=body)), (body, field)
        r = await api.post(path, json={"number": 1, "evse_id": "DE-AB7-E840"})
        assert "eMI3" in r.json()["error"]["details"][0]["message"]
        assert (await api.get("/api/v1/evses", params={"charge_point_id": cp})).json()["data"] == []  # nothing stored

        await add_evse(api, cp, connectors=[T2])
        dup = await api.post(path, json={"number": 1})
        assert dup.status_code == 409 and "EVSE number 1" in dup.json()["error"]["message"]
        missing = await api.post("/api/v1/charge-points/NOPE-404/evses", json={"number": 1})
        assert missing.status_code == 404


async def test_update_evse(server):
    cp = await server.add_station()
    async with server.api() as api:
        evse = await add_evse(api, cp, label="Left", max_power_w=11000, phases=3, connectors=[T2])
        path = f"/api/v1/evses/{evse['id']}"
        r = await api.patch(path, json={"label": "Right", "admin_status": "out_of_order", "allows_reservation": False,
                                        "current_type": "AC", "max_amperage_a": 16})
        assert r.status_code == 200, r.text
        out = r.json()
        assert (out["label"], out["admin_status"], out["allows_reservation"], out["current_type"],
                out["max_amperage_a"], out["max_power_w"], out["phases"]) == (
            "Right", "out_of_order", False, "AC", 16, 11000, 3)
        assert out["connectors"] == evse["connectors"] and out["number"] == 1
        out = (await api.patch(path, json={"label": None, "max_power_w": None, "phases": None})).json()
        assert (out["label"], out["max_power_w"], out["phases"]) == (None, None, None)
        for body, field in (({"admin_status": None}, "body.admin_status"),
                            ({"allows_reservation": None}, "body.allows_reservation"),
                            ({"evse_id": "nope"}, "body.evse_id"), ({"phases": 2}, "body.phases"),
                            ({"number": 5}, "body.number"), ({"connectors": []}, "body.connectors"),
                            ({"charge_point_id": "other"}, "body.charge_point_id")):
            assert field in fields_of(await api.patch(path, json=body)), body
        assert (await api.patch("/api/v1/evses/2147483000", json={"label": "x"})).status_code == 404
        assert (await api.patch("/api/v1/evses/0", json={"label": "x"})).status_code == 422


async def test_connectors(server):
    cp = await server.add_station()
    async with server.api() as api:
        evse = await add_evse(api, cp, connectors=[T2])
        r = await api.post(f"/api/v1/evses/{evse['id']}/connectors",
                           json={"number": 2, "standard": "IEC_62196_T2_COMBO", "format": "CABLE", "power_type": "DC"})
        assert r.status_code == 201, r.text
        connector = r.json()
        assert (connector["number"], connector["standard"], connector["format"], connector["power_type"],
                connector["hardware_status"]) == (2, "IEC_62196_T2_COMBO", "CABLE", "DC", None)
        dup = await api.post(f"/api/v1/evses/{evse['id']}/connectors", json={"number": 2})
        assert dup.status_code == 409 and dup.json()["error"]["code"] == "conflict"
        assert (await api.post("/api/v1/evses/2147483000/connectors", json={"number": 1})).status_code == 404
        assert "body.number" in fields_of(await api.post(f"/api/v1/evses/{evse['id']}/connectors", json={"number": 0}))
        assert "body.standard" in fields_of(await api.post(f"/api/v1/evses/{evse['id']}/connectors",
                                                           json={"number": 3, "standard": "SCHUKO"}))

        path = f"/api/v1/connectors/{connector['id']}"
        out = (await api.patch(path, json={"standard": "CHADEMO"})).json()
        assert (out["standard"], out["format"], out["power_type"]) == ("CHADEMO", "CABLE", "DC")
        out = (await api.patch(path, json={"format": None})).json()
        assert (out["standard"], out["format"]) == ("CHADEMO", None)
        assert "body.number" in fields_of(await api.patch(path, json={"number": 3}))
        assert "body.power_type" in fields_of(await api.patch(path, json={"power_type": "AC_9_PHASE"}))
        assert (await api.patch("/api/v1/connectors/2147483000", json={"format": None})).status_code == 404
        numbers = [c["number"] for c in (await api.get(f"/api/v1/evses/{evse['id']}")).json()["connectors"]]
        assert numbers == [1, 2]

        r = await api.delete(path)
        assert r.status_code == 204 and r.content == b""
        assert (await api.delete(path)).status_code == 404
        assert [c["number"] for c in (await api.get(f"/api/v1/evses/{evse['id']}")).json()["connectors"]] == [1]


async def test_delete_evse(server):
    cp = await server.add_station()
    tag = await server.add_tag()
    async with server.api() as api:
        evse = await add_evse(api, cp, connectors=[T2])
        other = await add_evse(api, cp, number=2, connectors=[T2])
        async with station(server.ws_url, cp) as st:
            await st.boot()
            start = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                     "timestamp": now()})
            r = await api.delete(f"/api/v1/evses/{evse['id']}")
            assert r.status_code == 409 and "active session" in r.json()["error"]["message"]
            await st.ok("StopTransaction", {"transactionId": start["transactionId"], "meterStop": 10,
                                            "timestamp": now()})
        r = await api.delete(f"/api/v1/evses/{evse['id']}")
        assert r.status_code == 204, r.text
        assert (await api.get(f"/api/v1/evses/{evse['id']}")).status_code == 404
        assert (await api.delete(f"/api/v1/evses/{evse['id']}")).status_code == 404
        assert (await api.patch(f"/api/v1/connectors/{evse['connectors'][0]['id']}", json={})).status_code == 404
        assert [e["id"] for e in (await api.get(f"/api/v1/charge-points/{cp}")).json()["evses"]] == [other["id"]]
        sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]
        assert len(sessions) == 1  # the session outlives its EVSE


async def test_hardware_status_comes_from_the_connectors(server):
    cp = await server.add_station()
    async with server.api() as api:
        evse = await add_evse(api, cp, evse_id=evse_id(), connectors=[T2, {**T2, "number": 2}])
        async with station(server.ws_url, cp) as st:
            await st.boot()
            # 1.6 connectorId 1 is EVSE 1, connector 1: the EVSE created here, not a new one.
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging",
                                               "timestamp": now()})
            # An EVSE the station reports on but nobody created is created for it.
            await st.ok("StatusNotification", {"connectorId": 3, "errorCode": "GroundFailure", "status": "Faulted",
                                               "timestamp": now()})
        out = (await api.get(f"/api/v1/evses/{evse['id']}")).json()
        assert out["hardware_status"] == "Charging" and out["evse_id"] == evse["evse_id"]
        assert [(c["number"], c["hardware_status"], c["standard"]) for c in out["connectors"]] == [
            (1, "Charging", "IEC_62196_T2"), (2, None, "IEC_62196_T2")]
        evses = (await api.get(f"/api/v1/charge-points/{cp}")).json()["evses"]
        assert [(e["number"], e["hardware_status"]) for e in evses] == [(1, "Charging"), (3, "Faulted")]
        reported = evses[1]
        assert (reported["evse_id"], reported["admin_status"], reported["connectors"][0]["error_code"]) == (
            None, "enabled", "GroundFailure")
        # An EVSE a station created can be described afterwards.
        r = await api.patch(f"/api/v1/evses/{reported['id']}", json={"current_type": "DC", "label": "Fast"})
        assert (r.json()["current_type"], r.json()["hardware_status"]) == ("DC", "Faulted")
        r = await api.patch(f"/api/v1/connectors/{reported['connectors'][0]['id']}",
                            json={"standard": "IEC_62196_T2_COMBO", "format": "CABLE", "power_type": "DC"})
        assert (r.json()["standard"], r.json()["hardware_status"]) == ("IEC_62196_T2_COMBO", "Faulted")


async def test_list_filters_and_pages(server):
    async with server.api() as api:
        location = (await api.post("/api/v1/locations", json={"name": unique("Site")})).json()["id"]
        cp1 = await server.add_station(location_id=location)
        cp2 = await server.add_station(location_id=location)
        elsewhere = await server.add_station()
        made = [await add_evse(api, cp, number=n) for cp in (cp1, cp2) for n in (1, 2, 3)]
        await add_evse(api, elsewhere)
        ids, cursor, pages = [], None, 0
        while True:
            r = await api.get("/api/v1/evses",
                              params={"location_id": location, "limit": 4, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200, r.text
            ids += [e["id"] for e in r.json()["data"]]
            pages += 1
            cursor = r.json()["next_cursor"]
            if not cursor:
                break
        assert ids == [e["id"] for e in made] and pages == 2
        r = await api.get("/api/v1/evses", params={"charge_point_id": cp2})
        assert [e["id"] for e in r.json()["data"]] == [e["id"] for e in made[3:]]
        r = await api.get("/api/v1/evses", params={"charge_point_id": cp1, "location_id": location, "limit": 2})
        assert [e["id"] for e in r.json()["data"]] == [e["id"] for e in made[:2]] and r.json()["next_cursor"]
        assert (await api.get("/api/v1/evses", params={"charge_point_id": elsewhere, "location_id": location})
                ).json()["data"] == []
        assert len((await api.get("/api/v1/evses")).json()["data"]) >= 7
        for params in ({"location_id": 0}, {"charge_point_id": "a b"}, {"cursor": "W10"}, {"limit": 501}):
            assert (await api.get("/api/v1/evses", params=params)).status_code == 422, params


async def test_roles(server):
    async with server.api() as admin:
        viewer = (await admin.post("/api/v1/api-keys", json={"name": "evse-viewer", "role": "viewer"})).json()["key"]
        cp = await server.add_station()
        evse = await add_evse(admin, cp, connectors=[T2])
    connector = evse["connectors"][0]["id"]
    async with server.api(viewer) as v:
        assert (await v.get("/api/v1/evses")).status_code == 200
        assert (await v.get(f"/api/v1/evses/{evse['id']}")).status_code == 200
        for r in (await v.post(f"/api/v1/charge-points/{cp}/evses", json={"number": 2}),
                  await v.patch(f"/api/v1/evses/{evse['id']}", json={"label": "x"}),
                  await v.delete(f"/api/v1/evses/{evse['id']}"),
                  await v.post(f"/api/v1/evses/{evse['id']}/connectors", json={"number": 2}),
                  await v.patch(f"/api/v1/connectors/{connector}", json={"format": "CABLE"}),
                  await v.delete(f"/api/v1/connectors/{connector}")):
            assert r.status_code == 403, r.text


async def test_concurrent_writes_give_one_evse_and_conflicts(server):
    cp = await server.add_station()
    code = evse_id()
    async with server.api() as api:
        answers = await asyncio.gather(*(api.post(f"/api/v1/charge-points/{cp}/evses", json={"number": 7})
                                         for _ in range(6)))
        assert sorted(r.status_code for r in answers) == [201] + [409] * 5, [r.text for r in answers]
        others = [await server.add_station() for _ in range(6)]
        answers = await asyncio.gather(*(api.post(f"/api/v1/charge-points/{other}/evses",
                                                  json={"number": 1, "evse_id": code}) for other in others))
        assert sorted(r.status_code for r in answers) == [201] + [409] * 5, [r.text for r in answers]
        assert all(r.json()["error"]["code"] == "conflict" for r in answers if r.status_code == 409)
        evse = next(r.json() for r in answers if r.status_code == 201)
        answers = await asyncio.gather(*(api.post(f"/api/v1/evses/{evse['id']}/connectors", json={"number": 4})
                                         for _ in range(6)))
        assert sorted(r.status_code for r in answers) == [201] + [409] * 5, [r.text for r in answers]
