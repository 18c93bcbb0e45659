"""Webhook events written by the producers (issue 19): real servers on SQLite and PostgreSQL, raw
OCPP 1.6 and 2.0.1 stations, the outbox (``webhook_events``) read straight from the database.
Each event must come in the transaction of its change, in order, with the resource as the API
returns it."""

import asyncio
import os
import signal
import sqlite3
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import asyncpg
import orjson
import pytest
from sqlalchemy import select

from conftest import start_server, unique, until
from fixture_failures import started_once
from ocpp_client import now, station
from payment_kit import CARD_DECLINED, pay, payment_settings, priced_evse, wait_for_state
from test_billing import tariff_body
from test_commands import receive_call
from test_nodes import db  # noqa: F401 - fixture: a migrated PostgreSQL database
from test_station_messages_v201 import BOOT, tx_event
from wattson.sessions.schemas import SessionOut
from wattson.stations.service import StationService
from wattson.webhooks.catalogue import TYPES
from wattson.webhooks.examples import EXAMPLES
from wattson.webhooks.models import WebhookEvent
from wattson.webhooks.producers import SessionUpdates

SESSION_KEYS = set(SessionOut.model_fields)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hooks_server(request, tmp_path_factory):
    """A server whose session.updated comes at most once an hour: a session gets one."""
    yield from started_once(request, start_server(
        tmp_path_factory.mktemp(f"webhook-events-{request.param}"), request.param,
        **payment_settings(webhook_session_update_s="3600", reservation_sweep_s="1")))


async def outbox(server, charge_point_id: str) -> list[dict]:
    """The station's events in the order they were written: type, resource id, data."""
    url = server.env["WATTSON_DATABASE_URL"]
    query = "SELECT type, resource_id, data FROM webhook_events WHERE charge_point_id = {} ORDER BY id"
    if server.backend == "sqlite":
        with sqlite3.connect(urlsplit(url).path) as db:
            rows = db.execute(query.format("?"), (charge_point_id,)).fetchall()
    else:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            rows = [tuple(r) for r in await conn.fetch(query.format("$1"), charge_point_id)]
        finally:
            await conn.close()
    return [{"type": t, "resource_id": r, "data": orjson.loads(d) if isinstance(d, str) else d} for t, r, d in rows]


def types(events: list[dict], prefix: str = "") -> list[str]:
    return [e["type"] for e in events if e["type"].startswith(prefix)]


def of(events: list[dict], type: str) -> list[dict]:
    return [e["data"] for e in events if e["type"] == type]


async def session_api(api, session_id: int) -> dict:
    """GET /sessions/{id} as a session event carries it (without its meter values, periods,
    power and cost)."""
    r = await api.get(f"/api/v1/sessions/{session_id}")
    assert r.status_code == 200, r.text
    return {k: v for k, v in r.json().items() if k in SESSION_KEYS}


def energy_1_6(wh: int) -> dict:
    return {"timestamp": now(), "sampledValue": [{"value": str(wh), "measurand": "Energy.Active.Import.Register"}]}


