"""Answers the OCPP specifications prescribe, over real WebSockets: what a Pending station may send
(1.6 section 4.2, 2.0.1 B02.FR.09), DataTransfer of unknown vendors and messages (and a vendor
extension registered through an entry point), and 1.6 Authorize leaving ConcurrentTx to
StartTransaction."""

import asyncio
import os
from datetime import datetime, timezone

import pytest

from conftest import start_server
from fixture_failures import started_once
from ocpp_client import now, station

BOOT_201 = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}


def ts() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def assert_error(reply: list, code: str) -> None:
    assert reply[0] == 4 and reply[2] == code, reply


async def csms_call(server, st, cp: str, action: str, payload: dict, answer: dict) -> dict:
    """Send a raw call from the API, answer it as the station; the command's outcome."""
    async with server.api() as api:
        http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/ocpp/{action}", json=payload))
        frame = await st.next_call()
        assert frame[2:] == [action, payload]
        await st.answer(frame, answer)
        r = await http
    assert r.status_code == 200, r.text
    return r.json()


# --- Pending ------------------------------------------------------------------------------------
STATUS_16 = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
UNREQUESTED_16 = {
    "Heartbeat": {},
    "StatusNotification": STATUS_16,
    "MeterValues": {"connectorId": 1, "meterValue": [{"timestamp": "2026-01-01T00:00:00Z",
                                                      "sampledValue": [{"value": "1"}]}]},
    "DataTransfer": {"vendorId": "com.acme"},
    "Authorize": {"idTag": "TAG"},
    "StartTransaction": {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"},
    "StopTransaction": {"transactionId": 1, "meterStop": 0, "timestamp": "2026-01-01T00:00:00Z"},
    "DiagnosticsStatusNotification": {"status": "Uploading"},
    "FirmwareStatusNotification": {"status": "Downloading"},
}


async def test_a_pending_1_6_station_may_send_only_what_it_was_asked_for(server):
    cp = await server.add_station(registration_status="Pending")
    async with station(server.ws_url, cp) as st:
        assert (await st.boot())["status"] == "Pending"
        for action, payload in UNREQUESTED_16.items():
            assert_error(await st.call(action, payload), "SecurityError")
        # What a TriggerMessage asks for may be sent, as often as the station needs (one per connector).
        out = await csms_call(server, st, cp, "TriggerMessage", {"requestedMessage": "StatusNotification"},
                              {"status": "Accepted"})
        assert out["status"] == "Accepted"
        assert await st.ok("StatusNotification", STATUS_16) == {}
        assert await st.ok("StatusNotification", {**STATUS_16, "connectorId": 2}) == {}
        assert_error(await st.call("Heartbeat", {}), "SecurityError")  # not asked for
        # The progress of a firmware update or diagnostics upload we asked for.
        await csms_call(server, st, cp, "UpdateFirmware", {"location": "https://fw.example.com/1.bin",
                                                           "retrieveDate": now()}, {})
        assert await st.ok("FirmwareStatusNotification", {"status": "Downloading"}) == {}
        assert_error(await st.call("DiagnosticsStatusNotification", {"status": "Uploading"}), "SecurityError")
        assert (await st.boot())["status"] == "Pending"  # booting again is always allowed
    async with station(server.ws_url, cp) as st:  # an invitation lasts as long as its connection
        assert (await st.boot())["status"] == "Pending"
        assert_error(await st.call("StatusNotification", STATUS_16), "SecurityError")


@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])
async def test_a_pending_2_x_station_may_send_only_what_it_was_asked_for(server, subprotocol):
    """B02.FR.09 (OCTT TC_B_30_CSMS): an unrequested StatusNotification or NotifyEvent is a
    SecurityError; what TriggerMessage, GetBaseReport or GetReport asked for is not."""
    cp = await server.add_station(registration_status="Pending")
    status = {"timestamp": ts(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1}
    notify_event = {"generatedAt": ts(), "seqNo": 0, "eventData": [{
        "eventId": 1, "timestamp": ts(), "trigger": "Delta", "actualValue": "Available",
        "eventNotificationType": "HardWiredNotification", "component": {"name": "Connector"},
        "variable": {"name": "AvailabilityState"}}]}
    report = {"requestId": 7, "generatedAt": ts(), "seqNo": 0}
    async with station(server.ws_url, cp, (subprotocol,)) as st:
        assert (await st.ok("BootNotification", BOOT_201))["status"] == "Pending"
        for action, payload in [("StatusNotification", status), ("NotifyEvent", notify_event),
                                ("NotifyReport", report), ("Heartbeat", {}), ("DataTransfer", {"vendorId": "x"}),
                                ("Authorize", {"idToken": {"idToken": "A", "type": "ISO14443"}}),
                                ("MeterValues", {"evseId": 0, "meterValue": [
                                    {"timestamp": ts(), "sampledValue": [{"value": 1}]}]})]:
            assert_error(await st.call(action, payload), "SecurityError")
        await csms_call(server, st, cp, "GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"},
                        {"status": "Accepted"})
        assert await st.ok("NotifyReport", report) == {}
        assert await st.ok("NotifyReport", {**report, "seqNo": 1}) == {}
        await csms_call(server, st, cp, "TriggerMessage", {"requestedMessage": "StatusNotification"},
                        {"status": "Accepted"})
        assert await st.ok("StatusNotification", status) == {}
        assert_error(await st.call("NotifyEvent", notify_event), "SecurityError")
        await csms_call(server, st, cp, "TriggerMessage", {"requestedMessage": "Heartbeat"}, {"status": "Accepted"})
        assert "currentTime" in await st.ok("Heartbeat", {})


