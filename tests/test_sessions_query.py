"""POST /api/v1/sessions/query and /sessions/query.csv (seed 004's session query) over HTTP.

Every request is limited to the dataset's chargers (other tests share the server) unless the
test is about something else. The dataset is described in test_sessions_api.dataset.
"""

import csv
import io
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import delete, func, insert, select

from ocpp_client import station
from test_sessions_api import Dataset, api_time, dataset, iso
from wattson.db import Database
from wattson.sessions.models import Session, SessionDay, finished_energy
from wattson.sessions.query import DEEP_OFFSET, ITEM_FIELDS, PRICE_FIELDS
from wattson.settings import async_database_url

QUERY = "/api/v1/sessions/query"


async def query(server, body: dict, status: int = 200) -> dict:
    async with server.api() as api:
        r = await api.post(QUERY, json=body)
    assert r.status_code == status, (body, r.text)
    return r.json()


async def names(server, data: Dataset, **body) -> list[str]:
    body.setdefault("charger_ids", list(data.chargers.values()))
    by_id = {s["id"]: n for n, s in data.sessions.items()}
    return [by_id[item["id"]] for item in (await query(server, body))["items"]]


async def test_default_order_is_newest_first_with_totals(server):
    data = await dataset(server)
    page = await query(server, {"charger_ids": list(data.chargers.values())})
    assert (page["page"], page["limit"], page["total_records"]) == (1, 50, 5)
    assert (page["has_next_page"], page["has_previous_page"]) == (False, False)
    assert await names(server, data) == ["s5", "s4", "s3", "s2", "s1"]
    # No filter at all: every session on the server, the dataset's among them.
    everything = await query(server, {"limit": 1000})
    assert everything["total_records"] >= 5 and len(everything["items"]) == min(1000, everything["total_records"])
    started = [item["timestamp_start"] for item in everything["items"]]
    assert started == sorted(started, reverse=True)


async def test_item_fields(server):
    data = await dataset(server)
    items = {item["id"]: item for item in (await query(server, {"charger_ids": list(data.chargers.values())}))["items"]}
    s1, s4, s5 = (items[data.sessions[n]["id"]] for n in ("s1", "s4", "s5"))
    assert list(s1) == list(ITEM_FIELDS)
    expected = {
        "id": data.sessions["s1"]["id"], "timestamp_start": api_time(data.base),
        "timestamp_end": api_time(data.base + timedelta(hours=2)), "charger_id": data.chargers["Y"], "socket_id": 1,
        "authorized_tag_id": data.tags["A"], "authorized_user_id": data.drivers["alice"], "user_name": "Alice Example",
        "site_id": data.locations["L1"], "site_name": data.location_names["L1"], "driver_site_id": data.group[0],
        "driver_site_name": "Fleet North", "full_consumption_wh": 10_000, "full_consumption_kwh": 10.0,
        "transaction_length_minutes": 120.0, "evse_transaction_id": data.sessions["s1"]["transaction_id"],
        "origin": "ocpp", "status": "finished", **dict.fromkeys(PRICE_FIELDS)}
    assert {k: v for k, v in s1.items() if k != "operation_timestamp"} == expected
    assert datetime.fromisoformat(s1["operation_timestamp"]) >= datetime.now(timezone.utc) - timedelta(hours=1)
    # No driver, no group; a site all the same.
    assert (s4["authorized_user_id"], s4["user_name"], s4["driver_site_id"], s4["driver_site_name"]) == (None,) * 4
    assert (s4["site_name"], s4["full_consumption_kwh"], s4["transaction_length_minutes"]) == (
        data.location_names["L1"], 20.0, 10.0)
    # Bob has no home group. An active session's length runs to now.
    assert (s5["user_name"], s5["driver_site_id"], s5["timestamp_end"], s5["status"]) == ("=Bob", None, None, "active")
    running = (datetime.now(timezone.utc) - (data.base + timedelta(days=9))).total_seconds() / 60
    assert abs(s5["transaction_length_minutes"] - running) < 5


