"""Circuits over HTTP, on SQLite and PostgreSQL: the fixed points of issue 18 (a circuit made with
name and max_current_a, a charge point placed with circuit_id), the tree and its loops, bad input,
deletes, posted unmanaged load going stale, and the live load of a circuit with a real OCPP 1.6
station charging on it (its MeterValues' Current.Import per phase, through its phase rotation)."""

from datetime import datetime, timedelta, timezone

import pytest

from conftest import until, unique
from ocpp_client import station

API = "/api/v1"


def ts(offset_s: float = 0) -> str:
    at = datetime.now(timezone.utc) + timedelta(seconds=offset_s)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def create(api, **body) -> dict:
    r = await api.post(f"{API}/circuits", json={"name": unique("circuit"), "max_current_a": 100, **body})
    assert r.status_code == 201, r.text
    return r.json()


def refused(r, field: str, status: int = 422) -> dict:
    """The JSON error of a refused request, naming ``field``."""
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert any(field in d["field"].split(".") for d in error["details"] or []), error
    return error


async def load(api, circuit_id: int) -> dict:
    r = await api.get(f"{API}/circuits/{circuit_id}/load")
    assert r.status_code == 200, r.text
    return r.json()


def per_phase(view: dict, name: str) -> list[float]:
    return [p[name] for p in view["phases"]]


async def test_a_circuit_is_made_with_name_and_limit_and_a_charge_point_placed_on_it(server):
    cp = await server.add_station()
    async with server.api() as api:
        r = await api.post(f"{API}/circuits", json={"name": "Grid connection", "max_current_a": 100})
        assert r.status_code == 201, r.text
        circuit = r.json()
        assert circuit["id"] >= 1
        assert (circuit["name"], circuit["max_current_a"], circuit["phases"], circuit["parent_id"]) == (
            "Grid connection", 100, 3, None)
        assert (circuit["safety_margin_a"], circuit["strategy"], circuit["time_zone"], circuit["voltage_v"]) == (
            0, "equal", "UTC", 230)
        assert (circuit["children"], circuit["charge_point_ids"], circuit["evse_ids"]) == ([], [], [])
        assert circuit["unmanaged_posted"] is None

        r = await api.patch(f"{API}/charge-points/{cp}", json={"circuit_id": circuit["id"]})
        assert r.status_code == 200, r.text
        assert r.json()["circuit_id"] == circuit["id"]
        assert (await api.get(f"{API}/charge-points/{cp}")).json()["circuit_id"] == circuit["id"]
        assert (await api.get(f"{API}/circuits/{circuit['id']}")).json()["charge_point_ids"] == [cp]

        # An EVSE on a circuit of its own, with its phase rotation.
        r = await api.post(f"{API}/charge-points/{cp}/evses", json={"number": 1, "phases": 1})
        assert r.status_code == 201, r.text
        evse = r.json()
        assert (evse["circuit_id"], evse["phase_rotation"]) == (None, None)
        other = await create(api, name="Row B", parent_id=circuit["id"], max_current_a=32)
        r = await api.patch(f"{API}/evses/{evse['id']}", json={"circuit_id": other["id"], "phase_rotation": "TRS"})
        assert r.status_code == 200, r.text
        assert (r.json()["circuit_id"], r.json()["phase_rotation"]) == (other["id"], "TRS")
        placed = (await api.get(f"{API}/charge-points/{cp}")).json()["evses"][0]
        assert (placed["circuit_id"], placed["phase_rotation"]) == (other["id"], "TRS")
        assert (await api.get(f"{API}/circuits/{other['id']}")).json()["evse_ids"] == [evse["id"]]

        # Taken off again.
        r = await api.patch(f"{API}/charge-points/{cp}", json={"circuit_id": None})
        assert r.status_code == 200 and r.json()["circuit_id"] is None
        r = await api.patch(f"{API}/evses/{evse['id']}", json={"circuit_id": None, "phase_rotation": None})
        assert (r.json()["circuit_id"], r.json()["phase_rotation"]) == (None, None)
        assert (await api.get(f"{API}/circuits/{circuit['id']}")).json()["charge_point_ids"] == []