async def test_a_1_6_station_and_session(hooks_server):
    server = hooks_server
    async with server.api() as api:
        location = (await api.post("/api/v1/locations", json={
            "name": "Depot", "street": "Nádražní", "house_number": "1", "city": "Praha", "postal_code": "150 00",
            "country": "CZ", "time_zone": "Europe/Prague"})).json()
        cp = await server.add_station(location_id=location["id"])
        tariff_id = unique("T")
        assert (await api.post("/api/v1/tariffs", json=tariff_body(tariff_id))).status_code == 201
        assert (await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff_id,
                                                                   "charge_point_id": cp})).status_code == 201
        tag = await server.add_tag()
        async with station(server.ws_url, cp) as st:
            await st.boot()
            await st.ok("Heartbeat", {})
            for status in ("Available", "Available", "Preparing"):
                await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": status})
            started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000,
                                                       "timestamp": now()})
            tx = started["transactionId"]
            for wh in (1500, 2200, 3100):
                await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [energy_1_6(wh)]})
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 3500, "timestamp": now()})
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})
        await until(lambda: _has(server, cp, "charge_point.disconnected"), "the disconnect's event")
        events = await outbox(server, cp)

        assert types(events, "charge_point.") == ["charge_point.connected", "charge_point.booted",
                                                  "charge_point.disconnected"]  # heartbeats emit nothing
        station_now = (await api.get(f"/api/v1/charge-points/{cp}")).json()
        connected, booted, gone = (e["data"] for e in events if e["type"].startswith("charge_point."))
        assert connected["network_status"] == "online" and connected["booted_at"] is None
        assert booted["vendor"] == "TestVendor" and booted["booted_at"] is not None
        assert gone["network_status"] == "offline"
        assert gone.keys() == station_now.keys() and gone["evses"] == station_now["evses"]

        # A repeated status is no change: Available, Preparing, (the session's), Available.
        statuses = of(events, "evse.status_changed")
        assert [e["connectors"][0]["hardware_status"] for e in statuses] == ["Available", "Preparing", "Available"]
        evse_now = (await api.get(f"/api/v1/evses/{statuses[-1]['id']}")).json()
        assert statuses[-1] == evse_now

        assert types(events, "session.") == ["session.started", "session.updated", "session.ended"]
        (session_started,), (updated,), (ended,) = (of(events, t) for t in types(events, "session."))
        assert set(session_started) == SESSION_KEYS
        assert session_started["status"] == "active" and session_started["energy_wh"] == 0
        assert session_started["tariff_id"] == tariff_id and session_started["transaction_id"] == str(tx)
        assert updated["energy_wh"] == 500 and updated["status"] == "active"  # the first reading; then throttled
        assert ended == await session_api(api, session_started["id"])
        assert ended["status"] == "finished" and ended["energy_wh"] == 2500

        (cdr,) = of(events, "cdr.created")
        assert cdr == (await api.get(f"/api/v1/cdrs/{cdr['id']}")).json()
        assert cdr["session_id"] == ended["id"]
        order = types(events)
        assert order.index("session.ended") < order.index("cdr.created")

        r = await api.post(f"/api/v1/cdrs/{cdr['id']}/credit", json={"reason": "meter fault"})
        assert r.status_code == 201, r.text
        credit = of(await outbox(server, cp), "cdr.created")[-1]
        assert credit == r.json()["credit"] and credit["credit"] and credit["credit_of_id"] == cdr["id"]


def _has(server, cp: str, type: str):
    async def check():
        return type in types(await outbox(server, cp))
    return check()


async def test_a_2_0_1_transaction(hooks_server):
    server = hooks_server
    cp, tag = await server.add_station(), await server.add_tag()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await st.ok("BootNotification", BOOT)
        await st.ok("TransactionEvent", tx_event("T1", "Started", 0, -900, "Authorized", wh=1000, tag=tag))
        for seq, wh in ((1, 1400), (2, 2000), (3, 2600)):
            await st.ok("TransactionEvent", tx_event("T1", "Updated", seq, -900 + seq * 60, wh=wh,
                                                     info={"chargingState": "Charging"}))
        await st.ok("TransactionEvent", tx_event("T1", "Updated", 2, -780, wh=2000))  # a repeat: nothing
        await st.ok("TransactionEvent", tx_event("T1", "Ended", 4, 0, "EVCommunicationLost", wh=3000,
                                                 info={"stoppedReason": "EVDisconnected"}))
        events = await outbox(server, cp)
        assert types(events, "session.") == ["session.started", "session.updated", "session.ended"]
        (started,), (updated,), (ended,) = (of(events, t) for t in types(events, "session."))
        assert started["transaction_id"] == "T1" and started["id_tag"] == tag and started["status"] == "active"
        assert updated["charging_state"] == "Charging" and updated["energy_wh"] == 400
        assert ended == await session_api(api, started["id"])
        assert ended["stop_reason"] == "EVDisconnected" and ended["energy_wh"] == 2000
        assert types(events, "charge_point.") == ["charge_point.connected", "charge_point.booted"]


async def test_a_lost_stop_ends_the_old_session_in_the_new_ones_transaction(hooks_server):
    server = hooks_server
    cp, tag = await server.add_station(), await server.add_tag()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        first = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": now()})
        await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 10, "timestamp": now()})
    events = [e for e in await outbox(server, cp) if e["type"].startswith("session.")]
    assert [(e["type"], e["data"]["transaction_id"]) for e in events] == [
        ("session.started", str(first["transactionId"])), ("session.ended", str(first["transactionId"])),
        ("session.started", events[-1]["data"]["transaction_id"])]
    assert events[1]["data"]["stop_reason"] == "StopNotReceived"