async def test_filters(server):
    data = await dataset(server)
    c, d, loc, t, b = data.chargers, data.drivers, data.locations, data.tags, data.base
    assert await names(server, data, charger_ids=[c["X"]]) == ["s4", "s2"]
    assert await names(server, data, charger_ids=[c["X"], c["Z"], "NO-SUCH-CP"]) == ["s4", "s3", "s2"]
    assert await names(server, data, driver_ids=[d["alice"]]) == ["s3", "s1"]
    assert await names(server, data, driver_ids=[d["alice"], d["bob"]]) == ["s5", "s3", "s2", "s1"]
    assert await names(server, data, site_ids=[loc["L2"]]) == ["s3"]
    assert await names(server, data, site_ids=[loc["L1"], loc["L2"]]) == ["s5", "s4", "s3", "s2", "s1"]
    assert await names(server, data, rfid_tags=[t["C"]]) == ["s4"]
    assert await names(server, data, rfid_tags=[t["B"], t["C"], t["B"]]) == ["s5", "s4", "s2"]
    # Start window, both ends inclusive.
    assert await names(server, data, start_time=iso(b + timedelta(hours=1)),
                       start_time_search_end=iso(b + timedelta(hours=5))) == ["s4", "s3", "s2"]
    assert await names(server, data, start_time=iso(b + timedelta(hours=3))) == ["s5", "s4", "s3"]
    assert await names(server, data, start_time_search_end=iso(b)) == ["s1"]
    # Stop window, both ends inclusive; active sessions have not stopped.
    assert await names(server, data, stop_time_search_begin=iso(b + timedelta(hours=2)),
                       stop_time=iso(b + timedelta(hours=8))) == ["s4", "s3", "s1"]
    assert await names(server, data, stop_time_search_begin=iso(b)) == ["s4", "s3", "s2", "s1"]
    assert await names(server, data, stop_time=iso(b + timedelta(hours=1, minutes=30))) == ["s2"]
    # Zone-less is UTC.
    naive = (b + timedelta(hours=3)).replace(tzinfo=None).isoformat()
    assert await names(server, data, start_time=naive) == ["s5", "s4", "s3"]
    # Everything at once.
    assert await names(server, data, charger_ids=[c["X"], c["Y"]], driver_ids=[d["bob"], d["alice"]],
                       site_ids=[loc["L1"]], rfid_tags=[t["B"]], start_time=iso(b),
                       stop_time=iso(b + timedelta(days=1))) == ["s2"]
    # Empty and null lists are no filter; nothing matching is an empty page.
    assert await names(server, data, driver_ids=[], site_ids=None, rfid_tags=[]) == ["s5", "s4", "s3", "s2", "s1"]
    empty = await query(server, {"charger_ids": ["NO-SUCH-CP"]})
    assert (empty["total_records"], empty["items"], empty["has_next_page"], empty["has_previous_page"]) == (
        0, [], False, False)
    assert await names(server, data, driver_ids=[2**31 - 1]) == []


@pytest.mark.parametrize("key, ascending", [
    ("started_at", ["s1", "s2", "s3", "s4", "s5"]),
    ("stopped_at", ["s2", "s1", "s4", "s3", "s5"]),  # an active session has not stopped yet: last
    ("charge_point_id", ["s2", "s4", "s1", "s5", "s3"]),  # X, Y, Z; by start within one charger
    ("energy_wh", ["s3", "s5", "s2", "s1", "s4"]),
    ("duration", ["s4", "s2", "s1", "s3", "s5"]),
    ("id", ["s1", "s2", "s3", "s4", "s5"]),
])
async def test_sort_keys_both_ways(server, key, ascending):
    data = await dataset(server)
    assert await names(server, data, sort_key=key, sort_descending=False) == ascending
    assert await names(server, data, sort_key=key, sort_descending=True) == ascending[::-1]
    assert await names(server, data, sort_key=key) == ascending[::-1]  # descending by default


