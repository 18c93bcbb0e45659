"""Commands to OCPP 2.0.1 and 2.1 stations through the version-neutral API: the exact 2.x call
on the wire, the station's reply in the HTTP answer, and what a version cannot express.

Each test drives a real server: the API over HTTP, a raw 2.x station over WebSocket answering
the central system's CALLs by hand.
"""

import asyncio
import base64
import uuid
from contextlib import asynccontextmanager

import pytest
import websockets

from conftest import READY_BOUND_S
from ocpp_client import RawStation, now, station
from test_commands import command, error_of, no_call, receive_call, send

BOOT = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HASH = {"hashAlgorithm": "SHA256", "issuerNameHash": "aa11", "issuerKeyHash": "bb22", "serialNumber": "0c"}
NEUTRAL_HASH = {"issuer_name_hash": "aa11", "issuer_key_hash": "bb22", "serial_number": "0c"}
TX_PROFILE = {"id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
              "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}]}]}


@asynccontextmanager
async def online(server, subprotocol: str = "ocpp2.0.1"):
    """A registered 2.x station, connected and booted; yields (charge point id, RawStation, API client)."""
    cp = await server.add_station()
    async with station(server.ws_url, cp, subprotocols=(subprotocol,)) as st, server.api() as api:
        assert st.ws.subprotocol == subprotocol
        assert (await st.ok("BootNotification", BOOT))["status"] == "Accepted"
        yield cp, st, api


async def round_trip(st, api, cp: str, name: str, body: dict | None, reply: dict) -> tuple[list, dict]:
    """Post a command, answer its CALL with ``reply``; (the CALL frame, the completed record)."""
    http = send(api, cp, name, body)
    frame = await receive_call(st, http)
    await st.answer(frame, reply)
    r = await http
    assert r.status_code == 200, r.text
    record = r.json()
    assert (record["name"], record["state"], record["response"]) == (name, "completed", reply)
    assert (record["action"], record["request"]) == (frame[2], frame[3])
    return frame, record


# --- 1. every command, as OCPP 2.0.1 -------------------------------------------------------------

# (command, request body, OCPP action, exact OCPP payload, station's reply, status in the record)
CASES = [
    pytest.param("remote-start", {"id_tag": "T1", "evse": 1, "remote_start_id": 7, "id_token_type": "eMAID"},
                 "RequestStartTransaction",
                 {"idToken": {"idToken": "T1", "type": "eMAID"}, "remoteStartId": 7, "evseId": 1},
                 {"status": "Accepted", "transactionId": "tx-1"}, "Accepted", id="remote-start"),
    pytest.param("remote-start", {"id_tag": "T2", "remote_start_id": 8, "charging_profile": TX_PROFILE},
                 "RequestStartTransaction",
                 {"idToken": {"idToken": "T2", "type": "ISO14443"}, "remoteStartId": 8,
                  "chargingProfile": TX_PROFILE},
                 {"status": "Rejected"}, "Rejected", id="remote-start-profile"),
    pytest.param("remote-stop", {"transaction_id": "tx-1"}, "RequestStopTransaction", {"transactionId": "tx-1"},
                 {"status": "Accepted"}, "Accepted", id="remote-stop-by-transaction"),
    pytest.param("reset", {"type": "soft"}, "Reset", {"type": "OnIdle"}, {"status": "Scheduled"}, "Scheduled",
                 id="reset-soft"),
    pytest.param("reset", {"type": "hard", "evse": 2}, "Reset", {"type": "Immediate", "evseId": 2},
                 {"status": "Accepted"}, "Accepted", id="reset-hard-evse"),
    pytest.param("unlock", {"evse": 1, "connector": 2}, "UnlockConnector", {"evseId": 1, "connectorId": 2},
                 {"status": "Unlocked"}, "Unlocked", id="unlock"),
    pytest.param("change-availability", {"evse": 0, "operative": False}, "ChangeAvailability",
                 {"operationalStatus": "Inoperative"}, {"status": "Scheduled"}, "Scheduled",
                 id="change-availability-station"),
    pytest.param("change-availability", {"evse": 2, "connector": 1, "operative": True}, "ChangeAvailability",
                 {"operationalStatus": "Operative", "evse": {"id": 2, "connectorId": 1}}, {"status": "Accepted"},
                 "Accepted", id="change-availability-connector"),
    pytest.param("get-configuration", {"keys": ["HeartbeatInterval", "MeterValueSampleInterval"]}, "GetVariables",
                 {"getVariableData": [
                     {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                     {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}}]},
                 {"getVariableResult": [
                     {"attributeStatus": "Accepted", "attributeValue": "120",
                      "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                     {"attributeStatus": "UnknownVariable",
                      "component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}}]},
                 None, id="get-configuration"),
    pytest.param("change-configuration", {"key": "MeterValueSampleInterval", "value": "30"}, "SetVariables",
                 {"setVariableData": [{"component": {"name": "SampledDataCtrlr"},
                                       "variable": {"name": "TxUpdatedInterval"}, "attributeValue": "30"}]},
                 {"setVariableResult": [{"attributeStatus": "RebootRequired", "component": {"name": "SampledDataCtrlr"},
                                         "variable": {"name": "TxUpdatedInterval"}}]},
                 None, id="change-configuration"),
    pytest.param("get-variables", {"variables": [
                     {"component": "EVSE", "evse": 1, "variable": "Power", "attribute_type": "MaxSet"},
                     {"component": "OCPPCommCtrlr", "variable": "MessageTimeout", "variable_instance": "Default"}]},
                 "GetVariables",
                 {"getVariableData": [
                     {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"},
                      "attributeType": "MaxSet"},
                     {"component": {"name": "OCPPCommCtrlr"},
                      "variable": {"name": "MessageTimeout", "instance": "Default"}}]},
                 {"getVariableResult": [
                     {"attributeStatus": "Accepted", "attributeType": "MaxSet", "attributeValue": "22000",
                      "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}},
                     {"attributeStatus": "Accepted", "attributeValue": "30", "component": {"name": "OCPPCommCtrlr"},
                      "variable": {"name": "MessageTimeout", "instance": "Default"}}]},
                 None, id="get-variables"),
    pytest.param("set-variables", {"variables": [
                     {"component": "TxCtrlr", "variable": "EVConnectionTimeOut", "value": "60"},
                     {"component": "Connector", "component_instance": "left", "evse": 1, "connector": 2,
                      "variable": "Enabled", "value": "false", "attribute_type": "Target"}]},
                 "SetVariables",
                 {"setVariableData": [
                     {"component": {"name": "TxCtrlr"}, "variable": {"name": "EVConnectionTimeOut"},
                      "attributeValue": "60"},
                     {"component": {"name": "Connector", "instance": "left", "evse": {"id": 1, "connectorId": 2}},
                      "variable": {"name": "Enabled"}, "attributeType": "Target", "attributeValue": "false"}]},
                 {"setVariableResult": [
                     {"attributeStatus": "Accepted", "component": {"name": "TxCtrlr"},
                      "variable": {"name": "EVConnectionTimeOut"}},
                     {"attributeStatus": "Rejected", "attributeType": "Target",
                      "component": {"name": "Connector", "instance": "left", "evse": {"id": 1, "connectorId": 2}},
                      "variable": {"name": "Enabled"}}]},
                 None, id="set-variables"),
    pytest.param("get-base-report", {"report": "configuration", "request_id": 3}, "GetBaseReport",
                 {"requestId": 3, "reportBase": "ConfigurationInventory"}, {"status": "Accepted"}, "Accepted",
                 id="get-base-report"),
    pytest.param("get-report", {"variables": [{"component": "EVSE", "evse": 1}, {"component": "OCPPCommCtrlr",
                                                                                 "variable": "HeartbeatInterval"}],
                                "criteria": ["problem", "enabled"], "request_id": 4}, "GetReport",
                 {"requestId": 4, "componentVariable": [
                     {"component": {"name": "EVSE", "evse": {"id": 1}}},
                     {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}],
                  "componentCriteria": ["Problem", "Enabled"]},
                 {"status": "EmptyResultSet"}, "EmptyResultSet", id="get-report"),
    pytest.param("trigger-message", {"message": "DiagnosticsStatusNotification"}, "TriggerMessage",
                 {"requestedMessage": "LogStatusNotification"}, {"status": "Accepted"}, "Accepted",
                 id="trigger-message-renamed"),
    pytest.param("trigger-message", {"message": "StatusNotification", "evse": 1, "connector": 1}, "TriggerMessage",
                 {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}},
                 {"status": "Rejected"}, "Rejected", id="trigger-message-connector"),
    pytest.param("set-charging-profile",
                 {"evse": 0, "profile": {"id": 9, "stack_level": 1, "purpose": "ChargePointMaxProfile",
                                         "schedule": {"charging_rate_unit": "W", "duration": 3600,
                                                      "periods": [{"start_period": 0, "limit": 22000,
                                                                   "number_phases": 3}]}}},
                 "SetChargingProfile",
                 {"evseId": 0, "chargingProfile": {
                     "id": 9, "stackLevel": 1, "chargingProfilePurpose": "ChargingStationMaxProfile",
                     "chargingProfileKind": "Absolute",
                     "chargingSchedule": [{"id": 9, "duration": 3600, "chargingRateUnit": "W",
                                           "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 22000.0,
                                                                       "numberPhases": 3}]}]}},
                 {"status": "Accepted"}, "Accepted", id="set-charging-profile"),
    pytest.param("clear-charging-profile", {"evse": 1, "purpose": "TxDefaultProfile", "stack_level": 0},
                 "ClearChargingProfile",
                 {"chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile",
                                              "stackLevel": 0}},
                 {"status": "Unknown"}, "Unknown", id="clear-charging-profile"),
    pytest.param("get-composite-schedule", {"evse": 1, "duration": 3600, "charging_rate_unit": "W"},
                 "GetCompositeSchedule", {"evseId": 1, "duration": 3600, "chargingRateUnit": "W"},
                 {"status": "Accepted", "schedule": {
                     "evseId": 1, "duration": 3600, "scheduleStart": "2030-01-01T00:00:00.000Z",
                     "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}]}},
                 "Accepted", id="get-composite-schedule"),
    pytest.param("get-charging-profiles", {"evse": 1, "purpose": "TxProfile", "request_id": 5}, "GetChargingProfiles",
                 {"requestId": 5, "evseId": 1, "chargingProfile": {"chargingProfilePurpose": "TxProfile"}},
                 {"status": "NoProfiles"}, "NoProfiles", id="get-charging-profiles"),
    pytest.param("reserve-now", {"evse": 1, "id_tag": "R1", "expires_at": "2030-05-01T12:00:00+02:00",
                                 "reservation_id": 77, "parent_id_tag": "FLEET", "id_token_type": "ISO15693"},
                 "ReserveNow",
                 {"id": 77, "expiryDateTime": "2030-05-01T10:00:00.000Z",
                  "idToken": {"idToken": "R1", "type": "ISO15693"}, "evseId": 1,
                  "groupIdToken": {"idToken": "FLEET", "type": "Central"}},
                 {"status": "Occupied"}, "Occupied", id="reserve-now"),
    pytest.param("cancel-reservation", {"reservation_id": 77}, "CancelReservation", {"reservationId": 77},
                 {"status": "Rejected"}, "Rejected", id="cancel-reservation"),
    pytest.param("send-local-list",
                 {"version": 3, "update_type": "full", "entries": [
                     {"id_tag": "A", "status": "Accepted", "expires_at": "2030-06-01T00:00:00Z", "parent_id_tag": "P",
                      "id_token_type": "KeyCode"},
                     {"id_tag": "B", "status": "Blocked", "id_token_type": "ISO14443"}]},
                 "SendLocalList",
                 {"versionNumber": 3, "updateType": "Full", "localAuthorizationList": [
                     {"idToken": {"idToken": "A", "type": "KeyCode"},
                      "idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": "2030-06-01T00:00:00.000Z",
                                      "groupIdToken": {"idToken": "P", "type": "Central"}}},
                     {"idToken": {"idToken": "B", "type": "ISO14443"}, "idTokenInfo": {"status": "Blocked"}}]},
                 {"status": "VersionMismatch"}, "VersionMismatch", id="send-local-list"),
    pytest.param("send-local-list",
                 {"version": 4, "entries": [{"id_tag": "C", "expires_at": "2030-06-01T00:00:00Z",
                                             "parent_id_tag": "P"}]},
                 "SendLocalList",
                 {"versionNumber": 4, "updateType": "Full", "localAuthorizationList": [
                     {"idToken": {"idToken": "C", "type": "ISO14443"},
                      "idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": "2030-06-01T00:00:00.000Z",
                                      "groupIdToken": {"idToken": "P", "type": "Central"}}}]},
                 {"status": "Accepted"}, "Accepted", id="send-local-list-full-default-status"),
    pytest.param("get-local-list-version", {}, "GetLocalListVersion", {}, {"versionNumber": 3}, None,
                 id="get-local-list-version"),
    pytest.param("clear-cache", {}, "ClearCache", {}, {"status": "Accepted"}, "Accepted", id="clear-cache"),
    pytest.param("get-log", {"log_type": "security", "location": "https://logs.example/up", "request_id": 6,
                             "retries": 2, "retry_interval": 30, "start_time": "2030-01-01T00:00:00Z"},
                 "GetLog",
                 {"logType": "SecurityLog", "requestId": 6, "retries": 2, "retryInterval": 30,
                  "log": {"remoteLocation": "https://logs.example/up", "oldestTimestamp": "2030-01-01T00:00:00.000Z"}},
                 {"status": "Accepted", "filename": "security.log"}, "Accepted", id="get-log"),
    pytest.param("get-diagnostics", {"location": "ftp://diag.example/", "request_id": 7,
                                     "stop_time": "2030-01-02T00:00:00Z"},
                 "GetLog",
                 {"logType": "DiagnosticsLog", "requestId": 7,
                  "log": {"remoteLocation": "ftp://diag.example/", "latestTimestamp": "2030-01-02T00:00:00.000Z"}},
                 {"status": "Rejected"}, "Rejected", id="get-diagnostics"),
    pytest.param("update-firmware",
                 {"location": "https://fw.example/2.bin", "retrieve_at": "2030-02-01T03:00:00Z",
                  "install_at": "2030-02-01T04:00:00Z", "signing_certificate": CERT, "signature": "c2ln",
                  "retries": 1, "request_id": 8},
                 "UpdateFirmware",
                 {"requestId": 8, "retries": 1, "firmware": {
                     "location": "https://fw.example/2.bin", "retrieveDateTime": "2030-02-01T03:00:00.000Z",
                     "installDateTime": "2030-02-01T04:00:00.000Z", "signingCertificate": CERT, "signature": "c2ln"}},
                 {"status": "AcceptedCanceled"}, "AcceptedCanceled", id="update-firmware"),
    pytest.param("data-transfer", {"vendor_id": "com.acme", "message_id": "ping", "data": "hello"}, "DataTransfer",
                 {"vendorId": "com.acme", "messageId": "ping", "data": "hello"},
                 {"status": "Accepted", "data": {"pong": 1}}, "Accepted", id="data-transfer"),
    pytest.param("get-transaction-status", {"transaction_id": "tx-1"}, "GetTransactionStatus",
                 {"transactionId": "tx-1"}, {"ongoingIndicator": True, "messagesInQueue": False}, None,
                 id="get-transaction-status"),
    pytest.param("get-transaction-status", {}, "GetTransactionStatus", {}, {"messagesInQueue": True}, None,
                 id="get-transaction-status-queue"),
    pytest.param("cost-updated", {"transaction_id": "tx-1", "total_cost": "2.50"}, "CostUpdated",
                 {"totalCost": 2.5, "transactionId": "tx-1"}, {}, None, id="cost-updated"),
    pytest.param("set-network-profile",
                 {"configuration_slot": 2, "csms_url": "wss://csms.example/ocpp", "security_profile": 2,
                  "interface": "Wireless0", "apn": {"apn": "internet.example", "authentication": "PAP"}},
                 "SetNetworkProfile",
                 {"configurationSlot": 2, "connectionData": {
                     "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://csms.example/ocpp",
                     "messageTimeout": 30, "securityProfile": 2, "ocppInterface": "Wireless0",
                     "apn": {"apn": "internet.example", "apnAuthentication": "PAP"}}},
                 {"status": "Accepted"}, "Accepted", id="set-network-profile"),
    pytest.param("install-certificate", {"certificate_type": "V2GRootCertificate", "certificate": CERT},
                 "InstallCertificate", {"certificateType": "V2GRootCertificate", "certificate": CERT},
                 {"status": "Failed"}, "Failed", id="install-certificate"),
    pytest.param("get-installed-certificate-ids", {"certificate_types": ["CSMSRootCertificate", "V2GCertificateChain"]},
                 "GetInstalledCertificateIds", {"certificateType": ["CSMSRootCertificate", "V2GCertificateChain"]},
                 {"status": "Accepted", "certificateHashDataChain": [
                     {"certificateType": "CSMSRootCertificate", "certificateHashData": HASH}]},
                 "Accepted", id="get-installed-certificate-ids"),
    pytest.param("delete-certificate", {**NEUTRAL_HASH, "hash_algorithm": "SHA512"}, "DeleteCertificate",
                 {"certificateHashData": {**HASH, "hashAlgorithm": "SHA512"}}, {"status": "NotFound"}, "NotFound",
                 id="delete-certificate"),
    pytest.param("certificate-signed", {"certificate_chain": CERT, "certificate_type": "V2GCertificate"},
                 "CertificateSigned", {"certificateChain": CERT, "certificateType": "V2GCertificate"},
                 {"status": "Accepted"}, "Accepted", id="certificate-signed"),
    pytest.param("customer-information", {"customer_certificate": NEUTRAL_HASH, "report": True, "clear": True,
                                          "request_id": 9},
                 "CustomerInformation", {"requestId": 9, "report": True, "clear": True, "customerCertificate": HASH},
                 {"status": "Invalid"}, "Invalid", id="customer-information"),
    pytest.param("customer-information", {"customer_identifier": "C-42", "request_id": 10},
                 "CustomerInformation", {"requestId": 10, "report": True, "clear": False,
                                         "customerIdentifier": "C-42"},
                 {"status": "Accepted"}, "Accepted", id="customer-information-identifier"),
]


def test_every_command_is_exercised():
    from wattson.stations.commands import CATALOGUE

    assert {case.values[0] for case in CASES} == set(CATALOGUE)


async def check_case(server, subprotocol, name, body, action, payload, reply, status):
    async with online(server, subprotocol) as (cp, st, api):
        frame, record = await round_trip(st, api, cp, name, body, reply)
        assert frame[0] == 2 and frame[2:] == [action, payload]
        assert record["status"] == status and record["charge_point_id"] == cp
        assert record["error_code"] is None and record["completed_at"]
        await no_call(st, 0.2)  # exactly one CALL per command


@pytest.mark.parametrize("name, body, action, payload, reply, status", CASES)
async def test_command_is_sent_as_ocpp201_call_and_answered(sqlite_server, name, body, action, payload, reply,
                                                            status):
    await check_case(sqlite_server, "ocpp2.0.1", name, body, action, payload, reply, status)


SOME = [case for case in CASES if case.id in ("reset-hard-evse", "get-variables", "set-network-profile",
                                              "reserve-now", "customer-information")]


@pytest.mark.parametrize("name, body, action, payload, reply, status", SOME)
async def test_the_same_calls_go_to_ocpp21_stations(sqlite_server, name, body, action, payload, reply, status):
    await check_case(sqlite_server, "ocpp2.1", name, body, action, payload, reply, status)


@pytest.mark.parametrize("name, body, action, payload, reply, status",
                         [case for case in CASES if case.id in ("get-configuration", "send-local-list")])
async def test_commands_on_each_database(server, name, body, action, payload, reply, status):
    await check_case(server, "ocpp2.0.1", name, body, action, payload, reply, status)


# --- 2. what Wattson fills in -------------------------------------------------------------------


async def test_request_ids_are_generated_and_recorded(sqlite_server):
    async with online(sqlite_server) as (cp, st, api):
        for name, body, field, wire in [("get-base-report", {}, "request_id", "requestId"),
                                        ("remote-start", {"id_tag": "T"}, "remote_start_id", "remoteStartId"),
                                        ("get-log", {"location": "https://l.example/"}, "request_id", "requestId")]:
            frame, record = await round_trip(st, api, cp, name, body, {"status": "Accepted"})
            generated = frame[3][wire]
            assert type(generated) is int and 0 <= generated < 2**31
            assert record["params"][field] == generated, record["params"]
        assert frame[3]["logType"] == "DiagnosticsLog" and record["params"]["log_type"] == "diagnostics"


async def test_token_types_come_from_the_stored_token(server):
    emaid = await server.add_tag(type="eMAID")
    async with online(server, "ocpp2.1") as (cp, st, api):
        frame, record = await round_trip(st, api, cp, "remote-start", {"id_tag": emaid, "evse": 1},
                                         {"status": "Accepted"})
        assert frame[3]["idToken"] == {"idToken": emaid, "type": "eMAID"} and frame[3]["evseId"] == 1
        assert record["params"]["id_token_type"] == "eMAID"
        body = {"version": 1, "entries": [{"id_tag": emaid}, {"id_tag": "UNKNOWN-TAG"},
                                          {"id_tag": "GIVEN", "id_token_type": "Local"}]}
        frame, record = await round_trip(st, api, cp, "send-local-list", body, {"status": "Accepted"})
        assert [e["idToken"] for e in frame[3]["localAuthorizationList"]] == [
            {"idToken": emaid, "type": "eMAID"}, {"idToken": "UNKNOWN-TAG", "type": "ISO14443"},
            {"idToken": "GIVEN", "type": "Local"}]
        assert [e["id_token_type"] for e in record["params"]["entries"]] == ["eMAID", "ISO14443", "Local"]


async def start_transaction(server, st, cp: str, api) -> tuple[str, int]:
    """A transaction started by the station (TransactionEvent Started); (its id, Wattson's session id)."""
    tag = await server.add_tag()
    transaction_id = f"tx-{uuid.uuid4().hex[:12]}"
    await st.ok("TransactionEvent", {
        "eventType": "Started", "timestamp": now(), "triggerReason": "Authorized", "seqNo": 0,
        "transactionInfo": {"transactionId": transaction_id}, "evse": {"id": 1, "connectorId": 1},
        "idToken": {"idToken": tag, "type": "ISO14443"}})
    r = await api.get("/api/v1/sessions", params={"charge_point_id": cp})
    assert r.status_code == 200, r.text
    (session,) = r.json()["data"]
    assert session["transaction_id"] == transaction_id
    return transaction_id, session["id"]


async def test_remote_stop_and_transaction_status_by_session_id(server):
    async with online(server) as (cp, st, api):
        transaction_id, session_id = await start_transaction(server, st, cp, api)
        frame, record = await round_trip(st, api, cp, "get-transaction-status", {"session_id": session_id},
                                         {"ongoingIndicator": True, "messagesInQueue": False})
        assert frame[2:] == ["GetTransactionStatus", {"transactionId": transaction_id}]
        assert record["params"] == {"transaction_id": transaction_id}
        frame, record = await round_trip(st, api, cp, "remote-stop", {"session_id": session_id},
                                         {"status": "Accepted"})
        assert frame[2:] == ["RequestStopTransaction", {"transactionId": transaction_id}]
        assert record["status"] == "Accepted"


# --- 3. refusals ------------------------------------------------------------------------------


async def test_commands_without_an_equivalent_are_422(sqlite_server):
    async with online(sqlite_server) as (cp, st, api):
        error = error_of(await command(api, cp, "get-configuration", {}), 422, "command_not_supported")
        assert "get-base-report" in error["message"] and error["details"] == {"use": "get-base-report"}
        error = error_of(await command(api, cp, "change-configuration", {"key": "VendorKey", "value": "1"}), 422,
                         "command_not_supported")
        assert "Component.Variable" in error["message"]
        await no_call(st, 0.3)
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp) as st16, sqlite_server.api() as api:
        await st16.boot()
        error = error_of(await command(api, cp, "customer-information", {"customer_identifier": "C-1"}), 422,
                         "command_not_supported")
        assert error["message"] == "customer-information has no equivalent in OCPP 1.6"
        error = error_of(await command(api, cp, "get-base-report", {}), 422, "command_not_supported")
        assert "OCPP 1.6" in error["message"] and error["details"] == {"use": "get-configuration"}
        await no_call(st16, 0.3)


