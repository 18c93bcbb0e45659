"""Rules for locations without I/O: country codes, time zones, opening hours."""

import zoneinfo
from functools import lru_cache

import pycountry

#: Names in the tz database that depend on the machine, not on a place.
_NOT_PLACES = {"localtime", "posixrules", "Factory"}


def country_alpha3(code: str) -> str:
    """The ISO 3166-1 alpha-3 code of a country given as alpha-2 or alpha-3, any case.

    ValueError for anything else.

    >>> country_alpha3("de"), country_alpha3("NLD")
    ('DEU', 'NLD')
    """
    text = code.strip().upper() if isinstance(code, str) else ""
    country = None
    if len(text) == 2 and text.isalpha():
        country = pycountry.countries.get(alpha_2=text)
    elif len(text) == 3 and text.isalpha():
        country = pycountry.countries.get(alpha_3=text)
    if country is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 country code (alpha-2 like 'DE' or alpha-3 like 'DEU')")
    return country.alpha_3


@lru_cache(maxsize=1)
def _time_zones() -> dict[str, str]:
    names = {name for name in zoneinfo.available_timezones() if name not in _NOT_PLACES} | {"UTC"}
    return {name.lower(): name for name in names}


def time_zone_name(name: str) -> str:
    """The IANA time zone ``name`` as the tz database spells it (matched ignoring case).

    ValueError if there is no such zone.

    >>> time_zone_name("europe/berlin")
    'Europe/Berlin'
    """
    canonical = _time_zones().get(name.strip().lower()) if isinstance(name, str) else None
    if canonical is None:
        raise ValueError(f"{name!r} is not an IANA time zone name (e.g. 'Europe/Berlin' or 'UTC')")
    return canonical


def coordinates_problem(latitude: float | None, longitude: float | None) -> str | None:
    """Why a pair of coordinates cannot be stored, or None. Both or neither are needed."""
    if (latitude is None) != (longitude is None):
        return "latitude and longitude go together: give both or neither"
    return None
