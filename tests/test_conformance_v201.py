"""OCTT CSMS test cases of OCPP 2.0.1 that no other test covered (docs/conformance.md maps every case).

Each case is played over a real WebSocket by a raw 2.0.1 station doing the case's steps, with the
operator's side done through the API, and checks what the case's validations check: the call
Wattson sends, its answer to every station message, and what it recorded. Cases of one shape share
a parametrised test whose ids are the case ids.
"""

import asyncio
import base64
from datetime import datetime, timedelta, timezone

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from conftest import READY_BOUND_S, until, unique
from ocpp_client import RawStation, station
from test_commands import no_call, receive_call
from test_commands_v201 import BOOT, online
from test_protocol_answers import assert_error, csms_call

PASSWORD = "conformance-Pa55word"
NEW_PASSWORD = "conformance-N3w-Pa55word"
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HASH = {"hashAlgorithm": "SHA256", "issuerNameHash": "aa11", "issuerKeyHash": "bb22", "serialNumber": "0c"}
NEUTRAL_HASH = {"issuer_name_hash": "aa11", "issuer_key_hash": "bb22", "serial_number": "0c"}
CHECKSUM = "0123456789abcdef0123456789abcdef"


def ts(offset_s: float = 0) -> str:
    at = datetime.now(timezone.utc) + timedelta(seconds=offset_s)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def charge_point(api, cp: str) -> dict:
    r = await api.get(f"/api/v1/charge-points/{cp}")
    assert r.status_code == 200, r.text
    return r.json()


async def event_kinds(api, cp: str) -> list[str]:
    r = await api.get(f"/api/v1/charge-points/{cp}/events")
    assert r.status_code == 200, r.text
    return [event["kind"] for event in r.json()["data"]]


async def sessions_of(api, cp: str) -> list[dict]:
    r = await api.get("/api/v1/sessions", params={"charge_point_id": cp})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def connector_status(point: dict, evse: int, connector: int = 1) -> str | None:
    for e in point["evses"]:
        if e["number"] == evse:
            for c in e["connectors"]:
                if c["number"] == connector:
                    return c["hardware_status"]
    return None


# --- A: security, B_58: the WebSocket handshake ---------------------------------------------------


async def boot_201(url: str, cp: str, headers: dict | None = None) -> str:
    async with websockets.connect(f"{url}/{cp}", subprotocols=["ocpp2.0.1"], additional_headers=headers or {},
                                  open_timeout=READY_BOUND_S) as ws:
        assert ws.subprotocol == "ocpp2.0.1"
        return (await RawStation(ws).ok("BootNotification", BOOT))["status"]


async def refused_201(url: str, cp: str, headers: dict | None = None) -> int:
    with pytest.raises(InvalidStatus) as err:
        await boot_201(url, cp, headers)
    return err.value.response.status_code


async def test_tc_a_01_basic_authentication_valid(sqlite_server):
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    assert await boot_201(sqlite_server.ws_url, cp, basic(cp, PASSWORD)) == "Accepted"


async def test_tc_a_02_basic_authentication_username_is_not_the_station(sqlite_server):
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    other = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    # The right password, but the user names another station (whose password it also is).
    assert await refused_201(sqlite_server.ws_url, cp, basic(other, PASSWORD)) == 401


async def test_tc_a_03_basic_authentication_invalid_password(sqlite_server):
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    assert await refused_201(sqlite_server.ws_url, cp) == 401  # no Authorization header (the case's step 1)
    assert await refused_201(sqlite_server.ws_url, cp, basic(cp, "wrong-password-123")) == 401


async def test_tc_a_09_update_basic_auth_password_accepted(sqlite_server):
    """The operator stores the new password and sends it (AuthorizationKey is SecurityCtrlr.BasicAuthPassword);
    once the station accepted it, it reconnects with the new password and the old one is refused."""
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    async with websockets.connect(f"{sqlite_server.ws_url}/{cp}", subprotocols=["ocpp2.0.1"],
                                  additional_headers=basic(cp, PASSWORD), open_timeout=READY_BOUND_S) as ws, \
            sqlite_server.api() as api:
        st = RawStation(ws)
        await st.ok("BootNotification", BOOT)
        r = await api.patch(f"/api/v1/charge-points/{cp}", json={"security_profile": 1, "password": NEW_PASSWORD})
        assert r.status_code == 200, r.text
        http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/commands/change-configuration",
                                            json={"key": "AuthorizationKey", "value": NEW_PASSWORD}))
        frame = await receive_call(st, http)
        assert frame[2:] == ["SetVariables", {"setVariableData": [
            {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
             "attributeValue": NEW_PASSWORD}]}]
        await st.answer(frame, {"setVariableResult": [{"attributeStatus": "Accepted",
                                                       "component": {"name": "SecurityCtrlr"},
                                                       "variable": {"name": "BasicAuthPassword"}}]})
        assert (await http).status_code == 200
        await st.close()
    assert await boot_201(sqlite_server.ws_url, cp, basic(cp, NEW_PASSWORD)) == "Accepted"
    assert await refused_201(sqlite_server.ws_url, cp, basic(cp, PASSWORD)) == 401


async def test_tc_b_58_subprotocol_validation(sqlite_server):
    cp = await sqlite_server.add_station()
    # Steps 1-2: only an unknown version: no OCPP session; the connection is closed at once (1002).
    async with websockets.connect(f"{sqlite_server.ws_url}/{cp}", subprotocols=["ocpp0.1"],
                                  open_timeout=READY_BOUND_S) as ws:
        assert ws.subprotocol is None
        await asyncio.wait_for(ws.wait_closed(), READY_BOUND_S)
    assert ws.close_code == 1002
    # Steps 3-4: the unknown version first, then 2.0.1: 2.0.1 is selected in the upgrade response.
    async with websockets.connect(f"{sqlite_server.ws_url}/{cp}", subprotocols=["ocpp0.1", "ocpp2.0.1"],
                                  open_timeout=READY_BOUND_S) as ws:
        assert ws.response.headers["Sec-WebSocket-Protocol"] == "ocpp2.0.1"
        assert (await RawStation(ws).ok("BootNotification", BOOT))["status"] == "Accepted"


# --- the CSMS sends one call: B, C, D, E, F, G, H, L, M, N -------------------------------------------
#
# (command: a neutral command's name, or "ocpp/<Action>" for a call sent as written; its body; the
#  action and payload the station must receive (payload: the keys checked); the station's reply;
#  what the station sends next, each answered by Wattson with a CALLRESULT; what Wattson recorded)

def case(case_id, command, body, action, payload, reply, then=(), expect=None):
    return pytest.param(command, body, action, payload, reply, list(then), expect or {}, id=case_id)


def status(evse: int, value: str, connector: int = 1) -> tuple[str, dict]:
    return "StatusNotification", {"timestamp": ts(), "connectorStatus": value, "evseId": evse,
                                  "connectorId": connector}


def firmware(value: str, request_id: int = 11) -> tuple[str, dict]:
    return "FirmwareStatusNotification", {"status": value, "requestId": request_id}


def log_status(value: str, request_id: int = 12) -> tuple[str, dict]:
    return "LogStatusNotification", {"status": value, "requestId": request_id}


def security_event(kind: str) -> tuple[str, dict]:
    return "SecurityEventNotification", {"type": kind, "timestamp": ts()}


def publish(value: str, request_id: int = 13, **extra) -> tuple[str, dict]:
    return "PublishFirmwareStatusNotification", {"status": value, "requestId": request_id, **extra}


def customer_data(request_id: int, data: str) -> tuple[str, dict]:
    return "NotifyCustomerInformation", {"data": data, "seqNo": 0, "generatedAt": ts(), "requestId": request_id,
                                         "tbc": False}


def notify_report(request_id: int, value: str = "120") -> tuple[str, dict]:
    return "NotifyReport", {"requestId": request_id, "generatedAt": ts(), "seqNo": 0, "tbc": False, "reportData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "variableAttribute": [{"type": "Actual", "value": value, "mutability": "ReadWrite"}],
         "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": True}}]}


def monitoring_report(request_id: int) -> tuple[str, dict]:
    return "NotifyMonitoringReport", {"requestId": request_id, "seqNo": 0, "generatedAt": ts(), "tbc": False,
                                      "monitor": [{"component": {"name": "EVSE", "evse": {"id": 1}},
                                                   "variable": {"name": "Power"},
                                                   "variableMonitoring": [{"id": 1, "transaction": False,
                                                                           "value": 22000.0,
                                                                           "type": "UpperThreshold",
                                                                           "severity": 4}]}]}


def tx(tx_id: str, kind: str, seq: int, trigger: str, *, tag: str | None = None, state: str | None = None,
       reason: str | None = None, meter: list | None = None, evse: bool = True, **extra) -> tuple[str, dict]:
    info = {"transactionId": tx_id}
    if state:
        info["chargingState"] = state
    if reason:
        info["stoppedReason"] = reason
    event = {"eventType": kind, "timestamp": ts(), "triggerReason": trigger, "seqNo": seq, "transactionInfo": info,
             **extra}
    if evse:
        event["evse"] = {"id": 1, "connectorId": 1}
    if tag:
        event["idToken"] = {"idToken": tag, "type": "ISO14443"}
    if meter is not None:
        event["meterValue"] = meter
    return "TransactionEvent", event


def reading(wh: float, context: str, signed: bool = False) -> list[dict]:
    value = {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register"}
    if signed:
        value["signedMeterValue"] = {"signedMeterData": "c2lnbmVk", "signingMethod": "ECDSA-secp256r1-SHA256",
                                     "encodingMethod": "OCMF", "publicKey": "cHVibGlj"}
    return [{"timestamp": ts(), "sampledValue": [value]}]


HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
OFFLINE = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}
MONITOR = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
TRIGGERED_METER = ("MeterValues", {"evseId": 1, "meterValue": [
    {"timestamp": ts(), "sampledValue": [{"value": 1234.0, "context": "Trigger",
                                          "measurand": "Energy.Active.Import.Register"}]}]})