async def test_a_station_is_never_downgraded(sqlite_server):
    password = "s3cret-Station-Pa55"
    cp = await sqlite_server.add_station(security_profile=1, password=password)
    credentials = base64.b64encode(f"{cp}:{password}".encode()).decode()
    profile = {"configuration_slot": 1, "csms_url": "ws://csms.example/ocpp"}
    async with websockets.connect(f"{sqlite_server.ws_url}/{cp}", subprotocols=["ocpp2.0.1"],
                                  open_timeout=READY_BOUND_S,
                                  additional_headers={"Authorization": f"Basic {credentials}"}) as ws, \
            sqlite_server.api() as api:
        st = RawStation(ws)
        await st.ok("BootNotification", BOOT)
        error = error_of(await command(api, cp, "set-network-profile", {**profile, "security_profile": 0}), 422,
                         "validation_error")
        assert "downgraded" in error["message"] and error["details"][0]["field"] == "security_profile"
        await no_call(st, 0.3)
        frame, _ = await round_trip(st, api, cp, "set-network-profile", {**profile, "security_profile": 1},
                                    {"status": "Rejected"})
        assert frame[3]["connectionData"]["securityProfile"] == 1
        await st.close()


@pytest.mark.parametrize("name, body, field", [
    ("get-variables", {"variables": []}, "variables"),
    ("get-variables", {"variables": [{"component": "EVSE", "variable": "Power", "connector": 1}]}, "variables"),
    ("set-variables", {"variables": [{"component": "C", "variable": "V", "value": "x" * 1001}]}, "value"),
    ("get-report", {"criteria": ["broken"]}, "criteria"),
    ("get-charging-profiles", {"profile_ids": [-1]}, "profile_ids"),
    ("get-transaction-status", {"session_id": 1, "transaction_id": "t"}, "session_id"),
    ("set-network-profile", {"configuration_slot": 1, "csms_url": "http://x", "security_profile": 1}, "csms_url"),
    ("customer-information", {"customer_identifier": "C", "id_tag": "T"}, "customer_identifier"),
    ("customer-information", {"customer_identifier": "C", "report": False}, "report"),
    ("install-certificate", {"certificate_type": "V2GCertificateChain", "certificate": "x"}, "certificate_type"),
    ("remote-start", {"id_tag": "T", "id_token_type": "Fingerprint"}, "id_token_type"),
])
async def test_invalid_params_are_422_naming_the_field(sqlite_server, name, body, field):
    """Named in the field's path, or in the message when the rule spans several fields."""
    async with online(sqlite_server) as (cp, st, api):
        error = error_of(await command(api, cp, name, body), 422, "validation_error")
        assert any(field in d["field"] or field in d["message"] for d in error["details"]), error
        await no_call(st, 0.2)


