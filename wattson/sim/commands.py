"""What the station answers when the CSMS calls it: one handler per OCPP 1.6 action.

A handler changes the station's state at once and returns the answer. Whatever sends messages
or takes time is registered with ``station.after_reply``, so it runs only once the answer is on
the wire and never holds up the reader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson

from wattson.sim.connector import Reservation, SessionRequest
from wattson.sim.wire import CallError, parse_iso, utc_now

if TYPE_CHECKING:
    from wattson.sim.station import SimStation

log = logging.getLogger("wattson.sim")

STEP = 0.2  # seconds between the steps of a diagnostics upload or a firmware update
VENDOR_ID = "Wattson"  # the DataTransfer vendor this station understands

Handler = Callable[["SimStation", dict], dict]


def answer(station: SimStation, action: str, payload) -> dict:
    """The CALLRESULT payload for a CSMS call; raises CallError for the CALLERROR to send instead."""
    if not isinstance(action, str):
        raise CallError("FormationViolation", "the action must be a string")
    handler = HANDLERS.get(action)
    if handler is None:
        raise CallError("NotImplemented", f"{action} is not implemented by this station")
    if not isinstance(payload, dict):
        raise CallError("FormationViolation", "the payload must be a JSON object")
    try:
        return handler(station, payload)
    except KeyError as error:
        raise CallError("OccurenceConstraintViolation", f"{error.args[0]} is required") from error
    except (TypeError, ValueError, AttributeError) as error:
        raise CallError("TypeConstraintViolation", str(error)) from error
    except Exception as error:  # noqa: BLE001 - a bug here must not take the connection down
        log.exception("%s: %s failed", station.station_id, action)
        raise CallError("InternalError", f"{action} failed") from error


def _status(ok: bool, otherwise: str = "Rejected") -> dict:
    return {"status": "Accepted" if ok else otherwise}


# --- Core ------------------------------------------------------------------------------------
def remote_start(station: SimStation, p: dict) -> dict:
    profile = p.get("chargingProfile")
    if profile is not None and profile["chargingProfilePurpose"] != "TxProfile":
        return _status(False)
    connector = station.free_connector(p.get("connectorId"), p["idTag"])
    if connector is None:
        return _status(False)
    connector.claimed = True  # no other session may take it before this one begins
    station.after_reply(connector.begin, SessionRequest(p["idTag"], remote=True, profile=profile))
    return _status(True)


def remote_stop(station: SimStation, p: dict) -> dict:
    connector = station.connector_with_transaction(p["transactionId"])
    if connector is not None:
        station.after_reply(connector.transaction.request_stop, "Remote")
    return _status(connector is not None)


def reset(station: SimStation, p: dict) -> dict:
    station.after_reply(station.reboot, p["type"])
    return _status(True)


def unlock_connector(station: SimStation, p: dict) -> dict:
    connector = station.connectors.get(p["connectorId"])
    if connector is None:
        return {"status": "NotSupported"}
    if connector.transaction is not None:
        station.after_reply(connector.transaction.request_stop, "UnlockCommand")
    return {"status": "Unlocked"}


def change_availability(station: SimStation, p: dict) -> dict:
    connector_id, operative = p["connectorId"], p["type"] == "Operative"
    if connector_id == 0:
        targets = list(station.connectors.values())
        if station.operative != operative:
            station.operative = operative
            station.after_reply(station.send_status, 0)
    elif connector_id in station.connectors:
        targets = [station.connectors[connector_id]]
    else:
        return _status(False)
    scheduled = False
    for connector in targets:
        if connector.busy or connector.claimed:  # in use: takes effect when the session is over
            connector.pending_operative = operative
            scheduled = True
        elif connector.operative != operative:
            connector.operative = operative
            station.after_reply(station.show_idle, connector)
    return {"status": "Scheduled" if scheduled else "Accepted"}


def get_configuration(station: SimStation, p: dict) -> dict:
    return station.configuration.get(p.get("key"))


def change_configuration(station: SimStation, p: dict) -> dict:
    status = station.configuration.change(p["key"], p["value"])
    if status == "Accepted":
        station.after_reply(station.configuration_changed, p["key"])
    return {"status": status}


def clear_cache(station: SimStation, p: dict) -> dict:
    return _status(True)


def data_transfer(station: SimStation, p: dict) -> dict:
    if p["vendorId"] != VENDOR_ID:
        return {"status": "UnknownVendorId"}
    reply = {"status": "Accepted"}
    if "data" in p:
        reply["data"] = p["data"] if isinstance(p["data"], str) else orjson.dumps(p["data"]).decode()
    return reply


# --- Remote trigger --------------------------------------------------------------------------
def trigger_message(station: SimStation, p: dict) -> dict:
    requested, connector_id = p["requestedMessage"], p.get("connectorId")
    if connector_id not in (None, 0) and connector_id not in station.connectors:
        return _status(False)
    trigger = TRIGGERS.get(requested)
    if trigger is None:
        return {"status": "NotImplemented"}
    station.after_reply(trigger, station, connector_id)
    return _status(True)


def _trigger_status(station: SimStation, connector_id: int | None) -> None:
    for target in [connector_id] if connector_id is not None else [0, *station.connectors]:
        station.send_status(target)


def _trigger_meter_values(station: SimStation, connector_id: int | None) -> None:
    for connector in [station.connectors[connector_id]] if connector_id else station.connectors.values():
        station.send_meter_values(connector, "Trigger")


TRIGGERS: dict[str, Callable[[SimStation, int | None], object]] = {
    "BootNotification": lambda station, _: station.boot(),
    "Heartbeat": lambda station, _: station.send("Heartbeat", {}),
    "StatusNotification": _trigger_status,
    "MeterValues": _trigger_meter_values,
    "DiagnosticsStatusNotification":
        lambda station, _: station.send("DiagnosticsStatusNotification", {"status": station.diagnostics_status}),
    "FirmwareStatusNotification":
        lambda station, _: station.send("FirmwareStatusNotification", {"status": station.firmware_status}),
}


# --- Reservation -----------------------------------------------------------------------------
def reserve_now(station: SimStation, p: dict) -> dict:
    reservation_id, connector_id, id_tag = p["reservationId"], p["connectorId"], p["idTag"]
    existing = _reserved(station, reservation_id)  # a known id is replaced, wherever it was
    if connector_id == 0:
        connector = existing or next((c for c in station.connectors.values()
                                      if c.is_free_for(id_tag) and c.reservation is None), None)
        if connector is None:
            operative = any(c.operative for c in station.connectors.values())
            return {"status": "Occupied" if operative else "Unavailable"}
    elif connector_id in station.connectors:
        connector = station.connectors[connector_id]
    else:
        return _status(False)
    if not connector.operative:
        return {"status": "Unavailable"}
    if connector.busy or connector.claimed or (connector.reservation is not None and existing is not connector):
        return {"status": "Occupied"}
    if existing is not None:
        existing.reservation.cancel()
        existing.reservation = None
        if existing is not connector:
            station.after_reply(station.show_idle, existing)
    reservation = Reservation(reservation_id, id_tag, parse_iso(p["expiryDate"]), p.get("parentIdTag"))
    connector.reservation = reservation
    station.after_reply(station.hold_reservation, connector, reservation)
    return _status(True)


def cancel_reservation(station: SimStation, p: dict) -> dict:
    connector = _reserved(station, p["reservationId"])
    if connector is None:
        return _status(False)
    connector.reservation.cancel()
    connector.reservation = None
    station.after_reply(station.show_idle, connector)
    return _status(True)


def _reserved(station: SimStation, reservation_id: int):
    return next((c for c in station.connectors.values()
                 if c.reservation is not None and c.reservation.id == reservation_id), None)


# --- Local authorisation list ----------------------------------------------------------------
def send_local_list(station: SimStation, p: dict) -> dict:
    status = station.local_list.apply(p["listVersion"], p["updateType"], p.get("localAuthorizationList", []))
    return {"status": status}


def get_local_list_version(station: SimStation, p: dict) -> dict:
    return {"listVersion": station.local_list.version}


# --- Smart charging --------------------------------------------------------------------------
def set_charging_profile(station: SimStation, p: dict) -> dict:
    connector = station.connectors.get(p["connectorId"])
    tx = connector.transaction if connector else None
    status = station.profiles.set(p["connectorId"], p["csChargingProfiles"], tx.id if tx else None,
                                  in_transaction=tx is not None)
    return {"status": status}


def clear_charging_profile(station: SimStation, p: dict) -> dict:
    removed = station.profiles.clear(id=p.get("id"), connector_id=p.get("connectorId"),
                                     purpose=p.get("chargingProfilePurpose"), stack_level=p.get("stackLevel"))
    return _status(removed, otherwise="Unknown")


def get_composite_schedule(station: SimStation, p: dict) -> dict:
    connector = station.connectors.get(p["connectorId"])
    tx = connector.transaction if connector else None
    schedule = station.profiles.composite(p["connectorId"], p["duration"], p.get("chargingRateUnit"),
                                          tx.started_at if tx else None, in_transaction=tx is not None)
    return schedule or _status(False)


# --- Firmware management ---------------------------------------------------------------------
def get_diagnostics(station: SimStation, p: dict) -> dict:
    station.after_reply(_upload_diagnostics, station)
    return {"fileName": f"diag-{station.station_id}-{utc_now():%Y%m%dT%H%M%SZ}.log"}


async def _upload_diagnostics(station: SimStation) -> None:
    for status in ("Uploading", "Uploaded"):
        station.diagnostics_status = status
        station.send("DiagnosticsStatusNotification", {"status": status})
        await asyncio.sleep(STEP)
    station.diagnostics_status = "Idle"


def update_firmware(station: SimStation, p: dict) -> dict:
    station.after_reply(_update_firmware, station, parse_iso(p["retrieveDate"]))
    return {}


async def _update_firmware(station: SimStation, retrieve_at) -> None:
    await asyncio.sleep(max(0.0, (retrieve_at - utc_now()).total_seconds()))
    for status in ("Downloading", "Downloaded", "Installing", "Installed"):
        station.firmware_status = status
        station.send("FirmwareStatusNotification", {"status": status})
        await asyncio.sleep(STEP)
    station.firmware_status = "Idle"


HANDLERS: dict[str, Handler] = {
    "RemoteStartTransaction": remote_start,
    "RemoteStopTransaction": remote_stop,
    "Reset": reset,
    "UnlockConnector": unlock_connector,
    "ChangeAvailability": change_availability,
    "GetConfiguration": get_configuration,
    "ChangeConfiguration": change_configuration,
    "ClearCache": clear_cache,
    "DataTransfer": data_transfer,
    "TriggerMessage": trigger_message,
    "ReserveNow": reserve_now,
    "CancelReservation": cancel_reservation,
    "SendLocalList": send_local_list,
    "GetLocalListVersion": get_local_list_version,
    "SetChargingProfile": set_charging_profile,
    "ClearChargingProfile": clear_charging_profile,
    "GetCompositeSchedule": get_composite_schedule,
    "GetDiagnostics": get_diagnostics,
    "UpdateFirmware": update_firmware,
}
