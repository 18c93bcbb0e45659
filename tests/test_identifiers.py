"""Identifier rules without I/O: eMI3 EVSE IDs, ISO 3166 country codes, IANA time zones."""

from datetime import datetime, timedelta, timezone

import pytest

from wattson.api.types import as_utc
from wattson.locations.rules import coordinates_problem, country_alpha3, time_zone_name
from wattson.stations.identifiers import check_evse_id, evse_id_problem, normalise_evse_id


@pytest.mark.parametrize("evse_id, code", [
    ("DE*AB7*E840*6487", "DEAB7E8406487"),
    ("DEAB7E8406487", "DEAB7E8406487"),
    ("de*ab7*e840*6487", "DEAB7E8406487"),  # case-insensitive
    ("DE*AB7E840*6487", "DEAB7E8406487"),  # each separator is optional
    ("FRA23E45B*78C", "FRA23E45B78C"),
    ("NL*TNM*E1", "NLTNME1"),
    ("DE*AB7*E" + "1" * 30, "DEAB7E" + "1" * 30),  # 30 characters after the E
    ("+49*810*000*438", "+49810000438"),  # DIN form
    ("49*810*000*438", "49810000438"),
    ("+1*234*5", "+12345"),
])
def test_valid_evse_ids_normalise_to_upper_case_without_separators(evse_id, code):
    assert evse_id_problem(evse_id) is None
    assert normalise_evse_id(evse_id) == code
    assert check_evse_id(evse_id) == evse_id.upper()


@pytest.mark.parametrize("evse_id", [
    "", "DE", "DE*AB7", "DE*AB7*", "DE*AB7*E", "DE*AB7*X840",  # no E, or nothing after it
    "DE*AB7*E*", "DE*AB7*E***",  # only separators after the E
    "D1*AB7*E840", "DEU*AB7*E840",  # the country is two letters
    "DE*AB*E840", "DE*AB7X*E840",  # the operator is three characters
    "DE*AB7*E" + "1" * 31,  # more than 30 after the E
    "DE-AB7-E840", "DE*AB7*E840 6487", " DE*AB7*E840", "DE*AB7*E840\n", "DE*AB7*E84ä",
    "+49810000438", "+49*81*000*438", "+1234*810*000*438", "+49*810*",  # DIN needs its separators
    "+49*810*" + "1" * 33,
])
def test_invalid_evse_ids_are_refused_with_a_reason(evse_id):
    problem = evse_id_problem(evse_id)
    assert problem and "EVSE ID" in problem
    with pytest.raises(ValueError, match="EVSE ID"):
        normalise_evse_id(evse_id)


def test_spellings_of_one_evse_id_share_one_code():
    spellings = ["DE*AB7*E840*6487", "de*ab7*e840*6487", "DEAB7E8406487", "DE*AB7E8406487", "DEAB7*E840*6487"]
    assert {normalise_evse_id(s) for s in spellings} == {"DEAB7E8406487"}


@pytest.mark.parametrize("given, alpha3", [
    ("DE", "DEU"), ("de", "DEU"), ("DEU", "DEU"), ("deu", "DEU"), ("nl", "NLD"), ("Nld", "NLD"),
    ("GB", "GBR"), ("US", "USA"), (" fr ", "FRA"),
])
def test_country_codes_become_alpha3(given, alpha3):
    assert country_alpha3(given) == alpha3


@pytest.mark.parametrize("given", ["", "D", "ZZ", "XXX", "DEUT", "Germany", "276", "D1", "ÜÜ", None])
def test_unknown_country_codes_are_refused(given):
    with pytest.raises(ValueError, match="ISO 3166-1"):
        country_alpha3(given)


@pytest.mark.parametrize("given, name", [
    ("UTC", "UTC"), ("utc", "UTC"), ("Europe/Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"),
    ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"), ("Asia/Kolkata", "Asia/Kolkata"),
    (" Europe/Paris ", "Europe/Paris"),
])
def test_time_zones_are_iana_names_spelled_as_the_database_does(given, name):
    assert time_zone_name(given) == name


@pytest.mark.parametrize("given", ["", "Mars/Olympus", "Europe/Berlinn", "../etc/passwd", "/Europe/Berlin",
                                   "localtime", "Europe/ Berlin", "+01:00", None])
def test_unknown_time_zones_are_refused(given):
    with pytest.raises(ValueError, match="IANA time zone"):
        time_zone_name(given)


def test_times_without_a_zone_are_utc_and_others_are_converted():
    assert as_utc(datetime(2025, 6, 1, 12, 0)) == datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    berlin_summer = timezone(timedelta(hours=2))
    converted = as_utc(datetime(2025, 6, 1, 12, 0, tzinfo=berlin_summer))
    assert converted == datetime(2025, 6, 1, 10, 0, tzinfo=timezone.utc) and converted.tzinfo == timezone.utc
    with pytest.raises(ValueError, match="out of range"):
        as_utc(datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=1))))


def test_coordinates_come_in_pairs():
    assert coordinates_problem(None, None) is None
    assert coordinates_problem(52.5, 13.4) is None
    assert coordinates_problem(0.0, 0.0) is None  # zero is a coordinate, not a missing one
    assert "both or neither" in coordinates_problem(52.5, None)
    assert "both or neither" in coordinates_problem(None, 13.4)