# --- 4. reservations and raw calls --------------------------------------------------------------


async def test_a_201_reservation_is_listed_like_a_16_one(server):
    async with online(server) as (cp, st, api):
        frame, record = await round_trip(st, api, cp, "reserve-now",
                                         {"evse": 1, "id_tag": "R-201", "expires_at": "2030-05-01T10:00:00Z"},
                                         {"status": "Accepted"})
        reservation_id = frame[3]["id"]
        assert record["params"]["reservation_id"] == reservation_id
        r = await api.get("/api/v1/reservations", params={"charge_point_id": cp})
        assert r.status_code == 200, r.text
        (reservation,) = r.json()["data"]
        assert (reservation["id"], reservation["evse"], reservation["id_tag"], reservation["status"]) == \
            (reservation_id, 1, "R-201", "active")
        # Cancelling through the reservations resource sends 2.0.1's CancelReservation.
        http = asyncio.create_task(api.delete(f"/api/v1/reservations/{reservation_id}"))
        frame = await receive_call(st, http)
        assert frame[2:] == ["CancelReservation", {"reservationId": reservation_id}]
        await st.answer(frame, {"status": "Accepted"})
        assert (await http).status_code == 204
        assert (await api.get(f"/api/v1/reservations/{reservation_id}")).json()["status"] == "cancelled"


