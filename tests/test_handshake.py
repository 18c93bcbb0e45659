"""The OCPP WebSocket handshake and what follows it: identity checks, subprotocol negotiation,
presence (online/offline, last_seen), connection replacement and registration statuses."""

import asyncio
import time
from datetime import datetime, timezone

import orjson
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from conftest import READY_BOUND_S, unique
from ocpp_client import station


# --- helpers ------------------------------------------------------------------------------------
async def get_station(server, cp_id: str) -> dict:
    async with server.api() as api:
        r = await api.get(f"/api/v1/charge-points/{cp_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def wait_for_station(server, cp_id: str, predicate, timeout: float = READY_BOUND_S) -> dict:
    """Poll the station until ``predicate(station)`` holds; the station, or fail with its last state."""
    deadline = time.monotonic() + timeout
    while True:
        cp = await get_station(server, cp_id)
        if predicate(cp):
            return cp
        assert time.monotonic() < deadline, f"station never reached the expected state: {cp}"
        await asyncio.sleep(0.05)


async def refused(server, path_tail: str, subprotocols=("ocpp1.6",)) -> InvalidStatus:
    """Connect and expect the handshake to be refused with an HTTP status."""
    with pytest.raises(InvalidStatus) as err:
        async with websockets.connect(f"{server.ws_url}/{path_tail}", subprotocols=list(subprotocols),
                                      open_timeout=READY_BOUND_S):
            pass
    return err.value


def parse_utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.utcoffset() is not None and value.utcoffset().total_seconds() == 0, text
    return value


def assert_error(reply: list, code: str) -> None:
    assert reply[0] == 4, f"expected CALLERROR {code}, got {reply}"
    assert reply[2] == code, f"expected {code}, got {reply}"


async def log_line(server, *needles: str, timeout: float = READY_BOUND_S) -> str:
    """The first server log line containing every needle (the server logs asynchronously to a file)."""
    deadline = time.monotonic() + timeout
    while True:
        for line in server.log.read_text().splitlines():
            if all(n in line for n in needles):
                return line
        assert time.monotonic() < deadline, f"no log line with {needles}"
        await asyncio.sleep(0.05)


# --- identity -----------------------------------------------------------------------------------
async def test_unknown_station_is_refused_with_401(server):
    """The same answer as a wrong password (tests/test_tls_profiles.py compares them byte for byte),
    so that nobody can probe which stations exist; the log says why."""
    cp_id = unique()
    error = await refused(server, cp_id)
    assert error.response.status_code == 401
    body = orjson.loads(error.response.body)
    assert body["error"]["code"] == "unauthorized"
    assert cp_id not in body["error"]["message"]
    assert error.response.headers["WWW-Authenticate"].startswith("Basic")
    await log_line(server, "WARNING", cp_id, "unknown charge point")
    # Refusing does not register it.
    async with server.api() as api:
        assert (await api.get(f"/api/v1/charge-points/{cp_id}")).status_code == 404


@pytest.mark.parametrize("identity", ["x" * 49, "a%2Fb", "bad%00id", ""], ids=["49-chars", "slash", "nul", "empty"])
async def test_invalid_identity_is_refused_with_400(server, identity):
    error = await refused(server, identity)
    assert error.response.status_code == 400
    assert orjson.loads(error.response.body)["error"]["code"] == "invalid_identity"


async def test_identity_of_48_characters_is_accepted(server):
    cp_id = await server.add_station(unique() + "x" * (48 - len(unique())))
    assert len(cp_id) == 48
    async with station(server.ws_url, cp_id) as st:
        assert (await st.boot())["status"] == "Accepted"


# --- subprotocols -------------------------------------------------------------------------------
@pytest.mark.parametrize("offered", [["ocpp1.2"], ["ocpp1.5", "foo"], None], ids=["1.2-only", "others", "none"])
async def test_no_supported_subprotocol_is_closed_with_1002(server, offered):
    cp_id = await server.add_station()
    async with websockets.connect(f"{server.ws_url}/{cp_id}", subprotocols=offered, open_timeout=READY_BOUND_S) as ws:
        assert ws.subprotocol is None  # OCPP-J: the handshake completes without one ...
        await asyncio.wait_for(ws.wait_closed(), READY_BOUND_S)  # ... and the server closes (at once)
    assert ws.close_code == 1002
    assert "ocpp1.6" in ws.close_reason, ws.close_reason
    line = await log_line(server, "WARNING", cp_id, "no supported OCPP subprotocol")
    assert "ocpp1.6" in line
    # The station was never connected as far as the registry is concerned.
    assert (await get_station(server, cp_id))["network_status"] == "never_connected"


async def test_subprotocol_negotiation_and_presence(server):
    cp_id = await server.add_station()
    before = await get_station(server, cp_id)
    assert (before["network_status"], before["ocpp_version"], before["last_seen"], before["connected_at"]) == \
        ("never_connected", None, None, None)

    connected_after = datetime.now(timezone.utc)
    async with station(server.ws_url, cp_id, subprotocols=["ocpp1.5", "ocpp1.6"]) as st:
        assert st.ws.subprotocol == "ocpp1.6"
        online = await get_station(server, cp_id)
        assert (online["network_status"], online["ocpp_version"]) == ("online", "1.6")
        assert parse_utc(online["last_seen"]) >= connected_after
        assert parse_utc(online["connected_at"]) >= connected_after
        await st.boot()
        await st.ws.close()

    offline = await wait_for_station(server, cp_id, lambda cp: cp["network_status"] == "offline")
    assert offline["ocpp_version"] == "1.6"
    assert parse_utc(offline["last_seen"]) >= parse_utc(online["last_seen"])


# --- auto-registration --------------------------------------------------------------------------
async def test_auto_registration_accepts_unknown_stations(auto_register_server):
    cp_id = unique("AUTO")
    async with station(auto_register_server.ws_url, cp_id) as st:
        boot = await st.boot()
        assert boot["status"] == "Accepted" and boot["interval"] > 0
        cp = await get_station(auto_register_server, cp_id)
        assert (cp["registration_status"], cp["network_status"], cp["ocpp_version"]) == ("Accepted", "online", "1.6")
        assert (cp["vendor"], cp["model"]) == ("TestVendor", "T1")


# --- a second connection of the same station ----------------------------------------------------
async def test_second_connection_replaces_the_first(server):
    cp_id = await server.add_station()
    async with station(server.ws_url, cp_id) as first:
        await first.boot()
        async with station(server.ws_url, cp_id) as second:
            await asyncio.wait_for(first.ws.wait_closed(), READY_BOUND_S)
            assert first.ws.close_code == 1000, (first.ws.close_code, first.ws.close_reason)
            assert "replaced" in first.ws.close_reason
            # The new connection works and the station is still online once the old one is gone.
            await second.boot()
            await second.ok("Heartbeat", {})
            assert (await get_station(server, cp_id))["network_status"] == "online"
            await second.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})
            assert (await get_station(server, cp_id))["network_status"] == "online"
            await second.ws.close()
    await wait_for_station(server, cp_id, lambda cp: cp["network_status"] == "offline")


