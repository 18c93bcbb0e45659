"""OCPP-J framing, schema error codes, and the 1.6 translation of every neutral command."""

from datetime import datetime, timezone

import pytest

from wattson.errors import CommandNotSupported
from wattson.ocpp import rpc
from wattson.ocpp.convert import format_time, parse_time
from wattson.ocpp.rpc import RpcError
from wattson.ocpp.v16 import Ocpp16
from wattson.ocpp.v16.protocol import samples_of
from wattson.ocpp.validation import SchemaSet
from wattson.stations import commands as c

V16 = SchemaSet("v16")


def test_parse_frames():
    assert rpc.parse('[2,"a","Heartbeat",{}]') == rpc.Call("a", "Heartbeat", {})
    assert rpc.parse('[3,"a",{"x":1}]') == rpc.CallResult("a", {"x": 1})
    assert rpc.parse('[4,"a","NotSupported","no",{}]') == rpc.CallError("a", "NotSupported", "no", {})
    assert rpc.parse(b'[4,"a","GenericError","x"]') == rpc.CallError("a", "GenericError", "x", {})


@pytest.mark.parametrize("text, code, unique_id", [
    ("not json", "FormatViolation", "-1"),
    ('{"a": 1}', "RpcFrameworkError", "-1"),
    ("[]", "RpcFrameworkError", "-1"),
    ("[2]", "RpcFrameworkError", "-1"),
    ('[2, 5, "Heartbeat", {}]', "RpcFrameworkError", "-1"),
    ('[2, "", "Heartbeat", {}]', "RpcFrameworkError", ""),
    ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', "RpcFrameworkError", "x" * 37),
    ('[2, "a", "Heartbeat"]', "RpcFrameworkError", "a"),
    ('[2, "a", "Heartbeat", []]', "FormatViolation", "a"),
    ('[3, "a"]', "FormatViolation", "a"),
    ('[7, "a", {}]', "MessageTypeNotSupported", "a"),
    # Type ids are integers: 2.0 == 2 and true == 1 in Python, but not in OCPP-J.
    ('[2.0, "a", "Heartbeat", {}]', "MessageTypeNotSupported", "a"),
    ('[true, "a", "Heartbeat", {}]', "MessageTypeNotSupported", "a"),
    ('["2", "a", "Heartbeat", {}]', "MessageTypeNotSupported", "a"),
    ('[3.0, "a", {}]', "MessageTypeNotSupported", "a"),
    # Nesting beyond MAX_DEPTH, however deep (orjson itself stops at 1024).
    ('[2, "a", "Heartbeat", {"x": ' + "[" * 900 + '"\\u0000"' + "]" * 900 + "}]", "FormatViolation", "a"),
    ("[" * 2000 + "]" * 2000, "FormatViolation", "-1"),
])
def test_malformed_frames(text, code, unique_id):
    with pytest.raises(RpcError) as err:
        rpc.parse(text)
    assert err.value.code == code
    assert err.value.unique_id == unique_id


def test_nesting_is_bounded_not_by_the_stack():
    def frame(depth: int) -> str:  # a CALL whose frame nests ``depth`` levels
        return '[2, "a", "DataTransfer", {"data": ' + "[" * (depth - 2) + "]" * (depth - 2) + "}]"
    assert rpc.parse(frame(rpc.MAX_DEPTH)).action == "DataTransfer"
    with pytest.raises(RpcError) as err:
        rpc.parse(frame(rpc.MAX_DEPTH + 1))
    assert (err.value.code, err.value.unique_id) == ("FormatViolation", "a")
    # Brackets inside strings do not count: only the real structure does.
    assert rpc.parse('[2, "a", "DataTransfer", {"data": "' + "[" * 500 + '"}]').payload["data"] == "[" * 500
    wide = {"k": [{"v": [1]} for _ in range(1000)]}  # many containers, shallow: fine
    assert not rpc.too_deep(wide) and rpc.too_deep(wide, 3)


def test_broken_replies_are_marked_as_replies():
    for text in ('[3, "a", "Accepted"]', '[4, "a", 5]', '[3, 7, {}]', '[3, "a", {"x": ' + "[" * 99 + "]" * 99 + "}]"):
        with pytest.raises(RpcError) as err:
            rpc.parse(text)
        assert err.value.is_reply, text
    with pytest.raises(RpcError) as err:
        rpc.parse('[2, "a", "Heartbeat"]')
    assert not err.value.is_reply


def test_response_names_are_not_actions():
    assert V16.knows("BootNotification") and V16.knows("Reset")
    assert not V16.knows("BootNotificationResponse") and not V16.knows("Nonsense")


def test_frames_round_trip():
    assert rpc.parse(rpc.call_frame("u", "Reset", {"type": "Soft"})) == rpc.Call("u", "Reset", {"type": "Soft"})
    assert rpc.parse(rpc.result_frame("u", {})) == rpc.CallResult("u", {})
    assert rpc.parse(rpc.error_frame("u", "InternalError", "x" * 300)).description == "x" * 255


@pytest.mark.parametrize("payload, code", [
    ({"chargePointVendor": "V"}, "OccurrenceConstraintViolation"),
    ({"chargePointVendor": "V" * 21, "chargePointModel": "M"}, "TypeConstraintViolation"),
    ({"chargePointVendor": 5, "chargePointModel": "M"}, "TypeConstraintViolation"),
    ({"chargePointVendor": "V", "chargePointModel": "M", "color": "red"}, "FormatViolation"),
])
def test_schema_error_codes(payload, code):
    with pytest.raises(RpcError) as err:
        V16.validate_request("BootNotification", payload)
    assert err.value.code == code


