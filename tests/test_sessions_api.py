"""Sessions over HTTP: the list's filters, and one session with its charging periods and power.

``dataset`` (also used by test_sessions_query.py) charges five sessions with known times and
energies over OCPP at three stations of their own, with locations and drivers inserted directly
into the server's database.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from conftest import unique
from ocpp_client import station
from wattson.access.models import Driver, DriverGroup, IdToken
from wattson.db import Database
from wattson.locations.models import Location
from wattson.settings import async_database_url
from wattson.stations.models import ChargePoint


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def api_time(t: datetime) -> str:
    """How the API writes a time (pydantic: ``Z``, microseconds only when there are any)."""
    return iso(t)


@dataclass
class Dataset:
    base: datetime  # s1's start
    chargers: dict[str, str]  # X, Y, Z -> charge point id (X < Y < Z)
    locations: dict[str, int]  # L1, L2 -> id
    location_names: dict[str, str]
    group: tuple[int, str]  # Alice's home group
    drivers: dict[str, int]  # alice, bob -> id
    driver_names: dict[str, str]
    tags: dict[str, str]  # A (Alice), B (Bob), C (nobody) -> uid
    sessions: dict[str, dict] = field(default_factory=dict)  # s1..s5 -> session as GET /sessions shows it


_cache: dict[str, Dataset] = {}


async def _insert(server, *rows) -> list[int]:
    db = Database(async_database_url(server.env["WATTSON_DATABASE_URL"]))
    try:
        async with db.session() as s:
            s.add_all(rows)
            await s.flush()
            return [row.id for row in rows]
    finally:
        await db.dispose()


async def _execute(server, *statements) -> None:
    db = Database(async_database_url(server.env["WATTSON_DATABASE_URL"]))
    try:
        async with db.session() as s:
            for statement in statements:
                await s.execute(statement)
    finally:
        await db.dispose()


async def dataset(server) -> Dataset:
    """Five sessions (built once per server):

    ====  =======  ====  ===  =====  ===========  ==========  ===========  ======
    name  charger  evse  tag  start  stop         energy Wh   duration     site
    ====  =======  ====  ===  =====  ===========  ==========  ===========  ======
    s1    Y        1     A    +0 h   +2 h         10,000      120 min      L1
    s2    X        2     B    +1 h   +1 h 30      3,000       30 min       L1
    s3    Z        1     A    +3 h   +8 h         500         300 min      L2
    s4    X        1     C    +5 h   +5 h 10      20,000      10 min       L1
    s5    Y        2     B    +9 d   (active)     1,200       ~1 day       L1
    ====  =======  ====  ===  =====  ===========  ==========  ===========  ======

    A is Alice's tag (home group "Fleet North"), B is Bob's (no group; his name starts with =),
    C belongs to nobody. s1 has meter values: 5 kWh at 30 min, 10 kWh at 60 and 90 min, with
    power 10 kW, 10 kW and 0 W.
    """
    if server.backend in _cache:
        return _cache[server.backend]
    prefix = unique("QRY")
    chargers = {name: await server.add_station(f"{prefix}-{name}") for name in "XYZ"}
    tags = {name: await server.add_tag() for name in "ABC"}
    location_names = {"L1": f"Harbour {prefix}", "L2": f"Airport {prefix}"}
    l1, l2 = await _insert(server, Location(name=location_names["L1"]), Location(name=location_names["L2"]))
    (group_id,) = await _insert(server, DriverGroup(name="Fleet North"))
    driver_names = {"alice": "Alice Example", "bob": "=Bob"}
    alice, bob = await _insert(server, Driver(name=driver_names["alice"], home_group_id=group_id),
                               Driver(name=driver_names["bob"]))
    await _execute(server, update(IdToken).where(IdToken.uid == tags["A"]).values(driver_id=alice),
                   update(IdToken).where(IdToken.uid == tags["B"]).values(driver_id=bob),
                   update(ChargePoint).where(ChargePoint.id.in_([chargers["X"], chargers["Y"]])).values(location_id=l1),
                   update(ChargePoint).where(ChargePoint.id == chargers["Z"]).values(location_id=l2))
    base = (datetime.now(timezone.utc) - timedelta(days=10)).replace(second=0, microsecond=0)
    data = Dataset(base, chargers, {"L1": l1, "L2": l2}, location_names, (group_id, "Fleet North"),
                   {"alice": alice, "bob": bob}, driver_names, tags)

    plan = [  # name, charger, evse, tag, start, stop, meter start, meter stop
        ("s1", "Y", 1, "A", timedelta(0), timedelta(hours=2), 0, 10_000),
        ("s2", "X", 2, "B", timedelta(hours=1), timedelta(hours=1, minutes=30), 0, 3_000),
        ("s3", "Z", 1, "A", timedelta(hours=3), timedelta(hours=8), 5_000, 5_500),
        ("s4", "X", 1, "C", timedelta(hours=5), timedelta(hours=5, minutes=10), 100, 20_100),
        ("s5", "Y", 2, "B", timedelta(days=9), None, 0, None),
    ]
    for name, charger, evse, tag, start, stop, meter_start, meter_stop in plan:
        async with station(server.ws_url, chargers[charger]) as st:
            await st.boot()
            tx = (await st.ok("StartTransaction", {"connectorId": evse, "idTag": tags[tag],
                                                   "meterStart": meter_start, "timestamp": iso(base + start)}))
            tx = tx["transactionId"]
            if name == "s1":
                for minutes, wh, watts in ((30, "5000", "10000"), (60, "10.0", "10"), (90, "10000", "0")):
                    unit = "kWh" if wh == "10.0" else "Wh"
                    await st.ok("MeterValues", {"connectorId": evse, "transactionId": tx, "meterValue": [
                        {"timestamp": iso(base + timedelta(minutes=minutes)), "sampledValue": [
                            {"value": wh, "unit": unit},
                            {"value": watts, "measurand": "Power.Active.Import",
                             "unit": "kW" if watts == "10" else "W"}]}]})
            if name == "s5":
                await st.ok("MeterValues", {"connectorId": evse, "transactionId": tx, "meterValue": [
                    {"timestamp": iso(base + timedelta(days=9, hours=1)), "sampledValue": [{"value": "1200"}]}]})
            if stop is not None:
                await st.ok("StopTransaction", {"transactionId": tx, "meterStop": meter_stop,
                                                "timestamp": iso(base + stop), "reason": "Local"})
    async with server.api() as api:
        for charger in chargers.values():
            for s in (await api.get("/api/v1/sessions", params={"charge_point_id": charger})).json()["data"]:
                name = next(n for n, c, e, _, start, *_ in plan
                            if chargers[c] == charger and e == s["evse"] and api_time(base + start) == s["started_at"])
                data.sessions[name] = s
    assert sorted(data.sessions) == ["s1", "s2", "s3", "s4", "s5"], data.sessions
    _cache[server.backend] = data
    return data


async def list_names(server, data: Dataset, **params) -> list[str]:
    """GET /sessions with ``params``, limited to the dataset's chargers unless one is given; names."""
    by_id = {s["id"]: n for n, s in data.sessions.items()}
    async with server.api() as api:
        if "charge_point_id" in params:
            r = await api.get("/api/v1/sessions", params=params)
            assert r.status_code == 200, r.text
            return [by_id[s["id"]] for s in r.json()["data"] if s["id"] in by_id]
        names = []
        for charger in data.chargers.values():
            r = await api.get("/api/v1/sessions", params={**params, "charge_point_id": charger})
            assert r.status_code == 200, r.text
            names += [by_id[s["id"]] for s in r.json()["data"]]
        return sorted(names, key=lambda n: data.sessions[n]["started_at"], reverse=True)


