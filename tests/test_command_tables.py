"""The command tables without a server: every neutral command, built for OCPP 1.6, 2.0.1 and 2.1,
is a call valid against that version's schema, or is refused as CommandNotSupported; and the
mappings between the versions' vocabularies are exactly as documented (docs/commands.md)."""

import pytest

from wattson.errors import CommandNotSupported
from wattson.ocpp.v16 import Ocpp16
from wattson.ocpp.v201 import Ocpp21, Ocpp201
from wattson.ocpp.validation import SchemaSet
from wattson.stations import commands as c

#: each version's adapter, as the gateway holds it (without services: building calls needs none)
VERSIONS = {cls.version: cls(None, SchemaSet(cls.schema_dir)) for cls in (Ocpp16, Ocpp201, Ocpp21)}
V2 = ("2.0.1", "2.1")
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HASH = {"hash_algorithm": "SHA384", "issuer_name_hash": "aa11", "issuer_key_hash": "bb22", "serial_number": "0c"}
PROFILE = {"id": 7, "stack_level": 2, "purpose": "ChargePointMaxProfile", "kind": "Recurring", "recurrency": "Daily",
           "valid_from": "2030-01-01T00:00:00Z", "valid_to": "2030-12-31T00:00:00Z",
           "schedule": {"id": 70, "charging_rate_unit": "W", "duration": 86400,
                        "start_schedule": "2030-01-01T06:00:00Z",
                        "min_charging_rate": 1000, "periods": [{"start_period": 0, "limit": 11000, "number_phases": 3},
                                                               {"start_period": 3600, "limit": 7400}]}}

# Beyond each command's OpenAPI example: every optional parameter set at least once.
MORE_PARAMS = {
    "remote-start": [{"id_tag": "T1", "id_token_type": "eMAID", "remote_start_id": 5, "evse": 2,
                      "charging_profile": None}],
    "remote-stop": [{"transaction_id": "17"}],
    "reset": [{"type": "hard"}],
    "change-availability": [{"evse": 2, "operative": True}],
    "trigger-message": [{"message": "Heartbeat"}, {"message": "MeterValues", "evse": 1, "connector": 1}],
    "data-transfer": [{"vendor_id": "com.acme"}],
    "reserve-now": [{"evse": 0, "id_tag": "T", "expires_at": "2030-01-01T00:00:00Z", "reservation_id": 9,
                     "parent_id_tag": "FLEET", "id_token_type": "KeyCode"},
                    {"id_tag": "T", "expires_at": "2030-01-01T00:00:00Z", "connector_type": "cType2"}],
    "send-local-list": [{"version": 1, "update_type": "differential", "entries": [
        {"id_tag": "A", "status": "Blocked", "expires_at": "2030-01-01T00:00:00Z", "parent_id_tag": "P"},
        {"id_tag": "B"}]}, {"version": 2}],
    "set-charging-profile": [{"evse": 0, "profile": PROFILE},
                             {"evse": 1, "profile": {**PROFILE, "purpose": "TxProfile", "transaction_id": "42",
                                                     "kind": "Relative", "recurrency": None}}],
    "clear-charging-profile": [{}, {"id": 3, "evse": 1, "purpose": "ChargePointMaxProfile", "stack_level": 1}],
    "get-composite-schedule": [{"duration": 60}],
    "get-diagnostics": [{"location": "ftp://d.example/", "retries": 1, "retry_interval": 5, "request_id": 3,
                         "start_time": "2030-01-01T00:00:00Z", "stop_time": "2030-01-02T00:00:00Z"}],
    "update-firmware": [{"location": "https://fw.example/1.bin", "retrieve_at": "2030-01-01T00:00:00Z", "retries": 2,
                         "retry_interval": 60, "install_at": "2030-01-01T02:00:00Z", "signing_certificate": CERT,
                         "signature": "c2lnbmF0dXJl", "request_id": 11}],
    "get-variables": [{"variables": [
        {"component": "EVSE", "evse": 1, "connector": 1, "component_instance": "x", "variable": "Power",
         "variable_instance": "y", "attribute_type": "MaxSet"}, {"component": "A", "variable": "B"}]}],
    "set-variables": [{"variables": [{"component": "EVSE", "evse": 2, "variable": "Enabled", "value": "false",
                                      "attribute_type": "Target"}]}],
    "get-base-report": [{"report": "summary", "request_id": 1}, {}],
    "get-report": [{}, {"variables": [{"component": "EVSE", "evse": 1, "connector": 1, "variable": "Power",
                                       "variable_instance": "i", "component_instance": "c"}],
                        "criteria": ["active", "available", "enabled", "problem"], "request_id": 0}],
    "get-charging-profiles": [{}, {"evse": 0, "purpose": "ChargePointMaxProfile", "stack_level": 1,
                                   "profile_ids": [1, 2], "sources": ["EMS", "CSO"], "request_id": 4}],
    "get-log": [{"location": "https://l.example/", "log_type": "diagnostics", "retries": 0}],
    "get-transaction-status": [{}, {"transaction_id": "tx-1"}],
    "cost-updated": [{"transaction_id": "tx-1", "total_cost": "0"}],
    "set-network-profile": [{
        "configuration_slot": 2, "csms_url": "wss://c.example/ocpp", "security_profile": 3, "message_timeout": 60,
        "interface": "Wireless0",
        "apn": {"apn": "internet", "user_name": "u", "password": "p", "sim_pin": 1234, "preferred_network": "20408",
                "use_only_preferred_network": True, "authentication": "CHAP"},
        "vpn": {"server": "vpn.example", "user": "u", "group": "g", "password": "p", "key": "k", "type": "IPSec"}}],
    "install-certificate": [{"certificate_type": "ManufacturerRootCertificate", "certificate": CERT},
                            {"certificate_type": "V2GRootCertificate", "certificate": CERT}],
    "get-installed-certificate-ids": [{}, {"certificate_types": ["V2GCertificateChain", "MORootCertificate"]}],
    "delete-certificate": [HASH],
    "certificate-signed": [{"certificate_chain": CERT, "certificate_type": "V2GCertificate"},
                           {"certificate_chain": CERT, "certificate_type": "ChargingStationCertificate"}],
    "customer-information": [{"customer_identifier": "C-1", "report": False, "clear": True},
                             {"customer_certificate": HASH}],
}

