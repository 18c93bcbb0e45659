"""What the CSMS's commands do to the station, whichever OCPP version they came in.

A version's handler reads its payload, calls one of these, and writes the outcome in its own
words; so a remote start, a reservation or a firmware update behaves the same in 1.6 and 2.x.
Like handlers, these change state at once and leave messages to ``station.after_reply``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import orjson

from wattson.sim.connector import Reservation, SessionRequest
from wattson.sim.profiles import TX, Composite, Profile
from wattson.sim.wire import utc_now

if TYPE_CHECKING:
    from wattson.sim.station import SimStation

STEP = 0.2  # seconds between the steps of a log upload or a firmware update
VENDOR_ID = "Wattson"  # the DataTransfer vendor this station understands
DOWNLOAD_STEPS = ("Downloading", "Downloaded", "Installing", "Installed")
UPLOAD_STEPS = ("Uploading", "Uploaded")


@dataclass
class Progress:
    """Where a firmware update or a log upload is: what a triggered status notification reports."""

    status: str = "Idle"
    request_id: int | None = None  # 2.x: the request it belongs to


def remote_start(station: SimStation, connector_id: int | None, request: SessionRequest) -> bool:
    """Begin a session the CSMS asked for, on that connector or the first free one; accepted?"""
    if request.profile is not None and request.profile.purpose != TX:
        return False
    connector = station.free_connector(connector_id, request.id_tag)
    if connector is None:
        return False
    connector.claimed = True  # no other session may take it before this one begins
    station.after_reply(connector.begin, request)
    return True


def change_availability(station: SimStation, connector_id: int, operative: bool) -> str:
    """Make a connector (0: all of them) operative or not; Accepted, Scheduled (after the
    running session) or Rejected."""
    if connector_id == 0:
        targets = list(station.connectors.values())
        if station.operative != operative:
            station.operative = operative
            station.after_reply(station.protocol.send_status, 0)
    elif connector_id in station.connectors:
        targets = [station.connectors[connector_id]]
    else:
        return "Rejected"
    scheduled = False
    for connector in targets:
        if connector.busy or connector.claimed:  # in use: takes effect when the session is over
            connector.pending_operative = operative
            scheduled = True
        elif connector.operative != operative:
            connector.operative = operative
            station.after_reply(station.show_idle, connector)
    return "Scheduled" if scheduled else "Accepted"


def reserve(station: SimStation, connector_id: int, reservation: Reservation) -> str:
    """ReserveNow on a connector (0: any); a reservation id already held is replaced, wherever it was."""
    existing = reserved(station, reservation.id)
    if connector_id == 0:
        connector = existing or next((c for c in station.connectors.values()
                                      if c.is_free_for(reservation.id_tag) and c.reservation is None), None)
        if connector is None:
            operative = any(c.operative for c in station.connectors.values())
            return "Occupied" if operative else "Unavailable"
    elif connector_id in station.connectors:
        connector = station.connectors[connector_id]
    else:
        return "Rejected"
    if not connector.operative:
        return "Unavailable"
    if connector.busy or connector.claimed or (connector.reservation is not None and existing is not connector):
        return "Occupied"
    if existing is not None:
        existing.reservation.cancel()
        existing.reservation = None
        if existing is not connector:
            station.after_reply(station.show_idle, existing)
    connector.reservation = reservation
    station.after_reply(station.hold_reservation, connector, reservation)
    return "Accepted"


def cancel_reservation(station: SimStation, reservation_id: int) -> bool:
    connector = reserved(station, reservation_id)
    if connector is None:
        return False
    connector.reservation.cancel()
    connector.reservation = None
    station.after_reply(station.show_idle, connector)
    return True


def reserved(station: SimStation, reservation_id: int):
    """The connector holding a reservation, if any does."""
    return next((c for c in station.connectors.values()
                 if c.reservation is not None and c.reservation.id == reservation_id), None)


def install_profile(station: SimStation, connector_id: int, profile: Profile) -> str:
    """SetChargingProfile: a TxProfile belongs to the connector's running transaction."""
    connector = station.connectors.get(connector_id)
    tx = connector.transaction if connector else None
    return station.profiles.set(connector_id, profile, tx.id if tx else None, in_transaction=tx is not None)


def composite(station: SimStation, connector_id: int, duration: int, unit: str | None) -> Composite | None:
    connector = station.connectors.get(connector_id)
    tx = connector.transaction if connector else None
    return station.profiles.composite(connector_id, duration, unit, tx.started_at if tx else None,
                                      in_transaction=tx is not None)


def data_transfer(vendor_id: str, data, *, as_text: bool) -> dict:
    """Our vendor's messages are echoed (``as_text``: as a string, as 1.6 requires); others are unknown."""
    if vendor_id != VENDOR_ID:
        return {"status": "UnknownVendorId"}
    reply = {"status": "Accepted"}
    if data is not None:
        reply["data"] = data if isinstance(data, str) or not as_text else orjson.dumps(data).decode()
    return reply


async def report_progress(station: SimStation, action: str, progress: Progress, steps: Sequence[str],
                          request_id: int | None = None, *, start_at: datetime | None = None) -> None:
    """Walk a firmware update or log upload through its steps, notifying each (``action``), then Idle."""
    if start_at is not None:
        await asyncio.sleep(max(0.0, (start_at - utc_now()).total_seconds()))
    for status in steps:
        progress.status, progress.request_id = status, request_id
        station.send(action, progress_payload(progress))
        await asyncio.sleep(STEP)
    progress.status, progress.request_id = "Idle", None


def progress_payload(progress: Progress) -> dict:
    """A FirmwareStatusNotification / log status notification of where ``progress`` is."""
    payload = {"status": progress.status}
    if progress.request_id is not None:
        payload["requestId"] = progress.request_id
    return payload
