"""Tariff groups and tariff snapshots over HTTP: CRUD with bad input, where a group applies and how
it ranks beside single assignments (the tariff new sessions get), and the snapshot each session
names, readable by id after the tariff changed or went."""

import pytest

from conftest import unique
from ocpp_client import station
from test_tariffs_api import tariff
from wattson.tariffs.precedence import Candidate, best, rank

GROUPS = "/api/v1/tariff-groups"


async def _tariffs(api, *names: str, **extra) -> dict[str, str]:
    ids = {}
    for n, name in enumerate(names):
        ids[name] = unique("T")
        r = await api.post("/api/v1/tariffs", json={"id": ids[name], **tariff(round(0.10 + n / 10, 2)), **extra.get(name, {})})
        assert r.status_code == 201, r.text
    return ids


async def _place(server, api):
    location = (await api.post("/api/v1/locations", json={"name": unique("Depot"), "time_zone": "UTC"})).json()
    cp_id = unique()
    assert (await api.post("/api/v1/charge-points", json={"id": cp_id, "location_id": location["id"]})).status_code == 201
    evse = (await api.post(f"/api/v1/charge-points/{cp_id}/evses", json={"number": 1, "connectors": [{"number": 1}]}))
    assert evse.status_code == 201, evse.text
    return location, cp_id, evse.json()


async def test_crud_filters_and_bad_input(server):
    async with server.api() as api:
        t = await _tariffs(api, "a", "b", "card")
        driver_group = (await api.post("/api/v1/driver-groups", json={"name": unique("staff")})).json()
        name = unique("Public AC")
        body = {"name": name, "description": "Street chargers",
                "tariffs": [{"tariff_id": t["a"], "driver_group_id": driver_group["id"]}, {"tariff_id": t["b"]},
                            {"tariff_id": t["card"], "kind": "ad_hoc"}]}
        r = await api.post(GROUPS, json=body)
        assert r.status_code == 201, r.text
        group = r.json()
        assert (group["name"], group["description"], group["assignments"], group["evse_ids"]) == (
            name, "Street chargers", [], [])
        assert group["tariffs"] == [{"tariff_id": t["a"], "kind": "regular", "driver_group_id": driver_group["id"]},
                                    {"tariff_id": t["b"], "kind": "regular", "driver_group_id": None},
                                    {"tariff_id": t["card"], "kind": "ad_hoc", "driver_group_id": None}]
        assert (await api.get(f"{GROUPS}/{group['id']}")).json() == group
        assert (await api.post(GROUPS, json=body)).status_code == 409  # the name is taken
        # Filters and the cursor.
        other = (await api.post(GROUPS, json={"name": unique("Other"), "tariffs": [{"tariff_id": t["b"]}]})).json()
        listed = (await api.get(GROUPS, params={"tariff_id": t["b"]})).json()
        assert [g["id"] for g in listed["data"]] == [group["id"], other["id"]]
        assert [g["id"] for g in (await api.get(GROUPS, params={"tariff_id": t["a"]})).json()["data"]] == [group["id"]]
        by_group = (await api.get(GROUPS, params={"driver_group_id": driver_group["id"]})).json()["data"]
        assert [g["id"] for g in by_group] == [group["id"]]
        by_name = (await api.get(GROUPS, params={"name": name[len("Public "):].lower()})).json()["data"]
        assert [g["id"] for g in by_name] == [group["id"]]
        first = (await api.get(GROUPS, params={"tariff_id": t["b"], "limit": 1})).json()
        assert [g["id"] for g in first["data"]] == [group["id"]] and first["next_cursor"]
        rest = (await api.get(GROUPS, params={"tariff_id": t["b"], "limit": 1, "cursor": first["next_cursor"]})).json()
        assert [g["id"] for g in rest["data"]] == [other["id"]] and rest["next_cursor"] is None
        # PUT replaces the content.
        r = await api.put(f"{GROUPS}/{group['id']}", json={"name": name, "tariffs": [{"tariff_id": t["card"]}]})
        assert r.status_code == 200, r.text
        assert r.json()["tariffs"] == [{"tariff_id": t["card"], "kind": "regular", "driver_group_id": None}]
        assert r.json()["description"] is None
        assert (await api.put(f"{GROUPS}/{group['id']}", json={"name": other["name"], "tariffs": [
            {"tariff_id": t["a"]}]})).status_code == 409
        # A tariff in a group is in use.
        busy = await api.delete(f"/api/v1/tariffs/{t['card']}")
        assert busy.status_code == 409 and busy.json()["error"]["details"]["tariff_groups"] == 1
        bad = [({"name": "x", "tariffs": []}, "tariffs"),
               ({"name": " ", "tariffs": [{"tariff_id": t["a"]}]}, "name"),
               ({"name": "x", "tariffs": [{"tariff_id": t["a"]}, {"tariff_id": t["a"]}]}, "once"),
               ({"name": "x", "tariffs": [{"tariff_id": "NO-SUCH"}]}, "tariffs.0.tariff_id"),
               ({"name": "x", "tariffs": [{"tariff_id": t["a"], "driver_group_id": 999999}]}, "driver_group_id"),
               ({"name": "x", "tariffs": [{"tariff_id": t["a"], "kind": "free"}]}, "kind"),
               ({"name": "x", "tariffs": [{"tariff_id": t["a"]}], "colour": "red"}, "colour"),
               ({"name": "x\x00", "tariffs": [{"tariff_id": t["a"]}]}, "name")]
        for wrong, field in bad:
            r = await api.post(GROUPS, json=wrong)
            assert r.status_code == 422 and field in str(r.json()["error"]), (wrong, r.text)
        for path in (f"{GROUPS}/999999", f"{GROUPS}/0", f"{GROUPS}/x"):
            assert (await api.get(path)).status_code in (404, 422)
        assert (await api.get(f"{GROUPS}/999999")).json()["error"]["code"] == "not_found"
        assert (await api.put(f"{GROUPS}/999999", json=body)).status_code == 404
        assert (await api.delete(f"{GROUPS}/999999")).status_code == 404
        assert (await api.get(GROUPS, params={"cursor": "garbage"})).status_code in (400, 422)
        assert (await api.delete(f"{GROUPS}/{other['id']}")).status_code == 204
        assert (await api.get(f"{GROUPS}/{other['id']}")).status_code == 404


