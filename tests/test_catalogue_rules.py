"""The catalogue's rules without I/O: names and codes compared, 2.x events' current errors, and
which catalogue entry decodes a reported error."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from wattson.catalogue import rules

T0 = datetime(2026, 12, 4, 9, tzinfo=timezone.utc)


@dataclass
class Entry:
    code: str
    model_id: int | None


def event(code=None, *, at=0, cleared=None, variable="Problem", value="true", evse=1, component="EVSE"):
    entry = {"eventId": at, "timestamp": "", "trigger": "Alerting", "actualValue": value,
             "eventNotificationType": "HardWiredNotification",
             "component": {"name": component, "evse": {"id": evse}}, "variable": {"name": variable}}
    if code is not None:
        entry["techCode"] = code
    if cleared is not None:
        entry["cleared"] = cleared
    return entry, T0 + timedelta(seconds=at)


def test_names_compare_ignoring_case_and_extra_blanks():
    assert rules.name_key("  ABB  Terra\tAC ") == rules.name_key("abb terra ac") == "abb terra ac"
    assert rules.name_key("Straße") == rules.name_key("STRASSE")
    assert rules.name_key("A B B") != rules.name_key("ABB")
    assert rules.name_key("   ") is None and rules.name_key(None) is None
    assert len(rules.name_key("ß" * 50)) == rules.NAME_KEY_MAX  # casefold lengthens; the key is cut


def test_a_code_key_spells_model_and_code_ignoring_case():
    assert rules.code_key(None, "E-12") == rules.code_key(None, " e-12 ") == "0/e-12"
    assert rules.code_key(7, "E-12") == "7/e-12" != rules.code_key(None, "E-12")


def test_only_an_error_code_other_than_no_error_is_an_error():
    assert rules.is_error("GroundFailure") and rules.is_error("OtherError")
    assert not rules.is_error("NoError") and not rules.is_error(None) and not rules.is_error("")


def test_an_event_with_a_tech_code_is_an_error_until_cleared():
    states = rules.event_states([event("E-77")])
    (key, (error, at)), = states.items()
    assert (error.vendor_error_code, error.evse, error.component, error.variable, at) == ("E-77", 1, "EVSE",
                                                                                          "Problem", T0)
    assert rules.event_states([event("E-77", cleared=True)])[key][0] is None
    assert rules.event_states([event("E-77", value="false")])[key][0] is None  # Problem false: back to normal
    assert rules.event_states([event(None)])[key][0] is None  # no techCode: nothing to decode


def test_the_newest_entry_of_an_address_wins_whatever_the_order_sent():
    key = rules.address(event()[0])
    assert rules.event_states([event("E-2", at=5), event("E-1", at=1)])[key][0].vendor_error_code == "E-2"
    assert rules.event_states([event(None, at=5, cleared=True), event("E-1", at=1)])[key][0] is None
    both = rules.event_states([event("E-1", evse=1), event("E-2", evse=2), event("T-1", component="Connector")])
    assert len(both) == 3  # one address each


def test_the_model_s_entry_decodes_before_the_vendor_wide_one_and_the_vendor_code_before_ocpp_s():
    error = rules.ReportedError("StatusNotification", 1, 1, T0, error_code="OtherError", vendor_error_code="e-12")
    wide, own, other, ocpp = Entry("E-12", None), Entry("E-12", 7), Entry("E-12", 8), Entry("OtherError", None)
    assert rules.choose(error, [wide, own, other, ocpp], 7) is own
    assert rules.choose(error, [wide, other, ocpp], 7) is wide  # another model's entry never fits
    assert rules.choose(error, [other, ocpp], 7) is ocpp  # OCPP's errorCode, as the vendor explains it
    assert rules.choose(error, [other], 7) is None
    assert rules.choose(error, [wide, own], None) is wide  # no model known: the vendor-wide entry