async def test_raw_calls_speak_the_stations_version(sqlite_server):
    async with online(sqlite_server) as (cp, st, api):
        http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/ocpp/GetTransactionStatus", json={}))
        frame = await receive_call(st, http)
        assert frame[2:] == ["GetTransactionStatus", {}]
        await st.answer(frame, {"messagesInQueue": False})
        r = await http
        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["state"], r.json()["response"]) == \
            ("ocpp", "completed", {"messagesInQueue": False})
        for action, payload, code in [("GetConfiguration", {}, "command_not_supported"),
                                      ("RemoteStartTransaction", {"idTag": "T"}, "command_not_supported"),
                                      ("Reset", {"type": "Hard"}, "validation_error")]:
            r = await api.post(f"/api/v1/charge-points/{cp}/ocpp/{action}", json=payload)
            assert "OCPP 2.0.1" in error_of(r, 422, code)["message"]
        await no_call(st, 0.3)


async def test_a_reply_breaking_the_201_schema_fails_the_command(sqlite_server):
    async with online(sqlite_server) as (cp, st, api):
        http = send(api, cp, "reset", {"type": "hard"})
        await st.answer(await receive_call(st, http), {"status": "Hard"})
        details = error_of(await http, 502, "station_error")["details"]
        assert details["state"] == "failed" and "schema" in details["error_description"]