async def test_pages(server):
    data = await dataset(server)
    chargers = list(data.chargers.values())
    seen = []
    for number, (count, has_next, has_previous) in enumerate([(2, True, False), (2, True, True), (1, False, True)], 1):
        page = await query(server, {"charger_ids": chargers, "limit": 2, "page": number, "sort_key": "energy_wh"})
        assert (page["page"], page["limit"], page["total_records"]) == (number, 2, 5)
        assert (len(page["items"]), page["has_next_page"], page["has_previous_page"]) == (count, has_next, has_previous)
        seen += [item["full_consumption_wh"] for item in page["items"]]
    assert seen == [20_000, 10_000, 3_000, 1_200, 500]
    beyond = await query(server, {"charger_ids": chargers, "limit": 2, "page": 4})
    assert (beyond["items"], beyond["total_records"], beyond["has_next_page"], beyond["has_previous_page"]) == (
        [], 5, False, True)
    exact = await query(server, {"charger_ids": chargers, "limit": 5})
    assert (len(exact["items"]), exact["total_records"], exact["has_next_page"]) == (5, 5, False)
    # Null means the default, as in seed 004.
    defaults = await query(server, {"charger_ids": chargers, "page": None, "limit": None, "sort_key": None,
                                    "sort_descending": None})
    assert (defaults["page"], defaults["limit"], len(defaults["items"])) == (1, 50, 5)


@pytest.mark.parametrize("body", [
    {"sort_key": "price"}, {"sort_key": "startedAt"}, {"page": 0}, {"page": -1}, {"page": "first"},
    {"limit": 0}, {"limit": 1001}, {"start_time": "yesterday"}, {"stop_time": "2025-02-30T00:00:00Z"},
    {"start_time_search_end": 12.5e20}, {"chargerIDS": ["CP-1"]}, {"colour": "red"},
    {"charger_ids": "CP-1"}, {"charger_ids": [""]}, {"charger_ids": ["x" * 49]}, {"rfid_tags": ["a\x00b"]},
    {"driver_ids": ["alice"]}, {"driver_ids": [0]}, {"site_ids": [2**31]}, {"driver_ids": [str(i) for i in range(1001)]},
    {"charger_ids": [f"CP-{i}" for i in range(1001)]}, {"sort_descending": "sometimes"},
    {"start_time": "0001-01-01T00:00:00+01:00"}, {"start_time": 1700000000}, {"stop_time": "0.5"},
    {"sort_descending": 0}, {"page": "2"}, {"limit": 5.0}, {"driver_ids": ["7"]},
])
async def test_bad_bodies_are_422(server, body):
    async with server.api() as api:
        for path in (QUERY, QUERY + ".csv"):
            r = await api.post(path, json=body)
            assert r.status_code == 422, (path, body, r.text)
            error = r.json()["error"]
            assert error["code"] == "validation_error" and error["details"], error


async def test_not_json_and_not_an_object_are_422_and_keys_are_needed(server):
    async with server.api() as api:
        for content in (b"{not json", b"[]", b"null", b'"x"'):
            r = await api.post(QUERY, content=content, headers={"content-type": "application/json"})
            assert r.status_code == 422, (content, r.text)
        assert (await api.post(QUERY, json={})).status_code == 200  # every field has a default
        for path in (QUERY, QUERY + ".csv"):
            r = await api.get(path)
            assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed", r.text
        viewer = (await api.post("/api/v1/api-keys", json={"name": "query-viewer", "role": "viewer"})).json()["key"]
    async with server.api(viewer) as api:
        assert (await api.post(QUERY, json={"limit": 1})).status_code == 200
        assert (await api.post(QUERY + ".csv", json={"charger_ids": ["NO-SUCH-CP"]})).status_code == 200
    async with httpx.AsyncClient(base_url=server.http_url) as anon:
        assert (await anon.post(QUERY, json={})).status_code == 401
        assert (await anon.post(QUERY + ".csv", json={})).status_code == 401


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_export(server):
    data = await dataset(server)
    chargers = list(data.chargers.values())
    async with server.api() as api:
        r = await api.post(QUERY + ".csv", json={"charger_ids": chargers, "sort_key": "energy_wh",
                                                  "sort_descending": False, "page": 3, "limit": 1})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        json_items = (await api.post(QUERY, json={"charger_ids": chargers, "sort_key": "energy_wh",
                                                  "sort_descending": False})).json()["items"]
    assert r.text.splitlines()[0] == ",".join(ITEM_FIELDS)
    rows = read_csv(r.text)  # page and limit are ignored: every row
    assert [int(row["id"]) for row in rows] == [item["id"] for item in json_items]
    s1 = next(row for row in rows if int(row["id"]) == data.sessions["s1"]["id"])
    assert (s1["timestamp_start"], s1["timestamp_end"]) == (iso(data.base), iso(data.base + timedelta(hours=2)))
    assert (s1["user_name"], s1["driver_site_name"], s1["full_consumption_wh"], s1["full_consumption_kwh"]) == (
        "Alice Example", "Fleet North", "10000", "10.0")
    assert (s1["transaction_length_minutes"], s1["origin"], s1["status"], s1["socket_id"]) == (
        "120.0", "ocpp", "finished", "1")
    assert all(s1[name] == "" for name in PRICE_FIELDS)
    s5 = next(row for row in rows if int(row["id"]) == data.sessions["s5"]["id"])
    assert s5["timestamp_end"] == "" and s5["status"] == "active"
    assert s5["user_name"] == "'=Bob"  # never a formula in a spreadsheet; the JSON keeps the name as it is
    s4 = next(row for row in rows if int(row["id"]) == data.sessions["s4"]["id"])
    assert (s4["authorized_user_id"], s4["user_name"], s4["site_name"]) == ("", "", data.location_names["L1"])