async def test_a_reservation_and_its_commands(hooks_server):
    server = hooks_server
    cp, tag = await server.add_station(), await server.add_tag()
    async with station(server.ws_url, cp) as st, server.api() as api:
        await st.boot()
        http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/reservations", json={
            "evse": 1, "id_tag": tag, "expires_at": "2030-05-01T10:00:00Z"}))
        frame = await receive_call(st, http)
        await st.answer(frame, {"status": "Accepted"})
        reservation = (await http).json()
        started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": now(), "reservationId": reservation["id"]})
        # A command the station does not answer times out (WATTSON_COMMAND_TIMEOUT): completed too.
        http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/commands/reset", json={"type": "soft"}))
        await receive_call(st, http)
        assert (await http).status_code == 504
        events = await outbox(server, cp)

        (created,), (ended,) = of(events, "reservation.created"), of(events, "reservation.ended")
        assert created == reservation and created["status"] == "active"
        assert ended == (await api.get(f"/api/v1/reservations/{reservation['id']}")).json()
        assert ended["status"] == "used" and ended["session_id"] == of(events, "session.started")[0]["id"]
        assert started["transactionId"] == int(of(events, "session.started")[0]["transaction_id"])
        reserve, reset = of(events, "command.completed")
        assert reserve == (await api.get(f"/api/v1/commands/{reservation['command_id']}")).json()
        assert reserve["state"] == "completed" and reserve["status"] == "Accepted"
        assert reset == (await api.get(f"/api/v1/commands/{reset['id']}")).json()
        assert reset["state"] == "timeout" and reset["name"] == "reset"
        order = types(events)
        assert order.index("reservation.created") < order.index("session.started") < order.index("reservation.ended")


async def test_a_reservation_that_runs_out_is_ended_by_the_sweep(hooks_server):
    server = hooks_server
    cp, tag = await server.add_station(), await server.add_tag()
    async with station(server.ws_url, cp) as st, server.api() as api:
        await st.boot()
        soon = (datetime.now(timezone.utc) + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
        http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/reservations", json={
            "evse": 1, "id_tag": tag, "expires_at": soon}))
        await st.answer(await receive_call(st, http), {"status": "Accepted"})
        reservation = (await http).json()
        await until(lambda: _has(server, cp, "reservation.ended"), "the expired reservation's reservation.ended")
        (ended,) = of(await outbox(server, cp), "reservation.ended")
        assert ended["id"] == reservation["id"] and ended["status"] == "expired"
        assert (await api.get(f"/api/v1/reservations/{reservation['id']}")).json()["status"] == "expired"


async def test_a_payments_states(hooks_server):
    server = hooks_server
    async with server.api() as api, server.api() as driver:
        evse = await priced_evse(api)
        async with station(server.ws_url, evse["cp_id"]) as st:
            await st.boot()
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})
            await _payments(server, api, driver, st, evse)


async def _payments(server, api, driver, st, evse):
    declined = await pay(driver, evse["evse_id"], evse["products"][0], card=CARD_DECLINED)
    assert declined.status_code == 402, declined.text
    accepted = await pay(driver, evse["evse_id"], evse["products"][0])
    assert accepted.status_code in (200, 201), accepted.text
    handle = accepted.json()["session_id"]
    frame = await st.next_call()  # the worker starts the charger, which refuses: the hold is released
    assert frame[2] == "RemoteStartTransaction", frame
    await st.answer(frame, {"status": "Rejected"})
    await wait_for_state(driver, handle, "released")
    events = await outbox(server, evse["cp_id"])
    payments = of(events, "payment.state_changed")
    by_payment: dict[int, list[str]] = {}
    for data in payments:
        by_payment.setdefault(data["id"], []).append(data["state"])
    assert sorted(by_payment.values()) == [["created", "authorized", "starting", "releasing", "released"],
                                           ["created", "declined"]]
    last = payments[-1]
    listed = (await api.get("/api/v1/payments", params={"charge_point_id": evse["cp_id"]})).json()["data"]
    assert last == next(p for p in listed if p["id"] == last["id"])
    assert last["session_id"] == handle


