"""Station status vocabulary and rules. No I/O."""

from datetime import datetime

REGISTRATION_STATUSES = ("Accepted", "Pending", "Rejected")
NEVER_CONNECTED, ONLINE, OFFLINE = "never_connected", "online", "offline"


def is_newer(reported_at: datetime, current_at: datetime | None) -> bool:
    """A report changes the current status only if it is not older than the one shown.

    Stations replay queued messages after an outage; a status from before the outage must
    go into the history without overwriting what the station reported since.
    """
    return current_at is None or reported_at >= current_at


#: Connector statuses from most to least active (OCPP 1.6 spellings, then 2.0.1's Occupied):
#: a session in progress on any connector occupies the whole EVSE, then a reservation; an EVSE
#: is available while any connector is, and unavailable or faulted only when none is usable.
ACTIVITY_ORDER = ("Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Preparing", "Occupied",
                  "Reserved", "Available", "Unavailable", "Faulted")
_RANK = {status.lower(): rank for rank, status in enumerate(ACTIVITY_ORDER)}


def evse_hardware_status(connector_statuses) -> str | None:
    """An EVSE's hardware status from its connectors' (None: never reported): a single
    connector's own, otherwise the most active one. A status outside the vocabulary (a vendor's
    own) ranks after the known ones; null only when no connector ever reported."""
    reported = [status for status in connector_statuses if status is not None]
    if not reported:
        return None
    return min(reported, key=lambda status: _RANK.get(status.lower(), len(ACTIVITY_ORDER)))