#: (command, version) that cannot be expressed, for every parameter set above and the examples
NEVER = {(name, "1.6"): "no equivalent in OCPP 1.6" for name in (
    "get-variables", "set-variables", "get-base-report", "get-report", "get-charging-profiles",
    "get-transaction-status", "set-network-profile", "customer-information", "cost-updated")}
#: (command, version, index in cases(command)) refused for those parameters only
REFUSED = {
    ("install-certificate", "1.6", 2): "V2GRootCertificate",
    ("get-installed-certificate-ids", "1.6", 1): "one certificate type",
    ("get-installed-certificate-ids", "1.6", 2): "one certificate type",
    ("certificate-signed", "1.6", 1): "V2GCertificate",
    ("reserve-now", "1.6", 2): "no connector type",
}


def cases(name: str) -> list[dict]:
    return c.CATALOGUE[name].model_json_schema().get("examples", [{}]) + MORE_PARAMS.get(name, [])


def resolved(name: str, params: dict, stored_types: dict | None = None) -> c.Params:
    """The parameters as CommandService._resolve leaves them, without a database: session 42 has
    transaction "42", tokens have the types in ``stored_types``."""
    model = c.CATALOGUE[name].model_validate(params)
    if isinstance(model, c.TransactionRef) and model.session_id is not None:
        model = model.model_copy(update={"session_id": None, "transaction_id": str(model.session_id)})
    model = c.with_generated_ids(model)
    return c.with_token_types(model, stored_types or {})


def build(version: str, name: str, params: dict) -> tuple[str, dict]:
    protocol = VERSIONS[version]
    action, payload = protocol.build_command(name, resolved(name, params))
    protocol.schemas.validate_request(action, payload)
    return action, payload


