"""Downtime over HTTP (issue 20), on SQLite and PostgreSQL: periods entered by hand (create, read,
change, delete, filters, cursor, bad input), periods computed from what a real 1.6 station reports
(Faulted/Unavailable statuses with their own timestamps, a disconnect), the availability figure
per EVSE, charge point and location with planned downtime left out, and downtime notices."""

from datetime import datetime, timedelta, timezone

from conftest import unique, until
from dashboard_kit import logged_in
from ocpp_client import station


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def error_fields(r) -> list[str]:
    assert r.status_code == 422, r.text
    return [d["field"] for d in r.json()["error"]["details"]]


async def add_evse(api, cp: str, number: int = 1) -> int:
    r = await api.post(f"/api/v1/charge-points/{cp}/evses", json={"number": number})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def periods(api, **params) -> list[dict]:
    r = await api.get("/api/v1/downtime-periods", params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


# --- manual periods --------------------------------------------------------------------------------
async def test_manual_periods_are_created_read_changed_and_deleted(server):
    cp = await server.add_station()
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    async with server.api() as api:
        evse = await add_evse(api, cp)
        r = await api.post("/api/v1/downtime-periods", json={
            "charge_point_id": cp, "evse_id": evse, "kind": "planned_maintenance", "reason": "cable replaced",
            "starts_at": iso(start), "ends_at": iso(start + timedelta(hours=4))})
        assert r.status_code == 201, r.text
        period = r.json()
        assert (period["source"], period["planned"], period["evse"], period["reason"]) == ("manual", True, 1,
                                                                                           "cable replaced")
        assert when(period["starts_at"]) == start and when(period["ends_at"]) == start + timedelta(hours=4)
        assert (await api.get(f"/api/v1/downtime-periods/{period['id']}")).json() == period
        # an outage of the whole charge point, open-ended: not planned by default
        r = await api.post("/api/v1/downtime-periods", json={"charge_point_id": cp, "starts_at": iso(start)})
        assert r.status_code == 201, r.text
        outage = r.json()
        assert (outage["kind"], outage["planned"], outage["evse_id"], outage["ends_at"]) == ("outage", False, None,
                                                                                             None)
        # the default listing looks a year ahead; the latest start first, then by source and id
        listed = await periods(api, charge_point_id=cp)
        assert [p["id"] for p in listed] == [outage["id"], period["id"]]
        assert [p["id"] for p in await periods(api, charge_point_id=cp, planned="true")] == [period["id"]]
        assert [p["id"] for p in await periods(api, evse_id=evse)] == [outage["id"], period["id"]]
        assert [p["id"] for p in await periods(api, charge_point_id=cp, kind="outage", source="manual")] == \
            [outage["id"]]
        assert await periods(api, charge_point_id=cp, source="computed") == []
        assert await periods(api, charge_point_id=cp, to=iso(start)) == []  # begun at `to`: not before it
        # pages of one
        r = await api.get("/api/v1/downtime-periods", params={"charge_point_id": cp, "limit": 1})
        first = r.json()
        assert [p["id"] for p in first["data"]] == [outage["id"]] and first["next_cursor"]
        r = await api.get("/api/v1/downtime-periods", params={"charge_point_id": cp, "limit": 1,
                                                              "cursor": first["next_cursor"]})
        assert [p["id"] for p in r.json()["data"]] == [period["id"]] and r.json()["next_cursor"] is None
        # changes: only the fields sent; null clears ends_at and evse_id
        r = await api.patch(f"/api/v1/downtime-periods/{period['id']}", json={"reason": "connector replaced",
                                                                              "ends_at": None, "evse_id": None})
        assert r.status_code == 200, r.text
        changed = r.json()
        assert (changed["reason"], changed["ends_at"], changed["evse_id"], changed["kind"]) == \
            ("connector replaced", None, None, "planned_maintenance")
        r = await api.delete(f"/api/v1/downtime-periods/{period['id']}")
        assert r.status_code == 204
        assert (await api.get(f"/api/v1/downtime-periods/{period['id']}")).status_code == 404
        assert (await api.delete(f"/api/v1/downtime-periods/{period['id']}")).status_code == 404
        assert (await api.patch(f"/api/v1/downtime-periods/{period['id']}", json={})).status_code == 404


async def test_bad_periods_are_refused_with_the_field(server):
    cp, other = await server.add_station(), await server.add_station()
    at = iso(datetime.now(timezone.utc))
    async with server.api() as api:
        evse = await add_evse(api, other)
        post = lambda body: api.post("/api/v1/downtime-periods", json={"charge_point_id": cp, "starts_at": at,
                                                                       **body})
        assert error_fields(await post({"ends_at": at})) == ["body.ends_at"]
        assert error_fields(await post({"charge_point_id": unique()})) == ["body.charge_point_id"]
        assert error_fields(await post({"evse_id": evse})) == ["body.evse_id"]  # another station's
        assert error_fields(await post({"evse_id": 2**31 - 1})) == ["body.evse_id"]
        assert error_fields(await post({"evse_id": 2**31})) == ["body.evse_id"]
        assert error_fields(await post({"kind": "holiday"})) == ["body.kind"]
        assert error_fields(await post({"starts_at": "yesterday"})) == ["body.starts_at"]
        assert error_fields(await post({"colour": "red"})) == ["body.colour"]
        assert error_fields(await post({"reason": "x" * 1001})) == ["body.reason"]
        r = await post({})
        assert r.status_code == 201, r.text
        assert [p["id"] for p in await periods(api, charge_point_id=cp)] == [r.json()["id"]]
        assert await periods(api, charge_point_id=cp, evse_id=evse) == []  # another station's EVSE: nothing
        path = f"/api/v1/downtime-periods/{r.json()['id']}"
        assert (await api.patch(path, json={"starts_at": None})).status_code == 422
        assert error_fields(await api.patch(path, json={"ends_at": "2000-01-01T00:00:00Z"})) == ["body.ends_at"]
        assert error_fields(await api.patch(path, json={"charge_point_id": other})) == ["body.charge_point_id"]
        assert (await api.get("/api/v1/downtime-periods/0")).status_code == 422
        assert (await api.get("/api/v1/downtime-periods/abc")).status_code == 422
        r = await api.get("/api/v1/downtime-periods", params={"cursor": "bm90LWEtY3Vyc29y"})
        assert error_fields(r) == ["cursor"]
        r = await api.get("/api/v1/downtime-periods", params={"from": at, "to": at})
        assert error_fields(r) == ["to"]
        assert (await api.get("/api/v1/downtime-periods", params={"source": "guess"})).status_code == 422


# --- computed from the history, and the figure -----------------------------------------------------
async def test_reported_faults_are_downtime_and_planned_maintenance_is_left_out(server):
    """Over nine hours: EVSE 1 Faulted for two hours (one of them within 1.5 h of planned
    maintenance), the station Unavailable for half an hour: 1.5 h unplanned of 7.5 h, 80 %."""
    cp = await server.add_station()
    t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=10)
    at = lambda hours: t0 + timedelta(hours=hours)  # noqa: E731
    async with station(server.ws_url, cp) as st:
        await st.boot()
        for connector, status, error, hours in ((1, "Available", "NoError", 0), (1, "Faulted", "GroundFailure", 4),
                                                (1, "Available", "NoError", 6), (0, "Unavailable", "NoError", 7),
                                                (0, "Available", "NoError", 7.5)):
            assert await st.ok("StatusNotification", {"connectorId": connector, "status": status,
                                                      "errorCode": error, "timestamp": iso(at(hours))}) == {}
    async with server.api() as api:
        evse = (await api.get("/api/v1/evses", params={"charge_point_id": cp})).json()["data"][0]["id"]
        r = await api.post("/api/v1/downtime-periods", json={
            "charge_point_id": cp, "evse_id": evse, "kind": "planned_maintenance", "starts_at": iso(at(5)),
            "ends_at": iso(at(6.5))})
        assert r.status_code == 201, r.text
        manual = r.json()["id"]
        window = {"from": iso(at(0)), "to": iso(at(9))}
        listed = await periods(api, charge_point_id=cp, **window)
        assert [(p["source"], p["evse"], p["reason"], when(p["starts_at"]), when(p["ends_at"])) for p in listed] == [
            ("computed", None, "Unavailable", at(7), at(7.5)),
            ("manual", 1, None, at(5), at(6.5)),
            ("computed", 1, "Faulted (GroundFailure)", at(4), at(6)),
        ]
        assert listed[1]["id"] == manual and listed[0]["id"] is None and listed[0]["planned"] is False
        assert [p["source"] for p in await periods(api, evse_id=evse, source="computed", **window)] == \
            ["computed", "computed"]
        r = await api.get(f"/api/v1/evses/{evse}/availability", params=window)
        assert r.status_code == 200, r.text
        figure = r.json()
        assert (figure["period_s"], figure["planned_downtime_s"], figure["unplanned_downtime_s"]) == \
            (9 * 3600, 1.5 * 3600, 1.5 * 3600)
        assert figure["availability_percent"] == 80.0
        assert when(figure["from"]) == at(0) and figure["evse_id"] == evse
        # a window within the fault only: all unplanned
        r = await api.get(f"/api/v1/evses/{evse}/availability", params={"from": iso(at(4)), "to": iso(at(5))})
        assert r.json()["availability_percent"] == 0.0
        # within the maintenance only: nothing to measure
        r = await api.get(f"/api/v1/evses/{evse}/availability", params={"from": iso(at(5)), "to": iso(at(6))})
        assert (r.json()["planned_downtime_s"], r.json()["availability_percent"]) == (3600, None)
        # the charge point: the sum of its EVSEs; a second EVSE with no downtime of its own shares the station's
        second = await add_evse(api, cp, 2)
        r = await api.get(f"/api/v1/charge-points/{cp}/availability", params=window)
        assert r.status_code == 200, r.text
        total = r.json()
        assert [e["evse_id"] for e in total["evses"]] == [evse, second]
        assert total["evses"][1]["unplanned_downtime_s"] == 0.5 * 3600
        assert total["unplanned_downtime_s"] == 2 * 3600 and total["planned_downtime_s"] == 1.5 * 3600
        assert total["availability_percent"] == round(100 * (1 - 2 / 16.5), 2)
        # the location's: the same EVSEs once the charge point stands there
        r = await api.post("/api/v1/locations", json={"name": unique("Site")})
        location = r.json()["id"]
        assert (await api.patch(f"/api/v1/charge-points/{cp}", json={"location_id": location})).status_code == 200
        r = await api.get(f"/api/v1/locations/{location}/availability", params=window)
        assert r.status_code == 200, r.text
        assert {k: v for k, v in r.json().items() if k not in ("location_id", "charge_point_id")} == \
            {k: v for k, v in total.items() if k not in ("location_id", "charge_point_id")}
        assert [p["evse"] for p in await periods(api, location_id=location, source="computed", **window)] == \
            [None, 1]


