"""Station rules without I/O: security profile 1 passwords, an EVSE's status from its connectors'."""

import pytest

from wattson.stations.passwords import hash_password, password_problem, verify_password
from wattson.stations.status import ACTIVITY_ORDER, evse_hardware_status

PASSWORD = "n7Qk2vX9pL4sW8dR"


def test_a_password_verifies_against_its_salted_hash_only():
    stored = hash_password(PASSWORD)
    assert PASSWORD not in stored and len(stored) <= 128 and stored.startswith("$argon2id$")
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD[:-1], stored)
    assert not verify_password(PASSWORD + "x", stored)
    assert not verify_password(PASSWORD.lower(), stored)
    assert hash_password(PASSWORD) != stored  # a new salt every time
    assert len(hash_password("x" * 40)) <= 128


@pytest.mark.parametrize("stored", [None, "", "garbage", "pbkdf2_sha256$1000$", "md5$1$aa$bb",
                                    "pbkdf2_sha256$many$AAAA$AAAA", "pbkdf2_sha256$1000$!!$??"])
def test_a_missing_or_malformed_hash_verifies_nothing(stored):
    assert not verify_password(PASSWORD, stored)


@pytest.mark.parametrize("password, ok", [
    ("a" * 16, True), ("a" * 40, True), ("a" * 15, False), ("a" * 41, False), ("", False),
    ("correct horse battery staple", True), ("pässwörd-pässwörd", False), ("tab\there-and-there", False),
])
def test_password_rule_is_ocpps_16_to_40_printable_characters(password, ok):
    assert (password_problem(password) is None) is ok


@pytest.mark.parametrize("statuses, expected", [
    ([], None),
    ([None], None),
    ([None, None], None),
    (["Faulted"], "Faulted"),  # a single connector: its own status, whatever it is
    (["Available", None], "Available"),
    (["Available", "Charging"], "Charging"),
    (["Preparing", "Available"], "Preparing"),
    (["SuspendedEV", "Finishing"], "SuspendedEV"),
    (["Available", "Reserved"], "Reserved"),
    (["Faulted", "Available"], "Available"),  # still usable
    (["Faulted", "Unavailable"], "Unavailable"),
    (["Occupied", "Available"], "Occupied"),  # OCPP 2.0.1
    (["VendorSpecific", "Faulted"], "Faulted"),  # unknown statuses rank last
    (["VendorSpecific", None], "VendorSpecific"),
    (["charging", "Available"], "charging"),  # spelled as reported
])
def test_an_evse_shows_its_most_active_connector(statuses, expected):
    assert evse_hardware_status(statuses) == expected


def test_activity_order_covers_every_ocpp16_connector_status():
    ocpp16 = {"Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved",
              "Unavailable", "Faulted"}
    assert ocpp16 <= set(ACTIVITY_ORDER)