async def test_csv_of_nothing_and_of_everything(server):
    async with server.api() as api:
        r = await api.post(QUERY + ".csv", json={"charger_ids": ["NO-SUCH-CP"]})
        assert r.status_code == 200 and r.text == ",".join(ITEM_FIELDS) + "\r\n"
        everything = await api.post(QUERY + ".csv", json={"sort_key": "id", "sort_descending": False})
        total = (await api.post(QUERY, json={"limit": 1})).json()["total_records"]
    ids = [int(row["id"]) for row in read_csv(everything.text)]
    assert len(ids) >= total and ids == sorted(ids)  # sessions other tests add meanwhile may join in


async def test_stop_window_means_started_before_its_end_too(server):
    """A station clock that put the start after the stop: such a session is in a stop window
    only if it also started by the window's end (the filter's documented meaning)."""
    data = await dataset(server)
    cp = await server.add_station()
    tag = await server.add_tag()
    b = data.base
    async with station(server.ws_url, cp) as st:
        await st.boot()
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                               "timestamp": iso(b + timedelta(hours=30))}))["transactionId"]
        await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 10, "timestamp": iso(b + timedelta(hours=2))})
    window = {"charger_ids": [cp], "stop_time_search_begin": iso(b), "stop_time": iso(b + timedelta(hours=3))}
    assert (await query(server, window))["total_records"] == 0
    window["stop_time"] = iso(b + timedelta(hours=30))
    assert (await query(server, window))["total_records"] == 1


async def on_the_database(server, *statements) -> None:
    """Run (statement, parameters) pairs on the server's database, in one transaction."""
    db = Database(async_database_url(server.env["WATTSON_DATABASE_URL"]))
    try:
        async with db.session() as s:
            for statement, parameters in statements:
                await s.execute(statement, parameters)
    finally:
        await db.dispose()


async def insert_finished(server, cp: str, starts: list[datetime]) -> None:
    """Finished sessions of 30 minutes at ``cp``, one per start, inserted directly."""
    await on_the_database(server, (insert(Session), [
        {"charge_point_id": cp, "evse": 1, "connector": 1, "transaction_id": str(i), "status": "finished",
         "started_at": at, "stopped_at": at + timedelta(minutes=30), "meter_start": 0, "meter_stop": i,
         "energy_wh": i, "created_at": at, "updated_at": at} for i, at in enumerate(starts)]))