async def test_availability_bad_input(server):
    cp = await server.add_station()
    async with server.api() as api:
        evse = await add_evse(api, cp)
        now = datetime.now(timezone.utc)
        r = await api.get(f"/api/v1/evses/{evse}/availability")  # default: the last 30 days
        assert r.status_code == 200 and r.json()["availability_percent"] == 100.0, r.text
        assert (await api.get("/api/v1/evses/2147483647/availability")).status_code == 404
        assert (await api.get(f"/api/v1/charge-points/{unique()}/availability")).status_code == 404
        assert (await api.get("/api/v1/locations/2147483647/availability")).status_code == 404
        r = await api.get(f"/api/v1/evses/{evse}/availability", params={"from": iso(now), "to": iso(now)})
        assert error_fields(r) == ["to"]
        r = await api.get(f"/api/v1/evses/{evse}/availability",
                          params={"from": iso(now - timedelta(days=401)), "to": iso(now)})
        assert error_fields(r) == ["to"]
        r = await api.get(f"/api/v1/evses/{evse}/availability", params={"from": "soon"})
        assert r.status_code == 422
        # the future does not count yet
        r = await api.get(f"/api/v1/evses/{evse}/availability",
                          params={"from": iso(now + timedelta(days=1)), "to": iso(now + timedelta(days=2))})
        assert (r.json()["period_s"], r.json()["availability_percent"]) == (0, None)


