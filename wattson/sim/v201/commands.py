"""What a 2.0.1 / 2.1 station answers when the CSMS calls it: one handler per OCPP 2.x action.

Handlers work as in 1.6 (``v16/commands.py``): change state at once, answer, and leave messages
to ``station.after_reply``. What a command does is shared with 1.6 (``operations``); the device
model, certificates and reports are 2.x's own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import groupby
from typing import TYPE_CHECKING

from wattson.sim import operations
from wattson.sim.connector import Reservation, SessionRequest
from wattson.sim.profiles import TX
from wattson.sim.protocol import Handler
from wattson.sim.v201.device_model import REPORT_ITEMS, Variable
from wattson.sim.v201.shapes import CONNECTOR, PURPOSES, profile_of
from wattson.sim.wire import iso, parse_iso, utc_now

if TYPE_CHECKING:
    from wattson.sim.profiles import Installed
    from wattson.sim.station import SimStation
    from wattson.sim.v201.protocol import Ocpp201

CUSTOMER_DATA = 512  # NotifyCustomerInformation's data is at most this long
log = logging.getLogger("wattson.sim")


def _status(ok: bool, otherwise: str = "Rejected") -> dict:
    return {"status": "Accepted" if ok else otherwise}


def _v2(station: SimStation) -> Ocpp201:
    """The station's 2.x protocol object: where its device model and certificates live."""
    return station.protocol


# --- Transactions ----------------------------------------------------------------------------
def request_start(station: SimStation, p: dict) -> dict:
    profile = None
    if "chargingProfile" in p:
        profile = profile_of(p["chargingProfile"])
        if profile is None:
            return _status(False)
    token = p["idToken"]
    request = SessionRequest(token["idToken"], remote=True, profile=profile, token_type=token["type"],
                             remote_start_id=p["remoteStartId"])
    return _status(operations.remote_start(station, p.get("evseId"), request))


def request_stop(station: SimStation, p: dict) -> dict:
    connector = station.connector_with_transaction(p["transactionId"])
    if connector is not None:
        station.after_reply(connector.transaction.request_stop, "Remote")
    return _status(connector is not None)


def get_transaction_status(station: SimStation, p: dict) -> dict:
    transaction_id = p.get("transactionId")

    def of_it(action: str, payload: dict) -> bool:
        return action == "TransactionEvent" and transaction_id in (None, payload["transactionInfo"]["transactionId"])

    reply = {"messagesInQueue": station.outbox.holds(of_it)}
    if transaction_id is not None:
        reply["ongoingIndicator"] = station.connector_with_transaction(transaction_id) is not None
    return reply


# --- Provisioning ----------------------------------------------------------------------------
def reset(station: SimStation, p: dict) -> dict:
    if p.get("evseId") is not None:  # resetting one EVSE alone is not supported
        return _status(False)
    if p["type"] == "OnIdle" and station.in_use():
        station.after_reply(station.reboot_when_idle, "ImmediateReset")
        return {"status": "Scheduled"}
    station.after_reply(station.reboot, "ImmediateReset")
    return _status(True)


def get_variables(station: SimStation, p: dict) -> dict:
    return {"getVariableResult": [_v2(station).device_model.get(entry) for entry in p["getVariableData"]]}


def set_variables(station: SimStation, p: dict) -> dict:
    results = []
    for entry in p["setVariableData"]:
        result, changed = _v2(station).device_model.set(entry)
        if changed is not None:
            station.after_reply(station.configuration_changed, changed)
        results.append(result)
    return {"setVariableResult": results}


def get_base_report(station: SimStation, p: dict) -> dict:
    variables = _v2(station).device_model.base_report(p["reportBase"])
    if variables is None:
        return {"status": "NotSupported"}
    return _report(station, p["requestId"], variables)


def get_report(station: SimStation, p: dict) -> dict:
    variables = _v2(station).device_model.report(p.get("componentVariable"), p.get("componentCriteria"))
    return _report(station, p["requestId"], variables)


