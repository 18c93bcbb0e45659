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
