"""Locations over HTTP: create, read, update, delete, list with filters and pages, errors, roles."""

import httpx

from conftest import unique

HOURS = {
    "twentyfourseven": False,
    "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"},
                      {"weekday": 6, "period_begin": "09:30", "period_end": "13:00"}],
    "exceptional_openings": [{"period_begin": "2025-06-21T09:00:00", "period_end": "2025-06-21T12:00:00+02:00"}],
    "exceptional_closings": [{"period_begin": "2025-12-25T00:00:00Z", "period_end": "2025-12-26T00:00:00Z"}],
}


async def add_location(api: httpx.AsyncClient, **body) -> dict:
    r = await api.post("/api/v1/locations", json={"name": unique("Site"), **body})
    assert r.status_code == 201, r.text
    return r.json()


def fields_of(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error" and error["details"], error
    return [d["field"] for d in error["details"]]


async def test_create_read_and_defaults(server):
    async with server.api() as api:
        minimal = await add_location(api)
        assert (minimal["time_zone"], minimal["publish"], minimal["charge_point_ids"]) == ("UTC", True, [])
        assert minimal["country"] is None and minimal["opening_hours"] is None and minimal["latitude"] is None
        assert minimal["created_at"].endswith("Z") and minimal["updated_at"].endswith("Z")

        full = await add_location(api, name="  Depot North  ", street="Hafenstraße", house_number="12a",
                                  building_number="B", postal_code="20457", city="Hamburg", country="de",
                                  latitude=53.5413, longitude=-9.9846, time_zone="europe/berlin",
                                  opening_hours=HOURS, parking_type="PARKING_LOT", publish=False)
        assert full["name"] == "Depot North"  # trimmed
        assert (full["country"], full["time_zone"]) == ("DEU", "Europe/Berlin")  # alpha-3, canonical spelling
        assert (full["latitude"], full["longitude"], full["parking_type"]) == (53.5413, -9.9846, "PARKING_LOT")
        assert (full["street"], full["house_number"], full["building_number"], full["postal_code"], full["city"]) == (
            "Hafenstraße", "12a", "B", "20457", "Hamburg")
        hours = full["opening_hours"]
        assert hours["regular_hours"] == HOURS["regular_hours"] and hours["twentyfourseven"] is False
        # Exceptions are UTC: zone-less input is UTC, others are converted.
        assert hours["exceptional_openings"] == [{"period_begin": "2025-06-21T09:00:00Z",
                                                  "period_end": "2025-06-21T10:00:00Z"}]
        assert hours["exceptional_closings"] == [{"period_begin": "2025-12-25T00:00:00Z",
                                                  "period_end": "2025-12-26T00:00:00Z"}]
        assert full["publish"] is False

        r = await api.get(f"/api/v1/locations/{full['id']}")
        assert r.status_code == 200 and r.json() == full
        assert (await add_location(api, country="NLD", opening_hours={"twentyfourseven": True}))["country"] == "NLD"


async def test_validation_errors_name_the_field(server):
    base = {"name": "Site"}
    cases = [
        ({}, "body.name"),
        ({"name": ""}, "body.name"),
        ({"name": "   "}, "body.name"),
        ({"name": "x" * 256}, "body.name"),
        ({"name": "a\u0000b"}, "body.name"),
        ({**base, "city": "x" * 101}, "body.city"),
        ({**base, "postal_code": "1" * 21}, "body.postal_code"),
        ({**base, "country": "ZZ"}, "body.country"),
        ({**base, "country": "Germany"}, "body.country"),
        ({**base, "latitude": 90.5, "longitude": 0}, "body.latitude"),
        ({**base, "latitude": 0, "longitude": -180.01}, "body.longitude"),
        ({**base, "latitude": 52.5}, "body.longitude"),
        ({**base, "longitude": 13.4}, "body.latitude"),
        ({**base, "latitude": "north", "longitude": 1}, "body.latitude"),
        ({**base, "time_zone": "Mars/Olympus"}, "body.time_zone"),
        ({**base, "time_zone": None}, "body.time_zone"),
        ({**base, "parking_type": "ROOFTOP"}, "body.parking_type"),
        ({**base, "publish": "sometimes"}, "body.publish"),
        ({**base, "colour": "red"}, "body.colour"),
        ({**base, "opening_hours": {"regular_hours": []}}, "body.opening_hours.twentyfourseven"),
        ({**base, "opening_hours": {"twentyfourseven": True, "regular_hours": HOURS["regular_hours"]}},
         "body.opening_hours"),
        ({**base, "opening_hours": {"twentyfourseven": False, "regular_hours": [
            {"weekday": 8, "period_begin": "08:00", "period_end": "09:00"}]}},
         "body.opening_hours.regular_hours.0.weekday"),
        ({**base, "opening_hours": {"twentyfourseven": False, "regular_hours": [
            {"weekday": 1, "period_begin": "24:00", "period_end": "09:00"}]}},
         "body.opening_hours.regular_hours.0.period_begin"),
        ({**base, "opening_hours": {"twentyfourseven": False, "regular_hours": [
            {"weekday": 1, "period_begin": "8:00", "period_end": "09:00"}]}},
         "body.opening_hours.regular_hours.0.period_begin"),
        ({**base, "opening_hours": {"twentyfourseven": False, "regular_hours": [
            {"weekday": 1, "period_begin": "18:00", "period_end": "08:00"}]}},
         "body.opening_hours.regular_hours.0"),
        ({**base, "opening_hours": {"twentyfourseven": False, "regular_hours": [
            {"weekday": 1, "period_begin": "08:00", "period_end": "08:00"}]}},
         "body.opening_hours.regular_hours.0"),
        ({**base, "opening_hours": {"twentyfourseven": True, "exceptional_closings": [
            {"period_begin": "2025-01-02T00:00:00Z", "period_end": "2025-01-01T00:00:00Z"}]}},
         "body.opening_hours.exceptional_closings.0"),
        ({**base, "opening_hours": {"twentyfourseven": True, "exceptional_openings": [
            {"period_begin": "0001-01-01T00:00:00+01:00", "period_end": "2025-01-01T00:00:00Z"}]}},
         "body.opening_hours.exceptional_openings.0.period_begin"),
        ({**base, "opening_hours": {"twentyfourseven": True, "exceptional_openings": [
            {"period_begin": "someday", "period_end": "2025-01-01T00:00:00Z"}]}},
         "body.opening_hours.exceptional_openings.0.period_begin"),
        ({**base, "opening_hours": {"twentyfourseven": True, "notes": "closed on Sundays"}},
         "body.opening_hours.notes"),
    ]
    async with server.api() as api:
        for body, field in cases:
            r = await api.post("/api/v1/locations", json=body)
            assert field in fields_of(r), (body, r.text)
        r = await api.post("/api/v1/locations", json={**base, "latitude": 52.5})
        assert "both or neither" in r.json()["error"]["message"]
        r = await api.post("/api/v1/locations", json={**base, "time_zone": "Mars/Olympus"})
        assert "IANA" in r.json()["error"]["details"][0]["message"]
        r = await api.post("/api/v1/locations", json={**base, "opening_hours": {
            "twentyfourseven": True, "regular_hours": HOURS["regular_hours"]}})
        assert "twentyfourseven" in r.json()["error"]["details"][0]["message"]
        r = await api.post("/api/v1/locations", content=b"{oops", headers={"content-type": "application/json"})
        assert r.status_code == 422
        for path in ("/api/v1/locations/0", "/api/v1/locations/abc", "/api/v1/locations/99999999999"):
            assert (await api.get(path)).status_code == 422, path
        for params in ({"country": "ZZ"}, {"publish": "maybe"}, {"limit": 0}, {"cursor": "garbage"}, {"city": ""}):
            assert (await api.get("/api/v1/locations", params=params)).status_code == 422, params


async def test_update(server):
    async with server.api() as api:
        loc = await add_location(api, city="Utrecht", country="NL", latitude=52.09, longitude=5.12,
                                 opening_hours={"twentyfourseven": True}, parking_type="ON_STREET")
        path = f"/api/v1/locations/{loc['id']}"
        r = await api.patch(path, json={"name": "Utrecht Centraal", "country": "bel", "publish": False})
        assert r.status_code == 200, r.text
        out = r.json()
        assert (out["name"], out["country"], out["publish"]) == ("Utrecht Centraal", "BEL", False)
        assert (out["city"], out["latitude"], out["parking_type"]) == ("Utrecht", 52.09, "ON_STREET")  # untouched
        assert out["updated_at"] >= loc["updated_at"] and out["created_at"] == loc["created_at"]

        out = (await api.patch(path, json={"latitude": -33.9})).json()  # one of a stored pair
        assert (out["latitude"], out["longitude"]) == (-33.9, 5.12)
        out = (await api.patch(path, json={"city": None, "opening_hours": None, "parking_type": None,
                                           "latitude": None, "longitude": None})).json()
        assert (out["city"], out["opening_hours"], out["parking_type"], out["latitude"]) == (None, None, None, None)
        out = (await api.patch(path, json={"time_zone": "asia/tokyo", "opening_hours": HOURS})).json()
        assert out["time_zone"] == "Asia/Tokyo" and out["opening_hours"]["regular_hours"] == HOURS["regular_hours"]
        assert (await api.patch(path, json={})).json()["name"] == "Utrecht Centraal"  # nothing sent, nothing changed

        assert "body.longitude" in fields_of(await api.patch(path, json={"latitude": 1.0}))  # pair incomplete
        await api.patch(path, json={"latitude": 1.0, "longitude": 2.0})
        assert "body.latitude" in fields_of(await api.patch(path, json={"latitude": None}))
        for body, field in (({"name": None}, "body.name"), ({"time_zone": None}, "body.time_zone"),
                            ({"publish": None}, "body.publish"), ({"country": "XX"}, "body.country"),
                            ({"id": 5}, "body.id"), ({"created_at": "2020-01-01T00:00:00Z"}, "body.created_at")):
            assert field in fields_of(await api.patch(path, json=body)), body
        assert (await api.get(path)).json()["latitude"] == 1.0  # refused changes left it as it was

        missing = await api.patch("/api/v1/locations/2147483000", json={"name": "x"})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_delete_is_refused_while_charge_points_stand_there(server):
    async with server.api() as api:
        loc = await add_location(api)
        path = f"/api/v1/locations/{loc['id']}"
        cps = sorted([await server.add_station(location_id=loc["id"]) for _ in range(2)])
        assert (await api.get(path)).json()["charge_point_ids"] == cps
        r = await api.delete(path)
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
        assert "2 charge points" in r.json()["error"]["message"] and r.json()["error"]["details"]["charge_points"] == 2
        await api.patch(f"/api/v1/charge-points/{cps[0]}", json={"location_id": None})
        assert (await api.get(path)).json()["charge_point_ids"] == [cps[1]]
        assert "1 charge point;" in (await api.delete(path)).json()["error"]["message"]
        assert (await api.delete(f"/api/v1/charge-points/{cps[1]}")).status_code == 204
        r = await api.delete(path)
        assert r.status_code == 204 and r.content == b""
        assert (await api.get(path)).status_code == 404
        assert (await api.delete(path)).status_code == 404
        assert (await api.get(f"/api/v1/charge-points/{cps[0]}")).json()["location_id"] is None


async def test_list_pages_and_filters(server):
    city = unique("City")
    async with server.api() as api:
        created = [await add_location(api, city=city, country="DE" if i % 2 else "FR", publish=i % 3 != 0)
                   for i in range(7)]
        ids, cursor, pages = [], None, 0
        while True:
            params = {"limit": 3, "city": city.upper(), **({"cursor": cursor} if cursor else {})}  # city: any case
            r = await api.get("/api/v1/locations", params=params)
            assert r.status_code == 200, r.text
            page = r.json()
            assert len(page["data"]) <= 3
            ids += [loc["id"] for loc in page["data"]]
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert ids == [loc["id"] for loc in created] and pages == 3

        async def listed(**params) -> list[int]:
            r = await api.get("/api/v1/locations", params={"city": city, **params})
            assert r.status_code == 200, r.text
            return [loc["id"] for loc in r.json()["data"]]

        assert await listed(country="de") == [loc["id"] for loc in created if loc["country"] == "DEU"]
        assert await listed(country="FRA") == [loc["id"] for loc in created if loc["country"] == "FRA"]
        assert await listed(publish="false") == [loc["id"] for loc in created if not loc["publish"]]
        assert await listed(publish="true", country="DEU") == [
            loc["id"] for loc in created if loc["publish"] and loc["country"] == "DEU"]
        assert await listed(country="NL") == []
        cp = await server.add_station(location_id=created[0]["id"])
        r = await api.get("/api/v1/locations", params={"city": city, "limit": 1})
        assert r.json()["data"][0]["charge_point_ids"] == [cp]


async def test_roles(server):
    async with server.api() as admin:
        viewer = (await admin.post("/api/v1/api-keys", json={"name": "loc-viewer", "role": "viewer"})).json()["key"]
        operator = (await admin.post("/api/v1/api-keys", json={"name": "loc-op", "role": "operator"})).json()["key"]
        loc = await add_location(admin)
    path = f"/api/v1/locations/{loc['id']}"
    async with server.api(viewer) as v:
        assert (await v.get("/api/v1/locations")).status_code == 200
        assert (await v.get(path)).status_code == 200
        for r in (await v.post("/api/v1/locations", json={"name": "x"}), await v.patch(path, json={"name": "x"}),
                  await v.delete(path)):
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    async with server.api(operator) as o:
        assert (await o.patch(path, json={"name": "renamed"})).json()["name"] == "renamed"
        assert (await o.delete(path)).status_code == 204
    async with httpx.AsyncClient(base_url=server.http_url) as anon:
        assert (await anon.get("/api/v1/locations")).status_code == 401