def _report(station: SimStation, request_id: int, variables: list[Variable]) -> dict:
    if not variables:
        return {"status": "EmptyResultSet"}
    station.after_reply(_notify_report, station, request_id, variables)
    return _status(True)


def _notify_report(station: SimStation, request_id: int, variables: list[Variable]) -> None:
    """NotifyReport messages of REPORT_ITEMS variables each; tbc on all but the last."""
    generated_at = iso(utc_now())
    parts = [variables[i:i + REPORT_ITEMS] for i in range(0, len(variables), REPORT_ITEMS)]
    for seq_no, part in enumerate(parts):
        station.send("NotifyReport", {"requestId": request_id, "generatedAt": generated_at, "seqNo": seq_no,
                                      "tbc": seq_no < len(parts) - 1,
                                      "reportData": _v2(station).device_model.report_data(part)})


def set_network_profile(station: SimStation, p: dict) -> dict:
    _v2(station).network_profiles[p["configurationSlot"]] = p["connectionData"]
    return _status(True)


# --- Availability ----------------------------------------------------------------------------
def change_availability(station: SimStation, p: dict) -> dict:
    evse = p.get("evse") or {}
    if evse.get("connectorId", CONNECTOR) != CONNECTOR:
        return _status(False)
    return {"status": operations.change_availability(station, evse.get("id", 0),
                                                     p["operationalStatus"] == "Operative")}


def unlock_connector(station: SimStation, p: dict) -> dict:
    connector = station.connectors.get(p["evseId"])
    if connector is None or p["connectorId"] != CONNECTOR:
        return {"status": "UnknownConnector"}
    if connector.transaction is not None:  # the cable stays locked while a transaction runs
        return {"status": "OngoingAuthorizedTransaction"}
    return {"status": "Unlocked"}


def trigger_message(station: SimStation, p: dict) -> dict:
    evse = (p.get("evse") or {}).get("id")
    if evse not in (None, 0) and evse not in station.connectors:
        return _status(False)
    requested = p["requestedMessage"]
    trigger = TRIGGERS.get(requested)
    if trigger is None:
        return {"status": "NotImplemented"}
    if requested == "BootNotification" and station.accepted.is_set():  # only while not yet accepted
        return _status(False)
    station.after_reply(trigger, station, evse or None)
    return _status(True)


def _connectors(station: SimStation, evse: int | None):
    return [station.connectors[evse]] if evse else list(station.connectors.values())


def _trigger_status(station: SimStation, evse: int | None) -> None:
    for connector in _connectors(station, evse):
        _v2(station).send_status(connector.id)


def _trigger_meter_values(station: SimStation, evse: int | None) -> None:
    for connector in _connectors(station, evse):
        _v2(station).meter_values(connector, "Trigger")


def _trigger_transaction_event(station: SimStation, evse: int | None) -> None:
    for connector in _connectors(station, evse):
        if connector.transaction is not None:
            _v2(station).transaction_meter_values(connector, connector.transaction, "Trigger", "Trigger")


TRIGGERS: dict[str, Callable[[SimStation, int | None], object]] = {
    "BootNotification": lambda station, _: station.boot("Triggered"),
    "Heartbeat": lambda station, _: station.send("Heartbeat", {}),
    "StatusNotification": _trigger_status,
    "MeterValues": _trigger_meter_values,
    "TransactionEvent": _trigger_transaction_event,
    "FirmwareStatusNotification": lambda station, _: station.send(
        "FirmwareStatusNotification", operations.progress_payload(station.firmware)),
    "LogStatusNotification": lambda station, _: station.send(
        "LogStatusNotification", operations.progress_payload(station.log_upload)),
}


# --- Reservation -----------------------------------------------------------------------------
def reserve_now(station: SimStation, p: dict) -> dict:
    group = p.get("groupIdToken")
    reservation = Reservation(p["id"], p["idToken"]["idToken"], parse_iso(p["expiryDateTime"]),
                              group["idToken"] if group else None)
    return {"status": operations.reserve(station, p.get("evseId") or 0, reservation)}