ALL = [pytest.param(name, version, i, id=f"{name}-{version}-{i}")
       for name in c.CATALOGUE for version in VERSIONS for i in range(len(cases(name)))]


@pytest.mark.parametrize("name, version, index", ALL)
def test_every_command_builds_a_schema_valid_call_or_is_not_supported(name, version, index):
    params = cases(name)[index]
    refusal = NEVER.get((name, version)) or REFUSED.get((name, version, index))
    if refusal is None:
        action, payload = build(version, name, params)
        assert VERSIONS[version].schemas.knows(action)
    else:
        with pytest.raises(CommandNotSupported) as err:
            build(version, name, params)
        assert refusal in err.value.message


def test_the_catalogue_and_the_tables():
    assert len(c.CATALOGUE) == 33
    for version, protocol in VERSIONS.items():
        assert set(protocol.commands) <= set(c.CATALOGUE), version
    assert set(VERSIONS["2.0.1"].commands) == set(c.CATALOGUE)  # 2.x expresses every command
    assert VERSIONS["2.1"].commands is VERSIONS["2.0.1"].commands


@pytest.mark.parametrize("name", [n for n, m in c.CATALOGUE.items() if m is not c.NoParams])
def test_every_command_documents_itself_with_a_valid_example(name):
    model = c.CATALOGUE[name]
    schema = model.model_json_schema()
    assert schema["examples"] and model.model_config["extra"] == "forbid"
    for example in schema["examples"]:
        model.model_validate(example)
    with pytest.raises(ValueError):
        model.model_validate({**schema["examples"][0], "unknown_parameter": 1})


def test_1_6_names_the_nearer_command_or_the_version():
    for name, use in [("get-variables", "get-configuration"), ("set-variables", "change-configuration"),
                      ("get-base-report", "get-configuration"), ("get-report", "get-configuration")]:
        with pytest.raises(CommandNotSupported) as err:
            build("1.6", name, cases(name)[0])
        assert "OCPP 1.6" in err.value.message and err.value.details == {"use": use}
    assert "customer-information" not in VERSIONS["1.6"].commands  # the generic refusal names the version


# --- mappings, exactly --------------------------------------------------------------------------
@pytest.mark.parametrize("version", V2)
def test_reset_types(version):
    assert build(version, "reset", {"type": "soft"}) == ("Reset", {"type": "OnIdle"})
    assert build(version, "reset", {"type": "hard", "evse": 2}) == ("Reset", {"type": "Immediate", "evseId": 2})
    assert build("1.6", "reset", {"type": "hard"}) == ("Reset", {"type": "Hard"})
    with pytest.raises(CommandNotSupported):
        build("1.6", "reset", {"evse": 2})


@pytest.mark.parametrize("key, component, variable", [
    ("HeartbeatInterval", {"name": "OCPPCommCtrlr"}, {"name": "HeartbeatInterval"}),
    ("MeterValueSampleInterval", {"name": "SampledDataCtrlr"}, {"name": "TxUpdatedInterval"}),
    ("MeterValuesSampledData", {"name": "SampledDataCtrlr"}, {"name": "TxUpdatedMeasurands"}),
    ("ClockAlignedDataInterval", {"name": "AlignedDataCtrlr"}, {"name": "Interval"}),
    ("AuthorizeRemoteTxRequests", {"name": "AuthCtrlr"}, {"name": "AuthorizeRemoteStart"}),
    ("TransactionMessageAttempts", {"name": "OCPPCommCtrlr"}, {"name": "MessageAttempts",
                                                               "instance": "TransactionEvent"}),
    ("SecurityProfile", {"name": "SecurityCtrlr"}, {"name": "SecurityProfile"}),
    ("TxCtrlr.TxStartPoint", {"name": "TxCtrlr"}, {"name": "TxStartPoint"}),
], ids=lambda v: v if isinstance(v, str) else None)
def test_configuration_keys_become_components_and_variables(key, component, variable):
    for version in V2:
        assert build(version, "get-configuration", {"keys": [key]}) == \
            ("GetVariables", {"getVariableData": [{"component": component, "variable": variable}]})
        assert build(version, "change-configuration", {"key": key, "value": "30"}) == \
            ("SetVariables", {"setVariableData": [{"component": component, "variable": variable,
                                                   "attributeValue": "30"}]})
    assert build("1.6", "change-configuration", {"key": key, "value": "30"}) == \
        ("ChangeConfiguration", {"key": key, "value": "30"})


