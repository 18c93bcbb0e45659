"""Security events without I/O: how serious each one is, Wattson's own event types, and the one
order in which every source is listed (docs/security.md, "Security events")."""

from datetime import datetime

CRITICAL, WARNING, INFO = "critical", "warning", "info"
SEVERITIES = (CRITICAL, WARNING, INFO)

#: Who reported it: a station (SecurityEventNotification), the gateway (a refused handshake, from
#: the connection diagnostics) or Wattson itself (a change through the API, a certificate). In
#: this order among events recorded at the same instant.
STATION, CONNECTION, CSMS = "station", "connection", "csms"
SOURCES = (STATION, CONNECTION, CSMS)
RANK = {source: rank for rank, source in enumerate(SOURCES)}

#: The events OCPP's security events list marks critical (the 1.6 security whitepaper and 2.0.1
#: agree): a station must deliver these, queued while offline. Any other type a station reports
#: is a warning.
CRITICAL_STATION_TYPES = frozenset({
    "FirmwareUpdated", "SettingSystemTime", "StartupOfTheDevice", "ResetOrReboot", "SecurityLogWasCleared",
    "MemoryExhaustion", "TamperDetectionActivated",
})

#: Wattson's own types.
HANDSHAKE_REFUSED = "HandshakeRefused"
PASSWORD_CHANGED = "StationPasswordChanged"
PROFILE_CHANGED = "SecurityProfileChanged"
CERTIFICATE_SIGNED = "StationCertificateSigned"
CERTIFICATE_CHANGED = "StationCertificateChanged"
CERTIFICATE_REFUSED = "StationCertificateRefused"
CERTIFICATE_FAILED = "StationCertificateFailed"
#: A station certificate record's state (wattson/pki/service.py) -> its security event and severity:
#: signed by the CA, installed by the station (its certificate changed), refused by it, or failed on
#: the way (not signed, not sent, not answered). The other states change no certificate.
CERTIFICATE_STATES = {"signed": (CERTIFICATE_SIGNED, INFO), "accepted_by_station": (CERTIFICATE_CHANGED, INFO),
                      "refused_by_station": (CERTIFICATE_REFUSED, WARNING), "failed": (CERTIFICATE_FAILED, WARNING)}
#: Refusals that say nothing about a station's credentials (a wrong URL, an OCPP version or a
#: process that does not take stations): information. Every other refusal is a warning.
CONFIGURATION_REFUSALS = frozenset({"invalid_identity", "not_served", "no_subprotocol"})


def station_severity(type: str) -> str:
    return CRITICAL if type in CRITICAL_STATION_TYPES else WARNING


def refusal_severity(reason: str) -> str:
    return INFO if reason in CONFIGURATION_REFUSALS else WARNING


def certificate_change(state: str, certificate_type: str | None, serial: str | None,
                       reason: str | None) -> tuple[str, str, str] | None:
    """The security event of a station certificate record entering ``state``: (type, severity,
    detail), or None for a state that changes no certificate (requested, rejected, sent)."""
    if state not in CERTIFICATE_STATES:
        return None
    type, severity = CERTIFICATE_STATES[state]
    what = (certificate_type or "ChargingStationCertificate") + (f" {serial}" if serial else "")
    return type, severity, f"{what}: {state.replace('_', ' ')}" + (f": {reason}" if reason else "")


def security_changes(old_profile: int, new_profile: int, password_set: bool,
                     had_password: bool) -> list[tuple[str, str, str, dict]]:
    """The events of one change of a station's security settings: (type, severity, detail, data).
    A lower profile is a warning (the station proves less); a new password or a higher profile is
    information. Profiles 0 and 3 drop the password: said with the profile change."""
    events = []
    if new_profile != old_profile:
        dropped = had_password and new_profile in (0, 3)
        detail = f"security profile {old_profile} → {new_profile}" + ("; password removed" if dropped else "")
        events.append((PROFILE_CHANGED, WARNING if new_profile < old_profile else INFO, detail,
                       {"from": old_profile, "to": new_profile, "password_removed": dropped}))
    if password_set:
        events.append((PASSWORD_CHANGED, INFO, f"new password (security profile {new_profile})",
                       {"security_profile": new_profile, "first": not had_password}))
    return events


def merge(pages: list[list], limit: int, key) -> list:
    """The ``limit`` newest of several sources' pages, each already newest first: by ``key``
    (recorded_at, source rank, id), descending."""
    return sorted((item for page in pages for item in page), key=key, reverse=True)[:limit]


def after(key: tuple[datetime, str, int], source: str) -> str:
    """How a source's rows follow the cursor ``key`` (recorded_at, source, id) in the listing's
    order, newest first and, at one instant, by source rank and id, highest first: "at_or_before"
    the cursor's instant (a source ranked below the cursor's), "tie" (the cursor's own source:
    before its instant, or at it with a lower id) or "before" (a source ranked above)."""
    cursor_source = key[1]
    if source == cursor_source:
        return "tie"
    return "at_or_before" if RANK[source] < RANK[cursor_source] else "before"
