"""Rules without I/O: authorisation, energy, status ordering, negotiation, settings."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from wattson.access.rules import AuthResult, evaluate, refused_here, rights_allow
from wattson.ocpp.datatransfer import Registry
from wattson.ocpp.gateway import negotiate
from wattson.ocpp.v16.protocol import Ocpp16
from wattson.ocpp.v201.protocol import Ocpp201
from wattson.stations.identity import identity_problem
from wattson.sessions.meter import Sample, energy_between, energy_reading, reading_problem, to_wh
from wattson.settings import async_database_url
from wattson.stations.status import is_newer

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def token(status="Accepted", valid_from=None, expires_at=None, parent=None, driver=None):
    return SimpleNamespace(status=status, valid_from=valid_from, expires_at=expires_at, parent_id_tag=parent,
                           driver_id=driver)


@pytest.mark.parametrize("tok, expected", [
    (None, "Invalid"),
    (token(), "Accepted"),
    (token("Blocked"), "Blocked"),
    (token("Expired"), "Expired"),
    (token("Invalid"), "Invalid"),
    (token(expires_at=NOW - timedelta(seconds=1)), "Expired"),
    (token(expires_at=NOW), "Expired"),
    (token(expires_at=NOW + timedelta(days=1)), "Accepted"),
    (token(valid_from=NOW + timedelta(hours=1)), "Invalid"),
    (token(valid_from=NOW - timedelta(hours=1)), "Accepted"),
    (token("Blocked", expires_at=NOW + timedelta(days=1)), "Blocked"),
])
def test_token_evaluation(tok, expected):
    assert evaluate(tok, NOW).status == expected


def test_evaluation_carries_expiry_and_parent():
    result = evaluate(token(expires_at=NOW + timedelta(days=3), parent="FLEET-1", driver=9), NOW)
    assert result == AuthResult("Accepted", NOW + timedelta(days=3), "FLEET-1", 9) and result.accepted


@pytest.mark.parametrize("charger_groups, granted, allowed", [
    (set(), set(), True),  # a charger in no group is open
    (set(), {1}, True),
    ({1}, set(), False),
    ({1, 2}, {2}, True),
    ({1}, {3}, False),
])
def test_access_rights(charger_groups, granted, allowed):
    assert rights_allow(charger_groups, granted) == allowed


def test_refused_here_is_invalid_but_keeps_the_driver():
    assert refused_here(AuthResult("Accepted", None, "P", 4)) == AuthResult("Invalid", None, "P", 4, "not_here")


@pytest.mark.parametrize("value, unit, wh", [(1.5, "kWh", 1500.0), (1500, "Wh", 1500.0), (7, None, 7.0),
                                             (3, "W", None), (3, "varh", None)])
def test_to_wh(value, unit, wh):
    assert to_wh(value, unit) == wh


def sample(minute, value, measurand="Energy.Active.Import.Register", unit="Wh", phase=None, fmt="Raw"):
    return Sample(NOW + timedelta(minutes=minute), value, measurand, unit, phase, format=fmt)


def test_energy_reading_takes_the_latest_phaseless_register():
    samples = [sample(2, "2.0", unit="kWh"), sample(1, "1500"), sample(3, "9999", phase="L1"),
               sample(4, "7000", "Power.Active.Import", "W"), sample(5, "not a number"),
               sample(6, "abc", fmt="SignedData")]
    assert energy_reading(samples) == (NOW + timedelta(minutes=2), 2000)


def test_energy_reading_without_register_is_none():
    assert energy_reading([sample(1, "11000", "Power.Active.Import", "W")]) is None
    assert energy_reading([]) is None


def test_energy_between_never_negative():
    assert energy_between(1000, 4500) == 3500
    assert energy_between(1000, None) == 0
    assert energy_between(5000, 10) == 0  # meter replaced or reset mid-session


def test_older_status_does_not_replace_newer():
    assert is_newer(NOW, None)
    assert is_newer(NOW, NOW)
    assert is_newer(NOW + timedelta(seconds=1), NOW)
    assert not is_newer(NOW - timedelta(seconds=1), NOW)


def test_negotiation_prefers_our_order():
    v201, v16 = SimpleNamespace(subprotocol="ocpp2.0.1"), SimpleNamespace(subprotocol="ocpp1.6")
    assert negotiate(["ocpp1.6", "ocpp2.0.1"], [v201, v16]) is v201
    assert negotiate(["ocpp1.6"], [v201, v16]) is v16
    assert negotiate(["ocpp1.5", "wamp"], [v201, v16]) is None
    assert negotiate([], [v16]) is None


@pytest.mark.parametrize("identity, ok", [("CP-1", True), ("x" * 48, True), ("x" * 49, False), ("", False),
                                           ("a/b", False), ("tab\there", False), ("DE*ABC*E1", True), ("sp ace", False),
                                           ("caf\u00e9", False), ("nel\u0085", False), ("a=b:c+d|e@f.g_h-i", True)])
def test_identity_rules(identity, ok):
    assert (identity_problem(identity) is None) == ok


@pytest.mark.parametrize("given, expected", [
    ("sqlite:///./w.db", "sqlite+aiosqlite:///./w.db"),
    ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
])
def test_database_url_gets_async_driver(given, expected):
    assert async_database_url(given) == expected


@pytest.mark.parametrize("value, multiplier, problem", [
    ("1500", 0, None), ("-2.5", 0, None), ("0.001", 0, None), (".5", 0, None), ("7.", 0, None), ("+3", 0, None),
    ("1e3", 0, None), ("999999999999999", 0, None), ("1000000000000000", 0, "magnitude"),
    ("999999999999999.9", 0, None), ("-999999999999999", 0, None), ("0e400", 0, None),
    ("1e-400", 0, None), ("1.5", 3, None), ("2", 14, None), ("1", -15, None),
    ("NaN", 0, "number"), ("nan", 0, "number"), ("Infinity", 0, "number"), ("-inf", 0, "number"),
    ("abc", 0, "number"), ("", 0, "number"), (" 12", 0, "number"), ("1_000", 0, "number"), ("0x10", 0, "number"),
    ("1e400", 0, "magnitude"), ("-1e308", 0, "magnitude"), ("1e15", 0, "magnitude"),
    ("-1000000000000000", 0, "magnitude"), ("1", 15, "magnitude"), ("0.5", 16, "multiplier"),
    ("0", 1000, "multiplier"), ("1", -16, "multiplier"),
    ("\u0661\u0662\u0663", 0, "number"), ("\u00b2", 0, "number"), ("1.2.3", 0, "number"), (".", 0, "number"),
])
def test_a_reading_is_a_finite_decimal_below_1e15(value, multiplier, problem):
    found = reading_problem(value, multiplier)
    assert (found is None) if problem is None else (problem in found), found


def test_energy_ignores_stored_readings_that_are_no_finite_number():
    """Rows stored before readings were checked on the way in must not break the sums."""
    samples = [sample(1, "1500"), sample(2, "NaN"), sample(3, "inf"), sample(4, "1e400"), sample(5, "-1e308")]
    assert energy_reading(samples) == (NOW + timedelta(minutes=1), 1500)


def test_data_transfer_registry_names_why_it_has_no_handler():
    async def ping(transfer):
        return None

    async def any_message(transfer):
        return None

    registry = Registry()
    registry.register("com.acme", "ping", ping)
    registry.register("org.wild", None, any_message)
    assert registry.handler("com.acme", "ping") is ping
    assert registry.handler("com.acme", "pong") == "UnknownMessageId"
    assert registry.handler("com.acme", None) == "UnknownMessageId"
    assert registry.handler("COM.ACME", "ping") == "UnknownVendorId"  # vendor ids are compared exactly
    assert registry.handler("org.wild", "anything") is registry.handler("org.wild", None) is any_message
    assert registry.handler("net.other", "ping") == "UnknownVendorId"
    with pytest.raises(ValueError):
        registry.register("com.acme", "ping", any_message)


def test_a_pending_station_may_send_what_it_was_asked_for():
    p16, p201 = Ocpp16.__new__(Ocpp16), Ocpp201.__new__(Ocpp201)  # the rules need no services
    assert p16.allows("Pending", "BootNotification") and not p16.allows("Pending", "StatusNotification")
    invited = set(p16.invited_by("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}))
    assert invited == {"StatusNotification"} and p16.allows("Pending", "StatusNotification", invited)
    assert not p16.allows("Pending", "Heartbeat", invited)
    assert not p16.allows("Rejected", "StatusNotification", invited)  # Rejected: only BootNotification
    assert p16.allows("Accepted", "Heartbeat")
    assert p16.invited_by("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}) == \
        {"SignCertificate"}
    assert p16.invited_by("GetDiagnostics", {"location": "ftp://x"}) == {"DiagnosticsStatusNotification"}
    assert p201.invited_by("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}) == {"NotifyReport"}
    assert p201.invited_by("TriggerMessage", {"requestedMessage": "SignV2GCertificate"}) == {"SignCertificate"}
    assert p201.invited_by("Reset", {"type": "Immediate"}) == frozenset()
    assert not p201.allows("Pending", "NotifyEvent", {"NotifyReport"})
