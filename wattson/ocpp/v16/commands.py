"""The neutral command catalogue expressed as OCPP 1.6 calls."""

from wattson.errors import CommandNotSupported
from wattson.ocpp.convert import drop_none, format_time
from wattson.stations import commands as c


def _int_transaction(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise CommandNotSupported(f"transaction id {value!r} is not an OCPP 1.6 (integer) transaction id") from None


def remote_start(p: c.RemoteStart):
    return "RemoteStartTransaction", drop_none({"idTag": p.id_tag, "connectorId": p.evse,
                                                 "chargingProfile": p.charging_profile})


def remote_stop(p: c.RemoteStop):
    return "RemoteStopTransaction", {"transactionId": _int_transaction(p.transaction_id)}


def unlock(p: c.Unlock):
    if p.connector != 1:
        raise CommandNotSupported("OCPP 1.6 has one connector per EVSE; connector must be 1")
    return "UnlockConnector", {"connectorId": p.evse}


def send_local_list(p: c.SendLocalList):
    entries = []
    for e in p.entries:
        entry = {"idTag": e.id_tag}
        if e.status is not None:
            entry["idTagInfo"] = drop_none({"status": e.status, "expiryDate": format_time(e.expires_at),
                                            "parentIdTag": e.parent_id_tag})
        entries.append(entry)
    return "SendLocalList", {"listVersion": p.version, "updateType": p.update_type.capitalize(),
                             "localAuthorizationList": entries}


def charging_profile(p: c.ChargingProfile) -> dict:
    s = p.schedule
    schedule = drop_none({
        "duration": s.duration, "startSchedule": format_time(s.start_schedule),
        "chargingRateUnit": s.charging_rate_unit, "minChargingRate": s.min_charging_rate,
        "chargingSchedulePeriod": [drop_none({"startPeriod": x.start_period, "limit": x.limit,
                                              "numberPhases": x.number_phases}) for x in s.periods],
    })
    return drop_none({
        "chargingProfileId": p.id, "stackLevel": p.stack_level, "chargingProfilePurpose": p.purpose,
        "chargingProfileKind": p.kind, "recurrencyKind": p.recurrency,
        "validFrom": format_time(p.valid_from), "validTo": format_time(p.valid_to),
        "transactionId": None if p.transaction_id is None else _int_transaction(p.transaction_id),
        "chargingSchedule": schedule,
    })


TABLE = {
    "remote-start": remote_start,
    "remote-stop": remote_stop,
    "reset": lambda p: ("Reset", {"type": p.type.capitalize()}),
    "unlock": unlock,
    "change-availability": lambda p: ("ChangeAvailability", {
        "connectorId": p.evse, "type": "Operative" if p.operative else "Inoperative"}),
    "get-configuration": lambda p: ("GetConfiguration", {"key": p.keys} if p.keys else {}),
    "change-configuration": lambda p: ("ChangeConfiguration", {"key": p.key, "value": p.value}),
    "clear-cache": lambda p: ("ClearCache", {}),
    "trigger-message": lambda p: ("TriggerMessage", drop_none({"requestedMessage": p.message,
                                                               "connectorId": p.evse})),
    "data-transfer": lambda p: ("DataTransfer", drop_none({"vendorId": p.vendor_id, "messageId": p.message_id,
                                                           "data": p.data})),
    "reserve-now": lambda p: ("ReserveNow", drop_none({
        "connectorId": p.evse, "expiryDate": format_time(p.expires_at), "idTag": p.id_tag,
        "reservationId": p.reservation_id, "parentIdTag": p.parent_id_tag})),
    "cancel-reservation": lambda p: ("CancelReservation", {"reservationId": p.reservation_id}),
    "send-local-list": send_local_list,
    "get-local-list-version": lambda p: ("GetLocalListVersion", {}),
    "set-charging-profile": lambda p: ("SetChargingProfile", {"connectorId": p.evse,
                                                              "csChargingProfiles": charging_profile(p.profile)}),
    "clear-charging-profile": lambda p: ("ClearChargingProfile", drop_none({
        "id": p.id, "connectorId": p.evse, "chargingProfilePurpose": p.purpose, "stackLevel": p.stack_level})),
    "get-composite-schedule": lambda p: ("GetCompositeSchedule", drop_none({
        "connectorId": p.evse, "duration": p.duration, "chargingRateUnit": p.charging_rate_unit})),
    "get-diagnostics": lambda p: ("GetDiagnostics", drop_none({
        "location": p.location, "retries": p.retries, "retryInterval": p.retry_interval,
        "startTime": format_time(p.start_time), "stopTime": format_time(p.stop_time)})),
    "update-firmware": lambda p: ("UpdateFirmware", drop_none({
        "location": p.location, "retrieveDate": format_time(p.retrieve_at), "retries": p.retries,
        "retryInterval": p.retry_interval})),
}