async def test_assignments_and_what_a_session_gets(server):
    """A group at the location prices sessions there; a single tariff assigned at the same place
    wins over the group's; an EVSE naming another group beats the location; the driver group's
    entry wins for its drivers; a deleted assignment stops applying; a group in use is not deleted."""
    async with server.api() as api:
        location, cp_id, evse = await _place(server, api)
        t = await _tariffs(api, "site", "staff", "evse", "single", "card", "later",
                           later={"start_date_time": "2099-01-01T00:00:00Z"})
        staff = (await api.post("/api/v1/driver-groups", json={"name": unique("staff")})).json()
        driver = (await api.post("/api/v1/drivers", json={"name": "Eva", "home_group_id": staff["id"]})).json()
        site = (await api.post(GROUPS, json={"name": unique("site"), "tariffs": [
            {"tariff_id": t["later"]}, {"tariff_id": t["site"]}, {"tariff_id": t["staff"], "driver_group_id": staff["id"]},
            {"tariff_id": t["card"], "kind": "ad_hoc"}]})).json()
        at_evse = (await api.post(GROUPS, json={"name": unique("evse"), "tariffs": [{"tariff_id": t["evse"]}]})).json()

        async def applicable(**params):
            r = await api.get(f"/api/v1/charge-points/{cp_id}/tariff", params={"evse": 1, **params})
            return r.json()["id"] if r.status_code == 200 else r.status_code

        assert await applicable() == 404
        r = await api.post(f"{GROUPS}/{site['id']}/assignments", json={"location_id": location["id"]})
        assert r.status_code == 201, r.text
        assignment = r.json()
        assert (assignment["tariff_group_id"], assignment["location_id"], assignment["charge_point_id"],
                assignment["driver_group_id"]) == (site["id"], location["id"], None, None)
        assert (await api.get(f"{GROUPS}/{site['id']}")).json()["assignments"] == [assignment]
        located = (await api.get(GROUPS, params={"location_id": location["id"]})).json()["data"]
        assert [g["id"] for g in located] == [site["id"]]
        # The first entry valid now (the later one is not yet), the driver group's own, the ad hoc one.
        assert await applicable() == t["site"]
        assert await applicable(driver_group_id=staff["id"]) == t["staff"]
        assert await applicable(kind="ad_hoc") == t["card"]
        assert await applicable(at="2099-06-01T00:00:00Z") == t["later"]
        # Bad assignments.
        for wrong, status in (({}, 422), ({"location_id": location["id"], "charge_point_id": cp_id}, 422),
                              ({"location_id": 999999}, 422), ({"charge_point_id": "NO-SUCH-CP"}, 422),
                              ({"location_id": location["id"]}, 409), ({"evse_id": evse["id"]}, 422)):
            r = await api.post(f"{GROUPS}/{site['id']}/assignments", json=wrong)
            assert r.status_code == status, (wrong, r.text)
        assert (await api.post(f"{GROUPS}/999999/assignments", json={"location_id": location["id"]})).status_code == 404
        # A single tariff at the same place comes before the group's.
        single = (await api.post("/api/v1/tariff-assignments", json={"tariff_id": t["single"],
                                                                      "location_id": location["id"]})).json()
        assert await applicable() == t["single"]
        assert await applicable(driver_group_id=staff["id"]) == t["staff"]  # the driver group's own first
        # An EVSE naming a group: more specific than the location. A group that does not exist: 422.
        for wrong in (999999, 0, "x"):
            r = await api.patch(f"/api/v1/evses/{evse['id']}", json={"tariff_group_id": wrong})
            assert r.status_code == 422 and "tariff_group_id" in r.text, r.text
        r = await api.post(f"/api/v1/charge-points/{cp_id}/evses", json={"number": 2, "tariff_group_id": 999999})
        assert r.status_code == 422 and "tariff_group_id" in r.text, r.text
        r = await api.patch(f"/api/v1/evses/{evse['id']}", json={"tariff_group_id": at_evse["id"]})
        assert r.status_code == 200 and r.json()["tariff_group_id"] == at_evse["id"], r.text
        assert (await api.get(f"{GROUPS}/{at_evse['id']}")).json()["evse_ids"] == [evse["id"]]
        assert await applicable() == t["evse"]
        staff_tag, guest_tag = await server.add_tag(driver_id=driver["id"]), await server.add_tag()
        async with station(server.ws_url, cp_id) as st:
            await st.boot()
            for tag in (guest_tag, staff_tag):
                tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                       "timestamp": "2026-11-20T10:00:00Z"}))["transactionId"]
                await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 1000,
                                                "timestamp": "2026-11-20T11:00:00Z"})
        sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"]
        assert {s["id_tag"]: s["tariff_id"] for s in sessions} == {guest_tag: t["evse"], staff_tag: t["staff"]}
        # In use: neither the group nor its tariffs go.
        busy = await api.delete(f"{GROUPS}/{at_evse['id']}")
        assert busy.status_code == 409 and busy.json()["error"]["details"] == {"assignments": 0, "evses": 1}
        assert (await api.delete(f"{GROUPS}/{site['id']}")).status_code == 409
        assert (await api.patch(f"/api/v1/evses/{evse['id']}", json={"tariff_group_id": None})).status_code == 200
        assert (await api.delete(f"{GROUPS}/{at_evse['id']}")).status_code == 204
        assert (await api.delete(f"/api/v1/tariff-assignments/{single['id']}")).status_code == 204
        assert await applicable() == t["site"]
        assert (await api.delete(f"{GROUPS}/{at_evse['id']}/assignments/{assignment['id']}")).status_code == 404
        assert (await api.delete(f"{GROUPS}/{site['id']}/assignments/{assignment['id']}")).status_code == 204
        assert await applicable() == 404
        # A driver group across the network; a charge point for everyone.
        assert (await api.post(f"{GROUPS}/{site['id']}/assignments",
                               json={"driver_group_id": staff["id"]})).status_code == 201
        assert await applicable(driver_group_id=staff["id"]) == t["staff"] and await applicable() == 404
        assert (await api.post(f"{GROUPS}/{site['id']}/assignments", json={"charge_point_id": cp_id})).status_code == 201
        assert await applicable() == t["site"]


