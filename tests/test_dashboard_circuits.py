"""The dashboard's circuit pages over real HTTP (dashboard/circuits.py, docs/dashboard.md
"Circuits"): circuits created, edited and deleted with the form (bad input said beside its field),
the tree with a load bar per phase, a charge point placed from its station page, a circuit's live
load with the allocation per EVSE while a raw OCPP 1.6 station charges on it, and that session's
charging profile history; roles and CSRF. The same in Chromium: test_dashboard_circuits_browser.py."""

import asyncio
import re
from datetime import datetime, timezone
from types import SimpleNamespace

import httpx
import pytest

from conftest import unique, until
from dashboard_kit import logged_in
from ocpp_client import station
from wattson.dashboard import charts
from wattson.dashboard.circuits import circuit_body, evse_state, tree
from wattson.dashboard.forms import FormErrors
from wattson.loadmgmt.schemas import CircuitCreate, CircuitUpdate

GRID = {"name": "Grid connection", "max_current_a": "100", "phases": "3", "safety_margin_a": "", "parent_id": "",
        "strategy": "equal", "unmanaged_fixed_a": "30"}


def iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def circuit_id_of(location: str) -> int:
    return int(re.search(r"/circuits/(\d+)$", location).group(1))


# --- pure parts ------------------------------------------------------------------------------
def test_the_tree_is_depth_first_with_siblings_by_id_and_orphans_as_roots():
    c = lambda id, parent=None: SimpleNamespace(id=id, parent_id=parent)  # noqa: E731
    rows = tree([c(5, 1), c(1), c(3, 1), c(4, 3), c(2), c(7, 99)])
    assert [(depth, circuit.id) for depth, circuit in rows] == [(0, 1), (1, 3), (2, 4), (1, 5), (0, 2), (0, 7)]
    assert tree([]) == []


def test_an_evse_is_refused_paused_or_managed():
    assert evse_state({"managed": False, "limit_a": 16}) == "refused"
    assert evse_state({"managed": True, "limit_a": 0.0}) == "paused"
    assert evse_state({"managed": True, "limit_a": 6.0}) == "managed"


def test_the_form_becomes_the_api_body():
    assert circuit_body(GRID, CircuitCreate) == {"name": "Grid connection", "max_current_a": 100.0, "phases": 3,
                                                 "safety_margin_a": 0.0, "strategy": "equal",
                                                 "unmanaged_fixed_a": 30.0}
    # An edit with no parent makes a grid connection (null), an empty margin 0.
    edit = circuit_body({**GRID, "phases": "1"}, CircuitUpdate)
    assert edit["parent_id"] is None and edit["phases"] == 1 and edit["safety_margin_a"] == 0.0
    with pytest.raises(FormErrors) as refused:
        circuit_body({**GRID, "name": "", "max_current_a": ""}, CircuitCreate)
    assert refused.value.errors == {"name": "required", "max_current_a": "required"}
    with pytest.raises(FormErrors) as refused:
        circuit_body({**GRID, "phases": "2", "max_current_a": "-4", "strategy": "loudest"}, CircuitCreate)
    assert set(refused.value.errors) == {"phases", "max_current_a", "strategy"}


def test_a_phase_bar_shows_unmanaged_allocated_drawn_and_the_limit():
    bar = charts.phase_bar(100, 30, 50, 20, "L1")
    assert "limit 100 A, unmanaged 30 A, allocated 50 A, drawn 20 A" in bar
    assert "<rect x='0' y='0' width='72.0' height='18' class='unmanaged'/>" in bar  # 30 of 100 A on 240 px
    assert "x='72.0' y='0' width='120.0' height='18' class='allocated'" in bar
    assert "x='72.0' y='5.4' width='48.0'" in bar and "class='phase-bar'" in bar
    over = charts.phase_bar(60, 30, 50, 0)  # 80 A on a 60 A limit: scaled to 80, the line at 60
    assert "class='phase-bar over'" in over and "x1='180.0'" in over
    assert "class='phase-bar'" in charts.phase_bar(0, 0, 0, 0)  # nothing configured: no division by zero


