"""Commands from the API to a station: the exact OCPP 1.6 call on the wire, the station's reply
in the HTTP answer and the history, and every way a command can fail.

Each test drives a real server: the API over HTTP, a raw station over WebSocket answering the
central system's CALLs by hand.
"""

import asyncio
import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import orjson
import pytest

from conftest import READY_BOUND_S
from ocpp_client import now, station

# --- helpers ---------------------------------------------------------------------------------


async def command(api: httpx.AsyncClient, cp_id: str, name: str, body: dict | None = None,
                  **params) -> httpx.Response:
    """POST a command; ``params`` become the query string (e.g. wait="false")."""
    return await api.post(f"/api/v1/charge-points/{cp_id}/commands/{name}", json=body, params=params)


def send(api, cp_id, name, body=None, **params) -> asyncio.Task:
    """Fire a command in the background, so that the test can play the station meanwhile."""
    return asyncio.create_task(command(api, cp_id, name, body, **params))


async def receive_call(st, http: asyncio.Task, timeout: float = READY_BOUND_S) -> list:
    """The next CALL the station receives; fails at once if the API answers before sending one."""
    call = asyncio.ensure_future(st.next_call(timeout))
    done, _ = await asyncio.wait({call, http}, return_when=asyncio.FIRST_COMPLETED)
    if call not in done:
        call.cancel()
        r = http.result()
        pytest.fail(f"the API answered {r.status_code} {r.text} before the station received a CALL")
    return call.result()


async def no_call(st, timeout: float = 0.5) -> None:
    """The station receives no CALL within ``timeout``."""
    with pytest.raises(TimeoutError):
        frame = await st.next_call(timeout)
        pytest.fail(f"the station received an unexpected CALL {frame}")


async def callerror(st, frame: list, code: str, description: str, details: dict | None = None) -> None:
    await st.ws.send(orjson.dumps([4, frame[1], code, description, details or {}]).decode())


async def history(api, cp_id: str, **params) -> dict:
    r = await api.get(f"/api/v1/charge-points/{cp_id}/commands", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def get_command(api, command_id: str) -> dict:
    r = await api.get(f"/api/v1/commands/{command_id}")
    assert r.status_code == 200, r.text
    return r.json()


def error_of(r: httpx.Response, status: int, code: str) -> dict:
    """The ``error`` object of a JSON error answer with this status and code."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    error = r.json()["error"]
    assert error["code"] == code, error
    assert error["message"], error
    return error


@asynccontextmanager
async def online(server):
    """A registered station, connected and booted; yields (charge point id, RawStation, API client)."""
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st, server.api() as api:
        await st.boot()
        yield cp, st, api


async def start_transaction(server, st, cp_id: str, api) -> tuple[int, int]:
    """Start a transaction from the station; (its transaction id, Wattson's session id)."""
    tag = await server.add_tag()
    started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": now()})
    r = await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})
    assert r.status_code == 200, r.text
    (session,) = r.json()["data"]
    assert session["transaction_id"] == str(started["transactionId"])
    return started["transactionId"], session["id"]


# --- 1. every command of the catalogue, as OCPP 1.6 ------------------------------------------

SCHEDULE_REPLY = {"status": "Accepted", "connectorId": 1, "scheduleStart": "2030-01-01T00:00:00.000Z",
                  "chargingSchedule": {"duration": 3600, "chargingRateUnit": "W",
                                       "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0},
                                                                  {"startPeriod": 1800, "limit": 3700.0}]}}