def test_configuration_that_2x_cannot_address():
    with pytest.raises(CommandNotSupported) as err:
        build("2.0.1", "get-configuration", {"keys": ["HeartbeatInterval", "VendorSpecificKey"]})
    assert "VendorSpecificKey" in err.value.message and "Component.Variable" in err.value.message
    assert err.value.details == {"key": "VendorSpecificKey", "use": "get-variables"}
    with pytest.raises(CommandNotSupported) as err:
        build("2.1", "change-configuration", {"key": ".Variable", "value": "1"})
    assert err.value.details["use"] == "set-variables"
    for keys in (None, []):
        with pytest.raises(CommandNotSupported) as err:
            build("2.0.1", "get-configuration", {"keys": keys})
        assert "get-base-report" in err.value.message and err.value.details == {"use": "get-base-report"}


@pytest.mark.parametrize("version", V2)
def test_charging_profile_purposes_and_schedules(version):
    action, payload = build(version, "set-charging-profile", {"evse": 0, "profile": PROFILE})
    assert action == "SetChargingProfile"
    assert payload == {"evseId": 0, "chargingProfile": {
        "id": 7, "stackLevel": 2, "chargingProfilePurpose": "ChargingStationMaxProfile",
        "chargingProfileKind": "Recurring", "recurrencyKind": "Daily", "validFrom": "2030-01-01T00:00:00.000Z",
        "validTo": "2030-12-31T00:00:00.000Z",
        "chargingSchedule": [{"id": 70, "startSchedule": "2030-01-01T06:00:00.000Z", "duration": 86400,
                              "chargingRateUnit": "W", "minChargingRate": 1000.0,
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
                                                         {"startPeriod": 3600, "limit": 7400.0}]}]}}
    tx = {"id": 8, "purpose": "TxProfile", "transaction_id": "tx-9",
          "schedule": {"charging_rate_unit": "A", "periods": [{"start_period": 0, "limit": 16}]}}
    assert build(version, "set-charging-profile", {"evse": 1, "profile": tx})[1]["chargingProfile"] == {
        "id": 8, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute",
        "transactionId": "tx-9",
        "chargingSchedule": [{"id": 8, "chargingRateUnit": "A",  # the schedule's id defaults to the profile's
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}]}
    assert build(version, "clear-charging-profile", {"purpose": "ChargePointMaxProfile"}) == \
        ("ClearChargingProfile", {"chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationMaxProfile"}})
    assert build(version, "clear-charging-profile", {"id": 4}) == ("ClearChargingProfile", {"chargingProfileId": 4})
    assert build(version, "get-charging-profiles", {"purpose": "ChargePointMaxProfile", "request_id": 1}) == \
        ("GetChargingProfiles", {"requestId": 1, "chargingProfile": {
            "chargingProfilePurpose": "ChargingStationMaxProfile"}})
    assert build("1.6", "clear-charging-profile", {"purpose": "ChargePointMaxProfile"}) == \
        ("ClearChargingProfile", {"chargingProfilePurpose": "ChargePointMaxProfile"})