async def test_sessions_name_their_snapshot(server):
    """Sessions that took the same tariff version name one snapshot; a new version is a new one;
    the snapshot stays readable after the tariff changed and after it was deleted."""
    async with server.api() as api:
        location, cp_id, _ = await _place(server, api)
        t = await _tariffs(api, "site")
        group = (await api.post(GROUPS, json={"name": unique("snap"), "tariffs": [{"tariff_id": t["site"]}]})).json()
        assigned = (await api.post(f"{GROUPS}/{group['id']}/assignments", json={"location_id": location["id"]})).json()
        tag = await server.add_tag()

        async def charge(hour: int) -> dict:
            async with station(server.ws_url, cp_id) as st:
                await st.boot()
                tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                       "timestamp": f"2026-11-20T{hour:02}:00:00Z"}))["transactionId"]
                await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 1000,
                                                "timestamp": f"2026-11-20T{hour:02}:30:00Z"})
            sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"]
            return (await api.get(f"/api/v1/sessions/{sessions[0]['id']}")).json()

        first, second = await charge(8), await charge(9)
        assert first["tariff_snapshot_id"] is not None and first["tariff_snapshot_id"] == second["tariff_snapshot_id"]
        r = await api.get(f"/api/v1/tariff-snapshots/{first['tariff_snapshot_id']}")
        assert r.status_code == 200, r.text
        old = r.json()
        assert old["tariff_id"] == t["site"] and old["id"] == first["tariff_snapshot_id"] and old["taken_at"]
        assert old["tariff"]["id"] == t["site"] and old["tariff"]["elements"][0]["price_components"][0]["price"] == 0.1
        assert old["tariff"]["last_updated"]
        assert (await api.put(f"/api/v1/tariffs/{t['site']}", json=tariff(0.9))).status_code == 200
        third = await charge(10)
        assert third["tariff_snapshot_id"] not in (None, first["tariff_snapshot_id"])
        new = (await api.get(f"/api/v1/tariff-snapshots/{third['tariff_snapshot_id']}")).json()
        assert new["tariff"]["elements"][0]["price_components"][0]["price"] == 0.9
        versions = (await api.get("/api/v1/tariff-snapshots", params={"tariff_id": t["site"]})).json()
        assert [x["id"] for x in versions["data"]] == [old["id"], new["id"]]
        # A CDR re-issued at another tariff: the session names that tariff's snapshot.
        goodwill = (await _tariffs(api, "goodwill"))["goodwill"]
        [cdr] = (await api.get("/api/v1/cdrs", params={"session_id": second["id"]})).json()["data"]
        r = await api.post(f"/api/v1/cdrs/{cdr['id']}/credit", json={"reason": "goodwill",
                                                                     "reissue_with_tariff_id": goodwill})
        assert r.status_code == 201, r.text
        reissued = (await api.get(f"/api/v1/sessions/{second['id']}")).json()
        assert reissued["tariff_id"] == goodwill and reissued["tariff_snapshot_id"] not in (None, old["id"], new["id"])
        snapshot = (await api.get(f"/api/v1/tariff-snapshots/{reissued['tariff_snapshot_id']}")).json()
        assert snapshot["tariff_id"] == goodwill
        # The tariff goes: the snapshots stay.
        await api.delete(f"{GROUPS}/{group['id']}/assignments/{assigned['id']}")
        await api.delete(f"{GROUPS}/{group['id']}")
        assert (await api.delete(f"/api/v1/tariffs/{t['site']}")).status_code == 204
        assert (await api.get(f"/api/v1/tariff-snapshots/{old['id']}")).json() == old
        no_tariff = await charge(11)
        assert no_tariff["tariff_snapshot_id"] is None and no_tariff["tariff_id"] is None
        for path, status in (("999999999", 404), ("0", 422), ("abc", 422)):
            r = await api.get(f"/api/v1/tariff-snapshots/{path}")
            assert r.status_code == status and "error" in r.json()