TX_PROFILE = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
              "chargingProfileKind": "Relative",
              "chargingSchedule": {"chargingRateUnit": "A",
                                   "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}]}}

# (command, request body, OCPP action, exact OCPP payload, station's reply, status in the record)
CASES = [
    pytest.param("remote-start", {"id_tag": "T1", "evse": 2}, "RemoteStartTransaction",
                 {"idTag": "T1", "connectorId": 2}, {"status": "Accepted"}, "Accepted", id="remote-start"),
    pytest.param("remote-start", {"id_tag": "T2", "charging_profile": TX_PROFILE}, "RemoteStartTransaction",
                 {"idTag": "T2", "chargingProfile": TX_PROFILE}, {"status": "Rejected"}, "Rejected",
                 id="remote-start-profile-any-evse"),
    pytest.param("remote-stop", {"transaction_id": "42"}, "RemoteStopTransaction", {"transactionId": 42},
                 {"status": "Rejected"}, "Rejected", id="remote-stop-by-transaction"),
    pytest.param("reset", {"type": "hard"}, "Reset", {"type": "Hard"}, {"status": "Accepted"}, "Accepted",
                 id="reset-hard"),
    pytest.param("reset", {}, "Reset", {"type": "Soft"}, {"status": "Rejected"}, "Rejected", id="reset-default"),
    pytest.param("unlock", {"evse": 2}, "UnlockConnector", {"connectorId": 2}, {"status": "Unlocked"},
                 "Unlocked", id="unlock"),
    pytest.param("change-availability", {"evse": 0, "operative": False}, "ChangeAvailability",
                 {"connectorId": 0, "type": "Inoperative"}, {"status": "Scheduled"}, "Scheduled",
                 id="change-availability-station"),
    pytest.param("change-availability", {"evse": 3, "operative": True}, "ChangeAvailability",
                 {"connectorId": 3, "type": "Operative"}, {"status": "Accepted"}, "Accepted",
                 id="change-availability-evse"),
    pytest.param("get-configuration", {"keys": ["HeartbeatInterval", "NoSuchKey"]}, "GetConfiguration",
                 {"key": ["HeartbeatInterval", "NoSuchKey"]},
                 {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "120"}],
                  "unknownKey": ["NoSuchKey"]}, None, id="get-configuration-keys"),
    pytest.param("get-configuration", {}, "GetConfiguration", {},
                 {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "120"},
                                       {"key": "NumberOfConnectors", "readonly": True, "value": "2"}]},
                 None, id="get-configuration-all"),
    pytest.param("change-configuration", {"key": "HeartbeatInterval", "value": "300"}, "ChangeConfiguration",
                 {"key": "HeartbeatInterval", "value": "300"}, {"status": "RebootRequired"}, "RebootRequired",
                 id="change-configuration"),
    pytest.param("clear-cache", {}, "ClearCache", {}, {"status": "Accepted"}, "Accepted", id="clear-cache"),
    pytest.param("trigger-message", {"message": "StatusNotification", "evse": 1}, "TriggerMessage",
                 {"requestedMessage": "StatusNotification", "connectorId": 1}, {"status": "Accepted"}, "Accepted",
                 id="trigger-message"),
    pytest.param("trigger-message", {"message": "Heartbeat"}, "TriggerMessage", {"requestedMessage": "Heartbeat"},
                 {"status": "NotImplemented"}, "NotImplemented", id="trigger-message-station"),
    pytest.param("data-transfer", {"vendor_id": "com.acme", "message_id": "ping", "data": "{\"n\":1}"},
                 "DataTransfer", {"vendorId": "com.acme", "messageId": "ping", "data": "{\"n\":1}"},
                 {"status": "Accepted", "data": "pong"}, "Accepted", id="data-transfer"),
    pytest.param("reserve-now", {"evse": 1, "id_tag": "T3", "expires_at": "2030-05-01T12:00:00+02:00",
                                 "reservation_id": 77, "parent_id_tag": "FLEET"}, "ReserveNow",
                 {"connectorId": 1, "expiryDate": "2030-05-01T10:00:00.000Z", "idTag": "T3", "reservationId": 77,
                  "parentIdTag": "FLEET"}, {"status": "Occupied"}, "Occupied", id="reserve-now"),
    pytest.param("cancel-reservation", {"reservation_id": 77}, "CancelReservation", {"reservationId": 77},
                 {"status": "Rejected"}, "Rejected", id="cancel-reservation"),
    pytest.param("send-local-list",
                 {"version": 3, "update_type": "full", "entries": [
                     {"id_tag": "A", "status": "Accepted", "expires_at": "2030-06-01T00:00:00Z",
                      "parent_id_tag": "P"},
                     {"id_tag": "B", "status": "Blocked"}]},
                 "SendLocalList",
                 {"listVersion": 3, "updateType": "Full", "localAuthorizationList": [
                     {"idTag": "A", "idTagInfo": {"status": "Accepted", "expiryDate": "2030-06-01T00:00:00.000Z",
                                                  "parentIdTag": "P"}},
                     {"idTag": "B", "idTagInfo": {"status": "Blocked"}}]},
                 {"status": "Accepted"}, "Accepted", id="send-local-list-full"),
    pytest.param("send-local-list",
                 {"version": 5, "entries": [{"id_tag": "C", "expires_at": "2030-06-01T00:00:00Z",
                                             "parent_id_tag": "P"}]},
                 "SendLocalList",
                 {"listVersion": 5, "updateType": "Full", "localAuthorizationList": [
                     {"idTag": "C", "idTagInfo": {"status": "Accepted", "expiryDate": "2030-06-01T00:00:00.000Z",
                                                  "parentIdTag": "P"}}]},
                 {"status": "Accepted"}, "Accepted", id="send-local-list-full-default-status"),
    pytest.param("send-local-list",
                 {"version": 4, "update_type": "differential", "entries": [
                     {"id_tag": "A"}, {"id_tag": "D", "status": "Accepted"}]},
                 "SendLocalList",
                 {"listVersion": 4, "updateType": "Differential", "localAuthorizationList": [
                     {"idTag": "A"}, {"idTag": "D", "idTagInfo": {"status": "Accepted"}}]},
                 {"status": "VersionMismatch"}, "VersionMismatch", id="send-local-list-differential"),
    pytest.param("get-local-list-version", {}, "GetLocalListVersion", {}, {"listVersion": 4}, None,
                 id="get-local-list-version"),
    pytest.param("set-charging-profile",
                 {"evse": 1, "profile": {
                     "id": 7, "stack_level": 2, "purpose": "TxDefaultProfile", "kind": "Recurring",
                     "recurrency": "Daily", "valid_from": "2030-01-01T00:00:00Z",
                     "valid_to": "2030-12-31T23:59:59.5+01:00",
                     "schedule": {"charging_rate_unit": "A", "duration": 86400,
                                  "start_schedule": "2030-01-01T06:00:00Z", "min_charging_rate": 6.0,
                                  "periods": [{"start_period": 0, "limit": 16, "number_phases": 3},
                                              {"start_period": 3600, "limit": 11.5}]}}},
                 "SetChargingProfile",
                 {"connectorId": 1, "csChargingProfiles": {
                     "chargingProfileId": 7, "stackLevel": 2, "chargingProfilePurpose": "TxDefaultProfile",
                     "chargingProfileKind": "Recurring", "recurrencyKind": "Daily",
                     "validFrom": "2030-01-01T00:00:00.000Z", "validTo": "2030-12-31T22:59:59.500Z",
                     "chargingSchedule": {"duration": 86400, "startSchedule": "2030-01-01T06:00:00.000Z",
                                          "chargingRateUnit": "A", "minChargingRate": 6.0,
                                          "chargingSchedulePeriod": [
                                              {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                                              {"startPeriod": 3600, "limit": 11.5}]}}},
                 {"status": "Accepted"}, "Accepted", id="set-charging-profile"),
    pytest.param("set-charging-profile",
                 {"evse": 1, "profile": {"id": 8, "purpose": "TxProfile", "transaction_id": "42",
                                         "schedule": {"charging_rate_unit": "W",
                                                      "periods": [{"start_period": 0, "limit": 7400}]}}},
                 "SetChargingProfile",
                 {"connectorId": 1, "csChargingProfiles": {
                     "chargingProfileId": 8, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
                     "chargingProfileKind": "Absolute", "transactionId": 42,
                     "chargingSchedule": {"chargingRateUnit": "W",
                                          "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}]}}},
                 {"status": "Rejected"}, "Rejected", id="set-charging-profile-tx"),
    pytest.param("clear-charging-profile", {"id": 7, "evse": 1, "purpose": "TxDefaultProfile", "stack_level": 2},
                 "ClearChargingProfile",
                 {"id": 7, "connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 2},
                 {"status": "Unknown"}, "Unknown", id="clear-charging-profile"),
    pytest.param("clear-charging-profile", {}, "ClearChargingProfile", {}, {"status": "Accepted"}, "Accepted",
                 id="clear-charging-profile-all"),
    pytest.param("get-composite-schedule", {"evse": 1, "duration": 3600, "charging_rate_unit": "W"},
                 "GetCompositeSchedule", {"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"},
                 SCHEDULE_REPLY, "Accepted", id="get-composite-schedule"),
    pytest.param("get-diagnostics",
                 {"location": "ftp://diag.example/upload", "retries": 2, "retry_interval": 30,
                  "start_time": "2030-01-01T00:00:00Z", "stop_time": "2030-01-02T01:30:00+01:00"},
                 "GetDiagnostics",
                 {"location": "ftp://diag.example/upload", "retries": 2, "retryInterval": 30,
                  "startTime": "2030-01-01T00:00:00.000Z", "stopTime": "2030-01-02T00:30:00.000Z"},
                 {"fileName": "diag-0001.zip"}, None, id="get-diagnostics"),
    pytest.param("update-firmware",
                 {"location": "https://fw.example/1.2.bin", "retrieve_at": "2030-02-01T03:00:00Z", "retries": 1,
                  "retry_interval": 60},
                 "UpdateFirmware",
                 {"location": "https://fw.example/1.2.bin", "retrieveDate": "2030-02-01T03:00:00.000Z",
                  "retries": 1, "retryInterval": 60},
                 {}, None, id="update-firmware"),
    # the OCPP 1.6 security extension
    pytest.param("update-firmware",
                 {"location": "https://fw.example/1.3.bin", "retrieve_at": "2030-02-01T03:00:00Z",
                  "install_at": "2030-02-01T04:00:00Z", "signing_certificate": "PEM", "signature": "c2ln",
                  "request_id": 8},
                 "SignedUpdateFirmware",
                 {"requestId": 8, "firmware": {"location": "https://fw.example/1.3.bin",
                                               "retrieveDateTime": "2030-02-01T03:00:00.000Z",
                                               "installDateTime": "2030-02-01T04:00:00.000Z",
                                               "signingCertificate": "PEM", "signature": "c2ln"}},
                 {"status": "InvalidCertificate"}, "InvalidCertificate", id="update-firmware-signed"),
    pytest.param("trigger-message", {"message": "SignChargingStationCertificate"}, "ExtendedTriggerMessage",
                 {"requestedMessage": "SignChargePointCertificate"}, {"status": "Accepted"}, "Accepted",
                 id="trigger-message-extended"),
    pytest.param("get-log", {"log_type": "security", "location": "https://logs.example/up", "request_id": 4,
                             "retries": 1},
                 "GetLog", {"logType": "SecurityLog", "requestId": 4, "retries": 1,
                            "log": {"remoteLocation": "https://logs.example/up"}},
                 {"status": "Accepted", "filename": "security.log"}, "Accepted", id="get-log"),
    pytest.param("install-certificate", {"certificate_type": "CSMSRootCertificate", "certificate": "PEM"},
                 "InstallCertificate", {"certificateType": "CentralSystemRootCertificate", "certificate": "PEM"},
                 {"status": "Rejected"}, "Rejected", id="install-certificate"),
    pytest.param("get-installed-certificate-ids", {"certificate_types": ["ManufacturerRootCertificate"]},
                 "GetInstalledCertificateIds", {"certificateType": "ManufacturerRootCertificate"},
                 {"status": "NotFound"}, "NotFound", id="get-installed-certificate-ids"),
    pytest.param("delete-certificate", {"issuer_name_hash": "aa", "issuer_key_hash": "bb", "serial_number": "01"},
                 "DeleteCertificate", {"certificateHashData": {"hashAlgorithm": "SHA256", "issuerNameHash": "aa",
                                                               "issuerKeyHash": "bb", "serialNumber": "01"}},
                 {"status": "Accepted"}, "Accepted", id="delete-certificate"),
    pytest.param("certificate-signed", {"certificate_chain": "PEM-CHAIN"}, "CertificateSigned",
                 {"certificateChain": "PEM-CHAIN"}, {"status": "Accepted"}, "Accepted", id="certificate-signed"),
]

#: OCPP 2.x commands 1.6 has no equivalent for, even with its security extension
NOT_IN_OCPP16 = {"get-variables": {"variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}]},
                 "set-variables": {"variables": [{"component": "C", "variable": "V", "value": "1"}]},
                 "get-base-report": {}, "get-report": {}, "get-charging-profiles": {},
                 "get-transaction-status": {}, "cost-updated": {"transaction_id": "7", "total_cost": "1.50"},
                 "set-network-profile": {"configuration_slot": 1, "csms_url": "wss://c.example/ocpp",
                                         "security_profile": 1},
                 "customer-information": {"customer_identifier": "C-1"}}


def test_the_table_covers_the_whole_catalogue():
    from wattson.stations.commands import CATALOGUE

    assert {case.values[0] for case in CASES} | set(NOT_IN_OCPP16) == set(CATALOGUE)
    assert len(CATALOGUE) == 33


@pytest.mark.parametrize("name, body, action, payload, reply, status", CASES)
async def test_command_is_sent_as_ocpp_call_and_answered(server, name, body, action, payload, reply, status):
    async with online(server) as (cp, st, api):
        http = send(api, cp, name, body)
        frame = await receive_call(st, http)
        assert frame[0] == 2 and isinstance(frame[1], str) and frame[1]
        assert frame[2:] == [action, payload]
        await st.answer(frame, reply)
        r = await http
        assert r.status_code == 200, r.text
        record = r.json()
        assert (record["name"], record["charge_point_id"], record["state"]) == (name, cp, "completed")
        assert (record["action"], record["request"], record["response"]) == (action, payload, reply)
        assert record["status"] == status
        assert record["error_code"] is None and record["error_description"] is None
        assert record["created_at"] and record["completed_at"]
        await no_call(st, 0.2)  # exactly one CALL per command


async def test_reserve_now_generates_a_reservation_id(server):
    async with online(server) as (cp, st, api):
        http = send(api, cp, "reserve-now", {"id_tag": "T9", "expires_at": "2030-05-01T10:00:00Z"})
        frame = await receive_call(st, http)
        assert frame[2] == "ReserveNow"
        reservation_id = frame[3].pop("reservationId")
        assert type(reservation_id) is int and 0 <= reservation_id < 2**31
        assert frame[3] == {"connectorId": 0, "expiryDate": "2030-05-01T10:00:00.000Z", "idTag": "T9"}
        await st.answer(frame, {"status": "Accepted"})
        r = await http
        assert r.status_code == 200, r.text
        record = r.json()
        assert record["status"] == "Accepted"
        # The generated id is recorded, so the reservation can be cancelled later.
        assert record["params"]["reservation_id"] == reservation_id
        assert record["request"]["reservationId"] == reservation_id


# --- 2. remote-stop by session ---------------------------------------------------------------


async def test_remote_stop_by_session_id(server):
    async with online(server) as (cp, st, api):
        transaction_id, session_id = await start_transaction(server, st, cp, api)
        http = send(api, cp, "remote-stop", {"session_id": session_id})
        frame = await receive_call(st, http)
        assert frame[2:] == ["RemoteStopTransaction", {"transactionId": transaction_id}]
        assert type(frame[3]["transactionId"]) is int
        await st.answer(frame, {"status": "Accepted"})
        r = await http
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["status"]) == ("completed", "Accepted")


async def test_remote_stop_by_transaction_id_of_a_live_session(server):
    async with online(server) as (cp, st, api):
        transaction_id, _ = await start_transaction(server, st, cp, api)
        http = send(api, cp, "remote-stop", {"transaction_id": str(transaction_id)})
        frame = await receive_call(st, http)
        assert frame[2:] == ["RemoteStopTransaction", {"transactionId": transaction_id}]
        await st.answer(frame, {"status": "Accepted"})
        assert (await http).status_code == 200


@pytest.mark.parametrize("body", [{}, {"session_id": 1, "transaction_id": "1"}], ids=["neither", "both"])
async def test_remote_stop_needs_exactly_one_of_session_or_transaction(server, body):
    async with online(server) as (cp, st, api):
        r = await command(api, cp, "remote-stop", body)
        error = error_of(r, 422, "validation_error")
        assert "session_id" in str(error["details"]) and "transaction_id" in str(error["details"])
        await no_call(st, 0.3)


async def test_remote_stop_of_another_stations_session_is_refused(server):
    async with online(server) as (cp_a, st_a, api):
        _, session_id = await start_transaction(server, st_a, cp_a, api)
        async with online(server) as (cp_b, st_b, api_b):
            r = await command(api_b, cp_b, "remote-stop", {"session_id": session_id})
            error_of(r, 422, "validation_error")
            await no_call(st_b, 0.3)
        await no_call(st_a, 0.1)


async def test_commands_that_ocpp16_cannot_express_are_refused(server):
    async with online(server) as (cp, st, api):
        r = await command(api, cp, "remote-stop", {"transaction_id": "not-a-number"})
        error_of(r, 422, "command_not_supported")
        r = await command(api, cp, "unlock", {"evse": 1, "connector": 2})
        error_of(r, 422, "command_not_supported")
        for name, body in NOT_IN_OCPP16.items():
            error = error_of(await command(api, cp, name, body), 422, "command_not_supported")
            assert "OCPP 1.6" in error["message"], error
        await no_call(st, 0.3)


# --- 3. the station's replies are recorded ---------------------------------------------------


async def test_history_and_lookup_show_the_stations_replies(server):
    sent = [("reset", {"type": "hard"}, {"status": "Rejected"}),
            ("get-local-list-version", None, {"listVersion": 12}),
            ("data-transfer", {"vendor_id": "com.acme", "data": "x"}, {"status": "UnknownVendorId"})]
    records = []
    async with online(server) as (cp, st, api):
        for name, body, reply in sent:
            http = send(api, cp, name, body)
            await st.answer(await receive_call(st, http), reply)
            r = await http
            assert r.status_code == 200, r.text
            records.append(r.json())

        page = await history(api, cp)
        assert page["next_cursor"] is None
        listed = page["data"]
        assert [c["name"] for c in listed] == ["data-transfer", "get-local-list-version", "reset"]
        assert [c["response"] for c in listed] == [reply for *_, reply in reversed(sent)]
        assert [c["status"] for c in listed] == ["UnknownVendorId", None, "Rejected"]
        assert [c["params"] for c in listed] == [{"vendor_id": "com.acme", "data": "x"}, {}, {"type": "hard"}]
        assert all(c["state"] == "completed" and c["completed_at"] for c in listed)
        assert [c["id"] for c in listed] == [c["id"] for c in reversed(records)]
        for record in records:
            stored = await get_command(api, record["id"])
            assert stored == record
            assert stored == next(c for c in listed if c["id"] == record["id"])

        # Pagination walks the same list.
        first = await history(api, cp, limit=2)
        assert [c["id"] for c in first["data"]] == [c["id"] for c in listed[:2]] and first["next_cursor"]
        rest = await history(api, cp, limit=2, cursor=first["next_cursor"])
        assert [c["id"] for c in rest["data"]] == [listed[2]["id"]] and rest["next_cursor"] is None

        # Another station's history is its own.
        other = await server.add_station()
        assert (await history(api, other))["data"] == []
        r = await api.get("/api/v1/commands/no-such-command")
        error_of(r, 404, "not_found")


# --- 4. timeouts, and late replies -----------------------------------------------------------


async def test_timeout_then_a_late_reply_is_not_taken_for_the_next_command(sqlite_server):
    async with online(sqlite_server) as (cp, st, api):
        http = send(api, cp, "reset", {"type": "soft"})
        late = await receive_call(st, http)  # ... and never answered in time
        r = await http
        error = error_of(r, 504, "station_timeout")
        timed_out = error["details"]
        assert (timed_out["state"], timed_out["action"], timed_out["name"]) == ("timeout", "Reset", "reset")
        assert timed_out["response"] is None and timed_out["status"] is None
        assert (await history(api, cp))["data"][0]["state"] == "timeout"
        stored = await get_command(api, timed_out["id"])
        assert stored["state"] == "timeout"
        # It waited out command_timeout (2 s) by the server's own record, not less (more on a busy machine).
        waited = datetime.fromisoformat(stored["completed_at"]) - datetime.fromisoformat(stored["created_at"])
        assert waited >= timedelta(seconds=1.9), stored

        # The same action again; the station now answers the old call first, then the new one.
        http = send(api, cp, "reset", {"type": "soft"})
        frame = await receive_call(st, http)
        assert frame[1] != late[1]
        await st.answer(late, {"status": "Accepted"})
        await st.answer(frame, {"status": "Rejected"})
        r = await http
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["status"], r.json()["response"]) == \
            ("completed", "Rejected", {"status": "Rejected"})

        first, second = (await history(api, cp))["data"][1], (await history(api, cp))["data"][0]
        assert first["id"] == timed_out["id"] and (first["state"], first["response"]) == ("timeout", None)
        assert second["status"] == "Rejected"


# --- 5. one outstanding call at a time -------------------------------------------------------


async def test_one_outstanding_call_at_a_time(server):
    async with online(server) as (cp, st, api):
        a = send(api, cp, "change-configuration", {"key": "KeyA", "value": "1"})
        b = send(api, cp, "change-configuration", {"key": "KeyB", "value": "2"})
        first = await receive_call(st, a)
        await no_call(st, 0.5)  # the second waits until the first is answered
        await st.answer(first, {"status": "Accepted"})
        second = await st.next_call()
        assert {first[3]["key"], second[3]["key"]} == {"KeyA", "KeyB"} and first[1] != second[1]
        await st.answer(second, {"status": "Rejected"})
        ra, rb = await a, await b
        assert ra.status_code == rb.status_code == 200, (ra.text, rb.text)
        expected = {first[3]["key"]: "Accepted", second[3]["key"]: "Rejected"}
        assert ra.json()["status"] == expected["KeyA"] and ra.json()["request"]["key"] == "KeyA"
        assert rb.json()["status"] == expected["KeyB"] and rb.json()["request"]["key"] == "KeyB"


# --- 6, 7. the station refuses, or answers nonsense ------------------------------------------


async def test_callerror_reply_fails_the_command(server):
    async with online(server) as (cp, st, api):
        http = send(api, cp, "get-diagnostics", {"location": "ftp://diag.example/"})
        frame = await receive_call(st, http)
        await callerror(st, frame, "NotSupported", "nope")
        error = error_of(await http, 502, "station_error")
        assert "NotSupported" in error["message"]
        details = error["details"]
        assert (details["state"], details["error_code"], details["error_description"]) == \
            ("failed", "NotSupported", "nope")
        assert details["response"] is None and details["status"] is None
        stored = await get_command(api, details["id"])
        assert (stored["state"], stored["error_code"], stored["error_description"]) == \
            ("failed", "NotSupported", "nope")


async def test_unreadable_reply_fails_the_command_at_once_and_is_not_answered(server):
    async with online(server) as (cp, st, api):
        http = send(api, cp, "reset")
        frame = await receive_call(st, http)
        await st.ws.send(orjson.dumps([3, frame[1], "Accepted"]).decode())  # payload must be an object
        error = error_of(await http, 502, "station_error")  # at once: not 504 after the timeout
        assert error["details"]["error_code"] == "FormatViolation"
        assert "unreadable reply" in error["details"]["error_description"]
        assert st.replies.empty() and st.calls.empty()  # OCPP-J answers calls only, never replies
        assert (await st.ok("Heartbeat", {}))["currentTime"]


@pytest.mark.parametrize("name, body, reply", [
    ("reset", {"type": "hard"}, {"status": "Maybe"}),
    ("reset", {"type": "hard"}, {}),
    ("get-configuration", {}, {"configurationKey": "HeartbeatInterval=120"}),
    ("clear-cache", {}, {"status": "Accepted", "extra": True}),
], ids=["bad-enum", "missing-status", "wrong-type", "extra-field"])
async def test_reply_breaking_the_schema_fails_the_command(server, name, body, reply):
    async with online(server) as (cp, st, api):
        http = send(api, cp, name, body)
        frame = await receive_call(st, http)
        await st.answer(frame, reply)
        error = error_of(await http, 502, "station_error")
        details = error["details"]
        assert details["state"] == "failed" and details["status"] is None
        assert details["error_code"] and "schema" in details["error_description"], details
        assert details["response"] == reply  # kept for diagnosis
        assert (await get_command(api, details["id"]))["state"] == "failed"


# --- 8. refusals before anything is sent -----------------------------------------------------


async def test_station_never_connected_is_offline(server):
    cp = await server.add_station()
    async with server.api() as api:
        error_of(await command(api, cp, "reset", {"type": "soft"}), 409, "station_offline")  # not 504: no wait
        error_of(await command(api, cp, "clear-cache", None, wait="false"), 409, "station_offline")


async def test_station_that_disconnected_is_offline(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot()
    async with server.api() as api:
        deadline = time.monotonic() + READY_BOUND_S
        while (await api.get(f"/api/v1/charge-points/{cp}")).json()["network_status"] != "offline":
            assert time.monotonic() < deadline, "the server did not notice the disconnection"
            await asyncio.sleep(0.05)
        error_of(await command(api, cp, "reset", {"type": "soft"}), 409, "station_offline")  # not 504: no wait


async def test_unknown_charge_point_and_unknown_command_are_404(server):
    async with online(server) as (cp, st, api):
        error_of(await command(api, "CP-does-not-exist", "reset", {"type": "soft"}), 404, "not_found")
        error_of(await command(api, cp, "self-destruct", {}), 404, "not_found")
        error_of(await command(api, cp, "Reset", {}), 404, "not_found")
        await no_call(st, 0.3)


@pytest.mark.parametrize("name, body, field", [
    ("remote-start", {}, "id_tag"),
    ("remote-start", {"id_tag": ""}, "id_tag"),
    ("remote-start", {"id_tag": "X" * 37}, "id_tag"),
    ("remote-start", {"id_tag": "T", "evse": -1}, "evse"),
    ("remote-start", {"id_tag": "T", "evse": "two"}, "evse"),
    ("remote-start", {"id_tag": "T", "colour": "red"}, "colour"),
    ("reset", {"type": "warm"}, "type"),
    ("change-availability", {"evse": 1}, "operative"),
    ("trigger-message", {"message": "StartTransaction"}, "message"),
    ("reserve-now", {"id_tag": "T", "expires_at": "tomorrow"}, "expires_at"),
    ("send-local-list", {"version": 1, "entries": [{"id_tag": "A", "status": "Maybe"}]}, "status"),
    ("send-local-list", {"version": 1, "update_type": "differential",
                         "entries": [{"id_tag": "A", "parent_id_tag": "P"}]}, "body"),
    ("set-charging-profile", {"profile": {"id": 1, "purpose": "TxProfile",
                                          "schedule": {"charging_rate_unit": "A", "periods": []}}}, "periods"),
    ("get-composite-schedule", {"duration": 0}, "duration"),
    ("clear-cache", {"now": True}, "now"),
])
async def test_invalid_params_are_422_naming_the_field(server, name, body, field):
    async with online(server) as (cp, st, api):
        error = error_of(await command(api, cp, name, body), 422, "validation_error")
        fields = [d["field"] for d in error["details"]]
        assert any(f == field or f.endswith("." + field) for f in fields), error
        await no_call(st, 0.2)


async def test_a_body_that_is_not_an_object_is_422(server):
    async with online(server) as (cp, st, api):
        r = await api.post(f"/api/v1/charge-points/{cp}/commands/reset", content=b"[1, 2]",
                           headers={"content-type": "application/json"})
        error_of(r, 422, "validation_error")
        r = await api.post(f"/api/v1/charge-points/{cp}/commands/reset", content=b"{not json",
                           headers={"content-type": "application/json"})
        error_of(r, 422, "validation_error")
        await no_call(st, 0.2)


async def test_viewer_cannot_send_commands_but_can_read_them(server):
    async with online(server) as (cp, st, api):
        created = await api.post("/api/v1/api-keys", json={"name": "v", "role": "viewer"})
        assert created.status_code == 201, created.text
        operator = await api.post("/api/v1/api-keys", json={"name": "o", "role": "operator"})
        assert operator.status_code == 201, operator.text
        async with server.api(created.json()["key"]) as viewer:
            error_of(await command(viewer, cp, "reset", {"type": "hard"}), 403, "forbidden")
            await no_call(st, 0.3)
            assert (await history(viewer, cp))["data"] == []
        async with server.api(operator.json()["key"]) as op:
            http = send(op, cp, "clear-cache", {})
            await st.answer(await receive_call(st, http), {"status": "Accepted"})
            assert (await http).status_code == 200
        async with httpx.AsyncClient(base_url=server.http_url) as anon:
            error_of(await command(anon, cp, "reset", {}), 401, "unauthorized")


# --- 9. wait=false ---------------------------------------------------------------------------


async def test_wait_false_answers_202_and_the_command_completes_later(server):
    async with online(server) as (cp, st, api):
        r = await command(api, cp, "change-configuration", {"key": "MeterValueSampleInterval", "value": "60"},
                          wait="false")
        assert r.status_code == 202, r.text
        pending = r.json()
        assert (pending["state"], pending["response"], pending["completed_at"]) == ("pending", None, None)
        assert pending["request"] == {"key": "MeterValueSampleInterval", "value": "60"}
        frame = await st.next_call()
        assert frame[2:] == ["ChangeConfiguration", pending["request"]]
        assert (await get_command(api, pending["id"]))["state"] == "pending"  # not answered yet
        await st.answer(frame, {"status": "Accepted"})

        deadline = time.monotonic() + READY_BOUND_S
        while (record := await get_command(api, pending["id"]))["state"] == "pending":
            assert time.monotonic() < deadline, "the command stayed pending after the station answered"
            await asyncio.sleep(0.05)
        assert (record["state"], record["status"], record["response"]) == \
            ("completed", "Accepted", {"status": "Accepted"})
        assert record["completed_at"] and record["created_at"] == pending["created_at"]
        assert (await history(api, cp))["data"][0] == record


# --- 10. the station goes away mid-command ---------------------------------------------------


async def test_disconnect_fails_the_waiting_command_promptly(server):
    async with online(server) as (cp, st, api):
        http = send(api, cp, "reset", {"type": "hard"})
        frame = await receive_call(st, http)
        assert frame[2] == "Reset"
        await st.close()
        details = error_of(await http, 502, "station_error")["details"]  # failed, not 504 after the timeout
        assert (details["state"], details["error_code"]) == ("failed", "ConnectionClosed"), details
        assert (await get_command(api, details["id"]))["state"] == "failed"


async def test_disconnect_fails_queued_commands_promptly(server):
    async with online(server) as (cp, st, api):
        first = send(api, cp, "reset", {"type": "hard"})
        await receive_call(st, first)
        queued = send(api, cp, "clear-cache", {})
        await no_call(st, 0.3)  # the second waits behind the first
        await st.close()
        r1, r2 = await first, await queued
        assert error_of(r1, 502, "station_error")["details"]["state"] == "failed"
        assert r2.status_code in (409, 502), r2.text  # offline by now, or failed: never a timeout