def test_trigger_messages_in_each_versions_words():
    for version in V2:
        assert build(version, "trigger-message", {"message": "DiagnosticsStatusNotification"}) == \
            ("TriggerMessage", {"requestedMessage": "LogStatusNotification"})
        assert build(version, "trigger-message", {"message": "StatusNotification", "evse": 2, "connector": 1}) == \
            ("TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 2, "connectorId": 1}})
        assert build(version, "trigger-message", {"message": "Heartbeat", "evse": 0}) == \
            ("TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert build("1.6", "trigger-message", {"message": "LogStatusNotification"}) == \
        ("ExtendedTriggerMessage", {"requestedMessage": "LogStatusNotification"})
    assert build("1.6", "trigger-message", {"message": "SignChargingStationCertificate"}) == \
        ("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"})
    assert build("1.6", "trigger-message", {"message": "StatusNotification", "evse": 2, "connector": 1}) == \
        ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 2})
    for message in ("TransactionEvent", "SignV2GCertificate", "SignCombinedCertificate",
                    "PublishFirmwareStatusNotification"):
        with pytest.raises(CommandNotSupported) as err:
            build("1.6", "trigger-message", {"message": message})
        assert message in err.value.message


@pytest.mark.parametrize("version", V2)
def test_tokens_evses_and_reservations(version):
    assert build(version, "remote-start", {"id_tag": "T1", "remote_start_id": 3}) == \
        ("RequestStartTransaction", {"idToken": {"idToken": "T1", "type": "ISO14443"}, "remoteStartId": 3})
    assert build(version, "reserve-now", {"id_tag": "T", "expires_at": "2030-01-01T01:00:00+01:00",
                                          "reservation_id": 5, "parent_id_tag": "G", "id_token_type": "Local"}) == \
        ("ReserveNow", {"id": 5, "expiryDateTime": "2030-01-01T00:00:00.000Z",
                        "idToken": {"idToken": "T", "type": "Local"},
                        "groupIdToken": {"idToken": "G", "type": "Central"}})
    assert build(version, "reserve-now", {"evse": 2, "id_tag": "T", "expires_at": "2030-01-01T00:00:00Z",
                                          "reservation_id": 5})[1]["evseId"] == 2
    assert build(version, "change-availability", {"operative": False}) == \
        ("ChangeAvailability", {"operationalStatus": "Inoperative"})
    assert build(version, "change-availability", {"evse": 1, "connector": 2, "operative": True}) == \
        ("ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 1, "connectorId": 2}})
    assert build(version, "unlock", {"evse": 1, "connector": 2}) == \
        ("UnlockConnector", {"evseId": 1, "connectorId": 2})
    assert build(version, "send-local-list", {"version": 4, "update_type": "full", "entries": [
        {"id_tag": "A", "status": "Accepted", "expires_at": "2030-01-01T00:00:00Z", "parent_id_tag": "P"},
        {"id_tag": "B", "id_token_type": "KeyCode"}]}) == \
        ("SendLocalList", {"versionNumber": 4, "updateType": "Full", "localAuthorizationList": [
            {"idToken": {"idToken": "A", "type": "ISO14443"},
             "idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": "2030-01-01T00:00:00.000Z",
                             "groupIdToken": {"idToken": "P", "type": "Central"}}},
            {"idToken": {"idToken": "B", "type": "KeyCode"}, "idTokenInfo": {"status": "Accepted"}}]})
    assert build(version, "send-local-list", {"version": 5, "update_type": "differential"}) == \
        ("SendLocalList", {"versionNumber": 5, "updateType": "Differential"})  # an empty list is left out