@pytest.mark.parametrize("candidates, group, expected", [
    # A tariff assigned on its own before a group's tariff at the same place.
    ([Candidate("group", "location_id", 1, via_group=True), Candidate("single", "location_id", 1)], None, "single"),
    # A more specific place first, whatever the source.
    ([Candidate("single", "location_id", 1), Candidate("group", "evse_id", 5, via_group=True)], None, "group"),
    # The driver group's own first, even from the network.
    ([Candidate("everyone", "evse_id", 5), Candidate("own", None, None, driver_groups=(7,), via_group=True)], 7, "own"),
    # Someone else's driver group never; a group entry and its assignment must both fit.
    ([Candidate("theirs", "evse_id", 5, driver_groups=(8,)), Candidate("net", None, None)], 7, "net"),
    ([Candidate("mixed", "location_id", 1, driver_groups=(7, 8), via_group=True)], 7, None),
    # Within a group assigned for a driver group, its entry for that group before the one for everyone.
    ([Candidate("everyone", None, None, driver_groups=(7,), via_group=True, position=0),
      Candidate("own", None, None, driver_groups=(7, 7), via_group=True, entry_for_group=True, position=1)], 7, "own"),
    # Within a group, the first listed.
    ([Candidate("second", "location_id", 1, via_group=True, position=1),
      Candidate("first", "location_id", 1, via_group=True, position=0)], None, "first"),
    # Another place does not apply.
    ([Candidate("elsewhere", "charge_point_id", "CP-2")], None, None),
])
def test_precedence(candidates, group, expected):
    here = {"connector_id": 9, "evse_id": 5, "charge_point_id": "CP-1", "location_id": 1}
    assert best(candidates, here, group) == expected