async def test_the_tree_lists_children_pages_by_cursor_and_refuses_loops(server):
    async with server.api() as api:
        root = await create(api, name="Grid")
        a = await create(api, name="A", parent_id=root["id"], max_current_a=63)
        b = await create(api, name="B", parent_id=root["id"], max_current_a=63)
        a1 = await create(api, name="A1", parent_id=a["id"], max_current_a=32, phases=1)
        got = (await api.get(f"{API}/circuits/{root['id']}")).json()
        assert got["children"] == [a["id"], b["id"]]
        assert (await api.get(f"{API}/circuits/{a['id']}")).json()["children"] == [a1["id"]]

        listed = (await api.get(f"{API}/circuits", params={"parent_id": root["id"]})).json()
        assert [c["id"] for c in listed["data"]] == [a["id"], b["id"]] and listed["next_cursor"] is None
        seen, cursor = [], None
        while True:
            page = (await api.get(f"{API}/circuits", params={"parent_id": root["id"], "limit": 1,
                                                              **({"cursor": cursor} if cursor else {})})).json()
            seen += [c["id"] for c in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [a["id"], b["id"]]
        roots = (await api.get(f"{API}/circuits", params={"roots": "true", "limit": 500})).json()["data"]
        assert root["id"] in [c["id"] for c in roots] and a["id"] not in [c["id"] for c in roots]

        # A circuit cannot be under itself, directly or through its sub-circuits.
        error = refused(await api.patch(f"{API}/circuits/{root['id']}", json={"parent_id": a1["id"]}), "parent_id")
        assert "cannot be under itself" in error["message"]
        refused(await api.patch(f"{API}/circuits/{a['id']}", json={"parent_id": a["id"]}), "parent_id")
        # Moving a sub-circuit elsewhere is fine.
        r = await api.patch(f"{API}/circuits/{a1['id']}", json={"parent_id": b["id"]})
        assert r.status_code == 200 and r.json()["parent_id"] == b["id"]
        assert (await api.get(f"{API}/circuits/{b['id']}")).json()["children"] == [a1["id"]]
        # A three-phase circuit under a single-phase one, or a single-phase one above three-phase ones: refused.
        refused(await api.post(f"{API}/circuits", json={"name": "x", "max_current_a": 16, "parent_id": a1["id"]}),
                "phases")
        refused(await api.patch(f"{API}/circuits/{root['id']}", json={"phases": 1}), "phases")


@pytest.mark.parametrize("body, field", [
    ({"max_current_a": 0}, "max_current_a"), ({"max_current_a": -5}, "max_current_a"),
    ({"max_current_a": 10_001}, "max_current_a"), ({"max_current_a": "lots"}, "max_current_a"),
    ({"max_current_a": None}, "max_current_a"), ({"phases": 2}, "phases"), ({"strategy": "loudest"}, "strategy"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"), ({"parent_id": 2_000_000_000}, "parent_id"),
    ({"parent_id": 0}, "parent_id"), ({"location_id": 2_000_000_000}, "location_id"),
    ({"safety_margin_a": 100}, "safety_margin_a"), ({"safety_margin_a": -1}, "safety_margin_a"),
    ({"unmanaged_fixed_a": -1}, "unmanaged_fixed_a"),
    ({"unmanaged_schedule": [{"from": "08:00", "to": "08:00", "current_a": 5}]}, "unmanaged_schedule"),
    ({"unmanaged_schedule": [{"from": "8:00", "to": "09:00", "current_a": 5}]}, "from"),
    ({"unmanaged_schedule": [{"from": "08:00", "to": "09:00"}]}, "current_a"),
    ({"unmanaged_meter_charge_point_id": "NO-SUCH-STATION"}, "unmanaged_meter_charge_point_id"),
    ({"unmanaged_meter_evse": 0}, "unmanaged_meter_evse"),
    ({"colour": "red"}, "colour"),
])
async def test_bad_circuits_are_refused_naming_the_field(server, body, field):
    async with server.api() as api:
        r = await api.post(f"{API}/circuits", json={"name": "bad", "max_current_a": 100, **body})
        refused(r, field)


async def test_bad_placements_and_requests_are_refused(server):
    cp = await server.add_station()
    async with server.api() as api:
        circuit = await create(api)
        error = refused(await api.patch(f"{API}/charge-points/{cp}", json={"circuit_id": 2_000_000_000}), "circuit_id")
        assert "does not exist" in error["message"]
        refused(await api.patch(f"{API}/charge-points/{cp}", json={"circuit_id": 0}), "circuit_id")
        refused(await api.patch(f"{API}/charge-points/{cp}", json={"circuit_id": "one"}), "circuit_id")
        r = await api.post(f"{API}/charge-points/{cp}/evses", json={"number": 1})
        evse = r.json()["id"]
        refused(await api.patch(f"{API}/evses/{evse}", json={"circuit_id": 2_000_000_000}), "circuit_id")
        refused(await api.patch(f"{API}/evses/{evse}", json={"phase_rotation": "XYZ"}), "phase_rotation")
        refused(await api.post(f"{API}/charge-points/{cp}/evses", json={"number": 2, "circuit_id": 2_000_000_000}),
                "circuit_id")
        for patch, field in (({"name": None}, "name"), ({"max_current_a": 0}, "max_current_a"),
                             ({"phases": None}, "phases"), ({"strategy": None}, "strategy")):
            refused(await api.patch(f"{API}/circuits/{circuit['id']}", json=patch), field)
        assert (await api.get(f"{API}/circuits/2000000000")).status_code == 404
        assert (await api.get(f"{API}/circuits/2000000000/load")).status_code == 404
        assert (await api.patch(f"{API}/circuits/2000000000", json={"name": "x"})).status_code == 404
        assert (await api.delete(f"{API}/circuits/2000000000")).status_code == 404
        refused(await api.get(f"{API}/circuits/{2**31}"), "circuit_id")
        refused(await api.get(f"{API}/circuits", params={"cursor": "not-a-cursor"}), "cursor")
        url = f"{API}/circuits/{circuit['id']}/unmanaged-load"
        for body, field in (({"current_a": [1, 2]}, "current_a"), ({"current_a": []}, "current_a"),
                            ({"current_a": [1, 2, 3, 4]}, "current_a"), ({"current_a": [-1]}, "current_a"),
                            ({"current_a": [10_001]}, "current_a"), ({"current_a": [1], "valid_s": 0}, "valid_s"),
                            ({"current_a": "a lot"}, "current_a")):
            refused(await api.post(url, json=body), field)
        assert (await api.post(f"{API}/circuits/2000000000/unmanaged-load", json={"current_a": [1]})).status_code == 404
        # Sessions and driver groups: priorities in range.
        refused(await api.patch(f"{API}/sessions/1", json={"charging_priority": 1001}), "charging_priority")
        assert (await api.patch(f"{API}/sessions/2000000000", json={"charging_priority": 1})).status_code == 404
        refused(await api.post(f"{API}/driver-groups", json={"name": "g", "charging_priority": "high"}),
                "charging_priority")


async def test_deleting_a_circuit_with_sub_circuits_conflicts_and_unplaces_what_is_on_it(server):
    cp = await server.add_station()
    async with server.api() as api:
        meter = await server.add_station()
        root = await create(api, unmanaged_meter_charge_point_id=meter, unmanaged_meter_evse=2)
        child = await create(api, parent_id=root["id"], max_current_a=50)
        # Without its meter's station, a circuit has no meter EVSE either.
        r = await api.patch(f"{API}/circuits/{root['id']}", json={"unmanaged_meter_charge_point_id": None})
        assert r.status_code == 200, r.text
        assert (r.json()["unmanaged_meter_charge_point_id"], r.json()["unmanaged_meter_evse"]) == (None, None)
        r = await api.delete(f"{API}/circuits/{root['id']}")
        assert r.status_code == 409, r.text
        assert r.json()["error"]["details"] == {"children": [child["id"]]}
        evse = (await api.post(f"{API}/charge-points/{cp}/evses", json={"number": 1})).json()["id"]
        assert (await api.patch(f"{API}/charge-points/{cp}", json={"circuit_id": child["id"]})).status_code == 200
        assert (await api.patch(f"{API}/evses/{evse}", json={"circuit_id": child["id"]})).status_code == 200
        assert (await api.delete(f"{API}/circuits/{child['id']}")).status_code == 204
        station_now = (await api.get(f"{API}/charge-points/{cp}")).json()
        assert station_now["circuit_id"] is None and station_now["evses"][0]["circuit_id"] is None
        assert (await api.get(f"{API}/circuits/{child['id']}")).status_code == 404
        assert (await api.delete(f"{API}/circuits/{root['id']}")).status_code == 204


async def test_posted_unmanaged_load_counts_until_it_is_stale(server):
    async with server.api() as api:
        circuit = await create(api, unmanaged_fixed_a=5)
        view = await load(api, circuit["id"])
        assert per_phase(view, "unmanaged_a") == [5, 5, 5] and per_phase(view, "limit_a") == [100, 100, 100]
        assert (view["unmanaged_stale"], view["evses"]) == (False, [])

        url = f"{API}/circuits/{circuit['id']}/unmanaged-load"
        r = await api.post(url, json={"current_a": [10, 11, 12], "valid_s": 3600})
        assert r.status_code == 200, r.text
        posted = r.json()["unmanaged_posted"]
        assert (posted["current_a"], posted["valid_s"], posted["stale"]) == ([10, 11, 12], 3600, False)
        assert per_phase(await load(api, circuit["id"]), "unmanaged_a") == [15, 16, 17]
        # One value is the same on every phase; the newest reading replaces the one before.
        r = await api.post(url, json={"current_a": [7]})
        assert r.json()["unmanaged_posted"]["current_a"] == [7, 7, 7] and r.json()["unmanaged_posted"]["valid_s"] == 300
        assert per_phase(await load(api, circuit["id"]), "unmanaged_a") == [12, 12, 12]

        # A reading valid for one second goes stale: left out, and said so.
        await api.post(url, json={"current_a": [40, 40, 40], "valid_s": 1})

        async def stale():
            view = await load(api, circuit["id"])
            return view if view["unmanaged_stale"] else None
        view = await until(stale, "the posted reading is stale")
        assert per_phase(view, "unmanaged_a") == [5, 5, 5]
        assert (await api.get(f"{API}/circuits/{circuit['id']}")).json()["unmanaged_posted"]["stale"] is True


async def test_a_schedule_of_unmanaged_load_counts_all_day(server):
    async with server.api() as api:
        circuit = await create(api, time_zone="europe/berlin", unmanaged_fixed_a=2,
                               unmanaged_schedule=[{"from": "00:00", "to": "24:00", "current_a": 20}])
        assert circuit["time_zone"] == "Europe/Berlin"
        assert circuit["unmanaged_schedule"] == [{"from": "00:00", "to": "24:00", "current_a": 20}]
        assert per_phase(await load(api, circuit["id"]), "unmanaged_a") == [22, 22, 22]
        r = await api.patch(f"{API}/circuits/{circuit['id']}", json={"unmanaged_schedule": None})
        assert r.status_code == 200 and r.json()["unmanaged_schedule"] is None
        assert per_phase(await load(api, circuit["id"]), "unmanaged_a") == [2, 2, 2]


async def test_the_live_load_of_a_circuit_with_a_1_6_station_charging(server):
    """A station on a sub-circuit charges; its meter says 16 A on L1, 10 A on L2, 4 A on L3 and its
    EVSE is wired SRT (its L1 on the circuit's L2). Another station's main meter measures the
    building: its readings outside transactions are the circuit's unmanaged load."""
    cp, meter_cp = await server.add_station(), await server.add_station()
    async with server.api() as api:
        group = (await api.post(f"{API}/driver-groups", json={"name": unique("fleet"), "charging_priority": 3})).json()
        assert group["charging_priority"] == 3
        driver = (await api.post(f"{API}/drivers", json={"name": "Ada", "home_group_id": group["id"]})).json()
        tag = await server.add_tag(driver_id=driver["id"])
        root = await create(api, max_current_a=100, unmanaged_fixed_a=30, unmanaged_meter_charge_point_id=meter_cp)
        assert (root["unmanaged_meter_charge_point_id"], root["unmanaged_meter_evse"]) == (meter_cp, None)
        r = await api.patch(f"{API}/circuits/{root['id']}", json={"unmanaged_meter_evse": 0})
        assert r.status_code == 200 and r.json()["unmanaged_meter_evse"] == 0
        row = await create(api, parent_id=root["id"], max_current_a=63, safety_margin_a=3)
        assert (await api.patch(f"{API}/charge-points/{cp}", json={"circuit_id": row["id"]})).status_code == 200
        evse = (await api.post(f"{API}/charge-points/{cp}/evses", json={
            "number": 1, "phases": 3, "max_amperage_a": 16, "phase_rotation": "SRT"})).json()
        assert evse["phase_rotation"] == "SRT"

        # No meter reading yet: the meter counts as stale, the fixed load alone.
        view = await load(api, root["id"])
        assert view["unmanaged_stale"] is True and per_phase(view, "unmanaged_a") == [30, 30, 30]

        async with station(server.ws_url, meter_cp) as meter, station(server.ws_url, cp) as st:
            await meter.boot()
            await meter.ok("MeterValues", {"connectorId": 0, "meterValue": [{"timestamp": ts(), "sampledValue": [
                {"value": "5.5", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
                {"value": "6", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
                {"value": "7", "measurand": "Current.Import", "phase": "L3", "unit": "A"}]}]})
            view = await load(api, root["id"])
            assert view["unmanaged_stale"] is False and per_phase(view, "unmanaged_a") == [35.5, 36, 37]

            await st.boot()
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000,
                                                   "timestamp": ts(-60)}))["transactionId"]
            await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
                {"timestamp": ts(), "sampledValue": [
                    {"value": "1200", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "16", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
                    {"value": "10", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
                    {"value": "4", "measurand": "Current.Import", "phase": "L3", "unit": "A"}]}]})

            view = await load(api, root["id"])
            (charging,) = view["evses"]
            assert (charging["charge_point_id"], charging["evse"], charging["circuit_id"]) == (cp, 1, row["id"])
            assert (charging["phases"], charging["drawn_a"], charging["max_a"]) == ([1, 2, 3], 16, 16)
            assert charging["priority"] == 3 and charging["managed"] is True
            assert charging["limit_a"] == 16  # it draws its maximum; the circuits have room for it
            assert per_phase(view, "drawn_a") == [10, 16, 4]  # SRT: its L1 is the circuit's L2
            assert per_phase(view, "allocated_a") == [16, 16, 16]
            assert per_phase(view, "unmanaged_a") == [35.5, 36, 37]
            assert per_phase(view, "limit_a") == [100, 100, 100]
            sub = await load(api, row["id"])
            assert per_phase(sub, "limit_a") == [60, 60, 60] and per_phase(sub, "unmanaged_a") == [0, 0, 0]
            assert [e["charge_point_id"] for e in sub["evses"]] == [cp]

            # The session's own priority wins over its driver group's.
            (session,) = (await api.get(f"{API}/sessions", params={"charge_point_id": cp})).json()["data"]
            assert session["charging_priority"] is None
            r = await api.patch(f"{API}/sessions/{session['id']}", json={"charging_priority": 9})
            assert r.status_code == 200 and r.json()["charging_priority"] == 9
            assert (await load(api, root["id"]))["evses"][0]["priority"] == 9

            # Only the tree asked for: a circuit elsewhere sees nothing of it.
            other = await create(api)
            assert (await load(api, other["id"]))["evses"] == []

            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 1300, "timestamp": ts()})
            view = await load(api, root["id"])
            assert view["evses"] == [] and per_phase(view, "drawn_a") == [0, 0, 0]