# --- pages -----------------------------------------------------------------------------------
async def test_circuits_are_created_edited_and_deleted_with_the_form(server):
    async with logged_in(server, "operator") as client, server.api() as api:
        r = await client.post("/circuits", data={"csrf": client.csrf, **GRID, "name": unique("Grid")})
        assert r.status_code == 303, r.text
        grid = circuit_id_of(r.headers["location"])
        row = {**GRID, "name": unique("Row B"), "max_current_a": "63", "safety_margin_a": "2", "parent_id": str(grid),
               "strategy": "priority", "unmanaged_fixed_a": ""}
        r = await client.post("/circuits", data={"csrf": client.csrf, **row})
        assert r.status_code == 303, r.text
        sub = circuit_id_of(r.headers["location"])
        saved = (await api.get(f"/api/v1/circuits/{sub}")).json()
        assert (saved["parent_id"], saved["max_current_a"], saved["safety_margin_a"], saved["strategy"],
                saved["unmanaged_fixed_a"]) == (grid, 63.0, 2.0, "priority", 0.0)

        # The list: the sub-circuit right under its grid connection, a bar per phase.
        listing = (await client.get("/circuits")).text
        assert listing.index(f'data-circuit="{grid}"') < listing.index(f'data-circuit="{sub}"')
        assert listing.count("class='phase-bar") >= 6 and "limit 100 A, unmanaged 30 A" in listing
        assert "New circuit" in listing
        fragment = await client.get("/circuits", params={"fragment": "tree"})
        assert fragment.status_code == 200 and "<h1>" not in fragment.text and row["name"] in fragment.text

        page = (await client.get(f"/circuits/{grid}")).text
        assert f'href="/circuits/{sub}"' in page and "No session charges on this circuit now." in page
        assert "L1" in page and "L3" in page and "Delete circuit" in page

        # Bad input: the form again with the message beside the field, as typed.
        r = await client.post("/circuits", data={"csrf": client.csrf, **GRID, "max_current_a": "-5"})
        assert r.status_code == 422 and 'value="-5"' in r.text and "greater than 0" in r.text
        r = await client.post("/circuits", data={"csrf": client.csrf, **GRID, "phases": "2"})
        assert r.status_code == 422 and "Input should be 1 or 3" in r.text
        r = await client.post("/circuits", data={"csrf": client.csrf, **GRID, "max_current_a": "lots"})
        assert r.status_code == 422 and 'value="lots"' in r.text
        r = await client.post("/circuits", data={"csrf": client.csrf, **GRID, "parent_id": "99999999"})
        assert r.status_code == 422 and "99999999" in r.text and "New circuit" in r.text
        r = await client.post(f"/circuits/{grid}", data={"csrf": client.csrf, **GRID, "parent_id": str(sub)})
        assert r.status_code == 422 and "<h2>Edit</h2>" in r.text  # a loop: the grid below its own sub-circuit
        assert (await api.get(f"/api/v1/circuits/{grid}")).json()["parent_id"] is None
        r = await client.post("/circuits", data={"csrf": client.csrf, **GRID, "name": "x\x00y"})
        assert r.status_code == 422 and "NUL" in r.text

        # Edit: saved, and the page says so.
        r = await client.post(f"/circuits/{sub}", data={"csrf": client.csrf, **row, "max_current_a": "50",
                                                         "parent_id": ""})
        assert r.status_code == 303 and r.headers["location"] == f"/circuits/{sub}?saved=1"
        saved = (await api.get(f"/api/v1/circuits/{sub}")).json()
        assert saved["max_current_a"] == 50.0 and saved["parent_id"] is None
        assert "Saved." in (await client.get(r.headers["location"])).text
        await client.post(f"/circuits/{sub}", data={"csrf": client.csrf, **row})  # under the grid again

        # A circuit with sub-circuits is not deleted: the page says why.
        r = await client.post(f"/circuits/{grid}/delete", data={"csrf": client.csrf})
        assert r.status_code == 409 and "sub-circuit" in r.text
        r = await client.post(f"/circuits/{sub}/delete", data={"csrf": client.csrf})
        assert r.status_code == 303 and (await api.get(f"/api/v1/circuits/{sub}")).status_code == 404
        assert (await client.get(f"/circuits/{sub}")).status_code == 404
        assert (await client.get("/circuits/0")).status_code == 422