def test_rank_orders_by_group_place_source_position():
    here = {"connector_id": None, "evse_id": 5, "charge_point_id": "CP-1", "location_id": 1}
    assert rank(Candidate("x", "evse_id", 5, via_group=True, position=3), here, None) == (1, 1, 1, 1, 3)
    assert rank(Candidate("x", None, None, driver_groups=(2,)), here, 2) == (0, 4, 0, 1, 0)
    assert rank(Candidate("x", "connector_id", 4), here, None) is None


async def test_the_dashboard_shows_groups_on_the_tariff_page_and_the_snapshot_on_the_session(sqlite_server):
    from dashboard_kit import logged_in

    server = sqlite_server
    async with server.api() as api:
        location, cp_id, evse = await _place(server, api)
        t = await _tariffs(api, "site", "lonely")
        staff = (await api.post("/api/v1/driver-groups", json={"name": unique("staff")})).json()
        group = (await api.post(GROUPS, json={"name": unique("Street <AC>"), "tariffs": [
            {"tariff_id": t["site"], "driver_group_id": staff["id"]}, {"tariff_id": t["site"]}]})).json()
        await api.post(f"{GROUPS}/{group['id']}/assignments", json={"location_id": location["id"]})
        assert (await api.patch(f"/api/v1/evses/{evse['id']}", json={"tariff_group_id": group["id"]})).status_code == 200
    tag = await server.add_tag()
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                               "timestamp": "2026-11-20T10:00:00Z"}))["transactionId"]
        await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 500, "timestamp": "2026-11-20T10:30:00Z"})
    async with server.api() as api:
        session = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"][0]
    async with logged_in(server, "viewer") as client:
        page = (await client.get(f"/tariffs/{t['site']}")).text
        row = page[page.index(f'data-tariff-group="{group["id"]}"'):]
        row = row[:row.index("</tr>")]
        assert group["name"].replace("<", "&lt;").replace(">", "&gt;") in row and "<AC>" not in row
        assert f"regular for driver group {staff['id']}; regular for everyone" in row
        assert f"location {location['id']}" in row and "1 EVSE" in row
        assert "In no tariff group" in (await client.get(f"/tariffs/{t['lonely']}")).text
        detail = (await client.get(f"/sessions/{session['id']}")).text
        assert f'data-tariff-snapshot="{session["tariff_snapshot_id"]}"' in detail and session["tariff_snapshot_id"]


async def test_ocpi_locations_carry_the_groups_tariffs_and_are_pushed_when_a_group_changes(server):
    """A roaming partner pulls a connector's tariff_ids as resolution gives them (a group's tariff
    where the group applies) and is sent the location again when a group's assignment changes."""
    import httpx

    from conftest import READY_BOUND_S
    from ocpi_peer import header, register, running_peer
    from test_ocpi_roaming import roaming_site

    async with running_peer() as peer, server.api() as api, \
            httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as ocpi:
        location_id, cp_id, evse_uid, single = await roaming_site(api)
        await register(server, peer, api)
        t = await _tariffs(api, "card")
        group = (await api.post(GROUPS, json={"name": unique("roaming"), "tariffs": [
            {"tariff_id": t["card"], "kind": "ad_hoc"}]})).json()
        r = await api.post(f"{GROUPS}/{group['id']}/assignments", json={"charge_point_id": cp_id})
        assert r.status_code == 201, r.text
        assignment = r.json()
        pushed = await peer.wait_for("PUT", f"/receiver/locations/NL/WAT/{location_id}",
                                     lambda x: x["body"]["evses"][0]["connectors"][0]["tariff_ids"] == [
                                         single, t["card"]])
        assert pushed["body"]["id"] == str(location_id)
        r = await ocpi.get(f"/ocpi/2.2.1/locations/{location_id}/{evse_uid}/1", headers=header(peer.wattson_token))
        assert r.json()["data"]["tariff_ids"] == [single, t["card"]]
        assert (await api.delete(f"{GROUPS}/{group['id']}/assignments/{assignment['id']}")).status_code == 204
        await peer.wait_for("PUT", f"/receiver/locations/NL/WAT/{location_id}",
                            lambda x: x["body"]["evses"][0]["connectors"][0]["tariff_ids"] == [single])