def cancel_reservation(station: SimStation, p: dict) -> dict:
    return _status(operations.cancel_reservation(station, p["reservationId"]))


# --- Authorization ---------------------------------------------------------------------------
def send_local_list(station: SimStation, p: dict) -> dict:
    entries = [(entry["idToken"]["idToken"], entry.get("idTokenInfo"))
               for entry in p.get("localAuthorizationList", [])]
    return {"status": station.local_list.apply(p["versionNumber"], p["updateType"], entries)}


def get_local_list_version(station: SimStation, p: dict) -> dict:
    return {"versionNumber": station.local_list.version}


def clear_cache(station: SimStation, p: dict) -> dict:
    return _status(True)  # the station keeps no authorisation cache: nothing to clear


# --- Smart charging --------------------------------------------------------------------------
def set_charging_profile(station: SimStation, p: dict) -> dict:
    profile = profile_of(p["chargingProfile"])
    if profile is None:
        return _status(False)
    status = operations.install_profile(station, p["evseId"], profile)
    connector = station.connectors.get(p["evseId"])
    tx = connector.transaction if connector else None
    if status == "Accepted" and profile.purpose == TX and tx is not None and tx.iso15118:
        station.after_reply(_v2(station).ev_schedule, tx, profile)  # K16: the EV renegotiates
    return {"status": status}


def clear_charging_profile(station: SimStation, p: dict) -> dict:
    criteria = p.get("chargingProfileCriteria") or {}
    purpose = criteria.get("chargingProfilePurpose")
    if purpose is not None and purpose not in PURPOSES:
        return {"status": "Unknown"}
    removed = station.profiles.clear(id=p.get("chargingProfileId"), connector_id=criteria.get("evseId"),
                                     purpose=PURPOSES.get(purpose), stack_level=criteria.get("stackLevel"))
    return _status(removed, otherwise="Unknown")


def get_charging_profiles(station: SimStation, p: dict) -> dict:
    criteria = p["chargingProfile"]
    purpose, sources = criteria.get("chargingProfilePurpose"), criteria.get("chargingLimitSource")
    if (purpose is not None and purpose not in PURPOSES) or (sources and "CSO" not in sources):
        return {"status": "NoProfiles"}
    found = station.profiles.select(ids=criteria.get("chargingProfileId"), connector_id=p.get("evseId"),
                                    purpose=PURPOSES.get(purpose), stack_level=criteria.get("stackLevel"))
    if not found:
        return {"status": "NoProfiles"}
    station.after_reply(_report_profiles, station, p["requestId"], found)
    return _status(True)


def _report_profiles(station: SimStation, request_id: int, found: list[Installed]) -> None:
    """One ReportChargingProfiles per EVSE; tbc on all but the last."""
    by_evse = [(evse, [i.profile.source for i in group])
               for evse, group in groupby(sorted(found, key=lambda i: i.connector_id), key=lambda i: i.connector_id)]
    for n, (evse, profiles) in enumerate(by_evse):
        station.send("ReportChargingProfiles", {"requestId": request_id, "chargingLimitSource": "CSO",
                                                "evseId": evse, "chargingProfile": profiles,
                                                "tbc": n < len(by_evse) - 1})


def get_composite_schedule(station: SimStation, p: dict) -> dict:
    schedule = operations.composite(station, p["evseId"], p["duration"], p.get("chargingRateUnit"))
    if schedule is None:
        return _status(False)
    return {"status": "Accepted",
            "schedule": {"evseId": schedule.connector_id, "duration": schedule.duration,
                         "scheduleStart": iso(schedule.start), "chargingRateUnit": schedule.unit,
                         "chargingSchedulePeriod": schedule.periods}}