async def deep_pages_match_the_full_order(server, body: dict, count: int) -> None:
    """Pages of ``body`` past DEEP_OFFSET, both ways, hold the rows the CSV export (every row in
    order) has there, and the total is ``count``."""
    async with server.api() as api:
        for descending in (True, False):
            body = {**body, "sort_descending": descending}
            order = [int(row["id"]) for row in read_csv((await api.post(QUERY + ".csv", json=body)).text)]
            assert len(order) == count
            for limit, page in ((7, DEEP_OFFSET // 7 + 2), (50, DEEP_OFFSET // 50 + 3), (333, count // 333 + 1),
                                (1000, count // 1000 + 1)):
                got = (await api.post(QUERY, json={**body, "limit": limit, "page": page})).json()
                offset = (page - 1) * limit
                assert [item["id"] for item in got["items"]] == order[offset:offset + limit], (descending, limit)
                assert got["total_records"] == count
            beyond = (await api.post(QUERY, json={**body, "limit": 50, "page": count // 50 + 2})).json()
            assert (beyond["items"], beyond["total_records"]) == ([], count)


async def test_deep_pages_match_the_full_order(server):
    """Pages far down (where PostgreSQL skips on the started_at index alone, query.DEEP_OFFSET)
    hold exactly the rows the full order has there, ties of started_at included."""
    cp = await server.add_station()
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    count = DEEP_OFFSET + 700
    await insert_finished(server, cp, [t0 + timedelta(minutes=i // 10) for i in range(count)])  # ten per minute
    await deep_pages_match_the_full_order(server, {"charger_ids": [cp]}, count)


# --- duration order, per-day counts, deep pages of everything (query at a million sessions) ----

def clock():
    """``ago(minutes=…)``: times before one fixed now, so that durations come out exact."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return lambda **delta: iso(now - timedelta(**delta))


async def all_pages(server, body: dict, limit: int) -> list[list[int]]:
    """Every page of ``body`` at ``limit``, as lists of ids."""
    pages = []
    async with server.api() as api:
        for page in range(1, 100):
            got = (await api.post(QUERY, json={**body, "limit": limit, "page": page})).json()
            pages.append([item["id"] for item in got["items"]])
            if not got["has_next_page"]:
                return pages
    raise AssertionError("too many pages")


async def duration_order(server, chargers: list[str], ids: dict[str, int], expected: list[str],
                         key: str = "duration") -> None:
    """The ``key`` (duration) order of the sessions at ``chargers`` is ``expected`` (smallest
    first) both ways, on every page at several page sizes, and the CSV export (a sort of
    everything) agrees."""
    name = {i: n for n, i in ids.items()}
    for descending in (False, True):
        body = {"charger_ids": chargers, "sort_key": key, "sort_descending": descending}
        want = expected[::-1] if descending else expected
        for limit in (1, 2, 3, 5, 50):
            pages = [[name[i] for i in page] for page in await all_pages(server, body, limit)]
            assert pages == [want[i:i + limit] for i in range(0, len(want), limit)]
        async with server.api() as api:
            export = read_csv((await api.post(QUERY + ".csv", json=body)).text)
        assert [name[int(row["id"])] for row in export] == want


async def one_session_per_station(server, plan: dict, charge) -> tuple[list[str], dict[str, dict]]:
    """For each name of ``plan`` a new 1.6 station that boots and runs ``charge(st, name, *spec)``;
    the stations, and each name's session as the query gives it."""
    chargers, sessions = [], {}
    for name, spec in plan.items():
        cp = await server.add_station()
        chargers.append(cp)
        async with station(server.ws_url, cp) as st:
            await st.boot()
            await charge(st, name, *spec)
        [sessions[name]] = (await query(server, {"charger_ids": [cp]}))["items"]
    return chargers, sessions


async def test_duration_merges_active_and_finished_sessions_on_every_page(server):
    """Finished sessions come from the duration index, active ones (their duration still grows)
    apart: interleaved at both ends and across page boundaries, the merged order is the order of
    the durations. Names: f finished, a active, with the duration in minutes."""
    plan = {"f10": (10, 0), "f20": (60, 40), "a30": (30, None), "f40": (200, 160), "f180": (400, 220),
            "a300": (300, None), "f2880": (5000, 2120), "a4320": (4320, None)}  # start, stop: minutes ago
    ago = clock()

    async def charge(st, name, start, stop):
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": "DUR", "meterStart": 0,
                                               "timestamp": ago(minutes=start)}))["transactionId"]
        if stop is not None:
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 10, "timestamp": ago(minutes=stop)})

    chargers, sessions = await one_session_per_station(server, plan, charge)
    await duration_order(server, chargers, {name: s["id"] for name, s in sessions.items()}, list(plan))


async def test_energy_merges_active_and_finished_sessions_on_every_page(server):
    """Finished sessions come from the index on their readings' energy, active ones (still
    charging) by their live energy_wh: interleaved and tied across page boundaries, the merged
    order is the order of the energies, ties by id. Names: f finished, a active, with the Wh; a
    meter that went backwards is 0 Wh."""
    plan = {"f0": (5000, 4000), "a50": (0, None), "f120": (1000, 1120), "a120": (0, None), "a400": (100, None),
            "f400": (0, 400), "f900": (100, 1000), "a2500": (0, None)}  # meterStart, meterStop (Wh)
    ago = clock()

    async def charge(st, name, start, stop):
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": "NRG", "meterStart": start,
                                               "timestamp": ago(minutes=60)}))["transactionId"]
        if stop is None:
            await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
                {"timestamp": ago(minutes=30), "sampledValue": [{"value": str(start + int(name[1:]))}]}]})
        else:
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": stop, "timestamp": ago(minutes=1)})

    chargers, sessions = await one_session_per_station(server, plan, charge)
    assert all(session["full_consumption_wh"] == int(name[1:]) for name, session in sessions.items())
    ids = {name: session["id"] for name, session in sessions.items()}
    ties = sorted(["f120", "a120"], key=ids.get)
    await duration_order(server, chargers, ids, ["f0", "a50", *ties, "a400", "f400", "f900", "a2500"], "energy_wh")


