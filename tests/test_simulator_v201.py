"""The simulator speaking OCPP 2.0.1 and 2.1.

Unit tests of its message layer (every call it builds and every answer it gives validates against
the published schemas of both versions), a session against a bare-bones CSMS that can drop the
line, and end to end against a real `wattson serve`: it charges, obeys commands, and runs in a
mixed fleet beside 1.6 stations.
"""

import asyncio
import time
import uuid
from datetime import timedelta

import orjson
import pytest
from websockets.asyncio.server import serve

from conftest import READY_BOUND_S, unique
from wattson.ocpp.validation import SchemaSet
from wattson.sim import SimStation, StationConfig, operations, run_stations
from wattson.sim.connector import Reservation, Transaction
from wattson.sim.meter import Ev
from wattson.sim.wire import CallError, iso, utc_now

SCHEMAS = {"2.0.1": SchemaSet("v201"), "2.1": SchemaSet("v21")}
VERSIONS = list(SCHEMAS)
TOKEN = {"idToken": "TAG-V2", "type": "ISO14443"}
MEASURANDS = {"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage"}

# A self-signed root (EC P-256), for the certificate store.
ROOT_PEM = """-----BEGIN CERTIFICATE-----
MIIBtDCCAVmgAwIBAgIUKbYmfUPMRFVnoBcnYurK8IXnJNAwCgYIKoZIzj0EAwIw
LjEaMBgGA1UEAwwRV2F0dHNvbiBUZXN0IFJvb3QxEDAOBgNVBAoMB1dhdHRzb24w
IBcNMjYxMTIyMDIyODU4WhgPMjEyNjEwMjkwMjI4NThaMC4xGjAYBgNVBAMMEVdh
dHRzb24gVGVzdCBSb290MRAwDgYDVQQKDAdXYXR0c29uMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAE2BjZI4Yi4hVyRQtY/t5T6Z37pmRWMYhiItlcrpcFrNBM7WYj
f4GSv797x1oXpOJnEDZTd64NBoqFjqX68600mKNTMFEwHQYDVR0OBBYEFKcOK8vP
8bUlHP2sA8AzP3bfPMwzMB8GA1UdIwQYMBaAFKcOK8vP8bUlHP2sA8AzP3bfPMwz
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhALOjcbSXu4DVRtqK
yKaZ59mednbS6fUg8i4pqBUhbA6fAiEA7jaJnt7ZRAj5LbztLThEzLOMTz/uOmPQ
OkAuxKixnUM=
-----END CERTIFICATE-----
"""
# What `openssl ocsp -sha256 -issuer root.pem -cert root.pem` computes for it.
ROOT_HASH = {"hashAlgorithm": "SHA256",
             "issuerNameHash": "14b459e1c284d7cf4f36e8ab992ce904e09fc71640aab8ef16e7c568864ba349",
             "issuerKeyHash": "eeb7013703c01fa3bc85035a8a55b58266d3cb43ebd70a44fce85b4afc5e399c",
             "serialNumber": "29b6267d43cc445567a0172762eacaf085e724d0"}


def offline_station(version: str, **config) -> tuple[SimStation, list[tuple[str, dict]]]:
    """A station never started, whose outgoing messages are recorded instead of queued."""
    station = SimStation(StationConfig("CP-V2", "ws://127.0.0.1:1/ocpp", ocpp=version, seed=7, **config))
    sent: list[tuple[str, dict]] = []

    def send(action: str, payload: dict, **options) -> asyncio.Future:
        sent.append((action, payload))
        return asyncio.get_running_loop().create_future()

    station.send = send
    return station, sent


def events(sent, transaction_id=None) -> list[dict]:
    return [p for a, p in sent if a == "TransactionEvent"
            and transaction_id in (None, p["transactionInfo"]["transactionId"])]