async def test_firmware_status_and_security_events_of_a_2_0_1_station(hooks_server):
    server = hooks_server
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await st.ok("BootNotification", BOOT)
        before = await outbox(server, cp)
        await st.ok("FirmwareStatusNotification", {"status": "Downloading"})
        await st.ok("SecurityEventNotification", {"type": "InvalidCsmsCertificate", "timestamp": now(),
                                                  "techInfo": "chain does not verify"})
        events = await outbox(server, cp)
        firmware, = of(events, "firmware.status_changed")
        assert firmware["firmware_status"] == "Downloading"
        assert firmware == {**(await api.get(f"/api/v1/charge-points/{cp}")).json(), "last_seen": firmware["last_seen"],
                            "updated_at": firmware["updated_at"]}
        security, = of(events, "security_event.received")
        assert security["type"] == "InvalidCsmsCertificate" and security["tech_info"] == "chain does not verify"
        assert len(events) == len(before) + 2


async def test_stations_left_online_by_a_killed_process_are_disconnected_at_the_next_start(tmp_path):
    servers = start_server(tmp_path, "sqlite")
    first = next(servers)
    cp = await first.add_station()
    async with station(first.ws_url, cp) as st:
        await st.boot()
        os.kill(first.pid, signal.SIGKILL)  # no disconnect is written: the station stays shown online
        await until(lambda: st._reader.done(), "the connection to close")
    next(servers, None)
    assert types(await outbox(first, cp), "charge_point.") == ["charge_point.connected", "charge_point.booted"]
    servers = start_server(tmp_path, "sqlite")  # the same database file
    second = next(servers)
    try:
        events = await outbox(second, cp)
        assert types(events, "charge_point.") == ["charge_point.connected", "charge_point.booted",
                                                  "charge_point.disconnected"]
        async with second.api() as api:
            assert of(events, "charge_point.disconnected") == [(await api.get(f"/api/v1/charge-points/{cp}")).json()]
    finally:
        next(servers, None)


async def test_a_session_the_stale_policy_closes_is_ended(tmp_path):
    servers = start_server(tmp_path, "sqlite", stale_session_available_s="1", stale_session_sweep_s="0.5")
    server = next(servers)
    try:
        cp, tag = await server.add_station(), await server.add_tag()
        async with station(server.ws_url, cp) as st, server.api() as api:
            await st.boot()
            started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                       "timestamp": now()})
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available",
                                               "timestamp": now()})

            async def closed():
                r = await api.get("/api/v1/sessions", params={"charge_point_id": cp})
                return r.json()["data"][0]["status"] == "finished" and r.json()["data"][0]
            session = await until(closed, "the stale policy to close the session")
            events = await outbox(server, cp)
            assert types(events, "session.") == ["session.started", "session.ended"]
            assert of(events, "session.ended") == [await session_api(api, session["id"])]
            assert session["stop_reason"] == "AvailableWithoutStop"
            assert session["transaction_id"] == str(started["transactionId"])
    finally:
        next(servers, None)


def test_session_updates_are_throttled_per_session():
    every = SessionUpdates(0)
    assert every.due([1, 2, 1]) == [1, 2] and every.due([1]) == [1]
    hourly = SessionUpdates(3600)
    assert hourly.due([1]) == [1] and hourly.due([1, 2]) == [2] and hourly.due([1, 2]) == []
    hourly.ended(1)
    assert hourly.due([1]) == [1]


def test_every_type_has_an_example_of_its_shape():
    assert set(EXAMPLES) == set(TYPES)
    for name, body in EXAMPLES.items():
        assert body["type"] == name and body["id"].startswith("evt_") and body["data"]
    assert set(EXAMPLES["session.started"]["data"]) == SESSION_KEYS



async def test_a_node_found_gone_disconnects_its_stations_and_reclaiming_connects_them(db):  # noqa: F811
    here, there = StationService(db, auto_register=True), StationService(db, auto_register=True)
    here.writer.node_id, there.writer.node_id = "node-here", "node-there"
    for service, cp in ((here, "CP-A"), (there, "CP-B")):
        assert await service.connect(cp, "1.6") == "Accepted"

    async def told() -> list[tuple[str, str, str]]:
        async with db.session() as s:
            return [(e.type, e.charge_point_id, e.data["network_status"]) for e in
                    await s.scalars(select(WebhookEvent).order_by(WebhookEvent.id))]
    assert await told() == [("charge_point.connected", "CP-A", "online"), ("charge_point.connected", "CP-B", "online")]
    assert await here.release_nodes(["node-here"]) == 1
    await here.reclaim(["CP-A"])
    await here.reclaim(["CP-A"])  # online already: nothing more to tell
    await there.disconnect("CP-A")  # not its station: nothing changes, nothing is told
    assert (await told())[2:] == [("charge_point.disconnected", "CP-A", "offline"),
                                  ("charge_point.connected", "CP-A", "online")]
