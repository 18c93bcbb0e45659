"""EVSE IDs (eMI3 / ISO 15118, OCPI's ``evse_id``): syntax check and normalisation. No I/O.

Two forms exist (see OCPI 2.2.1 and ISO 15118-2 annex H):

- ISO: country (ISO 3166 alpha-2) + operator (3 alphanumerics) + ``E`` + 1–30 characters, the
  ``*`` separators optional: ``DE*AB7*E840*6487``, ``DEAB7E8406487``, ``FRA23E45B*78C``;
- DIN (SPEC 91286): phone-style with mandatory ``*``: ``+49*810*000*438``.

There is no check digit. IDs are case-insensitive; two spellings are the same EVSE when their
normalised forms (upper case, ``*`` removed) are equal.
"""

import re

EVSE_ID_RE = re.compile(
    r"^(?:(?P<iso>[A-Z]{2}\*?[A-Z0-9]{3}\*?E(?P<power>[A-Z0-9*]{1,30}))"
    r"|(?P<din>\+?[0-9]{1,3}\*[0-9]{3}\*[0-9*]{1,32}))$",
    re.IGNORECASE,
)
EVSE_ID_EXAMPLES = "DE*AB7*E840*6487, DEAB7E8406487 or +49*810*000*438"


def evse_id_problem(value: str) -> str | None:
    """Why ``value`` is not an EVSE ID, or None when it is one."""
    if not isinstance(value, str) or not value:
        return "an EVSE ID must not be empty"
    match = EVSE_ID_RE.fullmatch(value)
    if match is None:
        return (f"{value!r} is not an eMI3 EVSE ID: expected country code, operator ID, 'E' and 1-30 "
                f"letters, digits or '*' (ISO form), or +country*operator*number (DIN form), "
                f"e.g. {EVSE_ID_EXAMPLES}")
    rest = match["power"] if match["iso"] else value.split("*", 2)[2]
    if not rest.strip("*"):
        return f"{value!r} is not an eMI3 EVSE ID: nothing follows the operator part but '*'"
    return None


def check_evse_id(value: str) -> str:
    """``value`` as stored and shown: upper case, separators kept. ValueError if it is no EVSE ID."""
    problem = evse_id_problem(value)
    if problem:
        raise ValueError(problem)
    return value.upper()


def normalise_evse_id(value: str) -> str:
    """The form EVSE IDs are compared in: upper case, ``*`` removed. ValueError if it is no EVSE ID.

    >>> normalise_evse_id("de*ab7*e840*6487")
    'DEAB7E8406487'
    """
    return check_evse_id(value).replace("*", "")
