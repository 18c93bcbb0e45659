"""Security events: the OCPP 1.6 security extension's station messages (SecurityEventNotification,
LogStatusNotification, SignedFirmwareStatusNotification) handled as 2.x's are, with GetLog and
SignedUpdateFirmware inviting their reports from a Pending station; and GET /api/v1/security-events
listing what stations report (1.6 and 2.x) beside Wattson's own security events: refused
handshakes (from the connection diagnostics), password and security profile changes."""

import asyncio
import base64
from datetime import datetime, timedelta, timezone

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from conftest import READY_BOUND_S, until, unique
from ocpp_client import now, station
from test_handshake import log_line
from test_protocol_answers import BOOT_201, assert_error, csms_call, ts

PASSWORD = "s3cret-Station-Pa55"


async def get(server, path: str, **params):
    async with server.api() as api:
        return await api.get(path, params=params)


async def station_events(server, cp: str) -> list[dict]:
    r = await get(server, f"/api/v1/charge-points/{cp}/events")
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def charge_point(server, cp: str) -> dict:
    r = await get(server, f"/api/v1/charge-points/{cp}")
    assert r.status_code == 200, r.text
    return r.json()


# --- the 1.6 security extension's station messages ----------------------------------------------
async def test_a_1_6_security_event_is_kept_and_logged(server):
    cp = await server.add_station()
    at = now()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        assert await st.ok("SecurityEventNotification", {"type": "TamperDetectionActivated", "timestamp": at,
                                                         "techInfo": "lid opened"}) == {}
        assert await st.ok("SecurityEventNotification", {"type": "SettingSystemTime", "timestamp": at}) == {}
    events = [e for e in await station_events(server, cp) if e["kind"] == "security_event"]
    assert [e["data"]["type"] for e in events] == ["SettingSystemTime", "TamperDetectionActivated"]
    assert events[1]["data"]["techInfo"] == "lid opened"
    assert datetime.fromisoformat(events[1]["timestamp"]) == datetime.fromisoformat(at)
    line = await log_line(server, cp, "security event TamperDetectionActivated")
    assert "WARNING" in line and "lid opened" in line


async def test_log_status_is_the_diagnostics_status(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        assert await st.ok("LogStatusNotification", {"status": "Uploading", "requestId": 42}) == {}
        assert (await charge_point(server, cp))["diagnostics_status"] == "Uploading"
        assert await st.ok("LogStatusNotification", {"status": "Uploaded", "requestId": 42}) == {}
    assert (await charge_point(server, cp))["diagnostics_status"] == "Uploaded"
    events = [e for e in await station_events(server, cp) if e["kind"] == "log_status"]
    assert [(e["data"]["status"], e["data"]["requestId"]) for e in events] == [("Uploaded", 42), ("Uploading", 42)]


async def test_signed_firmware_status_is_the_firmware_status(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        for status in ("Downloading", "SignatureVerified", "InstallVerificationFailed"):
            assert await st.ok("SignedFirmwareStatusNotification", {"status": status, "requestId": 7}) == {}
    assert (await charge_point(server, cp))["firmware_status"] == "InstallVerificationFailed"
    events = [e for e in await station_events(server, cp) if e["kind"] == "firmware_status"]
    assert [e["data"]["status"] for e in events] == ["InstallVerificationFailed", "SignatureVerified", "Downloading"]


@pytest.mark.parametrize("action, payload, code", [
    ("SecurityEventNotification", {"type": "TamperDetectionActivated"}, "OccurenceConstraintViolation"),
    ("SecurityEventNotification", {"type": "x" * 51, "timestamp": "2026-01-01T00:00:00Z"}, "TypeConstraintViolation"),
    ("SecurityEventNotification", {"type": "ResetOrReboot", "timestamp": "yesterday"}, "PropertyConstraintViolation"),
    ("SecurityEventNotification", {"type": "ResetOrReboot", "timestamp": "2026-01-01T00:00:00Z", "techInfo": 5},
     "TypeConstraintViolation"),
    ("LogStatusNotification", {"status": "Lost"}, "PropertyConstraintViolation"),
    ("LogStatusNotification", {"requestId": 1}, "OccurenceConstraintViolation"),
    ("SignedFirmwareStatusNotification", {"status": "Installed", "requestId": "7"}, "TypeConstraintViolation"),
    ("SignedFirmwareStatusNotification", {"status": "Installed", "extra": 1}, "FormationViolation"),
], ids=["no-timestamp", "type-too-long", "bad-timestamp", "tech-info-number", "unknown-log-status",
        "no-log-status", "request-id-string", "extra-field"])
async def test_bad_security_extension_messages_get_the_1_6_error(sqlite_server, action, payload, code):
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp) as st:
        await st.boot()
        assert_error(await st.call(action, payload), code)
        assert "currentTime" in await st.ok("Heartbeat", {})  # the connection lives on


async def test_a_pending_station_reports_on_the_log_and_signed_firmware_it_was_asked_for(sqlite_server):
    server = sqlite_server
    cp = await server.add_station(registration_status="Pending")
    async with station(server.ws_url, cp) as st:
        assert (await st.boot())["status"] == "Pending"
        for action, payload in [("LogStatusNotification", {"status": "Uploading", "requestId": 1}),
                                ("SignedFirmwareStatusNotification", {"status": "Downloading", "requestId": 2}),
                                ("SecurityEventNotification", {"type": "ResetOrReboot", "timestamp": now()})]:
            assert_error(await st.call(action, payload), "SecurityError")
        out = await csms_call(server, st, cp, "GetLog", {
            "logType": "SecurityLog", "requestId": 1, "log": {"remoteLocation": "https://logs.example.com/up"}},
            {"status": "Accepted", "filename": "security.log"})
        assert out["status"] == "Accepted"
        assert await st.ok("LogStatusNotification", {"status": "Uploading", "requestId": 1}) == {}
        assert_error(await st.call("SignedFirmwareStatusNotification", {"status": "Downloading", "requestId": 2}),
                     "SecurityError")
        await csms_call(server, st, cp, "SignedUpdateFirmware", {"requestId": 2, "firmware": {
            "location": "https://fw.example.com/2.bin", "retrieveDateTime": now(),
            "signingCertificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "signature": "c2lnbmF0dXJl"}}, {"status": "Accepted"})
        assert await st.ok("SignedFirmwareStatusNotification", {"status": "Downloading", "requestId": 2}) == {}
        assert await st.ok("SignedFirmwareStatusNotification", {"status": "SignatureVerified", "requestId": 2}) == {}
    state = await charge_point(server, cp)
    assert (state["diagnostics_status"], state["firmware_status"]) == ("Uploading", "SignatureVerified")