async def test_sessions_carry_driver_and_location_snapshots(server):
    data = await dataset(server)
    s = data.sessions
    assert [s[n]["driver_id"] for n in ("s1", "s2", "s3", "s4", "s5")] == [
        data.drivers["alice"], data.drivers["bob"], data.drivers["alice"], None, data.drivers["bob"]]
    assert [s[n]["location_id"] for n in ("s1", "s2", "s3", "s4", "s5")] == [
        data.locations["L1"], data.locations["L1"], data.locations["L2"], data.locations["L1"], data.locations["L1"]]
    assert s["s1"]["evse_id"] is not None and s["s1"]["evse_id"] != s["s5"]["evse_id"]  # EVSE 1 and 2 of Y
    assert (s["s4"]["energy_wh"], s["s5"]["status"], s["s5"]["energy_wh"]) == (20_000, "active", 1200)


async def test_list_filters(server):
    data = await dataset(server)
    x, y = data.chargers["X"], data.chargers["Y"]
    assert await list_names(server, data, charge_point_id=x) == ["s4", "s2"]
    assert await list_names(server, data, charge_point_id=y, evse=2) == ["s5"]
    assert await list_names(server, data, charge_point_id=x, evse=3) == []
    assert await list_names(server, data, evse_id=data.sessions["s1"]["evse_id"], charge_point_id=y) == ["s1"]
    async with server.api() as api:
        r = await api.get("/api/v1/sessions", params={"evse_id": data.sessions["s1"]["evse_id"]})
        assert [row["id"] for row in r.json()["data"]] == [data.sessions["s1"]["id"]]
        r = await api.get("/api/v1/sessions", params={"location_id": data.locations["L2"]})
        assert [row["id"] for row in r.json()["data"]] == [data.sessions["s3"]["id"]]
        r = await api.get("/api/v1/sessions", params={"driver_id": data.drivers["alice"]})
        assert [row["id"] for row in r.json()["data"]] == [data.sessions["s3"]["id"], data.sessions["s1"]["id"]]
        r = await api.get("/api/v1/sessions", params={"id_tag": data.tags["B"], "status": "finished"})
        assert [row["id"] for row in r.json()["data"]] == [data.sessions["s2"]["id"]]
        r = await api.get("/api/v1/sessions", params={"driver_id": data.drivers["bob"], "status": "active"})
        assert [row["id"] for row in r.json()["data"]] == [data.sessions["s5"]["id"]]
    assert await list_names(server, data, location_id=data.locations["L1"]) == ["s5", "s4", "s2", "s1"]
    assert await list_names(server, data, status="active") == ["s5"]
    assert await list_names(server, data, driver_id=data.drivers["bob"], charge_point_id=y) == ["s5"]