async def test_a_station_is_placed_on_a_circuit_from_its_page(server):
    cp = await server.add_station()
    async with logged_in(server, "operator") as client, server.api() as api:
        r = await client.post("/circuits", data={"csrf": client.csrf, **GRID, "name": unique("Depot")})
        circuit = circuit_id_of(r.headers["location"])
        page = (await client.get(f"/stations/{cp}")).text
        assert "Not placed on a circuit" in page and f'<option value="{circuit}">' in page

        r = await client.post(f"/stations/{cp}/circuit", data={"csrf": client.csrf, "circuit_id": str(circuit)})
        assert r.status_code == 303, r.text
        assert (await api.get(f"/api/v1/charge-points/{cp}")).json()["circuit_id"] == circuit
        page = (await client.get(r.headers["location"])).text
        assert f'href="/circuits/{circuit}" id="placed-on"' in page and f'<option value="{circuit}" selected>' in page
        assert f'href="/stations/{cp}"' in (await client.get(f"/circuits/{circuit}")).text

        # A circuit that does not exist (deleted meanwhile), or no number: said beside the select.
        r = await client.post(f"/stations/{cp}/circuit", data={"csrf": client.csrf, "circuit_id": "99999999"})
        assert r.status_code == 422 and "circuit 99999999 does not exist" in r.text and "Load management" in r.text
        r = await client.post(f"/stations/{cp}/circuit", data={"csrf": client.csrf, "circuit_id": "two"})
        assert r.status_code == 422 and "valid integer" in r.text
        assert (await api.get(f"/api/v1/charge-points/{cp}")).json()["circuit_id"] == circuit
        r = await client.post(f"/stations/{unique()}/circuit", data={"csrf": client.csrf, "circuit_id": str(circuit)})
        assert r.status_code == 404

        # None: taken off.
        r = await client.post(f"/stations/{cp}/circuit", data={"csrf": client.csrf, "circuit_id": ""})
        assert r.status_code == 303
        assert (await api.get(f"/api/v1/charge-points/{cp}")).json()["circuit_id"] is None


async def test_viewers_see_the_pages_without_forms_and_forms_need_the_operator_and_the_token(server):
    cp = await server.add_station()
    async with server.api() as api:
        circuit = (await api.post("/api/v1/circuits", json={"name": unique("Hall"), "max_current_a": 40})).json()
    async with logged_in(server, "viewer") as viewer:
        listing = await viewer.get("/circuits")
        assert listing.status_code == 200 and circuit["name"] in listing.text and "New circuit" not in listing.text
        assert 'href="/circuits"' in listing.text  # the menu
        page = await viewer.get(f"/circuits/{circuit['id']}")
        assert page.status_code == 200 and "<h2>Edit</h2>" not in page.text and "Delete circuit" not in page.text
        station_page = (await viewer.get(f"/stations/{cp}")).text
        assert "Load management" in station_page and "Place on circuit" not in station_page
        for path, data in (("/circuits", GRID), (f"/circuits/{circuit['id']}", GRID),
                           (f"/circuits/{circuit['id']}/delete", {}),
                           (f"/stations/{cp}/circuit", {"circuit_id": str(circuit["id"])})):
            r = await viewer.post(path, data={"csrf": viewer.csrf, **data})
            assert r.status_code == 403, path
    async with logged_in(server, "operator") as client:
        for path, data in (("/circuits", GRID), (f"/circuits/{circuit['id']}/delete", {}),
                           (f"/stations/{cp}/circuit", {"circuit_id": str(circuit["id"])})):
            r = await client.post(path, data=data)
            assert r.status_code == 403 and "security token" in r.text, path
            r = await client.post(path, data={"csrf": "not-the-token", **data})
            assert r.status_code == 403, path
    async with server.api() as api:
        assert (await api.get(f"/api/v1/circuits/{circuit['id']}")).status_code == 200
        assert (await api.get(f"/api/v1/charge-points/{cp}")).json()["circuit_id"] is None
    async with httpx.AsyncClient(base_url=server.http_url) as anonymous:
        r = await anonymous.get("/circuits")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def answer_the_controller(st) -> None:
    """Accept every charging profile; no composite schedule; anything else acknowledged."""
    while True:
        frame = await st.calls.get()
        action = frame[2]
        if action in ("SetChargingProfile", "ClearChargingProfile", "ChangeConfiguration"):
            await st.answer(frame, {"status": "Accepted"})
        elif action == "GetCompositeSchedule":
            await st.answer(frame, {"status": "Rejected"})
        else:
            await st.answer(frame, {})


