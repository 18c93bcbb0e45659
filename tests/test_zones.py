"""Charging zones and parking spaces over HTTP: within locations, EVSEs placed in them, lists with
filters and pages, bad input (422/404/409); and the EVSE fields of seed 001."""

import httpx

from conftest import unique

T2 = {"number": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE"}


def error_of(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    return r.json()["error"]


def fields_of(r: httpx.Response) -> list[str]:
    return [d["field"] for d in error_of(r, 422)["details"]]


async def created(r: httpx.Response) -> dict:
    assert r.status_code == 201, r.text
    return r.json()


async def site(api: httpx.AsyncClient) -> int:
    return (await created(await api.post("/api/v1/locations", json={"name": unique("Site")})))["id"]


async def station_with_evse(server, api: httpx.AsyncClient, location_id: int | None, **evse) -> dict:
    cp = await server.add_station(**({"location_id": location_id} if location_id else {}))
    return await created(await api.post(f"/api/v1/charge-points/{cp}/evses",
                                        json={"number": 1, "connectors": [T2], **evse}))


async def test_zones_within_a_location(server):
    async with server.api() as api:
        location = await site(api)
        zone = await created(await api.post("/api/v1/charging-zones", json={
            "location_id": location, "name": " Level -1 ", "floor": "-1", "description": "Left ramp\nthen right"}))
        assert (zone["name"], zone["floor"], zone["description"]) == ("Level -1", "-1", "Left ramp\nthen right")
        assert (zone["location_id"], zone["parking_space_ids"], zone["evse_ids"]) == (location, [], [])
        second = await created(await api.post("/api/v1/charging-zones", json={"location_id": location,
                                                                              "name": "Hall B"}))
        assert (await api.get(f"/api/v1/charging-zones/{zone['id']}")).json() == zone

        # the location's read shows its zones
        r = await api.get(f"/api/v1/locations/{location}")
        assert r.json()["zones"] == [{"id": zone["id"], "name": "Level -1", "floor": "-1"},
                                     {"id": second["id"], "name": "Hall B", "floor": None}]

        # list: by location, by floor, in pages
        r = await api.get("/api/v1/charging-zones", params={"location_id": location, "limit": 1})
        page = r.json()
        assert [z["id"] for z in page["data"]] == [zone["id"]] and page["next_cursor"]
        r = await api.get("/api/v1/charging-zones", params={"location_id": location, "cursor": page["next_cursor"]})
        assert [z["id"] for z in r.json()["data"]] == [second["id"]] and r.json()["next_cursor"] is None
        r = await api.get("/api/v1/charging-zones", params={"location_id": location, "floor": "-1"})
        assert [z["id"] for z in r.json()["data"]] == [zone["id"]]

        r = await api.patch(f"/api/v1/charging-zones/{zone['id']}", json={"floor": None, "name": "Level minus one"})
        assert r.status_code == 200 and (r.json()["floor"], r.json()["name"]) == (None, "Level minus one")

        # bad input
        assert error_of(await api.post("/api/v1/charging-zones", json={"location_id": location, "name": "Hall B"}),
                        409)["code"] == "conflict"
        assert error_of(await api.patch(f"/api/v1/charging-zones/{zone['id']}", json={"name": "Hall B"}),
                        409)["code"] == "conflict"
        assert fields_of(await api.post("/api/v1/charging-zones", json={"location_id": 2**31 - 1,
                                                                        "name": "X"})) == ["body.location_id"]
        assert "body.name" in fields_of(await api.post("/api/v1/charging-zones", json={"location_id": location,
                                                                                       "name": "  "}))
        assert fields_of(await api.patch(f"/api/v1/charging-zones/{zone['id']}", json={"name": None})) == [
            "body.name"]
        assert error_of(await api.patch(f"/api/v1/charging-zones/{zone['id']}", json={"location_id": 1}),
                        422)["code"] == "validation_error"  # a zone stays at its location
        assert error_of(await api.get("/api/v1/charging-zones/2147483647"), 404)["code"] == "not_found"
        assert error_of(await api.get("/api/v1/charging-zones", params={"cursor": "bad"}), 422)
        assert error_of(await api.get("/api/v1/charging-zones", params={"floor": "a\x00"}), 422)

        assert (await api.delete(f"/api/v1/charging-zones/{second['id']}")).status_code == 204
        assert error_of(await api.get(f"/api/v1/charging-zones/{second['id']}"), 404)

        # a location without charge points goes with its zones and bays
        bay = await created(await api.post("/api/v1/parking-spaces", json={"zone_id": zone["id"], "label": "1"}))
        assert (await api.delete(f"/api/v1/locations/{location}")).status_code == 204
        assert error_of(await api.get(f"/api/v1/charging-zones/{zone['id']}"), 404)
        assert error_of(await api.get(f"/api/v1/parking-spaces/{bay['id']}"), 404)


async def test_parking_spaces_and_evses_placed_there(server):
    async with server.api() as api:
        location, elsewhere = await site(api), await site(api)
        zone = await created(await api.post("/api/v1/charging-zones", json={"location_id": location, "name": "P1"}))
        bay = await created(await api.post("/api/v1/parking-spaces", json={
            "zone_id": zone["id"], "label": "B-12", "type": "ev_only"}))
        assert (bay["location_id"], bay["zone_id"], bay["label"], bay["type"], bay["floor"], bay["evse_ids"]) == (
            location, zone["id"], "B-12", "ev_only", None, [])
        loose = await created(await api.post("/api/v1/parking-spaces", json={
            "location_id": location, "label": "7", "floor": "0", "type": "disabled"}))
        assert (loose["zone_id"], loose["type"]) == (None, "disabled")

        # an EVSE placed at a bay in a zone is in that zone
        evse = await station_with_evse(server, api, location, parking_space_id=bay["id"])
        assert (evse["parking_space_id"], evse["zone_id"]) == (bay["id"], zone["id"])
        assert (await api.get(f"/api/v1/parking-spaces/{bay['id']}")).json()["evse_ids"] == [evse["id"]]
        r = await api.get(f"/api/v1/charging-zones/{zone['id']}")
        assert (r.json()["parking_space_ids"], r.json()["evse_ids"]) == ([bay["id"]], [evse["id"]])

        # moved to the loose bay through its own PATCH, it keeps its zone (same location)
        r = await api.patch(f"/api/v1/evses/{evse['id']}", json={"parking_space_id": loose["id"]})
        assert r.status_code == 200 and (r.json()["parking_space_id"], r.json()["zone_id"]) == (loose["id"], zone["id"])
        # another zone with a bay that lies in P1: refused
        other_zone = await created(await api.post("/api/v1/charging-zones", json={"location_id": location,
                                                                                  "name": "P2"}))
        r = await api.patch(f"/api/v1/evses/{evse['id']}", json={"zone_id": other_zone["id"],
                                                                 "parking_space_id": bay["id"]})
        assert fields_of(r) == ["body.parking_space_id"]

        # the bay's evse_ids replace those placed there; a second EVSE joins
        second = await station_with_evse(server, api, location)
        r = await api.patch(f"/api/v1/parking-spaces/{bay['id']}", json={"evse_ids": [evse["id"], second["id"]]})
        assert r.status_code == 200 and r.json()["evse_ids"] == [evse["id"], second["id"]]
        for placed in (evse, second):
            r = await api.get(f"/api/v1/evses/{placed['id']}")
            assert (r.json()["parking_space_id"], r.json()["zone_id"]) == (bay["id"], zone["id"])
        assert (await api.get(f"/api/v1/parking-spaces/{loose['id']}")).json()["evse_ids"] == []
        r = await api.patch(f"/api/v1/parking-spaces/{bay['id']}", json={"evse_ids": [second["id"]]})
        assert r.json()["evse_ids"] == [second["id"]]
        assert (await api.get(f"/api/v1/evses/{evse['id']}")).json()["parking_space_id"] is None

        # filters and pages
        r = await api.get("/api/v1/parking-spaces", params={"location_id": location, "limit": 1})
        assert [s["id"] for s in r.json()["data"]] == [bay["id"]]
        r = await api.get("/api/v1/parking-spaces", params={"location_id": location, "cursor": r.json()["next_cursor"]})
        assert [s["id"] for s in r.json()["data"]] == [loose["id"]] and r.json()["next_cursor"] is None
        for params, ids in (({"zone_id": zone["id"]}, [bay["id"]]), ({"type": "disabled", "location_id": location},
                            [loose["id"]]), ({"evse_id": second["id"]}, [bay["id"]]),
                            ({"floor": "0", "location_id": location}, [loose["id"]])):
            assert [s["id"] for s in (await api.get("/api/v1/parking-spaces", params=params)).json()["data"]] == ids

        # bad input
        outsider = await station_with_evse(server, api, elsewhere)
        r = await api.patch(f"/api/v1/evses/{outsider['id']}", json={"parking_space_id": bay["id"]})
        assert fields_of(r) == ["body.parking_space_id"] and f"location {elsewhere}" in r.json()["error"]["message"]
        assert fields_of(await api.patch(f"/api/v1/parking-spaces/{bay['id']}",
                                         json={"evse_ids": [outsider["id"]]})) == ["body.evse_ids"]
        nowhere = await station_with_evse(server, api, None)
        assert fields_of(await api.patch(f"/api/v1/evses/{nowhere['id']}", json={"zone_id": zone["id"]})) == [
            "body.zone_id"]
        assert fields_of(await api.patch(f"/api/v1/evses/{evse['id']}", json={"zone_id": 2**31 - 1})) == [
            "body.zone_id"]
        assert fields_of(await api.patch(f"/api/v1/evses/{evse['id']}", json={"parking_space_id": 2**31 - 1})) == [
            "body.parking_space_id"]
        assert fields_of(await api.post("/api/v1/parking-spaces", json={"label": "X"})) == ["body.location_id"]
        assert fields_of(await api.post("/api/v1/parking-spaces", json={"location_id": elsewhere, "zone_id": zone["id"],
                                                                        "label": "X"})) == ["body.zone_id"]
        assert fields_of(await api.post("/api/v1/parking-spaces", json={"location_id": location, "label": "X",
                                                                        "evse_ids": [2**31 - 1]})) == ["body.evse_ids"]
        assert error_of(await api.post("/api/v1/parking-spaces", json={"location_id": location, "label": "X",
                                                                       "evse_ids": [1, 1]}), 422)
        assert error_of(await api.post("/api/v1/parking-spaces", json={"location_id": location, "label": "X",
                                                                       "type": "valet"}), 422)
        assert error_of(await api.post("/api/v1/parking-spaces", json={"location_id": location, "label": "7"}),
                        409)["code"] == "conflict"
        assert error_of(await api.patch(f"/api/v1/parking-spaces/{bay['id']}", json={"label": "7"}), 409)
        assert fields_of(await api.patch(f"/api/v1/parking-spaces/{bay['id']}", json={"type": None})) == ["body.type"]
        assert error_of(await api.get("/api/v1/parking-spaces/2147483647"), 404)["code"] == "not_found"
        assert error_of(await api.get("/api/v1/parking-spaces", params={"type": "valet"}), 422)

        # a zone with bays is not deleted; a bay's EVSEs stay in the zone when it goes
        r = await api.delete(f"/api/v1/charging-zones/{zone['id']}")
        assert error_of(r, 409)["details"] == {"parking_spaces": 1}
        assert (await api.delete(f"/api/v1/parking-spaces/{bay['id']}")).status_code == 204
        r = await api.get(f"/api/v1/evses/{second['id']}")
        assert (r.json()["parking_space_id"], r.json()["zone_id"]) == (None, zone["id"])
        # a bay taken out of the zone, then the zone deleted: its EVSEs are in no zone
        r = await api.patch(f"/api/v1/parking-spaces/{loose['id']}", json={"zone_id": other_zone["id"]})
        assert r.status_code == 200 and r.json()["zone_id"] == other_zone["id"]
        assert (await api.delete(f"/api/v1/charging-zones/{zone['id']}")).status_code == 204
        assert (await api.get(f"/api/v1/evses/{second['id']}")).json()["zone_id"] is None

        # a charge point that moves to another location leaves its zones and bays behind
        r = await api.patch(f"/api/v1/evses/{second['id']}", json={"parking_space_id": loose["id"]})
        assert r.json()["zone_id"] == other_zone["id"]
        r = await api.patch(f"/api/v1/charge-points/{second['charge_point_id']}", json={"location_id": elsewhere})
        assert r.status_code == 200, r.text
        evse_now = [e for e in r.json()["evses"] if e["id"] == second["id"]][0]
        assert (evse_now["zone_id"], evse_now["parking_space_id"]) == (None, None)


async def test_zones_and_bays_need_an_operator(server):
    async with server.api() as api:
        location = await site(api)
        r = await api.post("/api/v1/api-keys", json={"name": unique("viewer"), "role": "viewer"})
        viewer = r.json()["key"]
    async with server.api(viewer) as api:
        assert (await api.get("/api/v1/charging-zones")).status_code == 200
        assert (await api.post("/api/v1/charging-zones", json={"location_id": location, "name": "Z"})).status_code == 403
        assert (await api.post("/api/v1/parking-spaces", json={"location_id": location, "label": "1"})).status_code == 403


async def test_evse_fields_of_seed_001(server):
    async with server.api() as api:
        evse = await station_with_evse(server, api, None, max_power_w=22000, external_id="AMP-4711",
                                       mid_meter_certification_end_year=2031, phase_rotation="RST")
        assert (evse["max_power_w"], evse["max_power_kw"]) == (22000, 22.0)
        assert (evse["external_id"], evse["tariff_group_id"], evse["mid_meter_certification_end_year"]) == (
            "AMP-4711", None, 2031)  # tariff groups themselves: tests/test_tariff_groups.py
        assert (evse["phase_rotation"], evse["lifecycle"]) == ("RST", "commissioned")
        r = await api.patch(f"/api/v1/evses/{evse['id']}", json={"max_power_w": 7400, "external_id": None,
                                                                 "lifecycle": "retired"})
        body = r.json()
        assert (body["max_power_kw"], body["external_id"], body["lifecycle"]) == (7.4, None, "retired")
        r = await api.patch(f"/api/v1/evses/{evse['id']}", json={"max_power_w": None})
        assert r.json()["max_power_kw"] is None
        for bad in ({"lifecycle": None}, {"lifecycle": "scrapped"}, {"mid_meter_certification_end_year": 1999},
                    {"tariff_group_id": 0}, {"external_id": ""}):
            assert error_of(await api.patch(f"/api/v1/evses/{evse['id']}", json=bad), 422)["code"] == \
                "validation_error", bad