async def test_a_rejected_station_is_not_invited_by_a_trigger(sqlite_server):
    cp = await sqlite_server.add_station(registration_status="Rejected")
    async with station(sqlite_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        assert (await st.ok("BootNotification", BOOT_201))["status"] == "Rejected"
        await csms_call(sqlite_server, st, cp, "TriggerMessage", {"requestedMessage": "Heartbeat"},
                        {"status": "Accepted"})
        assert_error(await st.call("Heartbeat", {}), "SecurityError")


# --- DataTransfer -------------------------------------------------------------------------------
async def test_data_transfer_of_an_unknown_vendor_is_answered_unknown_vendor_id(sqlite_server):
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp) as st16:
        await st16.boot()
        assert await st16.ok("DataTransfer", {"vendorId": "com.acme", "messageId": "x", "data": "1"}) == \
            {"status": "UnknownVendorId"}
    async with station(sqlite_server.ws_url, cp, ("ocpp2.0.1",)) as st201:
        await st201.ok("BootNotification", BOOT_201)
        assert await st201.ok("DataTransfer", {"vendorId": "com.acme", "data": {"a": 1}}) == \
            {"status": "UnknownVendorId"}
    async with sqlite_server.api() as api:
        events = (await api.get(f"/api/v1/charge-points/{cp}/events")).json()["data"]
    assert [e["data"] for e in events if e["kind"] == "data_transfer"] == [
        {"vendorId": "com.acme", "data": {"a": 1}}, {"vendorId": "com.acme", "messageId": "x", "data": "1"}]


PLUGIN = '''
from wattson.ocpp.datatransfer import Reply


async def ping(transfer):
    if transfer.ocpp_version == "1.6":
        return Reply("Accepted", f"pong {transfer.data} from {transfer.charge_point_id}")
    return Reply("Accepted", {"pong": transfer.data})


async def anything(transfer):
    return Reply("Rejected")


def setup(registry):
    registry.register("com.acme", "ping", ping)
    registry.register("org.wildcard", None, anything)
'''


@pytest.fixture(scope="module")
def plugin_server(request, tmp_path_factory):
    """A server with a DataTransfer plugin installed the documented way (an entry point), and a
    broken one that must not stop it."""
    tmp = tmp_path_factory.mktemp("datatransfer-plugin")
    site = tmp / "site"
    (site / "acme_wattson-1.0.dist-info").mkdir(parents=True)
    (site / "acme_wattson.py").write_text(PLUGIN)
    (site / "acme_wattson-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-wattson\n"
                                                                  "Version: 1.0\n")
    (site / "acme_wattson-1.0.dist-info" / "entry_points.txt").write_text(
        "[wattson.datatransfer]\nacme = acme_wattson:setup\nbroken = acme_wattson:no_such_function\n")
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), saved]))
    try:
        run = started_once(request, start_server(tmp, "sqlite"))
        server = next(run)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    yield server
    next(run, None)


async def test_a_registered_vendor_answers_its_messages(plugin_server):
    cp = await plugin_server.add_station()
    async with station(plugin_server.ws_url, cp) as st:
        await st.boot()
        assert await st.ok("DataTransfer", {"vendorId": "com.acme", "messageId": "ping", "data": "7"}) == \
            {"status": "Accepted", "data": f"pong 7 from {cp}"}
        assert await st.ok("DataTransfer", {"vendorId": "com.acme", "messageId": "pong"}) == \
            {"status": "UnknownMessageId"}
        assert await st.ok("DataTransfer", {"vendorId": "com.acme"}) == {"status": "UnknownMessageId"}
        assert await st.ok("DataTransfer", {"vendorId": "org.wildcard", "messageId": "any"}) == {"status": "Rejected"}
        assert await st.ok("DataTransfer", {"vendorId": "com.other"}) == {"status": "UnknownVendorId"}
    async with station(plugin_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT_201)
        assert await st.ok("DataTransfer", {"vendorId": "com.acme", "messageId": "ping", "data": [1, 2]}) == \
            {"status": "Accepted", "data": {"pong": [1, 2]}}
        assert await st.ok("DataTransfer", {"vendorId": "com.acme", "messageId": "other"}) == \
            {"status": "UnknownMessageId"}
    log = plugin_server.log.read_text()
    assert "DataTransfer plugin acme loaded" in log and "DataTransfer plugin broken" in log, log[-3000:]


# --- Authorize ----------------------------------------------------------------------------------
async def test_1_6_authorize_leaves_concurrent_tx_to_start_transaction(server):
    cp1, cp2, tag = await server.add_station(), await server.add_station(), await server.add_tag()
    async with station(server.ws_url, cp1) as st1, station(server.ws_url, cp2) as st2:
        await st1.boot()
        await st2.boot()
        started = await st1.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                    "timestamp": now()})
        assert started["idTagInfo"]["status"] == "Accepted"
        assert (await st2.ok("Authorize", {"idTag": tag}))["idTagInfo"]["status"] == "Accepted"
        second = await st2.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": now()})
        assert second["idTagInfo"]["status"] == "ConcurrentTx"
        blocked = await server.add_tag(status="Blocked")
        assert (await st2.ok("Authorize", {"idTag": blocked}))["idTagInfo"]["status"] == "Blocked"