async def test_an_offline_station_is_down_until_it_connects_again(server):
    cp = await server.add_station()
    async with server.api() as api:
        evse = await add_evse(api, cp)
    begin = datetime.now(timezone.utc) - timedelta(minutes=1)
    async with station(server.ws_url, cp) as st:
        await st.boot()
    async with server.api() as api:
        async def offline():
            found = [p for p in await periods(api, charge_point_id=cp, source="computed") if p["reason"] == "offline"]
            return found if found and found[0]["ends_at"] is None else None
        [gone] = await until(offline, "the open offline period")
        assert gone["evse_id"] is None and gone["kind"] == "outage" and when(gone["starts_at"]) >= begin
        r = await api.get(f"/api/v1/evses/{evse}/availability", params={"from": iso(begin)})
        assert r.json()["unplanned_downtime_s"] > 0 and r.json()["availability_percent"] < 100
        async with station(server.ws_url, cp) as st:
            await st.boot()

            async def closed():
                found = [p for p in await periods(api, charge_point_id=cp, source="computed")
                         if p["reason"] == "offline"]
                return found if found and found[0]["ends_at"] is not None else None
            [back] = await until(closed, "the offline period closed by the connect")
            # the same stretch: from the disconnect's row, or from last seen before that row is written
            assert abs(when(back["starts_at"]) - when(gone["starts_at"])) < timedelta(seconds=1)
            assert when(back["ends_at"]) > when(back["starts_at"])
        # a deleted charge point's connection rows stay (diagnostics), its downtime goes with it
        async def deleted():
            return (await api.delete(f"/api/v1/charge-points/{cp}")).status_code == 204
        await until(deleted, "the charge point deleted once offline")
        assert await periods(api, charge_point_id=cp) == [] and cp not in {p["charge_point_id"] for p in
                                                                           await periods(api, limit=500)}