# --- registration status ------------------------------------------------------------------------
async def test_accepted_station_gets_the_heartbeat_interval(server):
    cp_id = await server.add_station(registration_status="Accepted")
    async with station(server.ws_url, cp_id) as st:
        boot = await st.boot()
    assert (boot["status"], boot["interval"]) == ("Accepted", 120)
    assert abs((parse_utc(boot["currentTime"]) - datetime.now(timezone.utc)).total_seconds()) < 10


async def test_pending_station_may_only_send_what_pending_allows(server):
    cp_id = await server.add_station(registration_status="Pending")
    tag = await server.add_tag()
    async with station(server.ws_url, cp_id) as st:
        # Even before its boot, the stored registration applies.
        assert_error(await st.call("Authorize", {"idTag": tag}), "SecurityError")
        boot = await st.boot()
        assert (boot["status"], boot["interval"]) == ("Pending", 60)
        assert_error(await st.call("Authorize", {"idTag": tag}), "SecurityError")
        assert_error(await st.call("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                        "timestamp": datetime.now(timezone.utc).isoformat()}),
                     "SecurityError")
        # 1.6 section 4.2: nothing else unless a TriggerMessage asked for it (test_protocol_answers.py).
        assert_error(await st.call("Heartbeat", {}), "SecurityError")
        assert_error(await st.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                          "status": "Available"}), "SecurityError")
        assert_error(await st.call("DataTransfer", {"vendorId": "Acme"}), "SecurityError")
    async with server.api() as api:
        sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"]
    assert sessions == []
    assert (await get_station(server, cp_id))["registration_status"] == "Pending"


async def test_rejected_station_may_only_boot(server):
    cp_id = await server.add_station(registration_status="Rejected")
    async with station(server.ws_url, cp_id) as st:
        boot = await st.boot()
        assert (boot["status"], boot["interval"]) == ("Rejected", 60)
        assert_error(await st.call("Heartbeat", {}), "SecurityError")
        assert_error(await st.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                          "status": "Available"}), "SecurityError")
        assert_error(await st.call("MeterValues", {"connectorId": 1, "meterValue": [
            {"timestamp": datetime.now(timezone.utc).isoformat(), "sampledValue": [{"value": "1"}]}]}),
                     "SecurityError")
        # Booting again is allowed, and answered the same way.
        assert (await st.boot())["status"] == "Rejected"
        # The connection itself stays usable.
        assert_error(await st.call("Heartbeat", {}), "SecurityError")
    cp = await get_station(server, cp_id)
    assert cp["evses"] == [] and cp["hardware_status"] is None  # nothing of it was stored


# --- heartbeat ----------------------------------------------------------------------------------
async def test_heartbeat_answers_the_time_and_updates_last_seen(server):
    cp_id = await server.add_station()
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        seen_before = parse_utc((await get_station(server, cp_id))["last_seen"])
        sent_at = datetime.now(timezone.utc)
        reply = await st.ok("Heartbeat", {})
        received_at = datetime.now(timezone.utc)
        assert set(reply) == {"currentTime"}
        assert reply["currentTime"].endswith("Z"), reply  # UTC
        server_time = parse_utc(reply["currentTime"])
        assert abs((server_time - sent_at).total_seconds()) < 5
        last_seen = parse_utc((await get_station(server, cp_id))["last_seen"])
        assert last_seen >= sent_at and last_seen > seen_before
        assert last_seen <= received_at