async def test_list_time_windows(server):
    data = await dataset(server)
    b = data.base
    # started_after is inclusive, started_before exclusive.
    assert await list_names(server, data, started_after=iso(b + timedelta(hours=1)),
                            started_before=iso(b + timedelta(hours=5))) == ["s3", "s2"]
    assert await list_names(server, data, started_after=iso(b + timedelta(hours=5))) == ["s5", "s4"]
    assert await list_names(server, data, started_before=iso(b + timedelta(hours=1))) == ["s1"]
    # Stop windows leave active sessions out.
    assert await list_names(server, data, stopped_after=iso(b + timedelta(hours=2)),
                            stopped_before=iso(b + timedelta(hours=8))) == ["s4", "s1"]
    assert await list_names(server, data, stopped_before=iso(b + timedelta(days=30))) == ["s4", "s3", "s2", "s1"]
    # Zone-less is UTC; other zones are converted.
    naive = (b + timedelta(hours=5)).replace(tzinfo=None).isoformat()
    assert await list_names(server, data, started_after=naive) == ["s5", "s4"]
    plus_two = (b + timedelta(hours=5)).astimezone(timezone(timedelta(hours=2))).isoformat()
    assert await list_names(server, data, started_after=plus_two) == ["s5", "s4"]


async def test_list_bad_filters_are_422(server):
    data = await dataset(server)
    async with server.api() as api:
        for params in ({"evse": 1}, {"started_after": "yesterday"}, {"stopped_before": "2025-13-01T00:00:00"},
                       {"evse_id": 0}, {"driver_id": 2**31}, {"location_id": "x"}, {"status": "paused"},
                       {"charge_point_id": "x" * 49}, {"id_tag": "a\x00b"}, {"charge_point_id": ""},
                       {"started_after": "2025-03-02T00:00:00Z", "started_before": "2025-03-01T00:00:00Z"},
                       {"started_after": "0001-01-01T00:00:00+01:00"}, {"stopped_before": "0.5"},
                       {"started_after": "1700000000"},
                       {"charge_point_id": data.chargers["X"], "evse": -1}):
            r = await api.get("/api/v1/sessions", params=params)
            assert r.status_code == 422, (params, r.text)
            assert r.json()["error"]["code"] == "validation_error" and r.json()["error"]["details"], params
        assert (await api.get("/api/v1/sessions/0")).status_code == 422
        assert (await api.get(f"/api/v1/sessions/{2**31}")).status_code == 422
        assert (await api.get("/api/v1/sessions/2147483647")).status_code == 404
        assert (await api.get("/api/v1/sessions/abc")).status_code == 422


async def test_session_detail_has_charging_periods_and_power(server):
    data = await dataset(server)
    b = data.base
    async with server.api() as api:
        s1 = (await api.get(f"/api/v1/sessions/{data.sessions['s1']['id']}")).json()
        s4 = (await api.get(f"/api/v1/sessions/{data.sessions['s4']['id']}")).json()
        s5 = (await api.get(f"/api/v1/sessions/{data.sessions['s5']['id']}")).json()
    assert len(s1["meter_values"]) == 6 and s1["driver_id"] == data.drivers["alice"]
    assert s1["charging_periods"] == [
        {"start_at": api_time(b), "end_at": api_time(b + timedelta(hours=1)), "state": "charging",
         "energy_wh": 10_000, "duration_s": 3600.0, "average_power_w": 10_000.0},
        {"start_at": api_time(b + timedelta(hours=1)), "end_at": api_time(b + timedelta(hours=2)), "state": "idle",
         "energy_wh": 0, "duration_s": 3600.0, "average_power_w": 0.0}]
    assert s1["power"] == {"latest_w": 0.0, "peak_w": 10_000.0, "average_w": 6666.7}
    # No meter values: one period from the start and stop registers; no power.
    assert [(p["state"], p["energy_wh"], p["duration_s"]) for p in s4["charging_periods"]] == [("charging", 20_000, 600.0)]
    assert s4["power"] is None and s4["meter_values"] == []
    # Active: up to the latest reading.
    assert [(p["state"], p["energy_wh"], p["end_at"]) for p in s5["charging_periods"]] == [
        ("charging", 1200, api_time(b + timedelta(days=9, hours=1)))]
