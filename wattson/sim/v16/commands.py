"""What a 1.6 station answers when the CSMS calls it: one handler per OCPP 1.6 action.

A handler changes the station's state at once and returns the answer. Whatever sends messages
or takes time is registered with ``station.after_reply``, so it runs only once the answer is on
the wire and never holds up the reader. What a command does is shared with 2.x (``operations``);
what is here is 1.6's way of asking and answering.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from wattson.sim import operations
from wattson.sim.connector import Reservation, SessionRequest
from wattson.sim.profiles import STATION_MAX, TX, TX_DEFAULT, Profile
from wattson.sim.protocol import Handler
from wattson.sim.wire import iso, parse_iso, utc_now

if TYPE_CHECKING:
    from wattson.sim.station import SimStation

PURPOSES = {"ChargePointMaxProfile": STATION_MAX, "TxDefaultProfile": TX_DEFAULT, "TxProfile": TX}


def _status(ok: bool, otherwise: str = "Rejected") -> dict:
    return {"status": "Accepted" if ok else otherwise}


def profile_of(p: dict) -> Profile | None:
    """A csChargingProfiles as the station keeps it; None for a purpose it does not know."""
    purpose = PURPOSES.get(p["chargingProfilePurpose"])
    if purpose is None:
        return None
    return Profile(id=p["chargingProfileId"], purpose=purpose, stack_level=p["stackLevel"],
                   kind=p["chargingProfileKind"], schedule=p["chargingSchedule"], recurrency=p.get("recurrencyKind"),
                   valid_from=p.get("validFrom"), valid_to=p.get("validTo"), transaction_id=p.get("transactionId"),
                   source=p)


# --- Core ------------------------------------------------------------------------------------
def remote_start(station: SimStation, p: dict) -> dict:
    profile = None
    if "chargingProfile" in p:
        profile = profile_of(p["chargingProfile"])
        if profile is None:
            return _status(False)
    request = SessionRequest(p["idTag"], remote=True, profile=profile)
    return _status(operations.remote_start(station, p.get("connectorId"), request))


def remote_stop(station: SimStation, p: dict) -> dict:
    connector = station.connector_with_transaction(p["transactionId"])
    if connector is not None:
        station.after_reply(connector.transaction.request_stop, "Remote")
    return _status(connector is not None)


def reset(station: SimStation, p: dict) -> dict:
    station.after_reply(station.reboot, "HardReset" if p["type"] == "Hard" else "SoftReset")
    return _status(True)


def unlock_connector(station: SimStation, p: dict) -> dict:
    connector = station.connectors.get(p["connectorId"])
    if connector is None:
        return {"status": "NotSupported"}
    if connector.transaction is not None:
        station.after_reply(connector.transaction.request_stop, "UnlockCommand")
    return {"status": "Unlocked"}


def change_availability(station: SimStation, p: dict) -> dict:
    return {"status": operations.change_availability(station, p["connectorId"], p["type"] == "Operative")}


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
    return operations.data_transfer(p["vendorId"], p.get("data"), as_text=True)


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
        station.protocol.send_status(target)


def _trigger_meter_values(station: SimStation, connector_id: int | None) -> None:
    for connector in [station.connectors[connector_id]] if connector_id else station.connectors.values():
        station.protocol.meter_values(connector, "Trigger")


TRIGGERS: dict[str, Callable[[SimStation, int | None], object]] = {
    "BootNotification": lambda station, _: station.boot("Triggered"),
    "Heartbeat": lambda station, _: station.send("Heartbeat", {}),
    "StatusNotification": _trigger_status,
    "MeterValues": _trigger_meter_values,
    "DiagnosticsStatusNotification": lambda station, _: station.send(
        "DiagnosticsStatusNotification", {"status": station.log_upload.status}),
    "FirmwareStatusNotification": lambda station, _: station.send(
        "FirmwareStatusNotification", {"status": station.firmware.status}),
}


# --- Reservation -----------------------------------------------------------------------------
def reserve_now(station: SimStation, p: dict) -> dict:
    reservation = Reservation(p["reservationId"], p["idTag"], parse_iso(p["expiryDate"]), p.get("parentIdTag"))
    return {"status": operations.reserve(station, p["connectorId"], reservation)}


def cancel_reservation(station: SimStation, p: dict) -> dict:
    return _status(operations.cancel_reservation(station, p["reservationId"]))


# --- Local authorisation list ----------------------------------------------------------------
def send_local_list(station: SimStation, p: dict) -> dict:
    entries = [(entry["idTag"], entry.get("idTagInfo")) for entry in p.get("localAuthorizationList", [])]
    return {"status": station.local_list.apply(p["listVersion"], p["updateType"], entries)}


def get_local_list_version(station: SimStation, p: dict) -> dict:
    return {"listVersion": station.local_list.version}


# --- Smart charging --------------------------------------------------------------------------
def set_charging_profile(station: SimStation, p: dict) -> dict:
    profile = profile_of(p["csChargingProfiles"])
    if profile is None:
        return _status(False)
    return {"status": operations.install_profile(station, p["connectorId"], profile)}


def clear_charging_profile(station: SimStation, p: dict) -> dict:
    purpose = p.get("chargingProfilePurpose")
    if purpose is not None and purpose not in PURPOSES:
        return {"status": "Unknown"}
    removed = station.profiles.clear(id=p.get("id"), connector_id=p.get("connectorId"),
                                     purpose=PURPOSES.get(purpose), stack_level=p.get("stackLevel"))
    return _status(removed, otherwise="Unknown")


def get_composite_schedule(station: SimStation, p: dict) -> dict:
    schedule = operations.composite(station, p["connectorId"], p["duration"], p.get("chargingRateUnit"))
    if schedule is None:
        return _status(False)
    start = iso(schedule.start)
    return {"status": "Accepted", "connectorId": schedule.connector_id, "scheduleStart": start,
            "chargingSchedule": {"duration": schedule.duration, "startSchedule": start,
                                 "chargingRateUnit": schedule.unit, "chargingSchedulePeriod": schedule.periods}}


# --- Firmware management ---------------------------------------------------------------------
def get_diagnostics(station: SimStation, p: dict) -> dict:
    station.after_reply(operations.report_progress, station, "DiagnosticsStatusNotification", station.log_upload,
                        operations.UPLOAD_STEPS)
    return {"fileName": f"diag-{station.station_id}-{utc_now():%Y%m%dT%H%M%SZ}.log"}


def update_firmware(station: SimStation, p: dict) -> dict:
    station.after_reply(operations.report_progress, station, "FirmwareStatusNotification", station.firmware,
                        operations.DOWNLOAD_STEPS, start_at=parse_iso(p["retrieveDate"]))
    return {}


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
