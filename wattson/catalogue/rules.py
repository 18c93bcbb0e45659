"""Catalogue rules without I/O: how names and codes are compared, which of a station's reports
are its current errors, and which catalogue entry decodes one."""

from dataclasses import dataclass
from datetime import datetime

#: How serious a vendor error code is, worst first.
SEVERITIES = ("critical", "error", "warning", "info")
OCPP_VERSIONS = ("1.6", "2.0.1", "2.1")
#: OCPP 1.6 ChargePointErrorCode of a connector without an error.
NO_ERROR = "NoError"
#: The longest name key kept (a name has 50 characters at most).
NAME_KEY_MAX = 50


def name_key(name: str | None) -> str | None:
    """A vendor's or model's name as it is compared: case-insensitive, inner runs of white space as
    one blank, outer ones dropped ("ABB ", "abb" and "A B B" differ only in the last). None for
    no name or a blank one: such a boot matches nothing."""
    if name is None:
        return None
    key = " ".join(name.split()).casefold()[:NAME_KEY_MAX]  # casefold may lengthen it (ß: ss)
    return key or None


def code_key(model_id: int | None, code: str) -> str:
    """The unique key of an error code within its vendor: its model (0: every model of the vendor)
    and the code ignoring case (OCPP's vendorErrorCode is a CiString)."""
    return f"{model_id or 0}/{code.strip().casefold()}"


@dataclass(slots=True)
class ReportedError:
    """One error a station reports now: a 1.6 StatusNotification's errorCode (with its
    vendorErrorCode) on a connector or the station, or a 2.x NotifyEvent with a techCode."""
    source: str  # StatusNotification | NotifyEvent
    evse: int | None
    connector: int | None
    reported_at: datetime | None
    error_code: str | None = None  # 1.6 errorCode
    vendor_id: str | None = None  # 1.6 vendorId
    vendor_error_code: str | None = None  # 1.6 vendorErrorCode, 2.x techCode
    info: str | None = None  # 1.6 info, 2.x techInfo
    status: str | None = None  # 1.6 status with it
    component: str | None = None  # 2.x
    variable: str | None = None  # 2.x
    decoded: object = None  # the catalogue entry that explains it, once looked up

    @property
    def codes(self) -> list[str]:
        """The codes to look up, the most specific first: the vendor's code, then OCPP's errorCode
        (a catalogue may describe what a vendor means by OtherError)."""
        return [c for c in (self.vendor_error_code, self.error_code) if c]


def is_error(error_code: str | None) -> bool:
    """Whether a 1.6 shown errorCode is an error (NoError and no code are not)."""
    return bool(error_code) and error_code != NO_ERROR


def address(entry: dict) -> str:
    """Where a 2.x event entry is about, as one key: component (instance, EVSE, connector) and
    variable (instance). A newer entry at the same address replaces what an older one said."""
    component, variable = entry.get("component") or {}, entry.get("variable") or {}
    evse = component.get("evse") or {}
    parts = (component.get("name"), component.get("instance"), evse.get("id"), evse.get("connectorId"),
             variable.get("name"), variable.get("instance"))
    return "/".join("" if part is None else str(part) for part in parts)[:255]


def _cleared(entry: dict) -> bool:
    """A 2.x event that returns its component and variable to normal: ``cleared`` true, or a
    Problem variable reported false."""
    if entry.get("cleared") is True:
        return True
    variable = (entry.get("variable") or {}).get("name")
    return variable == "Problem" and str(entry.get("actualValue", "")).strip().lower() == "false"


def event_states(entries: list[tuple[dict, datetime]]) -> dict[str, tuple[ReportedError | None, datetime]]:
    """What one NotifyEvent says of each address it names: the error there now (its newest entry
    has a techCode and is not cleared), or None (the address is back to normal, or its newest
    entry reports no techCode), with that entry's time."""
    states: dict[str, tuple[ReportedError | None, datetime]] = {}
    for entry, at in sorted(entries, key=lambda item: item[1]):  # a later entry wins, also at one instant
        key = address(entry)
        component, variable = entry.get("component") or {}, entry.get("variable") or {}
        evse = component.get("evse") or {}
        error = None
        if entry.get("techCode") and not _cleared(entry):
            error = ReportedError("NotifyEvent", evse.get("id"), evse.get("connectorId"), at,
                                  vendor_error_code=str(entry["techCode"])[:50], info=entry.get("techInfo"),
                                  component=component.get("name"), variable=variable.get("name"))
        states[key] = error, at
    return states


def choose(error: ReportedError, entries: list, model_id: int | None):
    """The catalogue entry decoding ``error`` among ``entries`` of the station's vendor (objects
    with ``code`` and ``model_id``): the code before OCPP's errorCode, the station's model's
    entry before the vendor-wide one. None when no entry fits."""
    for code in error.codes:
        wanted = code.strip().casefold()
        fitting = [e for e in entries if e.code.strip().casefold() == wanted and e.model_id in (None, model_id)]
        for entry in sorted(fitting, key=lambda e: e.model_id is None):
            return entry
    return None