def test_logs_firmware_and_certificates():
    diagnostics = {"location": "ftp://d.example/", "request_id": 2, "start_time": "2030-01-01T00:00:00Z"}
    for version in V2:
        assert build(version, "get-diagnostics", diagnostics) == \
            ("GetLog", {"logType": "DiagnosticsLog", "requestId": 2,
                        "log": {"remoteLocation": "ftp://d.example/", "oldestTimestamp": "2030-01-01T00:00:00.000Z"}})
        assert build(version, "install-certificate", {"certificate_type": "CSMSRootCertificate", "certificate": CERT}) \
            == ("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": CERT})
    assert build("1.6", "get-log", {**diagnostics, "log_type": "security"}) == \
        ("GetLog", {"logType": "SecurityLog", "requestId": 2,
                    "log": {"remoteLocation": "ftp://d.example/", "oldestTimestamp": "2030-01-01T00:00:00.000Z"}})
    assert build("1.6", "install-certificate", {"certificate_type": "CSMSRootCertificate", "certificate": CERT}) == \
        ("InstallCertificate", {"certificateType": "CentralSystemRootCertificate", "certificate": CERT})
    assert build("1.6", "get-installed-certificate-ids", {"certificate_types": ["CSMSRootCertificate"]}) == \
        ("GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"})
    plain = {"location": "https://fw.example/a.bin", "retrieve_at": "2030-01-01T00:00:00Z", "request_id": 1}
    assert build("1.6", "update-firmware", plain) == \
        ("UpdateFirmware", {"location": "https://fw.example/a.bin", "retrieveDate": "2030-01-01T00:00:00.000Z"})
    signed = {**plain, "signing_certificate": CERT, "signature": "c2ln"}
    firmware = {"location": "https://fw.example/a.bin", "retrieveDateTime": "2030-01-01T00:00:00.000Z",
                "signingCertificate": CERT, "signature": "c2ln"}
    assert build("1.6", "update-firmware", signed) == ("SignedUpdateFirmware", {"requestId": 1, "firmware": firmware})
    assert build("2.0.1", "update-firmware", signed) == ("UpdateFirmware", {"requestId": 1, "firmware": firmware})
    for half in ({**plain, "signature": "c2ln"}, {**plain, "install_at": "2030-01-01T00:00:00Z"}):
        with pytest.raises(CommandNotSupported):
            build("1.6", "update-firmware", half)


@pytest.mark.parametrize("version", V2)
def test_network_profile_is_valid_for_2_0_1_and_2_1(version):
    assert build(version, "set-network-profile", {"configuration_slot": 1, "csms_url": "wss://c.example/ocpp",
                                                  "security_profile": 2}) == \
        ("SetNetworkProfile", {"configurationSlot": 1, "connectionData": {
            "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://c.example/ocpp",
            "messageTimeout": 30, "securityProfile": 2, "ocppInterface": "Wired0"}})


# --- what Wattson fills in ----------------------------------------------------------------------
def test_generated_ids_fill_only_what_is_omitted():
    for name, field in [("remote-start", "remote_start_id"), ("reserve-now", "reservation_id"),
                        ("get-base-report", "request_id"), ("get-report", "request_id"),
                        ("get-log", "request_id"), ("get-diagnostics", "request_id"),
                        ("get-charging-profiles", "request_id"), ("update-firmware", "request_id"),
                        ("customer-information", "request_id")]:
        example = cases(name)[0]
        generated = getattr(resolved(name, example), field)
        assert type(generated) is int and 0 <= generated <= c.MAX_ID, name
        assert getattr(resolved(name, {**example, field: 0}), field) == 0, name
    reset = c.Reset()
    assert c.with_generated_ids(reset) is reset


def test_token_types_come_from_the_stored_token():
    assert [c.token_type(t) for t in (None, "eMAID", "KeyCode", "EVCCID", "VIN", "SomethingElse")] == \
        ["ISO14443", "eMAID", "KeyCode", "MacAddress", "Central", "Central"]
    start = c.RemoteStart(id_tag="T1")
    assert c.untyped_tokens(start) == {"T1"}
    assert c.with_token_types(start, {"T1": "ISO15693"}).id_token_type == "ISO15693"
    given = c.RemoteStart(id_tag="T1", id_token_type="Local")
    assert c.untyped_tokens(given) == set() and c.with_token_types(given, {"T1": "eMAID"}) is given
    local_list = c.SendLocalList(version=1, entries=[{"id_tag": "A"}, {"id_tag": "B", "id_token_type": "KeyCode"},
                                                     {"id_tag": "C"}])
    assert c.untyped_tokens(local_list) == {"A", "C"}
    typed = c.with_token_types(local_list, {"A": "eMAID"})
    assert [e.id_token_type for e in typed.entries] == ["eMAID", "KeyCode", "ISO14443"]
    assert c.untyped_tokens(c.CustomerInformation(customer_identifier="C")) == set()