async def test_a_driver_groups_priority_can_be_changed(server):
    async with server.api() as api:
        group = (await api.post(f"{API}/driver-groups", json={"name": unique("g")})).json()
        assert group["charging_priority"] is None
        r = await api.patch(f"{API}/driver-groups/{group['id']}", json={"charging_priority": -2})
        assert r.status_code == 200 and r.json()["charging_priority"] == -2
        listed = (await api.get(f"{API}/driver-groups", params={"limit": 500})).json()["data"]
        assert [g["charging_priority"] for g in listed if g["id"] == group["id"]] == [-2]
        charger_group = (await api.post(f"{API}/charger-groups", json={"name": unique("c")})).json()
        assert "charging_priority" not in charger_group
        refused(await api.patch(f"{API}/charger-groups/{charger_group['id']}", json={"charging_priority": 1}),
                "charging_priority")


async def test_the_snapshot_reads_a_few_statements_whatever_the_number_of_sessions(tmp_path):
    """The controller takes a snapshot on every start and stop: its statements must not grow with
    the EVSEs charging (500 in the bench), and it carries what the allocation and fail-safe need."""
    from sqlalchemy import event

    from wattson.db import Database
    from wattson.db.migrate import upgrade
    from wattson.loadmgmt.service import LoadService
    from wattson.sessions.models import MeterValue, Session
    from wattson.settings import async_database_url
    from wattson.stations.models import ChargePoint, Evse

    db = Database(async_database_url(f"sqlite:///{tmp_path / 'snapshot.db'}"))
    try:
        await upgrade(db)
        service = LoadService(db)
        root = await service.create(name="grid", max_current_a=400)
        row = await service.create(name="row", parent_id=root.id, max_current_a=200)
        start = datetime.now(timezone.utc) - timedelta(minutes=5)

        async def add_sessions(first: int, count: int) -> None:
            async with db.session() as s:
                for n in range(first, first + count):
                    cp = f"SNAP-{n:04d}"
                    s.add(ChargePoint(id=cp, ocpp_version="1.6" if n % 2 else "2.0.1",
                                      circuit_id=row.id if n % 3 else root.id))
                    s.add(Evse(charge_point_id=cp, number=1, phases=3, max_amperage_a=16 + n % 17,
                               phase_rotation="RST"))
                    s.add(Evse(charge_point_id=cp, number=2))  # placed, not charging
                    await s.flush()
                    session = Session(charge_point_id=cp, evse=1, connector=1, transaction_id=str(n), status="active",
                                      started_at=start + timedelta(seconds=n), meter_start=0)
                    s.add(session)
                    await s.flush()
                    for k in range(3):
                        s.add(MeterValue(session_id=session.id, charge_point_id=cp, evse=1, connector=1,
                                         timestamp=start + timedelta(seconds=10 * k), samples=[
                                             {"measurand": "Current.Import", "value": str(6 + k + n % 5),
                                              "phase": phase} for phase in ("L1", "L2", "L3")]))

        statements = []
        event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        await add_sessions(1, 3)
        await service.snapshot()  # the first one also looks once whether the controller's table exists
        statements.clear()
        small = await service.snapshot()
        few = len(statements)
        await add_sessions(4, 60)
        statements.clear()
        snapshot = await service.snapshot()
        assert len(statements) == few <= 5, statements

        assert len(small.demands) == 3 and len(snapshot.demands) == 63
        demand = {d.key: d for d in snapshot.demands}[("SNAP-0007", 1)]
        assert (demand.circuit_id, demand.phases, demand.max_a, demand.min_a) == (row.id, (0, 1, 2), 23.0, 6.0)
        assert demand.drawn_a == 6 + 2 + 7 % 5  # the latest reading's
        assert demand.since == start + timedelta(seconds=7) and demand.priority == 0 and demand.managed
        assert sorted(snapshot.placed) == [root.id, row.id]
        assert ("SNAP-0007", 1) in snapshot.placed[row.id] and ("SNAP-0007", 2) in snapshot.placed[row.id]
        assert ("SNAP-0003", 2) in snapshot.placed[root.id]
        assert snapshot.versions["SNAP-0007"] == "1.6" and snapshot.versions["SNAP-0008"] == "2.0.1"
        assert {node.id: node.parent_id for node in snapshot.circuits} == {root.id: None, row.id: root.id}
        # One tree: a circuit elsewhere and its stations are not in it.
        elsewhere = await service.create(name="elsewhere", max_current_a=50)
        async with db.session() as s:
            (await s.get(ChargePoint, "SNAP-0001")).circuit_id = elsewhere.id
        tree = await service.snapshot(row.id)
        assert {node.id for node in tree.circuits} == {root.id, row.id}
        assert ("SNAP-0001", 1) not in {d.key for d in tree.demands} and len(tree.demands) == 62
        assert {d.key for d in (await service.snapshot(elsewhere.id)).demands} == {("SNAP-0001", 1)}
        assert await service.circuit_of("SNAP-0001") == elsewhere.id and await service.circuit_of("nope") is None
    finally:
        await db.dispose()