# --- notices -----------------------------------------------------------------------------------------
async def test_notices_for_drivers(server):
    cp, elsewhere = await server.add_station(), await server.add_station()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    async with server.api() as api:
        location = (await api.post("/api/v1/locations", json={"name": unique("Site")})).json()["id"]
        assert (await api.patch(f"/api/v1/charge-points/{cp}", json={"location_id": location})).status_code == 200
        r = await api.post("/api/v1/downtime-notices", json={
            "messages": {"en": "Bay 2 is closed for repairs.", "cs": "Stání 2 je v opravě."},
            "valid_from": iso(now - timedelta(hours=1)), "valid_until": iso(now + timedelta(days=1)),
            "location_ids": [location]})
        assert r.status_code == 201, r.text
        notice = r.json()
        assert notice["messages"]["cs"] == "Stání 2 je v opravě." and notice["location_ids"] == [location]
        r = await api.post("/api/v1/downtime-notices", json={"messages": {"en": "Later"}, "charge_point_ids": [cp],
                                                             "valid_from": iso(now + timedelta(days=3))})
        later = r.json()
        assert r.status_code == 201 and later["charge_point_ids"] == [cp] and later["valid_until"] is None
        r = await api.get("/api/v1/downtime-notices", params={"charge_point_id": cp})
        assert [n["id"] for n in r.json()["data"]] == [later["id"], notice["id"]]  # its own and its location's
        # the driver page of its EVSE shows the notice in force, in the driver's language
        code = f"CZ*WAT*E{unique('').replace('-', '').upper()}*1"
        r = await api.post(f"/api/v1/charge-points/{cp}/evses", json={"number": 1, "evse_id": code})
        assert r.status_code == 201, r.text
        page = await api.get(f"/driver/{code}", params={"lang": "cs"})
        assert page.status_code == 200 and "Stání 2 je v opravě." in page.text and "Later" not in page.text
        assert "Bay 2 is closed for repairs." in (await api.get(f"/driver/{code}", params={"lang": "en"})).text
        r = await api.get("/api/v1/downtime-notices", params={"charge_point_id": cp, "active_at": iso(now)})
        assert [n["id"] for n in r.json()["data"]] == [notice["id"]]
        r = await api.get("/api/v1/downtime-notices", params={"charge_point_id": elsewhere})
        assert r.json()["data"] == []
        r = await api.get("/api/v1/downtime-notices", params={"charge_point_id": cp, "limit": 1})
        r = await api.get("/api/v1/downtime-notices", params={"charge_point_id": cp, "limit": 1,
                                                              "cursor": r.json()["next_cursor"]})
        assert [n["id"] for n in r.json()["data"]] == [notice["id"]]
        r = await api.patch(f"/api/v1/downtime-notices/{notice['id']}", json={"charge_point_ids": [elsewhere],
                                                                              "valid_until": None})
        assert r.status_code == 200, r.text
        assert (r.json()["charge_point_ids"], r.json()["location_ids"], r.json()["valid_until"]) == \
            ([elsewhere], [location], None)
        assert (await api.get(f"/api/v1/downtime-notices/{notice['id']}")).json() == r.json()
        assert (await api.delete(f"/api/v1/downtime-notices/{later['id']}")).status_code == 204
        assert (await api.get(f"/api/v1/downtime-notices/{later['id']}")).status_code == 404
        # bad input
        post = lambda body: api.post("/api/v1/downtime-notices", json={"messages": {"en": "x"},  # noqa: E731
                                                                       "charge_point_ids": [cp], **body})
        assert error_fields(await post({"messages": {}})) == ["body.messages"]
        assert error_fields(await post({"messages": {"english": "x"}})) == ["body.messages.english.[key]"]
        assert error_fields(await post({"messages": {"en": ""}})) == ["body.messages.en"]
        assert error_fields(await post({"charge_point_ids": []})) == ["body.charge_point_ids"]
        assert error_fields(await post({"charge_point_ids": [unique()]})) == ["body.charge_point_ids"]
        assert error_fields(await post({"location_ids": [2**31 - 1]})) == ["body.location_ids"]
        assert error_fields(await post({"valid_from": iso(now), "valid_until": iso(now)})) == ["body.valid_until"]
        path = f"/api/v1/downtime-notices/{notice['id']}"
        assert (await api.patch(path, json={"messages": None})).status_code == 422
        assert error_fields(await api.patch(path, json={"charge_point_ids": [], "location_ids": []})) == \
            ["body.charge_point_ids"]
        assert (await api.get("/api/v1/downtime-notices/2147483647")).status_code == 404
        assert error_fields(await api.get("/api/v1/downtime-notices", params={"cursor": "e30"})) == ["cursor"]