def test_enum_and_format_violations():
    with pytest.raises(RpcError) as err:
        V16.validate_request("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Asleep"})
    assert err.value.code == "PropertyConstraintViolation"
    with pytest.raises(RpcError) as err:
        V16.validate_request("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0,
                                                  "timestamp": "yesterday"})
    assert err.value.code == "PropertyConstraintViolation"


def test_1_6_spells_some_codes_its_own_way():
    names = Ocpp16.error_names
    assert names["FormatViolation"] == "FormationViolation"
    assert names["OccurrenceConstraintViolation"] == "OccurenceConstraintViolation"
    assert names["RpcFrameworkError"] == "ProtocolError"


def test_time_conversion():
    assert parse_time("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert parse_time("2026-01-02T05:04:05+02:00") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert parse_time("2026-01-02T03:04:05") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)) == "2026-01-02T03:04:05.678Z"
    with pytest.raises(RpcError):
        parse_time("soon")


def test_sampled_values_get_1_6_defaults():
    (s,) = samples_of([{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "42"}]}])
    assert (s.measurand, s.unit, s.context, s.location, s.format) == (
        "Energy.Active.Import.Register", "Wh", "Sample.Periodic", "Outlet", "Raw")


PROFILE = {"id": 7, "stack_level": 1, "purpose": "TxDefaultProfile", "kind": "Recurring", "recurrency": "Daily",
           "schedule": {"charging_rate_unit": "A", "start_schedule": "2026-01-01T00:00:00Z", "duration": 86400,
                        "periods": [{"start_period": 0, "limit": 16}, {"start_period": 3600, "limit": 21.4,
                                                                        "number_phases": 3}]}}
COMMANDS = [
    ("remote-start", {"id_tag": "T1", "evse": 2}),
    ("remote-start", {"id_tag": "T1"}),
    ("remote-stop", {"transaction_id": "17"}),
    ("reset", {}),
    ("reset", {"type": "hard"}),
    ("unlock", {"evse": 1}),
    ("change-availability", {"operative": False}),
    ("get-configuration", {}),
    ("get-configuration", {"keys": ["HeartbeatInterval"]}),
    ("change-configuration", {"key": "HeartbeatInterval", "value": "60"}),
    ("clear-cache", {}),
    ("trigger-message", {"message": "StatusNotification", "evse": 1}),
    ("data-transfer", {"vendor_id": "Acme", "message_id": "m", "data": "x"}),
    ("reserve-now", {"evse": 1, "id_tag": "T1", "expires_at": "2026-01-01T10:00:00Z", "reservation_id": 3}),
    ("cancel-reservation", {"reservation_id": 3}),
    ("send-local-list", {"version": 2, "entries": [{"id_tag": "A", "status": "Accepted"}, {"id_tag": "B"}]}),
    ("get-local-list-version", {}),
    ("set-charging-profile", {"evse": 1, "profile": PROFILE}),
    ("clear-charging-profile", {"purpose": "TxProfile"}),
    ("get-composite-schedule", {"evse": 1, "duration": 3600, "charging_rate_unit": "W"}),
    ("get-diagnostics", {"location": "ftp://logs.example/up", "start_time": "2026-01-01T00:00:00Z"}),
    ("update-firmware", {"location": "https://fw.example/1.bin", "retrieve_at": "2026-01-01T00:00:00Z"}),
]


def test_every_catalogue_command_is_covered():
    # Commands added with OCPP 2.x are covered, for every version, in test_command_tables.py.
    assert {name for name, _ in COMMANDS} <= set(c.CATALOGUE)


@pytest.mark.parametrize("name, params", COMMANDS)
def test_commands_translate_to_valid_1_6_calls(name, params):
    action, payload = Ocpp16.command_table(None)[name](c.CATALOGUE[name].model_validate(params))
    V16.validate_request(action, payload)  # what the station gets is always schema-valid


def test_1_6_cannot_express_everything():
    with pytest.raises(CommandNotSupported):
        Ocpp16.command_table(None)["unlock"](c.Unlock(evse=1, connector=2))
    with pytest.raises(CommandNotSupported):
        Ocpp16.command_table(None)["remote-stop"](c.RemoteStop(transaction_id="a-uuid"))


def test_nul_characters_are_refused_but_escaped_backslashes_are_not():
    with pytest.raises(RpcError) as err:
        rpc.parse('[2, "a", "Authorize", {"idTag": "x\\u0000y"}]')
    assert (err.value.code, err.value.unique_id) == ("PropertyConstraintViolation", "a")
    assert rpc.parse('[2, "a", "Authorize", {"idTag": "x\\\\u0000y"}]').payload == {"idTag": "x\\u0000y"}


def test_integers_are_bounded_to_what_is_stored():
    status = {"errorCode": "NoError", "status": "Available"}
    V16.validate_request("StatusNotification", {**status, "connectorId": 2**31 - 1})
    with pytest.raises(RpcError) as err:
        V16.validate_request("StatusNotification", {**status, "connectorId": 2**31})
    assert err.value.code == "PropertyConstraintViolation"
    with pytest.raises(RpcError) as err:
        V16.validate_request("StatusNotification", {**status, "connectorId": -1})
    assert err.value.code == "PropertyConstraintViolation"
    V16.validate_response("GetLocalListVersion", {"listVersion": -1})  # -1 means: no local list support
    stop = {"transactionId": 1, "timestamp": "2026-01-01T00:00:00Z"}
    V16.validate_request("StopTransaction", {**stop, "meterStop": 2**40})  # energy registers are 64-bit
    with pytest.raises(RpcError):
        V16.validate_request("StopTransaction", {**stop, "meterStop": 2**63})


def test_timestamps_out_of_range_in_utc():
    for value in ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"):
        with pytest.raises(RpcError) as err:
            parse_time(value)
        assert err.value.code == "PropertyConstraintViolation"