# --- Diagnostics and firmware ----------------------------------------------------------------
def get_log(station: SimStation, p: dict) -> dict:
    station.after_reply(operations.report_progress, station, "LogStatusNotification", station.log_upload,
                        operations.UPLOAD_STEPS, p["requestId"])
    return {"status": "Accepted", "filename": f"{p['logType']}-{station.station_id}-{utc_now():%Y%m%dT%H%M%SZ}.log"}


def update_firmware(station: SimStation, p: dict) -> dict:
    station.after_reply(operations.report_progress, station, "FirmwareStatusNotification", station.firmware,
                        operations.DOWNLOAD_STEPS, p["requestId"],
                        start_at=parse_iso(p["firmware"]["retrieveDateTime"]))
    return _status(True)


def customer_information(station: SimStation, p: dict) -> dict:
    token = (p.get("idToken") or {}).get("idToken")
    customer = token or p.get("customerIdentifier") or (p.get("customerCertificate") or {}).get("serialNumber")
    if customer is None:
        return {"status": "Invalid"}
    info = station.local_list.entries.get(token) if token else None
    held = f"on the local authorisation list as {info['status']}" if info else "no data held"
    data = f"{customer}: {held}" + ("; nothing of it kept on the station to clear" if p["clear"] else "")
    station.after_reply(station.send, "NotifyCustomerInformation",
                        {"data": data[:CUSTOMER_DATA], "tbc": False, "seqNo": 0, "generatedAt": iso(utc_now()),
                         "requestId": p["requestId"]})
    return _status(True)


def cost_updated(station: SimStation, p: dict) -> dict:
    """The running cost the CSMS sends (I02): what the station's display would show."""
    log.info("%s: transaction %s costs %s so far", station.station_id, p["transactionId"], p["totalCost"])
    return {}


def data_transfer(station: SimStation, p: dict) -> dict:
    return operations.data_transfer(p["vendorId"], p.get("data"), as_text=False)


# --- Certificates ----------------------------------------------------------------------------
def install_certificate(station: SimStation, p: dict) -> dict:
    return {"status": _v2(station).certificates.install(p["certificateType"], p["certificate"])}


def get_installed_certificate_ids(station: SimStation, p: dict) -> dict:
    chain = _v2(station).certificates.ids(p.get("certificateType"))
    return {"status": "Accepted", "certificateHashDataChain": chain} if chain else {"status": "NotFound"}


def delete_certificate(station: SimStation, p: dict) -> dict:
    return {"status": _v2(station).certificates.delete(p["certificateHashData"])}


def certificate_signed(station: SimStation, p: dict) -> dict:
    return {"status": _v2(station).certificates.signed(p["certificateChain"], p.get("certificateType"))}


HANDLERS: dict[str, Handler] = {
    "RequestStartTransaction": request_start,
    "RequestStopTransaction": request_stop,
    "GetTransactionStatus": get_transaction_status,
    "Reset": reset,
    "GetVariables": get_variables,
    "SetVariables": set_variables,
    "GetBaseReport": get_base_report,
    "GetReport": get_report,
    "SetNetworkProfile": set_network_profile,
    "ChangeAvailability": change_availability,
    "UnlockConnector": unlock_connector,
    "TriggerMessage": trigger_message,
    "ReserveNow": reserve_now,
    "CancelReservation": cancel_reservation,
    "SendLocalList": send_local_list,
    "GetLocalListVersion": get_local_list_version,
    "ClearCache": clear_cache,
    "SetChargingProfile": set_charging_profile,
    "ClearChargingProfile": clear_charging_profile,
    "GetChargingProfiles": get_charging_profiles,
    "GetCompositeSchedule": get_composite_schedule,
    "GetLog": get_log,
    "UpdateFirmware": update_firmware,
    "CustomerInformation": customer_information,
    "DataTransfer": data_transfer,
    "CostUpdated": cost_updated,
    "InstallCertificate": install_certificate,
    "GetInstalledCertificateIds": get_installed_certificate_ids,
    "DeleteCertificate": delete_certificate,
    "CertificateSigned": certificate_signed,
}