async def test_the_station_page_shows_its_downtime(server):
    cp = await server.add_station()
    start = datetime.now(timezone.utc) - timedelta(days=3)
    async with server.api() as api:
        evse = await add_evse(api, cp)
        r = await api.post("/api/v1/downtime-periods", json={
            "charge_point_id": cp, "evse_id": evse, "kind": "outage", "reason": "vandalised display",
            "starts_at": iso(start), "ends_at": iso(start + timedelta(hours=12))})
        assert r.status_code == 201, r.text
    async with logged_in(server, "viewer") as http:
        page = await http.get(f"/stations/{cp}")
    assert page.status_code == 200, page.text
    section = page.text.split('id="downtime"')[1].split("</section>")[0]
    assert "vandalised display" in section and "EVSE 1" in section and "manual" in section
    figure = round(100 * (1 - 12 / (30 * 24)), 2)
    assert f"{figure} %" in section  # 12 h of the last 30 days, the EVSE its charge point's only one


async def test_viewers_read_and_operators_write(server):
    cp = await server.add_station()
    async with server.api() as admin:
        viewer = (await admin.post("/api/v1/api-keys", json={"name": unique("v"), "role": "viewer"})).json()["key"]
        operator = (await admin.post("/api/v1/api-keys", json={"name": unique("o"), "role": "operator"})).json()["key"]
    body = {"charge_point_id": cp, "starts_at": iso(datetime.now(timezone.utc))}
    notice = {"messages": {"en": "Closed"}, "charge_point_ids": [cp]}
    async with server.api(viewer) as v:
        assert (await v.post("/api/v1/downtime-periods", json=body)).status_code == 403
        assert (await v.post("/api/v1/downtime-notices", json=notice)).status_code == 403
        assert (await v.get("/api/v1/downtime-periods", params={"charge_point_id": cp})).status_code == 200
        assert (await v.get(f"/api/v1/charge-points/{cp}/availability")).status_code == 200
    async with server.api(operator) as o:
        period = await o.post("/api/v1/downtime-periods", json=body)
        assert period.status_code == 201
        assert (await o.post("/api/v1/downtime-notices", json=notice)).status_code == 201
    async with server.api(viewer) as v:
        assert (await v.delete(f"/api/v1/downtime-periods/{period.json()['id']}")).status_code == 403
    async with server.api("wsk_not-a-key") as nobody:
        assert (await nobody.get("/api/v1/downtime-periods")).status_code == 401
