"""Security events: the OCPP 1.6 security extension's station messages (SecurityEventNotification,
LogStatusNotification, SignedFirmwareStatusNotification) handled as 2.x's are, with GetLog and
SignedUpdateFirmware inviting their reports from a Pending station; and GET /api/v1/security-events
listing what stations report (1.6 and 2.x) beside Wattson's own security events: refused
handshakes (from the connection diagnostics), password and security profile changes."""

import base64
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from conftest import READY_BOUND_S, until, unique
from ocpp_client import now, station
from test_handshake import log_line
from test_protocol_answers import BOOT_201, assert_error, csms_call, ts
from wattson.diagnostics.rules import REFUSALS
from wattson.security_events import rules
from wattson.security_events.service import record_security_event

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


# --- GET /api/v1/security-events ----------------------------------------------------------------
async def security_events(server, **params) -> list[dict]:
    r = await get(server, "/api/v1/security-events", **params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def refuse_a_wrong_password(server, cp: str) -> None:
    with pytest.raises(InvalidStatus) as err:
        async with websockets.connect(f"{server.ws_url}/{cp}", subprotocols=["ocpp1.6"],
                                      additional_headers=basic(cp, "wrong-Password-0000"),
                                      open_timeout=READY_BOUND_S):
            pass
    assert err.value.response.status_code == 401


async def test_what_stations_report_and_what_wattson_saw_in_one_list(server):
    cp16, cp201, guarded = await server.add_station(), await server.add_station(), unique()
    async with server.api() as api:
        r = await api.post("/api/v1/charge-points", json={"id": guarded, "security_profile": 1, "password": PASSWORD})
        assert r.status_code == 201, r.text
    async with station(server.ws_url, cp16) as st:
        await st.boot()
        await st.ok("SecurityEventNotification", {"type": "TamperDetectionActivated", "timestamp": now(),
                                                  "techInfo": "lid opened"})
        await st.ok("SecurityEventNotification", {"type": "InvalidMessages", "timestamp": now()})
    async with station(server.ws_url, cp201, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT_201)
        await st.ok("SecurityEventNotification", {"type": "FirmwareUpdated", "timestamp": ts(), "techInfo": "v2.1"})
    await refuse_a_wrong_password(server, guarded)

    async def refused():
        return [e for e in await security_events(server, charge_point_id=guarded) if e["source"] == "connection"]
    [refusal] = await until(refused, "the refused handshake listed")
    assert (refusal["type"], refusal["severity"], refusal["data"]["reason"]) == \
        ("HandshakeRefused", "warning", "password_wrong")
    assert refusal["data"]["count"] == 1 and "wrong password" in refusal["tech_info"]
    async with server.api() as api:
        r = await api.patch(f"/api/v1/charge-points/{guarded}", json={"password": "another-Pa55word-1"})
        assert r.status_code == 200, r.text
        r = await api.patch(f"/api/v1/charge-points/{guarded}", json={"security_profile": 0})
        assert r.status_code == 200, r.text
        r = await api.patch(f"/api/v1/charge-points/{guarded}", json={"name": "no security change"})
        assert r.status_code == 200, r.text

    listed = await security_events(server, charge_point_id=guarded)
    assert [(e["source"], e["type"], e["severity"]) for e in listed] == [
        ("csms", "SecurityProfileChanged", "warning"), ("csms", "StationPasswordChanged", "info"),
        ("connection", "HandshakeRefused", "warning")]
    assert listed[0]["data"] == {"from": 1, "to": 0, "password_removed": True}
    assert listed[0]["tech_info"] == "security profile 1 → 0; password removed"
    assert listed[1]["data"] == {"security_profile": 1, "first": False}
    reported16 = await security_events(server, charge_point_id=cp16)
    assert [(e["source"], e["type"], e["severity"], e["tech_info"]) for e in reported16] == [
        ("station", "InvalidMessages", "warning", None),
        ("station", "TamperDetectionActivated", "critical", "lid opened")]
    [reported201] = await security_events(server, charge_point_id=cp201)
    assert (reported201["type"], reported201["severity"], reported201["data"]["techInfo"]) == \
        ("FirmwareUpdated", "critical", "v2.1")
    assert reported201["id"].startswith("station:") and len({e["id"] for e in listed + reported16}) == 5

    # Across stations, newest recorded first.
    everything = await security_events(server, limit=500)
    mine = [e["id"] for e in everything if e["charge_point_id"] in (cp16, cp201, guarded)]
    assert set(mine) == {e["id"] for e in listed + reported16 + [reported201]}
    times = [datetime.fromisoformat(e["recorded_at"]) for e in everything]
    assert times == sorted(times, reverse=True)


async def test_filters_and_paging(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        for type in ("StartupOfTheDevice", "InvalidTLSVersion", "ResetOrReboot", "AttemptedReplayAttacks"):
            await st.ok("SecurityEventNotification", {"type": type, "timestamp": now()})
    middle = datetime.now(timezone.utc)
    async with server.api() as api:
        r = await api.patch(f"/api/v1/charge-points/{cp}", json={"security_profile": 1, "password": PASSWORD})
        assert r.status_code == 200, r.text
    await refuse_a_wrong_password(server, cp)
    await until(lambda: _sources(server, cp, "connection"), "the refused handshake listed")
    async with server.api() as api:
        assert (await api.patch(f"/api/v1/charge-points/{cp}", json={"security_profile": 0})).status_code == 200
    everything = await security_events(server, charge_point_id=cp)
    # 4 reported; profile up and the first password; the refusal; profile down
    assert [e["type"] for e in everything][:4] == ["SecurityProfileChanged", "HandshakeRefused",
                                                   "StationPasswordChanged", "SecurityProfileChanged"]
    assert len(everything) == 8 and everything[2]["data"] == {"security_profile": 1, "first": True}

    def types(events):
        return [e["type"] for e in events]
    assert types(await security_events(server, charge_point_id=cp, severity="critical")) == \
        ["ResetOrReboot", "StartupOfTheDevice"]
    assert types(await security_events(server, charge_point_id=cp, severity="info")) == \
        ["StationPasswordChanged", "SecurityProfileChanged"]
    assert types(await security_events(server, charge_point_id=cp, severity="warning")) == \
        ["SecurityProfileChanged", "HandshakeRefused", "AttemptedReplayAttacks", "InvalidTLSVersion"]
    assert types(await security_events(server, charge_point_id=cp, type="InvalidTLSVersion")) == ["InvalidTLSVersion"]
    assert types(await security_events(server, charge_point_id=cp, type="HandshakeRefused")) == ["HandshakeRefused"]
    assert await security_events(server, charge_point_id=cp, type="NoSuchType") == []
    assert {e["source"] for e in await security_events(server, charge_point_id=cp, source="station")} == {"station"}
    assert len(await security_events(server, charge_point_id=cp, source="csms")) == 3
    after = await security_events(server, charge_point_id=cp, since=middle.isoformat())
    before = await security_events(server, charge_point_id=cp, until=middle.isoformat())
    assert len(after) == 4 and {e["source"] for e in after} == {"csms", "connection"}
    assert [e["id"] for e in after + before] == [e["id"] for e in everything]
    assert await security_events(server, charge_point_id=cp, source="station", severity="info") == []
    assert await security_events(server, charge_point_id=unique()) == []

    # Pages of one, following next_cursor, give the whole list once, in order.
    paged, cursor = [], None
    for _ in range(20):
        r = await get(server, "/api/v1/security-events", charge_point_id=cp, limit=1,
                      **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        paged += r.json()["data"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert [e["id"] for e in paged] == [e["id"] for e in everything]
    three = await get(server, "/api/v1/security-events", charge_point_id=cp, limit=3)
    rest = await get(server, "/api/v1/security-events", charge_point_id=cp, limit=500,
                     cursor=three.json()["next_cursor"])
    assert [e["id"] for e in three.json()["data"] + rest.json()["data"]] == [e["id"] for e in everything]
    assert rest.json()["next_cursor"] is None


async def _sources(server, cp: str, source: str) -> list[dict]:
    return [e for e in await security_events(server, charge_point_id=cp) if e["source"] == source]


@pytest.mark.parametrize("params", [
    {"since": "yesterday"}, {"until": "2026-13-01T00:00:00Z"}, {"severity": "fatal"}, {"source": "api"},
    {"limit": "0"}, {"limit": "501"}, {"cursor": "not-a-cursor"}, {"type": "x" * 51}, {"type": ""},
    {"charge_point_id": "CP\x00"}, {"charge_point_id": "x" * 101},
    {"since": "2026-12-04T10:00:00Z", "until": "2026-12-04T10:00:00Z"},
    {"since": "2026-12-04T11:00:00Z", "until": "2026-12-04T10:00:00Z"},
    {"cursor": "WyIyMDI2LTEyLTA0VDEwOjAwOjAwKzAwOjAwIiwibm9uZSIsMV0"},  # a well-formed key of no source
    {"cursor": "WyIyMDI2LTEyLTA0VDEwOjAwOjAwKzAwOjAwIiwic3RhdGlvbiIsOTk5OTk5OTk5OTk5XQ"},  # an id beyond int32
], ids=["since", "until", "severity", "source", "limit-0", "limit-501", "cursor", "type-long", "type-empty",
        "cp-nul", "cp-long", "empty-window", "reversed-window", "cursor-source", "cursor-id"])
async def test_bad_filters_are_422_with_a_json_body(server, params):
    r = await get(server, "/api/v1/security-events", **params)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


async def test_the_list_needs_an_api_key(sqlite_server):
    async with httpx.AsyncClient(base_url=sqlite_server.http_url, timeout=READY_BOUND_S) as anonymous:
        r = await anonymous.get("/api/v1/security-events")
    assert r.status_code == 401 and "error" in r.json()


# --- the rules (no I/O) and recording -----------------------------------------------------------
def test_severities():
    assert rules.station_severity("TamperDetectionActivated") == rules.station_severity("FirmwareUpdated") == "critical"
    assert rules.station_severity("InvalidMessages") == rules.station_severity("AnyVendorThing") == "warning"
    assert rules.refusal_severity("password_wrong") == rules.refusal_severity("certificate_mismatch") == "warning"
    assert rules.refusal_severity("no_subprotocol") == rules.refusal_severity("invalid_identity") == "info"
    assert rules.CONFIGURATION_REFUSALS < set(REFUSALS)


@pytest.mark.parametrize("old, new, password_set, had_password, expected", [
    (1, 1, True, True, [("StationPasswordChanged", "info", {"security_profile": 1, "first": False})]),
    (0, 2, True, False, [("SecurityProfileChanged", "info", {"from": 0, "to": 2, "password_removed": False}),
                         ("StationPasswordChanged", "info", {"security_profile": 2, "first": True})]),
    (2, 1, False, True, [("SecurityProfileChanged", "warning", {"from": 2, "to": 1, "password_removed": False})]),
    (2, 3, False, True, [("SecurityProfileChanged", "info", {"from": 2, "to": 3, "password_removed": True})]),
    (1, 0, False, True, [("SecurityProfileChanged", "warning", {"from": 1, "to": 0, "password_removed": True})]),
    (0, 0, False, False, []),
], ids=["new-password", "up-with-password", "down", "up-to-certificates", "down-to-nothing", "no-change"])
def test_security_changes(old, new, password_set, had_password, expected):
    events = rules.security_changes(old, new, password_set, had_password)
    assert [(type, severity, data) for type, severity, _, data in events] == expected


def test_the_order_across_sources():
    at = datetime(2026, 12, 4, 10, tzinfo=timezone.utc)
    assert rules.after((at, "connection", 5), "connection") == "tie"
    assert rules.after((at, "connection", 5), "station") == "at_or_before"  # ranked below: its rows at `at` follow
    assert rules.after((at, "connection", 5), "csms") == "before"  # ranked above: its rows at `at` came first
    keys = [(at, 0, 3), (at + timedelta(seconds=1), 0, 1), (at, 2, 1), (at, 1, 9)]
    assert rules.merge([keys[:2], keys[2:]], 3, lambda k: k) == [keys[1], keys[2], keys[3]]


def test_record_security_event_refuses_what_it_cannot_list():
    class Session:  # record_security_event only adds to the caller's transaction
        added = []

        def add(self, row):
            self.added.append(row)
    s = Session()
    record_security_event(s, "CertificateSigned", charge_point_id="CP-1", severity="info", detail="serial 0A",
                          data={"serial": "0A"})
    [row] = s.added
    assert (row.type, row.severity, row.charge_point_id, row.data, row.recorded_at.tzinfo) == \
        ("CertificateSigned", "info", "CP-1", {"serial": "0A"}, timezone.utc)
    with pytest.raises(ValueError, match="1 to 50 characters"):
        record_security_event(s, "x" * 51)
    with pytest.raises(ValueError, match="severity must be one of"):
        record_security_event(s, "CertificateSigned", severity="fatal")