async def test_an_iso_15118_evs_needs_shape_its_demand(tmp_path):
    """What the EV said in NotifyEVChargingNeeds (charging_needs.py): its departure and energy for the
    departure strategy, its own current range, and a single-phase EV on a three-phase EVSE counted on
    the EVSE's first phase (after its rotation) only."""
    charging_needs = pytest.importorskip("wattson.loadmgmt.charging_needs")
    from wattson.db import Database
    from wattson.db.migrate import upgrade
    from wattson.loadmgmt.service import LoadService
    from wattson.sessions.models import Session
    from wattson.settings import async_database_url
    from wattson.stations.models import ChargePoint, Evse

    db = Database(async_database_url(f"sqlite:///{tmp_path / 'needs.db'}"))
    try:
        await upgrade(db)
        service = LoadService(db)
        circuit = await service.create(name="grid", max_current_a=100)
        departure = datetime(2030, 1, 1, 18, 0, tzinfo=timezone.utc)
        async with db.session() as s:
            for cp in ("ISO-1", "ISO-2"):
                s.add(ChargePoint(id=cp, ocpp_version="2.0.1", circuit_id=circuit.id))
                s.add(Evse(charge_point_id=cp, number=1, phases=3, max_amperage_a=32, phase_rotation="TRS"))
                await s.flush()
                session = Session(charge_point_id=cp, evse=1, connector=1, transaction_id=cp, status="active",
                                  started_at=departure - timedelta(hours=3), meter_start=0)
                s.add(session)
                await s.flush()
                if cp == "ISO-1":
                    s.add(charging_needs.EvChargingNeeds(
                        charge_point_id=cp, evse=1, session_id=session.id, transfer_mode="AC_single_phase",
                        departure_at=departure, energy_wh=20_000, min_current_a=8, max_current_a=13,
                        status="Accepted"))
        demands = {d.key[0]: d for d in (await service.snapshot()).demands}
        iso = demands["ISO-1"]
        assert (iso.departure, iso.energy_needed_wh, iso.min_a, iso.max_a) == (departure, 20_000, 8, 13)
        assert iso.phases == (2,)  # TRS: the EVSE's L1 is the circuit's L3
        plain = demands["ISO-2"]
        assert (plain.departure, plain.energy_needed_wh, plain.min_a, plain.max_a, plain.phases) == (
            None, None, 6, 32, (0, 1, 2))
    finally:
        await db.dispose()
