"""The neutral command catalogue expressed as OCPP 1.6 calls, with its security extension
(certificates, logs, signed firmware) where the core has no equivalent."""

from wattson.errors import CommandNotSupported
from wattson.ocpp.convert import drop_none, format_time
from wattson.ocpp.v201.commands import LOG_TYPES, certificate_hash, firmware, log_request, schedule_periods
from wattson.stations import commands as c

#: the security extension's names for 2.x's certificate types
CERTIFICATE_TYPES = {"CSMSRootCertificate": "CentralSystemRootCertificate",
                     "ManufacturerRootCertificate": "ManufacturerRootCertificate"}
TRIGGERS = frozenset({"BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
                      "Heartbeat", "MeterValues", "StatusNotification"})
#: what only the security extension's ExtendedTriggerMessage triggers, by its 1.6 name
EXTENDED_TRIGGERS = {"LogStatusNotification": "LogStatusNotification",
                     "SignChargingStationCertificate": "SignChargePointCertificate"}


def _int_transaction(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise CommandNotSupported(f"transaction id {value!r} is not an OCPP 1.6 (integer) transaction id") from None


def _one_connector(connector: int | None) -> None:
    if connector not in (None, 1):
        raise CommandNotSupported("OCPP 1.6 has one connector per EVSE; connector must be 1")


def _instead(name: str, alternative: str):
    """A command 1.6 cannot express, refused with the 1.6 command that comes nearest."""
    def refuse(p):
        raise CommandNotSupported(f"{name} has no equivalent in OCPP 1.6: use {alternative}", {"use": alternative})
    return refuse


def _certificate_type(value: str) -> str:
    if value not in CERTIFICATE_TYPES:
        raise CommandNotSupported(f"OCPP 1.6 knows only {' and '.join(CERTIFICATE_TYPES)} certificates, not {value}")
    return CERTIFICATE_TYPES[value]


def remote_start(p: c.RemoteStart):
    return "RemoteStartTransaction", drop_none({"idTag": p.id_tag, "connectorId": p.evse,
                                                 "chargingProfile": p.charging_profile})


def remote_stop(p: c.RemoteStop):
    return "RemoteStopTransaction", {"transactionId": _int_transaction(p.transaction_id)}


def reset(p: c.Reset):
    if p.evse is not None:
        raise CommandNotSupported("OCPP 1.6 resets the whole station only; omit evse")
    return "Reset", {"type": p.type.capitalize()}


def reserve_now(p: c.ReserveNow):
    if p.connector_type is not None:  # refused rather than dropped: the station would hold any connector
        raise CommandNotSupported("OCPP 1.6 ReserveNow has no connector type: omit connector_type and name the "
                                  "connector (evse) instead")
    return "ReserveNow", drop_none({
        "connectorId": p.evse, "expiryDate": format_time(p.expires_at), "idTag": p.id_tag,
        "reservationId": p.reservation_id, "parentIdTag": p.parent_id_tag})


def unlock(p: c.Unlock):
    _one_connector(p.connector)
    return "UnlockConnector", {"connectorId": p.evse}


def change_availability(p: c.ChangeAvailability):
    _one_connector(p.connector)
    return "ChangeAvailability", {"connectorId": p.evse, "type": "Operative" if p.operative else "Inoperative"}


def trigger_message(p: c.TriggerMessage):
    _one_connector(p.connector)
    if p.message in TRIGGERS:
        action, message = "TriggerMessage", p.message
    elif p.message in EXTENDED_TRIGGERS:
        action, message = "ExtendedTriggerMessage", EXTENDED_TRIGGERS[p.message]
    else:
        raise CommandNotSupported(f"OCPP 1.6 cannot trigger {p.message}")
    return action, drop_none({"requestedMessage": message, "connectorId": p.evse})


def update_firmware(p: c.UpdateFirmware):
    """Plain UpdateFirmware; the security extension's SignedUpdateFirmware when signed."""
    if p.signing_certificate is None and p.signature is None:
        if p.install_at is not None:
            raise CommandNotSupported("OCPP 1.6 schedules the installation of signed firmware only")
        return "UpdateFirmware", drop_none({"location": p.location, "retrieveDate": format_time(p.retrieve_at),
                                            "retries": p.retries, "retryInterval": p.retry_interval})
    if p.signing_certificate is None or p.signature is None:
        raise CommandNotSupported("OCPP 1.6 signed firmware needs both signing_certificate and signature")
    return "SignedUpdateFirmware", drop_none({"requestId": p.request_id, "retries": p.retries,
                                              "retryInterval": p.retry_interval, "firmware": firmware(p)})


def get_installed_certificate_ids(p: c.GetInstalledCertificateIds):
    if p.certificate_types is None or len(p.certificate_types) != 1:
        raise CommandNotSupported("OCPP 1.6 lists one certificate type at a time: give exactly one")
    return "GetInstalledCertificateIds", {"certificateType": _certificate_type(p.certificate_types[0])}


def certificate_signed(p: c.CertificateSigned):
    if p.certificate_type not in (None, "ChargingStationCertificate"):
        raise CommandNotSupported(f"OCPP 1.6 has no {p.certificate_type}, only the charge point certificate")
    return "CertificateSigned", {"certificateChain": p.certificate_chain}


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
        "chargingSchedulePeriod": schedule_periods(s),
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
    "reset": reset,
    "unlock": unlock,
    "change-availability": change_availability,
    "get-configuration": lambda p: ("GetConfiguration", {"key": p.keys} if p.keys else {}),
    "change-configuration": lambda p: ("ChangeConfiguration", {"key": p.key, "value": p.value}),
    "clear-cache": lambda p: ("ClearCache", {}),
    "trigger-message": trigger_message,
    "data-transfer": lambda p: ("DataTransfer", drop_none({"vendorId": p.vendor_id, "messageId": p.message_id,
                                                           "data": p.data})),
    "reserve-now": reserve_now,
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
    "update-firmware": update_firmware,
    "get-log": lambda p: log_request(p, LOG_TYPES[p.log_type]),
    "install-certificate": lambda p: ("InstallCertificate", {"certificateType": _certificate_type(p.certificate_type),
                                                             "certificate": p.certificate}),
    "get-installed-certificate-ids": get_installed_certificate_ids,
    "delete-certificate": lambda p: ("DeleteCertificate", {"certificateHashData": certificate_hash(p)}),
    "certificate-signed": certificate_signed,
    "get-variables": _instead("get-variables", "get-configuration"),
    "set-variables": _instead("set-variables", "change-configuration"),
    "get-base-report": _instead("get-base-report", "get-configuration"),
    "get-report": _instead("get-report", "get-configuration"),
}