# --- the station's own calls -----------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
async def test_every_call_the_station_builds_is_schema_valid(version):
    schemas = SCHEMAS[version]
    station, sent = offline_station(version)
    protocol = station.protocol
    assert protocol.subprotocol == {"2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}[version]
    built = [("BootNotification", protocol.boot_notification(reason))
             for reason in ("PowerUp", "RemoteReset", "Triggered")]
    built.append(("Authorize", protocol.authorize("TAG-V2", "ISO14443")))
    assert protocol.authorized({"idTokenInfo": {"status": "Accepted"}})
    assert not protocol.authorized({"idTokenInfo": {"status": "Blocked"}})
    for connector_id in (0, 1, 2):
        protocol.send_status(connector_id)
    connector = station.connectors[1]
    tx = Transaction(1, "TAG-V2", round(connector.register_wh), utc_now(), reservation_id=3,
                     ev=Ev(station.rng, station.phases), remote_start_id=42)
    connector.transaction = tx
    protocol.transaction_started(connector, tx)
    connector.register_wh += tx.ev.advance(20, 11_000)
    protocol.transaction_sampled(connector, tx)
    connector.status = "SuspendedEVSE"
    protocol.charging_state_changed(connector, tx)
    protocol.transaction_meter_values(connector, tx, "Trigger", "Trigger")
    protocol.meter_values(connector, "Trigger")
    for reason in ("Local", "Remote", "EVDisconnected", "DeAuthorized", "ImmediateReset", "Other", "UnlockCommand"):
        tx.stop_reason = reason
        protocol.transaction_ended(connector, tx, utc_now(), round(connector.register_wh))
    protocol.reservation_expired(Reservation(3, "TAG-V2", utc_now()))
    for action, payload in built + sent:
        schemas.validate_request(action, payload)

    assert built[0][1] == {"reason": "PowerUp", "chargingStation": {
        "model": "SimCharger", "vendorName": "Wattson", "serialNumber": "SN-CP-V2", "firmwareVersion": "1.0.0"}}
    statuses = [p for a, p in sent if a == "StatusNotification"]
    assert [(s["evseId"], s["connectorId"], s["connectorStatus"]) for s in statuses] == \
        [(1, 1, "Available"), (2, 1, "Available")]  # no station-wide status in 2.x
    started, sampled, state, triggered, *ended = events(sent)
    assert uuid.UUID(started["transactionInfo"]["transactionId"])
    assert (started["eventType"], started["seqNo"], started["triggerReason"]) == ("Started", 0, "RemoteStart")
    assert started["transactionInfo"]["remoteStartId"] == 42 and started["reservationId"] == 3
    assert (started["idToken"], started["evse"]) == (TOKEN, {"id": 1, "connectorId": 1})
    (begin,) = started["meterValue"][0]["sampledValue"]
    assert (begin["measurand"], begin["context"], begin["value"]) == \
        ("Energy.Active.Import.Register", "Transaction.Begin", tx.meter_start)
    assert (sampled["eventType"], sampled["seqNo"], sampled["triggerReason"]) == ("Updated", 1, "MeterValuePeriodic")
    assert {v["measurand"] for v in sampled["meterValue"][0]["sampledValue"]} >= MEASURANDS | {"SoC"}
    assert (state["triggerReason"], state["transactionInfo"]["chargingState"]) == \
        ("ChargingStateChanged", "SuspendedEVSE")
    assert triggered["triggerReason"] == "Trigger"
    assert [(e["triggerReason"], e["transactionInfo"]["stoppedReason"]) for e in ended] == [
        ("StopAuthorized", "Local"), ("RemoteStop", "Remote"), ("EVCommunicationLost", "EVDisconnected"),
        ("Deauthorized", "DeAuthorized"), ("ResetCommand", "ImmediateReset"), ("AbnormalCondition", "Other"),
        ("AbnormalCondition", "Other")]
    assert [e["seqNo"] for e in events(sent)] == list(range(11))
    assert ended[0]["meterValue"][0]["sampledValue"][0]["context"] == "Transaction.End"
    assert all(e["offline"] for e in events(sent))  # made while not connected
    assert ("ReservationStatusUpdate", {"reservationId": 3, "reservationUpdateStatus": "Expired"}) in sent


@pytest.mark.parametrize("version", VERSIONS)
async def test_statuses_show_only_what_2x_distinguishes(version):
    station, sent = offline_station(version, connectors=1)
    for status in ("Preparing", "Charging", "SuspendedEVSE", "Finishing", "Available", "Reserved", "Unavailable"):
        station.set_status(1, status)
    assert [p["connectorStatus"] for a, p in sent if a == "StatusNotification"] == \
        ["Occupied", "Available", "Reserved", "Unavailable"]


# --- answers to the CSMS's calls -------------------------------------------------------------------
def _profile(profile_id: int, purpose: str, limit: float, **extra) -> dict:
    return {"id": profile_id, "stackLevel": 1, "chargingProfilePurpose": purpose, "chargingProfileKind": "Absolute",
            "chargingSchedule": [{"id": profile_id, "chargingRateUnit": "W", "startSchedule": iso(utc_now()),
                                  "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}], **extra}


def _variable(component: str, name: str, instance: str | None = None, evse: dict | None = None) -> dict:
    return {"component": {"name": component, **({"evse": evse} if evse else {})},
            "variable": {"name": name, **({"instance": instance} if instance else {})}}


SOON = iso(utc_now() + timedelta(hours=1))

#: (action, request, the status expected, or None for answers without one)
CALLS = [
    ("RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 42, "evseId": 1}, "Accepted"),
    ("RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 43, "evseId": 1}, "Rejected"),  # claimed
    ("RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 44, "evseId": 2,
                                 "chargingProfile": _profile(50, "TxProfile", 7000)}, "Accepted"),
    ("RequestStopTransaction", {"transactionId": "no-such-transaction"}, "Rejected"),
    ("GetTransactionStatus", {}, None),
    ("GetTransactionStatus", {"transactionId": "no-such-transaction"}, None),
    ("UnlockConnector", {"evseId": 1, "connectorId": 1}, "Unlocked"),
    ("UnlockConnector", {"evseId": 9, "connectorId": 1}, "UnknownConnector"),
    ("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2}}, "Scheduled"),  # claimed
    ("ChangeAvailability", {"operationalStatus": "Operative"}, "Scheduled"),
    ("ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 1, "connectorId": 2}}, "Rejected"),
    ("GetVariables", {"getVariableData": [
        _variable("OCPPCommCtrlr", "HeartbeatInterval"), _variable("SecurityCtrlr", "Identity"),
        _variable("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
        _variable("EVSE", "AvailabilityState", evse={"id": 1}), _variable("Nope", "Nothing"),
        _variable("AuthCtrlr", "Nothing"),
        {**_variable("AuthCtrlr", "AuthorizeRemoteStart"), "attributeType": "Target"},
    ]}, None),
    ("SetVariables", {"setVariableData": [
        {**_variable("OCPPCommCtrlr", "HeartbeatInterval"), "attributeValue": "60"},
        {**_variable("SampledDataCtrlr", "TxUpdatedInterval"), "attributeValue": "not a number"},
        {**_variable("ChargingStation", "Model"), "attributeValue": "Other"},
        {**_variable("Nope", "Nothing"), "attributeValue": "1"},
    ]}, None),
    ("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}, "Accepted"),
    ("GetBaseReport", {"requestId": 2, "reportBase": "ConfigurationInventory"}, "Accepted"),
    ("GetBaseReport", {"requestId": 3, "reportBase": "SummaryInventory"}, "Accepted"),
    ("GetReport", {"requestId": 4, "componentCriteria": ["Enabled"]}, "Accepted"),
    ("GetReport", {"requestId": 5, "componentVariable": [{"component": {"name": "EVSE", "evse": {"id": 2}}}]},
     "Accepted"),
    ("GetReport", {"requestId": 6, "componentVariable": [{"component": {"name": "Nope"}}]}, "EmptyResultSet"),
    ("SetNetworkProfile", {"configurationSlot": 1, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://csms.example.com/ocpp",
        "messageTimeout": 30, "securityProfile": 2, "ocppInterface": "Wired0"}}, "Accepted"),
    ("TriggerMessage", {"requestedMessage": "BootNotification"}, "Accepted"),  # not yet accepted at boot
    ("TriggerMessage", {"requestedMessage": "Heartbeat"}, "Accepted"),
    ("TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}}, "Accepted"),
    ("TriggerMessage", {"requestedMessage": "MeterValues"}, "Accepted"),
    ("TriggerMessage", {"requestedMessage": "TransactionEvent", "evse": {"id": 1}}, "Accepted"),
    ("TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"}, "Accepted"),
    ("TriggerMessage", {"requestedMessage": "LogStatusNotification"}, "Accepted"),
    ("TriggerMessage", {"requestedMessage": "Heartbeat", "evse": {"id": 7}}, "Rejected"),
    ("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}, "NotImplemented"),
    ("ReserveNow", {"id": 9, "expiryDateTime": SOON, "idToken": TOKEN}, "Occupied"),  # both claimed
    ("CancelReservation", {"reservationId": 99}, "Rejected"),
    ("SendLocalList", {"versionNumber": 3, "updateType": "Full", "localAuthorizationList": [
        {"idToken": TOKEN, "idTokenInfo": {"status": "Accepted"}},
        {"idToken": {"idToken": "TAG-BLOCKED", "type": "ISO14443"}, "idTokenInfo": {"status": "Blocked"}}]},
     "Accepted"),
    ("SendLocalList", {"versionNumber": 2, "updateType": "Differential"}, "VersionMismatch"),
    ("SendLocalList", {"versionNumber": 4, "updateType": "Differential", "localAuthorizationList": [
        {"idToken": {"idToken": "TAG-BLOCKED", "type": "ISO14443"}}]}, "Accepted"),
    ("GetLocalListVersion", {}, None),
    ("ClearCache", {}, "Accepted"),
    ("SetChargingProfile", {"evseId": 0, "chargingProfile": _profile(10, "ChargingStationMaxProfile", 22000)},
     "Accepted"),
    ("SetChargingProfile", {"evseId": 1, "chargingProfile": _profile(11, "TxDefaultProfile", 6000)}, "Accepted"),
    ("SetChargingProfile", {"evseId": 1, "chargingProfile": _profile(12, "TxProfile", 5000)}, "Rejected"),  # no tx
    ("SetChargingProfile", {"evseId": 0, "chargingProfile": _profile(13, "ChargingStationExternalConstraints", 1)},
     "Rejected"),
    ("GetCompositeSchedule", {"duration": 3600, "evseId": 1, "chargingRateUnit": "W"}, "Accepted"),
    ("GetCompositeSchedule", {"duration": 3600, "evseId": 1}, "Accepted"),
    ("GetChargingProfiles", {"requestId": 7, "chargingProfile": {"chargingLimitSource": ["CSO"]}}, "Accepted"),
    ("GetChargingProfiles", {"requestId": 8, "evseId": 2, "chargingProfile": {"stackLevel": 9}}, "NoProfiles"),
    ("ClearChargingProfile", {"chargingProfileId": 11}, "Accepted"),
    ("ClearChargingProfile", {"chargingProfileCriteria": {"chargingProfilePurpose": "TxDefaultProfile"}},
     "Unknown"),
    ("GetLog", {"logType": "DiagnosticsLog", "requestId": 20,
                "log": {"remoteLocation": "https://logs.example.com/upload"}}, "Accepted"),
    ("UpdateFirmware", {"requestId": 21, "firmware": {"location": "https://fw.example.com/sim-1.1.bin",
                                                      "retrieveDateTime": iso(utc_now())}}, "Accepted"),
    ("DataTransfer", {"vendorId": "com.example", "messageId": "hello"}, "UnknownVendorId"),
    ("DataTransfer", {"vendorId": "Wattson", "data": {"echo": [1, 2]}}, "Accepted"),
    ("CostUpdated", {"totalCost": 1.5, "transactionId": "T-1"}, None),  # shown, nothing to answer
    ("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": ROOT_PEM}, "Accepted"),
    ("InstallCertificate", {"certificateType": "V2GRootCertificate", "certificate": "not a certificate"},
     "Rejected"),
    ("GetInstalledCertificateIds", {"certificateType": ["CSMSRootCertificate"]}, "Accepted"),
    ("GetInstalledCertificateIds", {"certificateType": ["MORootCertificate"]}, "NotFound"),
    ("DeleteCertificate", {"certificateHashData": ROOT_HASH}, "Accepted"),
    ("DeleteCertificate", {"certificateHashData": ROOT_HASH}, "NotFound"),
    ("CertificateSigned", {"certificateChain": ROOT_PEM, "certificateType": "ChargingStationCertificate"},
     "Accepted"),
    ("DeleteCertificate", {"certificateHashData": ROOT_HASH}, "Failed"),  # the station's own
    ("CertificateSigned", {"certificateChain": "garbage"}, "Rejected"),
    ("CustomerInformation", {"requestId": 30, "report": True, "clear": False, "idToken": TOKEN}, "Accepted"),
    ("CustomerInformation", {"requestId": 31, "report": True, "clear": True, "customerIdentifier": "C-1"},
     "Accepted"),
    ("CustomerInformation", {"requestId": 32, "report": True, "clear": False}, "Invalid"),
    ("Reset", {"type": "Immediate", "evseId": 1}, "Rejected"),
    ("Reset", {"type": "OnIdle"}, "Scheduled"),  # the remote starts are about to begin
    ("Reset", {"type": "Immediate"}, "Accepted"),
]


@pytest.mark.parametrize("version", VERSIONS)
async def test_every_answer_is_schema_valid_and_what_follows_too(version, monkeypatch):
    monkeypatch.setattr(operations, "STEP", 0)
    schemas = SCHEMAS[version]
    station, sent = offline_station(version)
    replies = {}
    try:
        for action, request, expected in CALLS:
            schemas.validate_request(action, request)  # the test's own data first
            reply, followups = station.answer(action, request)
            schemas.validate_response(action, reply)
            assert reply.get("status") == expected, (action, request, reply)
            replies.setdefault(action, []).append(reply)
            for followup in followups:
                outcome = followup()
                if asyncio.iscoroutine(outcome) and action not in ("Reset",):
                    await outcome
                elif asyncio.iscoroutine(outcome):
                    outcome.close()  # a reset would wait for the sessions: not what this test is about
        for action, payload in sent:
            schemas.validate_request(action, payload)
    finally:
        await station.stop()

    got = {r["component"]["name"] + "." + r["variable"]["name"]: r
           for r in replies["GetVariables"][0]["getVariableResult"]}
    assert got["OCPPCommCtrlr.HeartbeatInterval"]["attributeValue"] == "300"
    assert got["SecurityCtrlr.Identity"]["attributeValue"] == "CP-V2"
    assert got["OCPPCommCtrlr.MessageAttempts"]["attributeValue"] == "3"
    assert got["EVSE.AvailabilityState"]["attributeValue"] == "Available"
    assert got["Nope.Nothing"]["attributeStatus"] == "UnknownComponent"
    assert got["AuthCtrlr.Nothing"]["attributeStatus"] == "UnknownVariable"
    assert got["AuthCtrlr.AuthorizeRemoteStart"]["attributeStatus"] == "NotSupportedAttributeType"
    assert [r["attributeStatus"] for r in replies["SetVariables"][0]["setVariableResult"]] == \
        ["Accepted", "Rejected", "Rejected", "UnknownComponent"]
    assert station.configuration.value("HeartbeatInterval") == "60"  # the 1.6 key behind it
    assert replies["GetLocalListVersion"] == [{"versionNumber": 4}]
    assert set(station.local_list.entries) == {"TAG-V2"}
    assert replies["DataTransfer"][1]["data"] == {"echo": [1, 2]}
    assert replies["GetInstalledCertificateIds"][0]["certificateHashDataChain"] == \
        [{"certificateType": "CSMSRootCertificate", "certificateHashData": ROOT_HASH}]
    assert replies["GetTransactionStatus"] == [{"messagesInQueue": False},
                                               {"messagesInQueue": False, "ongoingIndicator": False}]
    schedule = replies["GetCompositeSchedule"][0]["schedule"]
    assert (schedule["evseId"], schedule["chargingSchedulePeriod"][0]["limit"]) == (1, 6000)

    reports = [p for a, p in sent if a == "NotifyReport"]
    full = [r for r in reports if r["requestId"] == 1]
    assert [r["seqNo"] for r in full] == list(range(len(full))) and len(full) > 1
    assert [r["tbc"] for r in full] == [True] * (len(full) - 1) + [False]
    names = {(d["component"]["name"], d["variable"]["name"]) for r in full for d in r["reportData"]}
    assert {("OCPPCommCtrlr", "HeartbeatInterval"), ("SampledDataCtrlr", "TxUpdatedInterval"),
            ("AuthCtrlr", "AuthorizeRemoteStart"), ("SecurityCtrlr", "Identity")} <= names
    configuration = [d for r in reports if r["requestId"] == 2 for d in r["reportData"]]
    assert configuration and all(d["variableAttribute"][0]["mutability"] == "ReadWrite" for d in configuration)
    evse2 = [d for r in reports if r["requestId"] == 5 for d in r["reportData"]]
    assert evse2 and all(d["component"] == {"name": "EVSE", "evse": {"id": 2}} for d in evse2)
    charging_profiles = [p for a, p in sent if a == "ReportChargingProfiles"]  # one per EVSE
    assert [(r["evseId"], [p["id"] for p in r["chargingProfile"]], r["tbc"]) for r in charging_profiles] == \
        [(0, [10], True), (1, [11], False)]
    assert [p["status"] for a, p in sent if a == "LogStatusNotification"][-2:] == ["Uploading", "Uploaded"]
    assert [p["status"] for a, p in sent if a == "FirmwareStatusNotification"][-4:] == \
        ["Downloading", "Downloaded", "Installing", "Installed"]
    customer = [p for a, p in sent if a == "NotifyCustomerInformation"]
    assert [c["requestId"] for c in customer] == [30, 31] and "local authorisation list" in customer[0]["data"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_unknown_and_malformed_calls_get_2x_call_errors(version):
    station, _ = offline_station(version)
    for action, payload, code in [("SetDisplayMessage", {}, "NotImplemented"),
                                  ("RemoteStartTransaction", {"idTag": "T"}, "NotImplemented"),  # 1.6's name
                                  ("Reset", {}, "OccurrenceConstraintViolation"),
                                  ("Reset", [], "FormatViolation")]:
        with pytest.raises(CallError) as raised:
            station.answer(action, payload)
        assert raised.value.code == code


# --- a session against a bare-bones CSMS that can drop the line ------------------------------------
class BareCsms:
    """Just enough of a 2.x CSMS to watch a station: accepts it, checks and answers its calls,
    calls it, and can refuse connections for a while."""

    REPLIES = {"BootNotification": lambda: {"status": "Accepted", "currentTime": iso(utc_now()), "interval": 300},
               "Heartbeat": lambda: {"currentTime": iso(utc_now())},
               "Authorize": lambda: {"idTokenInfo": {"status": "Accepted"}}}

    def __init__(self, version: str):
        self.schemas = SCHEMAS[version]
        self.calls: list[tuple[str, dict]] = []
        self.refuse = False
        self.ws = None
        self._replies: dict[str, asyncio.Future] = {}
        self._changed = asyncio.Event()

    async def __call__(self, ws) -> None:
        if self.refuse:
            await ws.close()
            return
        self.ws = ws
        async for text in ws:
            frame = orjson.loads(text)
            if frame[0] != 2:
                self._replies.pop(frame[1]).set_result(frame)
                continue
            _, unique_id, action, payload = frame
            self.schemas.validate_request(action, payload)
            self.calls.append((action, payload))
            self._changed.set()
            reply = self.REPLIES.get(action, dict)()
            self.schemas.validate_response(action, reply)
            await ws.send(orjson.dumps([3, unique_id, reply]).decode())

    async def call(self, action: str, payload: dict) -> dict:
        unique_id = uuid.uuid4().hex
        self._replies[unique_id] = asyncio.get_running_loop().create_future()
        await self.ws.send(orjson.dumps([2, unique_id, action, payload]).decode())
        frame = await asyncio.wait_for(self._replies[unique_id], READY_BOUND_S)
        assert frame[0] == 3, frame
        self.schemas.validate_response(action, frame[2])
        return frame[2]

    async def wait_for(self, predicate, timeout: float = READY_BOUND_S):
        async with asyncio.timeout(timeout):
            while not (found := predicate()):
                self._changed.clear()
                await self._changed.wait()
        return found


async def _bare_station(version: str, **config):
    csms = BareCsms(version)
    server = await serve(csms, "127.0.0.1", 0, subprotocols=["ocpp2.0.1", "ocpp2.1"])
    port = server.sockets[0].getsockname()[1]
    station = SimStation(StationConfig("CP-BARE", f"ws://127.0.0.1:{port}/ocpp", ocpp=version, connectors=1,
                                       meter_interval=0.2, reconnect_delay=(0.1, 0.2), seed=5, **config))
    station.start()
    return csms, server, station


@pytest.mark.parametrize("version", VERSIONS)
async def test_session_events_made_offline_are_flagged_and_replayed_in_order(version):
    csms, server, station = await _bare_station(version, id_tags=["TAG-V2"], session_gap=(0, 0.1),
                                                session_duration=(3, 3))
    try:
        boot = await csms.wait_for(lambda: [p for a, p in csms.calls if a == "BootNotification"])
        assert boot[0]["reason"] == "PowerUp"
        started = await csms.wait_for(lambda: [p for p in events(csms.calls) if p["eventType"] == "Started"])
        transaction_id = started[0]["transactionInfo"]["transactionId"]
        assert started[0]["triggerReason"] == "Authorized" and "offline" not in started[0]
        assert ("Authorize", {"idToken": {"idToken": "TAG-V2", "type": "ISO14443"}}) in csms.calls
        csms.refuse = True
        await csms.ws.close()
        before = len(csms.calls)
        await asyncio.sleep(1.0)  # samples keep coming while the station cannot connect
        csms.refuse = False
        await csms.wait_for(lambda: [p for p in events(csms.calls, transaction_id) if p["eventType"] == "Ended"])
        mine = events(csms.calls, transaction_id)
        seq_nos = [e["seqNo"] for e in mine]
        assert seq_nos == sorted(seq_nos) and set(seq_nos) == set(range(max(seq_nos) + 1))  # in order, none lost
        offline = [e for e in mine if e.get("offline")]
        assert offline and all(e["triggerReason"] == "MeterValuePeriodic" for e in offline)
        reboot = next(i for i, (a, _) in enumerate(csms.calls) if a == "BootNotification" and i >= before)
        assert all(csms.calls.index(("TransactionEvent", e)) > reboot for e in offline)  # replayed after boot
        assert mine[-1]["transactionInfo"]["stoppedReason"] in ("EVDisconnected", "Local")
        register = [e["meterValue"][0]["sampledValue"][0]["value"] for e in (mine[0], mine[-1])]
        assert register[1] >= register[0]
    finally:
        await station.stop()
        server.close()


@pytest.mark.parametrize("version", VERSIONS)
async def test_remote_start_and_reset_against_a_bare_csms(version):
    csms, server, station = await _bare_station(version, id_tags=[], session_duration=(30, 30))
    try:
        await asyncio.wait_for(station.accepted.wait(), READY_BOUND_S)
        reply = await csms.call("RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 77, "evseId": 1})
        assert reply == {"status": "Accepted"}
        (started,) = await csms.wait_for(lambda: [p for p in events(csms.calls) if p["eventType"] == "Started"])
        assert (started["triggerReason"], started["transactionInfo"]["remoteStartId"]) == ("RemoteStart", 77)
        status = await csms.call("GetTransactionStatus", {"transactionId": started["transactionInfo"]["transactionId"]})
        assert status["ongoingIndicator"] is True
        await csms.call("SetVariables", {"setVariableData": [
            {**_variable("OCPPCommCtrlr", "HeartbeatInterval"), "attributeValue": "0.3"}]})
        await csms.wait_for(lambda: ("Heartbeat", {}) in csms.calls)  # the new interval is in force (boot said 300 s)

        def boots():
            return [p["reason"] for a, p in csms.calls if a == "BootNotification"]

        def ended():
            return [(e["triggerReason"], e["transactionInfo"]["stoppedReason"])
                    for e in events(csms.calls) if e["eventType"] == "Ended"]

        assert await csms.call("Reset", {"type": "OnIdle"}) == {"status": "Scheduled"}  # after the session
        await asyncio.sleep(0.5)
        assert boots() == ["PowerUp"]
        stop = await csms.call("RequestStopTransaction", {"transactionId": started["transactionInfo"]["transactionId"]})
        assert stop == {"status": "Accepted"}
        await csms.wait_for(lambda: boots() == ["PowerUp", "RemoteReset"])
        assert ended() == [("RemoteStop", "Remote")]

        await csms.wait_for(lambda: station.accepted.is_set() and not station.in_use())
        assert await csms.call("RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 78}) == \
            {"status": "Accepted"}
        await csms.wait_for(lambda: len([e for e in events(csms.calls) if e["eventType"] == "Started"]) == 2)
        assert await csms.call("Reset", {"type": "Immediate"}) == {"status": "Accepted"}  # ends the session now
        await csms.wait_for(lambda: boots() == ["PowerUp", "RemoteReset", "RemoteReset"])
        assert ended() == [("RemoteStop", "Remote"), ("ResetCommand", "ImmediateReset")]
        def statuses():
            return [p["connectorStatus"] for a, p in csms.calls if a == "StatusNotification"]

        await csms.wait_for(lambda: statuses()[-1] == "Available")  # once the cable is out
        assert statuses()[:2] == ["Available", "Occupied"]
    finally:
        await station.stop()
        server.close()


# --- end to end, against `wattson serve` -----------------------------------------------------------
async def poll(check, timeout: float = READY_BOUND_S, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(interval)


async def finished_sessions(api, cp: str) -> list[dict]:
    r = await api.get("/api/v1/sessions", params={"charge_point_id": cp, "status": "finished"})
    return [s for s in r.json()["data"] if s["auth_status"] == "Accepted"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_v2_station_charges_a_session_the_server_records(sqlite_server, version):
    server = sqlite_server
    cp = await server.add_station()
    tag = await server.add_tag()
    sim = SimStation(StationConfig(cp, server.ws_url, ocpp=version, connectors=1, id_tags=[tag], meter_interval=0.5,
                                   session_gap=(0.1, 0.2), session_duration=(5, 6), seed=11))
    sim.start()
    try:
        async with server.api() as api:
            (session, *_) = await poll(lambda: finished_sessions(api, cp))
            assert session["energy_wh"] > 0 and session["id_tag"] == tag
            assert session["stop_reason"] in ("EVDisconnected", "Local")
            detail = (await api.get(f"/api/v1/sessions/{session['id']}")).json()
            assert detail["start_reason"] == "Authorized"
            assert MEASURANDS <= {v["measurand"] for v in detail["meter_values"]}
            station = (await api.get(f"/api/v1/charge-points/{cp}")).json()
            assert (station["ocpp_version"], station["network_status"], station["vendor"]) == \
                (version, "online", "Wattson")
            assert [e["number"] for e in station["evses"]] == [1]
    finally:
        await sim.stop()


async def test_v201_station_obeys_commands_through_the_api(sqlite_server):
    server = sqlite_server
    cp = await server.add_station()
    tag = await server.add_tag()
    sim = SimStation(StationConfig(cp, server.ws_url, ocpp="2.0.1", connectors=1, id_tags=[], meter_interval=0.3))
    sim.start()
    try:
        await asyncio.wait_for(sim.accepted.wait(), READY_BOUND_S)
        async with server.api() as api:
            async def command(name, body=None):
                r = await api.post(f"/api/v1/charge-points/{cp}/commands/{name}", json=body or {})
                assert r.status_code == 200, r.text
                return r.json()

            assert (await command("remote-start", {"id_tag": tag, "evse": 1}))["status"] == "Accepted"
            (action, request), *_ = [c for c in sim.received if c[0] == "RequestStartTransaction"]
            assert request["idToken"]["idToken"] == tag and request["evseId"] == 1

            async def active():
                r = await api.get("/api/v1/sessions", params={"charge_point_id": cp, "status": "active"})
                return r.json()["data"]

            (session,) = await poll(active)
            assert session["id_tag"] == tag
            detail = (await api.get(f"/api/v1/sessions/{session['id']}")).json()
            assert detail["remote_start_id"] == request["remoteStartId"]
            assert (await command("remote-stop", {"session_id": session["id"]}))["status"] == "Accepted"

            async def stopped():
                s = (await api.get(f"/api/v1/sessions/{session['id']}")).json()
                return s if s["status"] == "finished" else None

            assert (await poll(stopped))["stop_reason"] == "Remote"
            assert (await command("data-transfer", {"vendor_id": "Wattson", "data": "hi"}))["status"] == "Accepted"
            booted = (await api.get(f"/api/v1/charge-points/{cp}")).json()["booted_at"]
            # Idle first: else a soft reset (OnIdle) is only Scheduled.
            await sim.wait_until(lambda: not sim.in_use(), timeout=READY_BOUND_S)
            assert (await command("reset", {"type": "soft"}))["status"] == "Accepted"

            async def rebooted():
                return (await api.get(f"/api/v1/charge-points/{cp}")).json()["booted_at"] != booted

            await poll(rebooted)
    finally:
        await sim.stop()


async def test_mixed_fleet_charges_side_by_side(sqlite_server):
    server = sqlite_server
    prefix = unique("MIX") + "-"
    ids = [f"{prefix}{i:04d}" for i in (1, 2, 3)]
    for cp in ids:
        await server.add_station(cp)
    tags = [await server.add_tag() for _ in range(6)]
    stop = asyncio.Event()
    runner = asyncio.create_task(run_stations(server.ws_url, 3, prefix=prefix, ocpp=["1.6", "2.0.1"], id_tags=tags,
                                              meter_interval=0.3, session_gap=(0.1, 0.3), session_duration=(1.0, 1.5),
                                              stop_event=stop))
    try:
        async with server.api() as api:
            async def finished_everywhere():
                done = [(await finished_sessions(api, cp))[:1] for cp in ids]
                return done if all(done) else None

            await poll(finished_everywhere)
            versions = [(await api.get(f"/api/v1/charge-points/{cp}")).json()["ocpp_version"] for cp in ids]
            assert versions == ["1.6", "2.0.1", "1.6"]  # round-robin
    finally:
        stop.set()
        await asyncio.wait_for(runner, READY_BOUND_S)


@pytest.mark.parametrize("version", VERSIONS)
async def test_reservation_and_availability_show_in_statuses(version):
    station, sent = offline_station(version, connectors=2, id_tags=[])
    expiry = iso(utc_now() + timedelta(seconds=0.3))

    def call(action, payload):
        reply, followups = station.answer(action, payload)
        for followup in followups:
            followup()
        return reply["status"]

    try:
        assert call("ReserveNow", {"id": 1, "expiryDateTime": SOON, "idToken": TOKEN, "evseId": 1}) == "Accepted"
        assert call("ReserveNow", {"id": 2, "expiryDateTime": expiry, "idToken": TOKEN}) == "Accepted"  # any EVSE
        assert station.connectors[2].reservation.id == 2
        assert call("CancelReservation", {"reservationId": 1}) == "Accepted"
        assert call("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}) == "Accepted"
        await asyncio.sleep(0.5)  # reservation 2 lapses
        for action, payload in sent:
            SCHEMAS[version].validate_request(action, payload)
        assert [(p["evseId"], p["connectorStatus"]) for a, p in sent if a == "StatusNotification"] == \
            [(1, "Reserved"), (2, "Reserved"), (1, "Available"), (1, "Unavailable"), (2, "Available")]
        assert ("ReservationStatusUpdate", {"reservationId": 2, "reservationUpdateStatus": "Expired"}) in sent
    finally:
        await station.stop()