async def finished_energy_is_energy_wh(server, chargers: list[str]) -> None:
    """The energy the index sorts finished sessions by is their energy_wh, however they stopped."""
    db = Database(async_database_url(server.env["WATTSON_DATABASE_URL"]))
    try:
        async with db.session() as s:
            rows = (await s.execute(select(Session.energy_wh, finished_energy(Session.meter_stop, Session.meter_start))
                                    .where(Session.charge_point_id.in_(chargers), Session.stopped_at.is_not(None)))).all()
    finally:
        await db.dispose()
    assert rows and all(energy == indexed for energy, indexed in rows)


async def test_every_kind_of_stop_sorts_by_its_duration(server):
    """A session is sorted by stop − start however it stopped: a 1.6 StopTransaction, a 2.x
    Ended, closed for its lost Ended by the next transaction (EndedNotReceived), that Ended
    arriving after all, and a 2.x Started arriving after the Ended (the start moves)."""
    v16, v2 = await server.add_station(), await server.add_station()
    ago = clock()
    async with station(server.ws_url, v16) as st:
        await st.boot()
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": "DUR", "meterStart": 0,
                                               "timestamp": ago(minutes=300)}))["transactionId"]
        await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 10, "timestamp": ago(minutes=180)})
    async with station(server.ws_url, v2, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"})

        async def event(tx, kind, seq, minutes, evse, **info):
            await st.ok("TransactionEvent", {
                "eventType": kind, "timestamp": ago(minutes=minutes), "triggerReason": "Trigger", "seqNo": seq,
                "transactionInfo": {"transactionId": tx, **info}, "evse": {"id": evse, "connectorId": 1},
                "meterValue": [{"timestamp": ago(minutes=minutes), "sampledValue": [{"value": 100 * seq}]}]})

        await event("ended", "Started", 0, 600, 1)
        await event("ended", "Ended", 1, 555, 1, stoppedReason="Local")  # 45 min
        await event("lost", "Started", 0, 500, 2)
        await event("lost", "Updated", 1, 460, 2)  # its last reading: 40 min
        await event("next2", "Started", 0, 15, 2)  # closes "lost" (EndedNotReceived), active: 15 min
        await event("repaired", "Started", 0, 400, 3)
        await event("repaired", "Updated", 1, 390, 3)
        await event("next3", "Started", 0, 5, 3)  # closes "repaired" at 10 min, active: 5 min
        await event("repaired", "Ended", 2, 310, 3, stoppedReason="EVDisconnected")  # repaired: 90 min
        await event("late", "Updated", 1, 260, 4)  # opens the session
        await event("late", "Ended", 2, 250, 4, stoppedReason="Local")
        await event("late", "Started", 0, 280, 4)  # the start moves back: 30 min
    items = (await query(server, {"charger_ids": [v16, v2], "sort_key": "duration", "sort_descending": False}))["items"]
    by_name = {"v16" if item["charger_id"] == v16 else item["evse_transaction_id"]: item for item in items}
    finished = ("late", "lost", "ended", "repaired", "v16")
    assert [by_name[n]["transaction_length_minutes"] for n in finished] == [30.0, 40.0, 45.0, 90.0, 120.0]
    assert [by_name[n]["status"] for n in ("next3", "next2", "lost")] == ["active", "active", "finished"]
    ids = {name: item["id"] for name, item in by_name.items()}
    await duration_order(server, [v16, v2], ids, ["next3", "next2", *finished])
    await finished_energy_is_energy_wh(server, [v16, v2])


async def session_days_are_exact(server) -> int:
    """``session_days`` holds the sessions per start day exactly (zero days aside), and the
    unfiltered total is their sum; the number of sessions."""
    db = Database(async_database_url(server.env["WATTSON_DATABASE_URL"]))
    try:
        async with db.session() as s:
            kept = {day: n for day, n in await s.execute(select(SessionDay.day, func.sum(SessionDay.sessions))
                                                         .group_by(SessionDay.day)) if n}
            starts = await s.scalars(select(Session.started_at))
            counted = {}
            for started_at in starts:
                counted[started_at.date()] = counted.get(started_at.date(), 0) + 1
    finally:
        await db.dispose()
    assert kept == counted
    assert (await query(server, {"limit": 1, "page": 10**6}))["total_records"] == sum(counted.values())
    return sum(counted.values())


async def test_session_days_follow_inserts_moves_and_deletes(server):
    """The per-day counts behind the unfiltered total: sessions started over OCPP 1.6 and 2.x,
    a start moved two days back by a 2.x event through the ORM and through the group-committed
    Updated path, rows inserted in bulk, and rows deleted (as a station's deletion cascades)."""
    before = await session_days_are_exact(server)
    cp, cp2, cp3 = await server.add_station(), await server.add_station(), await server.add_station()
    ago = clock()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        await st.ok("StartTransaction", {"connectorId": 1, "idTag": "DAYS", "meterStart": 0, "timestamp": ago(hours=1)})
    async with station(server.ws_url, cp2, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"})
        for tx, evse, seq, kind, days in (("m1", 1, 1, "Updated", 0), ("m1", 1, 0, "Started", 2),  # a late Started
                                          ("m2", 2, 0, "Started", 0), ("m2", 2, 1, "Updated", 3)):  # an earlier Updated
            await st.ok("TransactionEvent", {
                "eventType": kind, "timestamp": ago(days=days, minutes=5), "triggerReason": "Trigger", "seqNo": seq,
                "evse": {"id": evse, "connectorId": 1}, "transactionInfo": {"transactionId": tx}})
    async with server.api() as api:
        moved = {s["transaction_id"]: s["started_at"] for s in
                 (await api.get("/api/v1/sessions", params={"charge_point_id": cp2})).json()["data"]}
    assert moved == {"m1": ago(days=2, minutes=5), "m2": ago(days=3, minutes=5)}
    assert await session_days_are_exact(server) == before + 3
    t0 = datetime(2023, 3, 1, 22, tzinfo=timezone.utc)
    await insert_finished(server, cp3, [t0 + timedelta(hours=i) for i in range(30)])  # over two days
    assert await session_days_are_exact(server) == before + 33
    await on_the_database(server, (delete(Session).where(Session.charge_point_id.in_([cp, cp2, cp3])), None))
    assert await session_days_are_exact(server) == before


async def test_deep_pages_of_all_sessions_start_at_the_right_day(server):
    """Without a filter a deep page in start order begins at the day the per-day counts put its
    offset in: the same rows as the full order there, across days and ties of started_at."""
    cp = await server.add_station()
    t0 = datetime(2022, 6, 1, tzinfo=timezone.utc)
    await insert_finished(server, cp, [t0 + timedelta(hours=i // 10) for i in range(DEEP_OFFSET + 700)])  # 24 days
    await deep_pages_match_the_full_order(server, {}, await session_days_are_exact(server))