CSMS_CASES = [
    # B: provisioning
    case("TC_B_06", "get-variables", {"variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}]},
         "GetVariables", {"getVariableData": [HEARTBEAT]},
         {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "120", **HEARTBEAT}]},
         expect={"variable": ("OCPPCommCtrlr", "HeartbeatInterval", "120")}),
    case("TC_B_07", "get-variables", {"variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"},
                                                    {"component": "OCPPCommCtrlr", "variable": "OfflineThreshold"}]},
         "GetVariables", {"getVariableData": [HEARTBEAT, OFFLINE]},
         {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "120", **HEARTBEAT},
                                {"attributeStatus": "Accepted", "attributeValue": "60", **OFFLINE}]},
         expect={"variable": ("OCPPCommCtrlr", "OfflineThreshold", "60")}),
    case("TC_B_09", "set-variables", {"variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval",
                                                     "value": "300"}]},
         "SetVariables", {"setVariableData": [{**HEARTBEAT, "attributeValue": "300"}]},
         {"setVariableResult": [{"attributeStatus": "Accepted", **HEARTBEAT}]},
         expect={"variable": ("OCPPCommCtrlr", "HeartbeatInterval", "300")}),
    case("TC_B_10", "set-variables", {"variables": [
            {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "300"},
            {"component": "OCPPCommCtrlr", "variable": "OfflineThreshold", "value": "90"}]},
         "SetVariables", {"setVariableData": [{**HEARTBEAT, "attributeValue": "300"},
                                              {**OFFLINE, "attributeValue": "90"}]},
         {"setVariableResult": [{"attributeStatus": "Accepted", **HEARTBEAT},
                                {"attributeStatus": "Accepted", **OFFLINE}]},
         expect={"variable": ("OCPPCommCtrlr", "OfflineThreshold", "90")}),
    case("TC_B_12", "get-base-report", {"report": "configuration", "request_id": 21}, "GetBaseReport",
         {"requestId": 21, "reportBase": "ConfigurationInventory"}, {"status": "Accepted"},
         [notify_report(21, "121")], expect={"variable": ("OCPPCommCtrlr", "HeartbeatInterval", "121"),
                                             "event": "report"}),
    case("TC_B_13", "get-base-report", {"report": "full", "request_id": 22}, "GetBaseReport",
         {"requestId": 22, "reportBase": "FullInventory"}, {"status": "Accepted"},
         [notify_report(22, "122")], expect={"variable": ("OCPPCommCtrlr", "HeartbeatInterval", "122")}),
    case("TC_B_14", "get-base-report", {"report": "summary", "request_id": 23}, "GetBaseReport",
         {"requestId": 23, "reportBase": "SummaryInventory"}, {"status": "Accepted"},
         [notify_report(23, "123")], expect={"variable": ("OCPPCommCtrlr", "HeartbeatInterval", "123")}),
    case("TC_B_18", "get-report", {"criteria": ["available"], "variables": [{"component": "OCPPCommCtrlr",
                                                                             "variable": "HeartbeatInterval"}],
                                   "request_id": 24},
         "GetReport", {"requestId": 24, "componentCriteria": ["Available"], "componentVariable": [HEARTBEAT]},
         {"status": "EmptyResultSet"}),
    case("TC_B_20", "reset", {"type": "soft"}, "Reset", {"type": "OnIdle"}, {"status": "Accepted"},
         [("BootNotification", {**BOOT, "reason": "RemoteReset"}), status(1, "Available")],
         expect={"connector": (1, "Available")}),
    case("TC_B_25", "reset", {"type": "soft", "evse": 1}, "Reset", {"type": "OnIdle", "evseId": 1},
         {"status": "Accepted"}, [status(1, "Unavailable"), status(1, "Available")],
         expect={"connector": (1, "Available")}),
    case("TC_B_42", "set-network-profile", {"configuration_slot": 1, "csms_url": "ws://csms.example/ocpp",
                                            "security_profile": 0},
         "SetNetworkProfile", {"configurationSlot": 1}, {"status": "Accepted"}),
    case("TC_B_44", "set-network-profile", {"configuration_slot": 1, "csms_url": "ws://csms.example/ocpp",
                                            "security_profile": 0},
         "SetNetworkProfile", {"configurationSlot": 1}, {"status": "Failed"}),
    # C: authorization cache
    case("TC_C_37", "clear-cache", {}, "ClearCache", {}, {"status": "Accepted"}),
    case("TC_C_38", "clear-cache", {}, "ClearCache", {}, {"status": "Rejected"}),
    # D: local authorization list
    case("TC_D_01", "send-local-list", {"version": 1, "update_type": "full", "entries": [{"id_tag": "D01-A"}]},
         "SendLocalList", {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [
             {"idToken": {"idToken": "D01-A", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}]},
         {"status": "Accepted"}),
    case("TC_D_02", "send-local-list", {"version": 2, "update_type": "differential",
                                        "entries": [{"id_tag": "D02-A", "status": "Blocked"}]},
         "SendLocalList", {"versionNumber": 2, "updateType": "Differential", "localAuthorizationList": [
             {"idToken": {"idToken": "D02-A", "type": "ISO14443"}, "idTokenInfo": {"status": "Blocked"}}]},
         {"status": "Accepted"}),
    case("TC_D_03", "send-local-list", {"version": 3, "update_type": "differential", "entries": [{"id_tag": "D03"}]},
         "SendLocalList", {"versionNumber": 3, "updateType": "Differential", "localAuthorizationList": [
             {"idToken": {"idToken": "D03", "type": "ISO14443"}}]},
         {"status": "Accepted"}),
    case("TC_D_04", "send-local-list", {"version": 4, "update_type": "full", "entries": []},
         "SendLocalList", {"versionNumber": 4, "updateType": "Full"}, {"status": "Accepted"}),
    case("TC_D_08", "get-local-list-version", {}, "GetLocalListVersion", {}, {"versionNumber": 4}),
    case("TC_D_09", "get-local-list-version", {}, "GetLocalListVersion", {}, {"versionNumber": 0}),
    # E: transaction status
    case("TC_E_33", "get-transaction-status", {}, "GetTransactionStatus", {}, {"messagesInQueue": True}),
    case("TC_E_34", "get-transaction-status", {}, "GetTransactionStatus", {}, {"messagesInQueue": False}),
    # F: remote control, triggers
    case("TC_F_06", "unlock", {"evse": 1, "connector": 1}, "UnlockConnector", {"evseId": 1, "connectorId": 1},
         {"status": "Unlocked"}),
    case("TC_F_11", "trigger-message", {"message": "MeterValues", "evse": 1}, "TriggerMessage",
         {"requestedMessage": "MeterValues", "evse": {"id": 1}}, {"status": "Accepted"}, [TRIGGERED_METER]),
    case("TC_F_12", "trigger-message", {"message": "MeterValues"}, "TriggerMessage",
         {"requestedMessage": "MeterValues"}, {"status": "Accepted"}, [TRIGGERED_METER]),
    case("TC_F_15", "trigger-message", {"message": "LogStatusNotification"}, "TriggerMessage",
         {"requestedMessage": "LogStatusNotification"}, {"status": "Accepted"},
         [("LogStatusNotification", {"status": "Idle"})], expect={"diagnostics_status": "Idle"}),
    case("TC_F_18", "trigger-message", {"message": "FirmwareStatusNotification"}, "TriggerMessage",
         {"requestedMessage": "FirmwareStatusNotification"}, {"status": "Accepted"},
         [("FirmwareStatusNotification", {"status": "Idle"})], expect={"firmware_status": "Idle"}),
    case("TC_F_20", "trigger-message", {"message": "Heartbeat"}, "TriggerMessage", {"requestedMessage": "Heartbeat"},
         {"status": "Accepted"}, [("Heartbeat", {})]),
    case("TC_F_23", "trigger-message", {"message": "StatusNotification", "evse": 1, "connector": 1},
         "TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}},
         {"status": "Accepted"}, [status(1, "Available")], expect={"connector": (1, "Available")}),
    case("TC_F_24", "trigger-message", {"message": "StatusNotification", "evse": 1, "connector": 1},
         "TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}},
         {"status": "Accepted"}, [status(1, "Occupied")], expect={"connector": (1, "Occupied")}),
    case("TC_F_27", "trigger-message", {"message": "FirmwareStatusNotification"}, "TriggerMessage",
         {"requestedMessage": "FirmwareStatusNotification"}, {"status": "NotImplemented"}),
    # G: availability
    case("TC_G_03", "change-availability", {"evse": 1, "operative": False}, "ChangeAvailability",
         {"operationalStatus": "Inoperative", "evse": {"id": 1}}, {"status": "Accepted"},
         [status(1, "Unavailable")], expect={"connector": (1, "Unavailable")}),
    case("TC_G_04", "change-availability", {"evse": 1, "operative": True}, "ChangeAvailability",
         {"operationalStatus": "Operative", "evse": {"id": 1}}, {"status": "Accepted"},
         [status(1, "Available")], expect={"connector": (1, "Available")}),
    case("TC_G_05", "change-availability", {"operative": False}, "ChangeAvailability",
         {"operationalStatus": "Inoperative"}, {"status": "Accepted"},
         [status(1, "Unavailable"), status(2, "Unavailable")], expect={"connector": (2, "Unavailable")}),
    case("TC_G_06", "change-availability", {"operative": True}, "ChangeAvailability",
         {"operationalStatus": "Operative"}, {"status": "Accepted"},
         [status(1, "Available"), status(2, "Available")], expect={"connector": (2, "Available")}),
    case("TC_G_07", "change-availability", {"evse": 1, "connector": 1, "operative": False}, "ChangeAvailability",
         {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 1}}, {"status": "Accepted"},
         [status(1, "Unavailable")], expect={"connector": (1, "Unavailable")}),
    case("TC_G_08", "change-availability", {"evse": 1, "connector": 1, "operative": True}, "ChangeAvailability",
         {"operationalStatus": "Operative", "evse": {"id": 1, "connectorId": 1}}, {"status": "Accepted"},
         [status(1, "Available")], expect={"connector": (1, "Available")}),
    # H: reservations (the reservation's id is generated and read from the call)
    case("TC_H_01", "reserve-now", {"evse": 1, "id_tag": "H01", "expires_at": ts(3600)}, "ReserveNow",
         {"evseId": 1, "idToken": {"idToken": "H01", "type": "ISO14443"}}, {"status": "Accepted"},
         [status(1, "Reserved")], expect={"connector": (1, "Reserved"), "reservation": "active"}),
    case("TC_H_07", "reserve-now", {"evse": 1, "id_tag": "H07", "expires_at": ts(3600)}, "ReserveNow",
         {"evseId": 1}, {"status": "Accepted"},
         [status(1, "Reserved"), ("ReservationStatusUpdate", {"reservationUpdateStatus": "Expired"}),
          status(1, "Available")],
         expect={"connector": (1, "Available"), "reservation": "expired"}),
    case("TC_H_08", "reserve-now", {"id_tag": "H08", "expires_at": ts(3600)}, "ReserveNow",
         {"idToken": {"idToken": "H08", "type": "ISO14443"}}, {"status": "Accepted"},
         expect={"reservation": "active"}),
    case("TC_H_14", "reserve-now", {"id_tag": "H14", "expires_at": ts(3600)}, "ReserveNow",
         {"idToken": {"idToken": "H14", "type": "ISO14443"}}, {"status": "Occupied"},
         expect={"reservation": "rejected"}),
    case("TC_H_15", "reserve-now", {"id_tag": "H15", "expires_at": ts(3600), "connector_type": "cType2"},
         "ReserveNow", {"connectorType": "cType2", "evseId": None, "idToken": {"idToken": "H15", "type": "ISO14443"}},
         {"status": "Accepted"}, expect={"reservation": "active"}),
    case("TC_H_20", "reserve-now", {"evse": 1, "id_tag": "H20", "expires_at": ts(3600)}, "ReserveNow",
         {"evseId": 1}, {"status": "Accepted"},
         [status(1, "Reserved"), status(1, "Faulted"),
          ("ReservationStatusUpdate", {"reservationUpdateStatus": "Removed"})],
         expect={"connector": (1, "Faulted"), "reservation": "removed"}),
    case("TC_H_22", "reserve-now", {"evse": 1, "id_tag": "H22", "expires_at": ts(3600)}, "ReserveNow",
         {"evseId": 1}, {"status": "Rejected"}, expect={"reservation": "rejected"}),
    # L: firmware
    case("TC_L_01", "update-firmware", {"location": "https://fw.example/L01.bin", "retrieve_at": ts(),
                                        "signing_certificate": CERT, "signature": "c2ln", "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "Accepted"},
         [firmware("Downloading"), firmware("Downloaded"), firmware("SignatureVerified"), firmware("Installing"),
          firmware("InstallRebooting"), ("BootNotification", {**BOOT, "reason": "FirmwareUpdate"}),
          firmware("Installed")],
         expect={"firmware_status": "Installed"}),
    case("TC_L_02", "update-firmware", {"location": "https://fw.example/L02.bin", "retrieve_at": ts(),
                                        "install_at": ts(3600), "signing_certificate": CERT, "signature": "c2ln",
                                        "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "Accepted"},
         [firmware("Downloading"), firmware("Downloaded"), firmware("SignatureVerified"),
          firmware("InstallScheduled")],
         expect={"firmware_status": "InstallScheduled"}),
    case("TC_L_03", "update-firmware", {"location": "https://fw.example/L03.bin", "retrieve_at": ts(3600),
                                        "signing_certificate": CERT, "signature": "c2ln", "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "Accepted"}, [firmware("DownloadScheduled")],
         expect={"firmware_status": "DownloadScheduled"}),
    case("TC_L_04", "update-firmware", {"location": "https://fw.example/L04.bin", "retrieve_at": ts(),
                                        "signing_certificate": CERT, "signature": "c2ln", "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "RevokedCertificate"}),
    case("TC_L_05", "update-firmware", {"location": "https://fw.example/L05.bin", "retrieve_at": ts(),
                                        "signing_certificate": CERT, "signature": "c2ln", "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "InvalidCertificate"},
         [security_event("InvalidFirmwareSigningCertificate")], expect={"event": "security_event"}),
    case("TC_L_06", "update-firmware", {"location": "https://fw.example/L06.bin", "retrieve_at": ts(),
                                        "signing_certificate": CERT, "signature": "c2ln", "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "Accepted"},
         [firmware("Downloading"), firmware("Downloaded"), firmware("InvalidSignature"),
          security_event("InvalidFirmwareSignature")],
         expect={"firmware_status": "InvalidSignature", "event": "security_event"}),
    case("TC_L_07", "update-firmware", {"location": "https://fw.example/L07.bin", "retrieve_at": ts(),
                                        "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "Accepted"},
         [firmware("Downloading"), firmware("DownloadFailed")], expect={"firmware_status": "DownloadFailed"}),
    case("TC_L_08", "update-firmware", {"location": "https://fw.example/L08.bin", "retrieve_at": ts(),
                                        "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "Accepted"},
         [firmware("Downloading"), firmware("Downloaded"), firmware("InstallVerificationFailed")],
         expect={"firmware_status": "InstallVerificationFailed"}),
    case("TC_L_09", "update-firmware", {"location": "https://fw.example/L09.bin", "retrieve_at": ts(),
                                        "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "Accepted"},
         [firmware("Downloading"), firmware("Downloaded"), firmware("Installing"), firmware("InstallationFailed")],
         expect={"firmware_status": "InstallationFailed"}),
    case("TC_L_10", "update-firmware", {"location": "https://fw.example/L10.bin", "retrieve_at": ts(),
                                        "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "AcceptedCanceled"}, [firmware("Downloading")]),
    case("TC_L_11", "update-firmware", {"location": "https://fw.example/L11.bin", "retrieve_at": ts(),
                                        "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "Rejected"}),
    case("TC_L_13", "update-firmware", {"location": "https://fw.example/L13.bin", "retrieve_at": ts(),
                                        "signing_certificate": CERT, "signature": "c2ln", "request_id": 11},
         "UpdateFirmware", {"requestId": 11}, {"status": "Accepted"},
         [firmware("Downloading"), firmware("Downloaded"), firmware("SignatureVerified"),
          tx("L13", "Ended", 1, "StopAuthorized", reason="Local"), status(1, "Available"),
          firmware("Installing"), firmware("Installed")],
         expect={"firmware_status": "Installed"}),
    case("TC_L_17", "ocpp/PublishFirmware", {"location": "https://fw.example/L17.bin", "checksum": CHECKSUM,
                                             "requestId": 13},
         "PublishFirmware", {"checksum": CHECKSUM}, {"status": "Accepted"},
         [publish("Downloading"), publish("Downloaded"), publish("ChecksumVerified"),
          publish("Published", location=["http://192.0.2.1/fw.bin"])],
         expect={"event": "publish_firmware_status"}),
    case("TC_L_19", "ocpp/PublishFirmware", {"location": "https://fw.example/L19.bin", "checksum": CHECKSUM,
                                             "requestId": 13},
         "PublishFirmware", {"checksum": CHECKSUM}, {"status": "Accepted"},
         [publish("Downloading"), publish("Downloaded"), publish("InvalidChecksum")],
         expect={"event": "publish_firmware_status"}),
    case("TC_L_20", "ocpp/PublishFirmware", {"location": "https://fw.example/L20.bin", "checksum": CHECKSUM,
                                             "requestId": 13},
         "PublishFirmware", {"checksum": CHECKSUM}, {"status": "Accepted"},
         [publish("Downloading"), publish("Downloaded"), publish("ChecksumVerified"), publish("PublishFailed")],
         expect={"event": "publish_firmware_status"}),
    case("TC_L_21", "ocpp/UnpublishFirmware", {"checksum": CHECKSUM}, "UnpublishFirmware", {"checksum": CHECKSUM},
         {"status": "Unpublished"}),
    case("TC_L_22", "ocpp/UnpublishFirmware", {"checksum": CHECKSUM}, "UnpublishFirmware", {"checksum": CHECKSUM},
         {"status": "NoFirmware"}),
    case("TC_L_23", "ocpp/UnpublishFirmware", {"checksum": CHECKSUM}, "UnpublishFirmware", {"checksum": CHECKSUM},
         {"status": "DownloadOngoing"}),
    case("TC_L_24", "ocpp/PublishFirmware", {"location": "https://fw.example/L24.bin", "checksum": CHECKSUM,
                                             "requestId": 13},
         "PublishFirmware", {"checksum": CHECKSUM}, {"status": "Accepted"},
         [publish("Downloading"), publish("DownloadFailed")], expect={"event": "publish_firmware_status"}),
    # M: certificates
    *[case(f"TC_M_0{n}", "install-certificate", {"certificate_type": kind, "certificate": CERT},
           "InstallCertificate", {"certificateType": kind, "certificate": CERT}, {"status": "Accepted"})
      for n, kind in [(1, "CSMSRootCertificate"), (2, "ManufacturerRootCertificate"), (3, "V2GRootCertificate"),
                      (4, "MORootCertificate")]],
    case("TC_M_05", "install-certificate", {"certificate_type": "CSMSRootCertificate", "certificate": CERT},
         "InstallCertificate", {"certificateType": "CSMSRootCertificate"}, {"status": "Rejected"}),
    *[case(f"TC_M_{n}", "get-installed-certificate-ids", {"certificate_types": kinds}, "GetInstalledCertificateIds",
           {"certificateType": kinds}, {"status": "Accepted", "certificateHashDataChain": [
               {"certificateType": kinds[0], "certificateHashData": HASH}]})
      for n, kinds in [(12, ["CSMSRootCertificate"]), (13, ["ManufacturerRootCertificate"]),
                       (14, ["V2GRootCertificate"]), (15, ["V2GCertificateChain"]), (16, ["MORootCertificate"]),
                       (17, ["CSMSRootCertificate", "ManufacturerRootCertificate"])]],
    case("TC_M_18", "get-installed-certificate-ids", {}, "GetInstalledCertificateIds", {},
         {"status": "Accepted", "certificateHashDataChain": [
             {"certificateType": "CSMSRootCertificate", "certificateHashData": HASH},
             {"certificateType": "V2GRootCertificate", "certificateHashData": {**HASH, "serialNumber": "0d"}}]}),
    case("TC_M_19", "get-installed-certificate-ids", {"certificate_types": ["MORootCertificate"]},
         "GetInstalledCertificateIds", {"certificateType": ["MORootCertificate"]}, {"status": "NotFound"}),
    case("TC_M_20", "delete-certificate", NEUTRAL_HASH, "DeleteCertificate", {"certificateHashData": HASH},
         {"status": "Accepted"}),
    case("TC_M_21", "delete-certificate", NEUTRAL_HASH, "DeleteCertificate", {"certificateHashData": HASH},
         {"status": "Failed"}),
    # O: display messages, sent as written (there is no neutral command)
    case("TC_O_01", "ocpp/SetDisplayMessage", {"message": {"id": 5, "priority": "NormalCycle",
                                                           "message": {"format": "UTF8", "content": "Welcome"}}},
         "SetDisplayMessage", {"message": {"id": 5, "priority": "NormalCycle",
                                           "message": {"format": "UTF8", "content": "Welcome"}}},
         {"status": "Accepted"}),
    case("TC_O_02", "ocpp/GetDisplayMessages", {"requestId": 51}, "GetDisplayMessages", {"requestId": 51},
         {"status": "Accepted"},
         [("NotifyDisplayMessages", {"requestId": 51, "tbc": False, "messageInfo": [
             {"id": 5, "priority": "NormalCycle", "message": {"format": "UTF8", "content": "Welcome"}}]})],
         expect={"event": "display_messages"}),
    # N: diagnostics, monitoring, customer information
    case("TC_N_01", "ocpp/GetMonitoringReport", {"requestId": 31, "monitoringCriteria": ["ThresholdMonitoring"]},
         "GetMonitoringReport", {"requestId": 31, "monitoringCriteria": ["ThresholdMonitoring"]},
         {"status": "Accepted"}, [monitoring_report(31)], expect={"event": "monitoring_report"}),
    case("TC_N_02", "ocpp/GetMonitoringReport", {"requestId": 32, "componentVariable": [MONITOR]},
         "GetMonitoringReport", {"componentVariable": [MONITOR]}, {"status": "Accepted"}, [monitoring_report(32)],
         expect={"event": "monitoring_report"}),
    case("TC_N_03", "ocpp/GetMonitoringReport", {"requestId": 33, "monitoringCriteria": ["DeltaMonitoring"],
                                                 "componentVariable": [MONITOR]},
         "GetMonitoringReport", {"monitoringCriteria": ["DeltaMonitoring"]}, {"status": "EmptyResultSet"}),
    case("TC_N_05", "ocpp/SetMonitoringBase", {"monitoringBase": "All"}, "SetMonitoringBase",
         {"monitoringBase": "All"}, {"status": "Accepted"}),
    case("TC_N_08", "ocpp/SetVariableMonitoring", {"setMonitoringData": [
            {"value": 22000.0, "type": "UpperThreshold", "severity": 4, **MONITOR}]},
         "SetVariableMonitoring", {"setMonitoringData": [{"value": 22000.0, "type": "UpperThreshold", "severity": 4,
                                                          **MONITOR}]},
         {"setMonitoringResult": [{"id": 1, "status": "Accepted", "type": "UpperThreshold", "severity": 4,
                                   **MONITOR}]}),
    case("TC_N_09", "ocpp/SetVariableMonitoring", {"setMonitoringData": [
            {"value": 22000.0, "type": "UpperThreshold", "severity": 4, **MONITOR},
            {"value": 1.0, "type": "Delta", "severity": 8, **HEARTBEAT}]},
         "SetVariableMonitoring", {},
         {"setMonitoringResult": [{"id": 1, "status": "Accepted", "type": "UpperThreshold", "severity": 4, **MONITOR},
                                  {"id": 2, "status": "Accepted", "type": "Delta", "severity": 8, **HEARTBEAT}]}),
    case("TC_N_16", "ocpp/SetMonitoringLevel", {"severity": 4}, "SetMonitoringLevel", {"severity": 4},
         {"status": "Accepted"}),
    case("TC_N_17", "ocpp/SetMonitoringLevel", {"severity": 4}, "SetMonitoringLevel", {"severity": 4},
         {"status": "Rejected"}),
    case("TC_N_24", "ocpp/SetVariableMonitoring", {"setMonitoringData": [
            {"value": 60.0, "type": "Periodic", "severity": 8, **MONITOR}]},
         "SetVariableMonitoring", {},
         {"setMonitoringResult": [{"id": 3, "status": "Accepted", "type": "Periodic", "severity": 8, **MONITOR}]}),
    case("TC_N_25", "get-log", {"location": "https://logs.example/up", "request_id": 12}, "GetLog",
         {"logType": "DiagnosticsLog", "requestId": 12, "log": {"remoteLocation": "https://logs.example/up"}},
         {"status": "Accepted", "filename": "diagnostics.log"}, [log_status("Uploading"), log_status("Uploaded")],
         expect={"diagnostics_status": "Uploaded"}),
    case("TC_N_27", "customer-information", {"id_tag": "N27", "request_id": 41}, "CustomerInformation",
         {"requestId": 41, "report": True, "clear": False, "idToken": {"idToken": "N27", "type": "ISO14443"}},
         {"status": "Accepted"}, [customer_data(41, "sessions of N27: 3")], expect={"event": "customer_information"}),
    case("TC_N_28", "customer-information", {"customer_identifier": "N28", "request_id": 42}, "CustomerInformation",
         {"requestId": 42, "report": True, "clear": False, "customerIdentifier": "N28"}, {"status": "Accepted"},
         [customer_data(42, "")], expect={"event": "customer_information"}),
    case("TC_N_29", "customer-information", {"customer_identifier": "N29", "request_id": 43}, "CustomerInformation",
         {"customerIdentifier": "N29"}, {"status": "Rejected"}),
    case("TC_N_30", "customer-information", {"id_tag": "N30", "clear": True, "request_id": 44},
         "CustomerInformation", {"report": True, "clear": True}, {"status": "Accepted"},
         [customer_data(44, "cleared: 2 sessions")], expect={"event": "customer_information"}),
    case("TC_N_31", "customer-information", {"id_tag": "N31", "clear": True, "request_id": 45},
         "CustomerInformation", {"report": True, "clear": True}, {"status": "Accepted"}, [customer_data(45, "")],
         expect={"event": "customer_information"}),
    case("TC_N_32", "customer-information", {"id_tag": "N32", "clear": True, "report": False, "request_id": 46},
         "CustomerInformation", {"report": False, "clear": True}, {"status": "Accepted"}),
    case("TC_N_34", "get-log", {"location": "https://logs.example/up", "request_id": 12}, "GetLog",
         {"logType": "DiagnosticsLog"}, {"status": "Rejected"}),
    case("TC_N_35", "get-log", {"location": "https://logs.example/up", "log_type": "security", "request_id": 12},
         "GetLog", {"logType": "SecurityLog", "requestId": 12}, {"status": "Accepted", "filename": "security.log"},
         [log_status("Uploading"), log_status("Uploaded")], expect={"diagnostics_status": "Uploaded"}),
    case("TC_N_36", "get-log", {"location": "https://logs.example/up", "request_id": 12}, "GetLog",
         {"logType": "DiagnosticsLog", "requestId": 12}, {"status": "AcceptedCanceled"},
         [log_status("AcceptedCanceled", 11), log_status("Uploading"), log_status("Uploaded")],
         expect={"diagnostics_status": "Uploaded"}),
    case("TC_N_44", "ocpp/ClearVariableMonitoring", {"id": [1]}, "ClearVariableMonitoring", {"id": [1]},
         {"clearMonitoringResult": [{"status": "Rejected", "id": 1}]}),
    case("TC_N_47", "ocpp/GetMonitoringReport", {"requestId": 34}, "GetMonitoringReport", {"requestId": 34},
         {"status": "Accepted"}, [monitoring_report(34)], expect={"event": "monitoring_report"}),
    case("TC_N_60", "ocpp/GetMonitoringReport", {"requestId": 35, "monitoringCriteria": ["ThresholdMonitoring"],
                                                 "componentVariable": [MONITOR, HEARTBEAT]},
         "GetMonitoringReport", {"componentVariable": [MONITOR, HEARTBEAT]}, {"status": "Accepted"},
         [monitoring_report(35)], expect={"event": "monitoring_report"}),
    case("TC_N_62", "customer-information", {"customer_identifier": "N62", "clear": True, "request_id": 47},
         "CustomerInformation", {"customerIdentifier": "N62", "report": True, "clear": True}, {"status": "Accepted"},
         [customer_data(47, "cleared")], expect={"event": "customer_information"}),
    case("TC_N_63", "customer-information", {"customer_certificate": NEUTRAL_HASH, "clear": True, "request_id": 48},
         "CustomerInformation", {"customerCertificate": HASH, "report": True, "clear": True}, {"status": "Accepted"},
         [customer_data(48, "cleared")], expect={"event": "customer_information"}),
]


async def post(api, cp: str, command: str, body: dict) -> asyncio.Task:
    path = command if command.startswith("ocpp/") else f"commands/{command}"
    return asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/{path}", json=body))


@pytest.mark.parametrize("command, body, action, payload, reply, then, expect", CSMS_CASES)
async def test_csms_initiated_case(sqlite_server, command, body, action, payload, reply, then, expect):
    async with online(sqlite_server) as (cp, st, api):
        http = await post(api, cp, command, body)
        frame = await receive_call(st, http)
        assert frame[2] == action, frame
        assert {k: frame[3].get(k) for k in payload} == payload, frame[3]
        await st.answer(frame, reply)
        r = await http
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["response"]) == ("completed", reply)
        for next_action, next_payload in then:
            if next_action == "ReservationStatusUpdate":
                next_payload = {**next_payload, "reservationId": frame[3]["id"]}
            assert (await st.call(next_action, next_payload))[0] == 3, (next_action, next_payload)
        await check_recorded(api, cp, frame, expect)
        await no_call(st, 0.2)  # nothing but the one call


async def check_recorded(api, cp: str, frame: list, expect: dict) -> None:
    point = await charge_point(api, cp)
    for field in ("firmware_status", "diagnostics_status"):
        if field in expect:
            assert point[field] == expect[field], point
    if "connector" in expect:
        evse, value = expect["connector"]
        await until(lambda: _status_is(api, cp, evse, value), f"connector {evse} {value}")
    if "reservation" in expect:
        r = await api.get(f"/api/v1/reservations/{frame[3]['id']}")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == expect["reservation"], r.json()
    if "event" in expect:
        assert expect["event"] in await event_kinds(api, cp)
    if "variable" in expect:
        component, variable, value = expect["variable"]
        r = await api.get(f"/api/v1/charge-points/{cp}/variables",
                          params={"component": component, "variable": variable})
        assert r.status_code == 200, r.text
        assert value in [item["value"] for item in r.json()["data"]], r.json()


async def _status_is(api, cp: str, evse: int, value: str) -> bool:
    return connector_status(await charge_point(api, cp), evse) == value


# --- the station runs a transaction: B, C, E, F, G, J, P ---------------------------------------------


# Each step: (action, payload, the answer's idTokenInfo.status or None when the answer must be {}).
# TAG is the valid token the test registers; the session it leaves must match ``session``.
TAG = "<valid>"
TRANSACTION_CASES = {
    "TC_E_01": ([status(1, "Occupied", 1), tx("E01", "Started", 0, "ChargingStateChanged", tag=TAG,
                                              state="SuspendedEVSE"),
                 tx("E01", "Updated", 1, "ChargingStateChanged", state="Charging")],
                {"status": "active", "charging_state": "Charging"}),
    "TC_E_02": ([tx("E02", "Started", 0, "ChargingStateChanged", tag=TAG, state="Charging")],
                {"status": "active", "charging_state": "Charging"}),
    "TC_E_03": ([status(1, "Occupied"), tx("E03", "Started", 0, "CablePluggedIn", state="EVConnected"),
                 ("Authorize", {"idToken": {"idToken": TAG, "type": "ISO14443"}}),
                 tx("E03", "Updated", 1, "Authorized", tag=TAG),
                 tx("E03", "Updated", 2, "ChargingStateChanged", state="Charging")],
                {"status": "active", "charging_state": "Charging", "id_tag": TAG}),
    "TC_E_04": ([("Authorize", {"idToken": {"idToken": TAG, "type": "ISO14443"}}),
                 tx("E04", "Started", 0, "Authorized", tag=TAG), status(1, "Occupied"),
                 tx("E04", "Updated", 1, "CablePluggedIn", state="EVConnected"),
                 tx("E04", "Updated", 2, "ChargingStateChanged", state="Charging")],
                {"status": "active", "charging_state": "Charging", "id_tag": TAG}),
    "TC_E_09": ([status(1, "Occupied"), tx("E09", "Started", 0, "CablePluggedIn", state="EVConnected")],
                {"status": "active", "charging_state": "EVConnected"}),
    "TC_E_10": ([tx("E10", "Started", 0, "Authorized", tag=TAG)], {"status": "active", "id_tag": TAG}),
    "TC_E_11": ([tx("E11", "Started", 0, "SignedDataReceived", tag=TAG,
                    meter=reading(100, "Transaction.Begin", signed=True))], {"status": "active"}),
    "TC_E_12": ([tx("E12", "Started", 0, "EVDetected")], {"status": "active"}),
    "TC_E_07": ([tx("E07", "Started", 0, "Authorized", tag=TAG, state="Charging"),
                 tx("E07", "Updated", 1, "StopAuthorized", tag=TAG, state="EVConnected"),
                 tx("E07", "Ended", 2, "EVCommunicationLost", reason="Local", state="Idle")],
                {"status": "finished", "stop_reason": "Local"}),
    "TC_E_08": ([tx("E08", "Started", 0, "Authorized", tag=TAG, state="Charging"),
                 tx("E08", "Ended", 1, "StopAuthorized", tag=TAG, reason="Local", state="EVConnected")],
                {"status": "finished", "stop_reason": "Local"}),
    "TC_E_14": ([tx("E14", "Started", 0, "Authorized", tag=TAG, state="Charging"),
                 tx("E14", "Ended", 1, "EVCommunicationLost", reason="EVDisconnected", state="Idle"),
                 status(1, "Available")],
                {"status": "finished", "stop_reason": "EVDisconnected"}),
    "TC_E_15": ([tx("E15", "Started", 0, "Authorized", tag=TAG, state="Charging"),
                 ("Authorize", {"idToken": {"idToken": TAG, "type": "ISO14443"}}),
                 tx("E15", "Ended", 1, "StopAuthorized", tag=TAG, reason="Local", state="EVConnected")],
                {"status": "finished", "stop_reason": "Local"}),
    "TC_E_16": ([tx("E16", "Started", 0, "CablePluggedIn", state="EVConnected"),
                 tx("E16", "Updated", 1, "Authorized", tag="E16-UNKNOWN-TOKEN"),
                 tx("E16", "Ended", 2, "Deauthorized", reason="DeAuthorized", state="EVConnected")],
                {"status": "finished", "stop_reason": "DeAuthorized"}),
    "TC_E_17": ([tx("E17", "Started", 0, "Authorized", tag=TAG, state="Charging"),
                 tx("E17", "Ended", 1, "EVCommunicationLost", reason="EVDisconnected", state="Idle")],
                {"status": "finished", "stop_reason": "EVDisconnected"}),
    "TC_E_19": ([tx("E19", "Started", 0, "EVDetected"),
                 tx("E19", "Updated", 1, "EVCommunicationLost", state="Idle"),
                 tx("E19", "Ended", 2, "EVDeparted", reason="Local")],
                {"status": "finished", "stop_reason": "Local"}),
    "TC_E_20": ([tx("E20", "Started", 0, "Authorized", tag=TAG, state="Charging"),
                 tx("E20", "Updated", 1, "EVCommunicationLost", state="SuspendedEV"),
                 tx("E20", "Ended", 2, "EVCommunicationLost", reason="EVDisconnected", state="Idle")],
                {"status": "finished", "stop_reason": "EVDisconnected"}),
    "TC_E_22": ([tx("E22", "Started", 0, "Authorized", tag=TAG, state="Charging"),
                 tx("E22", "Updated", 1, "ChargingStateChanged", state="SuspendedEV"),
                 tx("E22", "Ended", 2, "ChargingStateChanged", reason="StoppedByEV", state="SuspendedEV")],
                {"status": "finished", "stop_reason": "StoppedByEV"}),
    "TC_E_26": ([tx("E26", "Started", 0, "Authorized", tag=TAG, state="Charging"),
                 tx("E26", "Updated", 1, "EVCommunicationLost", state="Idle"), status(1, "Available")],
                {"status": "active", "charging_state": "Idle"}),
    "TC_E_38": ([tx("E38", "Started", 0, "Authorized", tag=TAG), status(1, "Occupied"),
                 tx("E38", "Updated", 1, "CablePluggedIn", state="EVConnected"),
                 tx("E38", "Updated", 2, "ChargingStateChanged", state="SuspendedEV")],
                {"status": "active", "charging_state": "SuspendedEV"}),
    "TC_E_39": ([tx("E39", "Started", 0, "Authorized", tag=TAG),
                 tx("E39", "Ended", 1, "EVConnectTimeout", reason="Timeout")],
                {"status": "finished", "stop_reason": "Timeout"}),
    "TC_E_53": ([tx("E53-a", "Started", 0, "Authorized", tag=TAG),
                 tx("E53-a", "Ended", 1, "StopAuthorized", tag=TAG, reason="Local"),
                 tx("E53-b", "Started", 0, "Authorized", tag=TAG)],
                {"status": "active", "transaction_id": "E53-b"}),
    "TC_F_01": ([status(1, "Occupied"), tx("F01", "Started", 0, "CablePluggedIn", state="EVConnected"),
                 tx("F01", "Updated", 1, "RemoteStart", tag=TAG, remote_start=True),
                 tx("F01", "Updated", 2, "ChargingStateChanged", state="Charging")],
                {"status": "active", "charging_state": "Charging", "id_tag": TAG}),
    "TC_F_02": ([tx("F02", "Started", 0, "RemoteStart", tag=TAG, remote_start=True), status(1, "Occupied"),
                 tx("F02", "Updated", 1, "CablePluggedIn", state="EVConnected"),
                 tx("F02", "Updated", 2, "ChargingStateChanged", state="Charging")],
                {"status": "active", "charging_state": "Charging", "id_tag": TAG}),
    "TC_F_04": ([tx("F04", "Started", 0, "RemoteStart", tag=TAG, remote_start=True),
                 tx("F04", "Ended", 1, "EVConnectTimeout", reason="Timeout")],
                {"status": "finished", "stop_reason": "Timeout"}),
    "TC_G_20": ([status(1, "Occupied"), tx("G20", "Started", 0, "CablePluggedIn", state="EVConnected"),
                 ("NotifyEvent", {"generatedAt": ts(), "seqNo": 0, "eventData": [
                     {"eventId": 1, "timestamp": ts(), "trigger": "Delta", "actualValue": "true",
                      "eventNotificationType": "HardWiredNotification",
                      "component": {"name": "ConnectorPlugRetentionLock", "evse": {"id": 1, "connectorId": 1}},
                      "variable": {"name": "Problem"}}]})],
                {"status": "active", "event": "event"}),
    "TC_J_01": ([("MeterValues", {"evseId": 0, "meterValue": reading(5000, "Sample.Clock")}),
                 ("MeterValues", {"evseId": 1, "meterValue": reading(1000, "Sample.Clock")})], None),
    "TC_J_02": ([tx("J02", "Started", 0, "Authorized", tag=TAG, state="Charging",
                    meter=reading(1000, "Transaction.Begin")),
                 ("MeterValues", {"evseId": 2, "meterValue": reading(300, "Sample.Clock")}),
                 tx("J02", "Updated", 1, "MeterValueClock", meter=reading(1500, "Sample.Clock"))],
                {"status": "active", "energy_wh": 500}),
    "TC_J_03": ([tx("J03", "Started", 0, "Authorized", tag=TAG, meter=reading(1000, "Transaction.Begin")),
                 tx("J03", "Ended", 1, "StopAuthorized", tag=TAG, reason="Local",
                    meter=reading(1800, "Sample.Clock") + reading(2000, "Transaction.End"))],
                {"status": "finished", "energy_wh": 1000}),
    "TC_J_04": ([tx("J04", "Started", 0, "Authorized", tag=TAG, meter=reading(1000, "Transaction.Begin", True)),
                 tx("J04", "Updated", 1, "MeterValueClock", meter=reading(1400, "Sample.Clock", True))],
                {"status": "active", "energy_wh": 400}),
    "TC_J_07": ([tx("J07", "Started", 0, "Authorized", tag=TAG, meter=reading(1000, "Transaction.Begin"))],
                {"status": "active", "meter_start": 1000}),
    "TC_J_08": ([tx("J08", "Started", 0, "Authorized", tag=TAG, evse=False,
                    meter=reading(1000, "Transaction.Begin")),
                 tx("J08", "Updated", 1, "CablePluggedIn", state="EVConnected")],
                {"status": "active", "meter_start": 1000}),
    "TC_J_09": ([tx("J09", "Started", 0, "Authorized", tag=TAG, meter=reading(1000, "Transaction.Begin")),
                 tx("J09", "Updated", 1, "MeterValuePeriodic", meter=reading(1700, "Sample.Periodic"))],
                {"status": "active", "energy_wh": 700}),
    "TC_J_10": ([tx("J10", "Started", 0, "Authorized", tag=TAG, meter=reading(1000, "Transaction.Begin")),
                 tx("J10", "Ended", 1, "StopAuthorized", tag=TAG, reason="Local",
                    meter=reading(1500, "Sample.Periodic") + reading(1900, "Transaction.End"))],
                {"status": "finished", "energy_wh": 900, "meter_stop": 1900}),
    "TC_J_11": ([tx("J11", "Started", 0, "Authorized", tag=TAG, meter=reading(1000, "Transaction.Begin", True)),
                 tx("J11", "Updated", 1, "MeterValuePeriodic", meter=reading(1250, "Sample.Periodic", True))],
                {"status": "active", "energy_wh": 250}),
    "TC_P_03": ([("StatusNotification", {**status(1, "Available")[1], "customData": {"vendorId": "com.example",
                                                                                       "mood": "happy"}}),
                 ("TransactionEvent", {**tx("P03", "Started", 0, "Authorized", tag=TAG)[1],
                                       "customData": {"vendorId": "com.example", "x": 1},
                                       "transactionInfo": {"transactionId": "P03",
                                                           "customData": {"vendorId": "com.example", "y": [1]}}})],
                {"status": "active"}),
}


def _personal(steps: list, tag: str, suffix: str, remote_start_id: int | None) -> list:
    """The case's steps for this run: the registered token, transaction ids of this station."""
    made = []
    for action, payload in steps:
        payload = {**payload}
        if action == "TransactionEvent":
            info = {**payload["transactionInfo"], "transactionId": payload["transactionInfo"]["transactionId"] + suffix}
            payload["transactionInfo"] = info
            if payload.pop("remote_start", False):
                payload["transactionInfo"]["remoteStartId"] = remote_start_id
        if payload.get("idToken", {}).get("idToken") == TAG:
            payload["idToken"] = {**payload["idToken"], "idToken": tag}
        made.append((action, payload))
    return made


@pytest.mark.parametrize("case_id", sorted(TRANSACTION_CASES))
async def test_station_transaction_case(server, case_id):
    steps, session = TRANSACTION_CASES[case_id]
    tag = await server.add_tag()
    async with online(server) as (cp, st, api):
        remote_start_id = None
        if case_id.startswith("TC_F_"):  # the remote start the case begins with (RequestStartTransaction)
            http = await post(api, cp, "remote-start", {"id_tag": tag, "evse": 1})
            frame = await receive_call(st, http)
            assert frame[2] == "RequestStartTransaction" and frame[3]["idToken"]["idToken"] == tag
            await st.answer(frame, {"status": "Accepted"})
            assert (await http).status_code == 200
            remote_start_id = frame[3]["remoteStartId"]
        suffix = f"-{cp}"
        for action, payload in _personal(steps, tag, suffix, remote_start_id):
            reply = await st.call(action, payload)
            assert reply[0] == 3, (action, payload, reply)
            token = payload.get("idToken", {}).get("idToken")
            if action in ("Authorize", "TransactionEvent") and token is not None:
                expected = "Accepted" if token == tag else "Unknown"
                assert reply[2]["idTokenInfo"]["status"] == expected, reply
            elif action not in ("Authorize", "BootNotification", "Heartbeat"):
                assert reply[2] == {}, (action, reply)
        if session is None:
            assert await sessions_of(api, cp) == []
            return
        expected = {**session}
        kind = expected.pop("event", None)
        if kind:
            assert kind in await event_kinds(api, cp)
        if "transaction_id" in expected:
            expected["transaction_id"] += suffix
        if expected.get("id_tag") == TAG:
            expected["id_tag"] = tag
        newest = (await sessions_of(api, cp))[0]
        assert {k: newest[k] for k in expected} == expected, newest
        if any(a == "TransactionEvent" and p["eventType"] == "Started" and p.get("remote_start") for a, p in steps):
            assert newest["remote_start_id"] == remote_start_id, newest


# --- C: authorisation answers ---------------------------------------------------------------------


@pytest.mark.parametrize("case_id, token, answer", [
    ("TC_C_02", {}, "Unknown"),
    ("TC_C_06", {"status": "Blocked"}, "Blocked"),
    ("TC_C_07", {"expires_at": "2020-01-01T00:00:00Z"}, "Expired"),
    ("TC_C_08", {}, "Accepted"),
    ("TC_C_20", {"status": "Blocked"}, "Blocked"),
])
async def test_authorization_case(server, case_id, token, answer):
    """C_02/C_06/C_07: Authorize then a refused start; C_08/C_20: a token from the station's cache
    (the station sends no Authorize) whose status Wattson answers in the TransactionEvent."""
    uid = unique("TAG") if case_id == "TC_C_02" else await server.add_tag(**token)
    tx_id = f"{case_id}-{unique()}"
    async with online(server) as (cp, st, api):
        if case_id in ("TC_C_02", "TC_C_06", "TC_C_07"):
            reply = await st.ok("Authorize", {"idToken": {"idToken": uid, "type": "ISO14443"}})
            assert reply["idTokenInfo"]["status"] == answer
            return
        await st.ok("TransactionEvent", tx(tx_id, "Started", 0, "CablePluggedIn", state="EVConnected")[1])
        reply = await st.ok("TransactionEvent", tx(tx_id, "Updated", 1, "Authorized", tag=uid)[1])
        assert reply["idTokenInfo"]["status"] == answer


@pytest.mark.parametrize("case_id", ["TC_C_39", "TC_C_40", "TC_C_43"])
async def test_authorization_by_group_id_case(server, case_id):
    """Two tokens of one group (their parent id): the first starts, the second (C_43: after an
    Authorize) stops; each answer is Accepted and names the group."""
    group = await server.add_tag()
    first, second = await server.add_tag(parent_id_tag=group), await server.add_tag(parent_id_tag=group)
    tx_id = f"{case_id}-{unique()}"
    async with online(server) as (cp, st, api):
        await st.ok("TransactionEvent", tx(tx_id, "Started", 0, "CablePluggedIn", state="EVConnected")[1])
        answers = [await st.ok("TransactionEvent", tx(tx_id, "Updated", 1, "Authorized", tag=first)[1])]
        if case_id == "TC_C_43":
            answers.append(await st.ok("Authorize", {"idToken": {"idToken": second, "type": "ISO14443"}}))
        answers.append(await st.ok("TransactionEvent", tx(tx_id, "Updated", 2, "StopAuthorized", tag=second)[1]))
        answers.append(await st.ok("TransactionEvent", tx(tx_id, "Ended", 3, "EVCommunicationLost",
                                                          reason="Local")[1]))
        for answer in answers[:-1]:
            assert answer["idTokenInfo"]["status"] == "Accepted", answer
            assert answer["idTokenInfo"]["groupIdToken"]["idToken"] == group, answer
        (session,) = await sessions_of(api, cp)
        assert (session["status"], session["id_tag"]) == ("finished", first)


@pytest.mark.parametrize("case_id, evses", [("TC_C_47", [1, 2]), ("TC_C_48", [2]), ("TC_C_49", [1, 2])])
async def test_stop_with_a_master_pass_case(server, case_id, evses):
    """A master pass (a token of the station's MasterPassGroupId group) ends transactions it did not
    start: Wattson answers its Authorize and the Ended events, and closes the sessions with reason MasterPass."""
    master_group = await server.add_tag()
    master = await server.add_tag(parent_id_tag=master_group)
    drivers = [await server.add_tag(), await server.add_tag()]
    async with online(server) as (cp, st, api):
        for evse, driver in zip((1, 2), drivers):
            started = tx(f"{case_id}-{evse}-{cp}", "Started", 0, "Authorized", tag=driver, state="Charging")[1]
            started["evse"] = {"id": evse, "connectorId": 1}
            assert (await st.ok("TransactionEvent", started))["idTokenInfo"]["status"] == "Accepted"
        if case_id != "TC_C_49":  # a station with a UI asks first; one without just stops
            answer = await st.ok("Authorize", {"idToken": {"idToken": master, "type": "ISO14443"}})
            assert answer["idTokenInfo"]["status"] == "Accepted"
            assert answer["idTokenInfo"]["groupIdToken"]["idToken"] == master_group
        for evse in evses:
            ended = tx(f"{case_id}-{evse}-{cp}", "Ended", 1, "StopAuthorized", tag=master, reason="MasterPass")[1]
            ended["evse"] = {"id": evse, "connectorId": 1}
            assert (await st.ok("TransactionEvent", ended))["idTokenInfo"]["status"] == "Accepted"
        by_evse = {s["evse"]: s for s in await sessions_of(api, cp)}
        for evse in (1, 2):
            if evse in evses:
                assert (by_evse[evse]["status"], by_evse[evse]["stop_reason"]) == ("finished", "MasterPass"), \
                    by_evse[evse]
            else:
                assert by_evse[evse]["status"] == "active", by_evse[evse]


async def test_tc_h_19_reservation_with_a_group_used_by_another_member(server):
    group = await server.add_tag()
    holder, member = await server.add_tag(parent_id_tag=group), await server.add_tag(parent_id_tag=group)
    async with online(server) as (cp, st, api):
        http = await post(api, cp, "reserve-now", {"evse": 1, "id_tag": holder, "parent_id_tag": group,
                                                   "expires_at": ts(3600)})
        frame = await receive_call(st, http)
        assert frame[3]["evseId"] == 1 and "connectorType" not in frame[3]
        assert frame[3]["groupIdToken"]["idToken"] == group and frame[3]["idToken"]["idToken"] == holder
        await st.answer(frame, {"status": "Accepted"})
        assert (await http).status_code == 200
        assert await st.ok(*status(1, "Reserved")) == {}
        started = tx(f"H19-{cp}", "Started", 0, "Authorized", tag=member, reservationId=frame[3]["id"])[1]
        answer = await st.ok("TransactionEvent", started)
        assert answer["idTokenInfo"]["status"] == "Accepted"
        assert answer["idTokenInfo"]["groupIdToken"]["idToken"] == group
        r = await api.get(f"/api/v1/reservations/{frame[3]['id']}")
        assert r.json()["status"] == "used", r.json()


@pytest.mark.parametrize("case_id, event", [
    ("TC_N_21", {"trigger": "Alerting", "actualValue": "true", "eventNotificationType": "HardWiredMonitor",
                 "component": {"name": "ChargingStation"}, "variable": {"name": "Problem"}}),
    ("TC_N_48", {"trigger": "Delta", "actualValue": "", "eventNotificationType": "CustomMonitor",
                 "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}),
    ("TC_N_49", {"trigger": "Alerting", "actualValue": "21000", "cleared": True,
                 "eventNotificationType": "CustomMonitor", "component": {"name": "EVSE", "evse": {"id": 1}},
                 "variable": {"name": "Power"}}),
    ("TC_N_50", {"trigger": "Periodic", "actualValue": "7400", "eventNotificationType": "CustomMonitor",
                 "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}),
])
async def test_alert_event_case(sqlite_server, case_id, event):
    async with online(sqlite_server) as (cp, st, api):
        payload = {"generatedAt": ts(), "seqNo": 0, "eventData": [{"eventId": 7, "timestamp": ts(), **event}]}
        assert await st.ok("NotifyEvent", payload) == {}
        r = await api.get(f"/api/v1/charge-points/{cp}/events")
        (kept,) = [e for e in r.json()["data"] if e["kind"] == "event"]
        assert kept["data"]["trigger"] == event["trigger"], kept


@pytest.mark.parametrize("case_id, body, trigger", [
    ("TC_F_13", {"message": "TransactionEvent", "evse": 1}, {"requestedMessage": "TransactionEvent",
                                                             "evse": {"id": 1}}),
    ("TC_F_14", {"message": "TransactionEvent"}, {"requestedMessage": "TransactionEvent"}),
])
async def test_trigger_transaction_event_case(server, case_id, body, trigger):
    tag = await server.add_tag()
    tx_id = f"{case_id}-{unique()}"
    async with online(server) as (cp, st, api):
        await st.ok("TransactionEvent", tx(tx_id, "Started", 0, "Authorized", tag=tag, state="Charging",
                                           meter=reading(1000, "Transaction.Begin"))[1])
        http = await post(api, cp, "trigger-message", body)
        frame = await receive_call(st, http)
        assert frame[2:] == ["TriggerMessage", trigger]
        await st.answer(frame, {"status": "Accepted"})
        assert (await http).status_code == 200
        assert await st.ok("TransactionEvent", tx(tx_id, "Updated", 1, "Trigger", state="Charging",
                                                  meter=reading(1600, "Trigger"))[1]) == {}
        (session,) = await sessions_of(api, cp)
        assert (session["status"], session["energy_wh"]) == ("active", 600)


# --- E: GetTransactionStatus of a known transaction; F_03/E_21 remote start/stop --------------------


@pytest.mark.parametrize("case_id, ended, reply", [
    ("TC_E_29", False, {"ongoingIndicator": True, "messagesInQueue": True}),
    ("TC_E_30", False, {"ongoingIndicator": True, "messagesInQueue": False}),
    ("TC_E_31", True, {"ongoingIndicator": False, "messagesInQueue": True}),
])
async def test_transaction_status_case(server, case_id, ended, reply):
    tag = await server.add_tag()
    tx_id = f"{case_id}-{unique()}"
    async with online(server) as (cp, st, api):
        await st.ok("TransactionEvent", tx(tx_id, "Started", 0, "Authorized", tag=tag)[1])
        if ended:
            await st.ok("TransactionEvent", tx(tx_id, "Ended", 1, "StopAuthorized", tag=tag, reason="Local")[1])
        (session,) = await sessions_of(api, cp)
        http = await post(api, cp, "get-transaction-status", {"session_id": session["id"]})
        frame = await receive_call(st, http)
        assert frame[2:] == ["GetTransactionStatus", {"transactionId": tx_id}]
        await st.answer(frame, reply)
        r = await http
        assert r.status_code == 200 and r.json()["response"] == reply, r.text


async def test_tc_e_21_stop_authorized_remote(server):
    tag = await server.add_tag()
    tx_id = f"E21-{unique()}"
    async with online(server) as (cp, st, api):
        await st.ok("TransactionEvent", tx(tx_id, "Started", 0, "Authorized", tag=tag, state="Charging")[1])
        (session,) = await sessions_of(api, cp)
        http = await post(api, cp, "remote-stop", {"session_id": session["id"]})
        frame = await receive_call(st, http)
        assert frame[2:] == ["RequestStopTransaction", {"transactionId": tx_id}]
        await st.answer(frame, {"status": "Accepted"})
        assert (await http).status_code == 200
        assert await st.ok("TransactionEvent", tx(tx_id, "Ended", 1, "RemoteStop", reason="Remote",
                                                  state="EVConnected")[1]) == {}
        (session,) = await sessions_of(api, cp)
        assert (session["status"], session["stop_reason"]) == ("finished", "Remote")


async def test_tc_f_01_remote_start_id_of_an_updated_event_is_recorded(sqlite_server):
    """Cable first (F01): the transaction started at plug-in; the remote start's id comes in an Updated event."""
    tag = await sqlite_server.add_tag()
    async with online(sqlite_server) as (cp, st, api):
        tx_id = f"F01-{cp}"
        await st.ok("TransactionEvent", tx(tx_id, "Started", 0, "CablePluggedIn", state="EVConnected")[1])
        http = await post(api, cp, "remote-start", {"id_tag": tag, "evse": 1})
        frame = await receive_call(st, http)
        await st.answer(frame, {"status": "Accepted", "transactionId": tx_id})
        assert (await http).status_code == 200
        updated = tx(tx_id, "Updated", 1, "RemoteStart", tag=tag)[1]
        updated["transactionInfo"]["remoteStartId"] = frame[3]["remoteStartId"]
        assert (await st.ok("TransactionEvent", updated))["idTokenInfo"]["status"] == "Accepted"
        (session,) = await sessions_of(api, cp)
        assert session["id_tag"] == tag
        assert session["remote_start_id"] == frame[3]["remoteStartId"], session


async def test_tc_f_01_an_updated_remote_start_without_its_token_means_the_commands(server):
    """Cable first, and the Updated event names only the remoteStartId: the session takes the
    command's token and id (not answered with idTokenInfo, no idToken was sent), and a later
    event naming none keeps both."""
    tag = await server.add_tag()
    async with online(server) as (cp, st, api):
        tx_id = f"F01n-{cp}"
        await st.ok("TransactionEvent", tx(tx_id, "Started", 0, "CablePluggedIn", state="EVConnected")[1])
        http = await post(api, cp, "remote-start", {"id_tag": tag, "evse": 1})
        frame = await receive_call(st, http)
        await st.answer(frame, {"status": "Accepted", "transactionId": tx_id})
        assert (await http).status_code == 200
        updated = tx(tx_id, "Updated", 1, "RemoteStart")[1]
        updated["transactionInfo"]["remoteStartId"] = frame[3]["remoteStartId"]
        assert await st.ok("TransactionEvent", updated) == {}
        assert await st.ok("TransactionEvent", tx(tx_id, "Updated", 2, "ChargingStateChanged",
                                                  state="Charging")[1]) == {}
        (session,) = await sessions_of(api, cp)
        assert (session["id_tag"], session["remote_start_id"], session["charging_state"]) == (
            tag, frame[3]["remoteStartId"], "Charging"), session


async def test_tc_h_15_a_connector_type_through_the_reservations_api_and_where_it_cannot_go(sqlite_server):
    """TC_H_15 by POST /reservations: the 2.0.1 ReserveNow names the type, the reservation is kept; a
    type 2.0.1 does not know, or any type for a 1.6 station (which reserves by connector), is a 422
    and nothing is sent."""
    expires = ts(3600)
    async with online(sqlite_server) as (cp, st, api):
        http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/reservations", json={
            "id_tag": "H15", "expires_at": expires, "connector_type": "cCCS2"}))
        frame = await receive_call(st, http)
        assert (frame[2], frame[3]["connectorType"], "evseId" in frame[3]) == ("ReserveNow", "cCCS2", False)
        await st.answer(frame, {"status": "Accepted"})
        r = await http
        assert (r.status_code, r.json()["status"]) == (201, "active"), r.text
        r = await api.post(f"/api/v1/charge-points/{cp}/commands/reserve-now", json={
            "id_tag": "H15", "expires_at": expires, "connector_type": "cNoSuchPlug"})
        assert r.status_code == 422, r.text
        await no_call(st, 0.2)
    cp16 = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp16) as st16, sqlite_server.api() as api:
        await st16.boot()
        for path in ("reservations", "commands/reserve-now"):
            r = await api.post(f"/api/v1/charge-points/{cp16}/{path}", json={
                "evse": 1, "id_tag": "H15", "expires_at": expires, "connector_type": "cType2"})
            assert (r.status_code, r.json()["error"]["code"]) == (422, "command_not_supported"), r.text
            assert "connector type" in r.json()["error"]["message"]
        await no_call(st16, 0.2)


async def test_tc_f_03_remote_start_without_authorize_remote_start(server):
    """AuthorizeRemoteStart false: the station starts at once with the command's token, no Authorize."""
    tag = await server.add_tag()
    async with online(server) as (cp, st, api):
        http = await post(api, cp, "remote-start", {"id_tag": tag, "evse": 1})
        frame = await receive_call(st, http)
        await st.answer(frame, {"status": "Accepted"})
        assert (await http).status_code == 200
        tx_id = f"F03-{cp}"
        started = tx(tx_id, "Started", 0, "RemoteStart", tag=tag)[1]
        started["transactionInfo"]["remoteStartId"] = frame[3]["remoteStartId"]
        assert (await st.ok("TransactionEvent", started))["idTokenInfo"]["status"] == "Accepted"
        (session,) = await sessions_of(api, cp)
        assert (session["remote_start_id"], session["id_tag"]) == (frame[3]["remoteStartId"], tag)


# --- B02.FR.09: a Pending station reports on what it was asked to do -----------------------------
PENDING_FOLLOW_UPS = [
    pytest.param("UpdateFirmware", {"requestId": 21, "firmware": {"location": "https://fw.example/P.bin",
                                                                  "retrieveDateTime": ts()}},
                 lambda: firmware("Downloading", 21), id="UpdateFirmware"),
    pytest.param("GetLog", {"logType": "DiagnosticsLog", "requestId": 22,
                            "log": {"remoteLocation": "https://logs.example/upload"}},
                 lambda: log_status("Uploading", 22), id="GetLog"),
    pytest.param("GetMonitoringReport", {"requestId": 23}, lambda: monitoring_report(23), id="GetMonitoringReport"),
    pytest.param("CustomerInformation", {"requestId": 24, "report": True, "clear": False,
                                         "customerIdentifier": "customer-24"},
                 lambda: customer_data(24, "customer-24: no data"), id="CustomerInformation"),
    pytest.param("PublishFirmware", {"location": "https://fw.example/P.bin", "checksum": CHECKSUM, "requestId": 25},
                 lambda: publish("Downloading", 25), id="PublishFirmware"),
]


@pytest.mark.parametrize("action, payload, follow_up", PENDING_FOLLOW_UPS)
async def test_a_pending_station_may_send_the_follow_ups_of_what_it_was_asked(sqlite_server, action, payload,
                                                                              follow_up):
    """While Pending (B02.FR.09) the follow-up is a SecurityError until Wattson asked for it; then
    it is answered, as often as the station reports, and the other follow-ups are still refused;
    a new connection starts uninvited again."""
    cp = await sqlite_server.add_station(registration_status="Pending")
    others = [p.values[2]() for p in PENDING_FOLLOW_UPS if p.values[0] != action]
    async with station(sqlite_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        assert (await st.ok("BootNotification", BOOT))["status"] == "Pending"
        assert_error(await st.call(*follow_up()), "SecurityError")
        out = await csms_call(sqlite_server, st, cp, action, payload, {"status": "Accepted"})
        assert (out["state"], out["status"]) == ("completed", "Accepted")
        assert await st.ok(*follow_up()) == {}
        assert await st.ok(*follow_up()) == {}
        for other in others:
            assert_error(await st.call(*other), "SecurityError")
    async with station(sqlite_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        assert (await st.ok("BootNotification", BOOT))["status"] == "Pending"
        assert_error(await st.call(*follow_up()), "SecurityError")


# --- G: availability with a transaction; B: reset with a transaction --------------------------------


@pytest.mark.parametrize("case_id, body, payload", [
    ("TC_G_11", {"evse": 1, "operative": False}, {"operationalStatus": "Inoperative", "evse": {"id": 1}}),
    ("TC_G_14", {"operative": False}, {"operationalStatus": "Inoperative"}),
    ("TC_G_17", {"evse": 1, "connector": 1, "operative": False},
     {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 1}}),
    ("TC_B_21", None, {"type": "OnIdle"}),
    ("TC_B_22", None, {"type": "Immediate"}),
    ("TC_B_26", None, {"type": "OnIdle", "evseId": 1}),
    ("TC_B_27", None, {"type": "Immediate", "evseId": 1}),
])
async def test_command_during_a_transaction_case(server, case_id, body, payload):
    """The station answers Scheduled (OnIdle, availability) or Accepted (Immediate), ends the
    transaction and then reports the connector; Wattson closes the session and shows the status."""
    tag = await server.add_tag()
    tx_id = f"{case_id}-{unique()}"
    immediate = payload.get("type") == "Immediate"
    if body is None:
        body = {"type": "hard" if immediate else "soft", **({"evse": 1} if "evseId" in payload else {})}
    command = "reset" if "type" in payload else "change-availability"
    async with online(server) as (cp, st, api):
        await st.ok("TransactionEvent", tx(tx_id, "Started", 0, "Authorized", tag=tag, state="Charging")[1])
        http = await post(api, cp, command, body)
        frame = await receive_call(st, http)
        assert frame[3] == payload, frame
        await st.answer(frame, {"status": "Accepted" if immediate else "Scheduled"})
        assert (await http).status_code == 200
        if immediate:
            ended = tx(tx_id, "Ended", 1, "ResetCommand", reason="ImmediateReset")[1]
        elif command == "reset":
            ended = tx(tx_id, "Ended", 1, "StopAuthorized", tag=tag, reason="Local")[1]
        else:
            ended = tx(tx_id, "Ended", 1, "EVCommunicationLost", reason="EVDisconnected")[1]
        assert (await st.call("TransactionEvent", ended))[0] == 3
        after = "Unavailable" if command == "change-availability" else "Available"
        if command == "reset" and "evseId" not in payload:
            assert (await st.ok("BootNotification", {**BOOT, "reason": "RemoteReset"}))["status"] == "Accepted"
        await st.ok(*status(1, after))
        await until(lambda: _status_is(api, cp, 1, after), f"connector 1 {after}")
        (session,) = await sessions_of(api, cp)
        assert (session["status"], session["stop_reason"]) == ("finished", ended["transactionInfo"]["stoppedReason"])


# --- B_01, B_30/B_31: boot; P_02: DataTransfer -------------------------------------------------------


async def test_tc_b_01_cold_boot_accepted(sqlite_server):
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp, ("ocpp2.0.1",)) as st, sqlite_server.api() as api:
        boot = await st.ok("BootNotification", BOOT)
        assert boot["status"] == "Accepted" and boot["interval"] > 0
        datetime.fromisoformat(boot["currentTime"].replace("Z", "+00:00"))
        assert await st.ok(*status(1, "Available")) == {}
        assert "currentTime" in await st.ok("Heartbeat", {})
        assert (await charge_point(api, cp))["registration_status"] == "Accepted"


@pytest.mark.parametrize("vendor_id, message_id, answer", [
    ("com.example.unknown", None, "UnknownVendorId"),
    ("com.example.unknown", "Ping", "UnknownVendorId"),
])
async def test_tc_p_02_data_transfer_unknown_vendor(sqlite_server, vendor_id, message_id, answer):
    async with online(sqlite_server) as (cp, st, api):
        payload = {"vendorId": vendor_id, **({"messageId": message_id} if message_id else {}), "data": "x"}
        assert (await st.ok("DataTransfer", payload))["status"] == answer
        assert "data_transfer" in await event_kinds(api, cp)


async def test_unknown_command_path_is_refused_without_a_call(sqlite_server):
    """Guards the table above: a misspelt action is a 4xx, never a call."""
    async with online(sqlite_server) as (cp, st, api):
        r = await api.post(f"/api/v1/charge-points/{cp}/ocpp/NoSuchAction", json={})
        assert 400 <= r.status_code < 500, r.text
        await no_call(st, 0.2)