async def test_a_circuit_shows_its_live_load_and_the_session_its_charging_profiles(sqlite_server):
    server = sqlite_server
    cp, tag = await server.add_station(), await server.add_tag()
    async with server.api() as api:
        circuit = (await api.post("/api/v1/circuits", json={"name": unique("Garage"), "max_current_a": 100,
                                                            "unmanaged_fixed_a": 30})).json()
        assert (await api.patch(f"/api/v1/charge-points/{cp}", json={"circuit_id": circuit["id"]})).status_code == 200
    async with station(server.ws_url, cp) as st, logged_in(server, "viewer") as viewer:
        answering = asyncio.create_task(answer_the_controller(st))
        try:
            await st.boot()
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": iso()}))["transactionId"]
            await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [{
                "timestamp": iso(), "sampledValue": [
                    {"value": "12.5", "measurand": "Current.Import", "unit": "A", "phase": phase}
                    for phase in ("L1", "L2", "L3")]}]})
            async with server.api() as api:
                session = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"][0]

            async def accepted():
                page = (await viewer.get(f"/circuits/{circuit['id']}", params={"fragment": "live"})).text
                return page if "sent and accepted" in page else None
            live = await until(accepted, "the controller's accepted limit on the circuit page")
            assert f'href="/stations/{cp}"' in live and "<h1>" not in live
            assert '<span class="state managed">managed</span>' in live and "<td>L1, L2, L3</td>" in live
            # Per phase: the limit, 30 A unmanaged, the EVSE's allocation, and the 12.5 A it draws.
            for phase in (1, 2, 3):
                row = rf"<td>L{phase}</td><td>100 A</td><td>30 A</td><td>[0-9.]+ A</td><td>12.5 A</td>"
                assert re.search(row, live), phase
            evse_row = live[live.index('<tr class="managed">'):]
            assert re.search(r"<td>[0-9.]+ A</td><td>12.5 A</td><td>32 A</td>", evse_row)  # limit, drawn, max
            listing = (await viewer.get("/circuits")).text
            assert "unmanaged 30 A" in listing and "drawn 12.5 A" in listing

            page = await viewer.get(f"/sessions/{session['id']}")
            assert page.status_code == 200 and "Charging profiles" in page.text
            async with server.api() as api:
                history = (await api.get(f"/api/v1/sessions/{session['id']}/charging-profiles")).json()
            first = next(p for p in history if p["status"] == "accepted")
            assert f"{first['purpose']} #{first['profile_id']}" in page.text
            assert '<span class="state accepted">accepted</span>' in page.text
        finally:
            answering.cancel()
    async with logged_in(server, "viewer") as viewer:  # a session without profiles says so
        other = await server.add_station()
        async with station(server.ws_url, other) as st:
            await st.boot()
            await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": iso()})
            async with server.api() as api:
                session = (await api.get("/api/v1/sessions", params={"charge_point_id": other})).json()["data"][0]
            page = (await viewer.get(f"/sessions/{session['id']}")).text
            assert "None sent: the station is not on a circuit" in page
