"""The neutral command catalogue expressed as OCPP 2.0.1 calls.

OCPP 2.1 stations get the same calls: every one is valid in both versions. Where 2.1 changed a
message the builders send what both accept (SetNetworkProfile's ocppVersion, required in 2.0.1
and ignored by 2.1) and the neutral parameters keep to 2.0.1's tighter bounds.
"""

from wattson.errors import CommandNotSupported
from wattson.ocpp.convert import drop_none, format_time
from wattson.stations import commands as c

RESET_TYPES = {"soft": "OnIdle", "hard": "Immediate"}
#: 1.6 profile purposes that 2.x renamed
PURPOSES = {"ChargePointMaxProfile": "ChargingStationMaxProfile"}
#: 1.6 messages that 2.x triggers under another name
TRIGGERS = {"DiagnosticsStatusNotification": "LogStatusNotification"}
REPORT_BASES = {"configuration": "ConfigurationInventory", "full": "FullInventory", "summary": "SummaryInventory"}
LOG_TYPES = {"diagnostics": "DiagnosticsLog", "security": "SecurityLog"}
#: 2.0.1 wants the version the slot connects with; 2.1 ignores the field (the handshake decides)
#: and still accepts this value
NETWORK_OCPP_VERSION = "OCPP20"
GROUP_TOKEN_TYPE = "Central"

#: The standard OCPP 1.6 configuration keys (core, local list, reservation, smart charging and
#: the security extension) as 2.0.1 (component, variable, variable instance).
CONFIGURATION_KEYS: dict[str, tuple[str, str, str | None]] = {
    "AllowOfflineTxForUnknownId": ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", None),
    "AuthorizationCacheEnabled": ("AuthCacheCtrlr", "Enabled", None),
    "AuthorizeRemoteTxRequests": ("AuthCtrlr", "AuthorizeRemoteStart", None),
    "ClockAlignedDataInterval": ("AlignedDataCtrlr", "Interval", None),
    "ConnectionTimeOut": ("TxCtrlr", "EVConnectionTimeOut", None),
    "GetConfigurationMaxKeys": ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
    "HeartbeatInterval": ("OCPPCommCtrlr", "HeartbeatInterval", None),
    "LocalAuthorizeOffline": ("AuthCtrlr", "LocalAuthorizeOffline", None),
    "LocalPreAuthorize": ("AuthCtrlr", "LocalPreAuthorize", None),
    "MaxEnergyOnInvalidId": ("TxCtrlr", "MaxEnergyOnInvalidId", None),
    "MeterValuesAlignedData": ("AlignedDataCtrlr", "Measurands", None),
    "MeterValuesSampledData": ("SampledDataCtrlr", "TxUpdatedMeasurands", None),
    "MeterValueSampleInterval": ("SampledDataCtrlr", "TxUpdatedInterval", None),
    "ResetRetries": ("OCPPCommCtrlr", "ResetRetries", None),
    "StopTransactionOnEVSideDisconnect": ("TxCtrlr", "StopTxOnEVSideDisconnect", None),
    "StopTransactionOnInvalidId": ("TxCtrlr", "StopTxOnInvalidId", None),
    "StopTxnAlignedData": ("AlignedDataCtrlr", "TxEndedMeasurands", None),
    "StopTxnSampledData": ("SampledDataCtrlr", "TxEndedMeasurands", None),
    "TransactionMessageAttempts": ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
    "TransactionMessageRetryInterval": ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
    "UnlockConnectorOnEVSideDisconnect": ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", None),
    "WebSocketPingInterval": ("OCPPCommCtrlr", "WebSocketPingInterval", None),
    "LocalAuthListEnabled": ("LocalAuthListCtrlr", "Enabled", None),
    "SendLocalListMaxLength": ("LocalAuthListCtrlr", "ItemsPerMessage", None),
    "ReserveConnectorZeroSupported": ("ReservationCtrlr", "NonEvseSpecific", None),
    "ChargeProfileMaxStackLevel": ("SmartChargingCtrlr", "ProfileStackLevel", None),
    "ChargingScheduleAllowedChargingRateUnit": ("SmartChargingCtrlr", "RateUnit", None),
    "ChargingScheduleMaxPeriods": ("SmartChargingCtrlr", "PeriodsPerSchedule", None),
    "ConnectorSwitch3to1PhaseSupported": ("SmartChargingCtrlr", "Phases3to1", None),
    "MaxChargingProfilesInstalled": ("SmartChargingCtrlr", "Entries", "ChargingProfiles"),
    "AdditionalRootCertificateCheck": ("SecurityCtrlr", "AdditionalRootCertificateCheck", None),
    "AuthorizationKey": ("SecurityCtrlr", "BasicAuthPassword", None),
    "CertificateSignedMaxChainSize": ("SecurityCtrlr", "MaxCertificateChainSize", None),
    "CertificateStoreMaxLength": ("SecurityCtrlr", "CertificateEntries", None),
    "CpoName": ("SecurityCtrlr", "OrganizationName", None),
    "SecurityProfile": ("SecurityCtrlr", "SecurityProfile", None),
}


# --- shapes several messages share (1.6's security extension borrowed them from 2.0.1) -------
def id_token(value: str, token_type: str | None) -> dict:
    return {"idToken": value, "type": token_type or c.DEFAULT_TOKEN_TYPE}


def group_token(value: str | None) -> dict | None:
    """A parent id tag as 2.x's groupIdToken: an id the CSMS defines."""
    return None if value is None else {"idToken": value, "type": GROUP_TOKEN_TYPE}


def evse_object(evse: int | None, connector: int | None = None) -> dict | None:
    """2.x's EVSEType; None for EVSE 0 (or none), i.e. the station itself."""
    return drop_none({"id": evse, "connectorId": connector}) if evse else None


def purpose(value: str | None) -> str | None:
    return PURPOSES.get(value, value)


def schedule_periods(s: c.ChargingSchedule) -> list[dict]:
    return [drop_none({"startPeriod": x.start_period, "limit": x.limit, "numberPhases": x.number_phases})
            for x in s.periods]


def certificate_hash(h: c.CertificateHash) -> dict:
    return {"hashAlgorithm": h.hash_algorithm, "issuerNameHash": h.issuer_name_hash,
            "issuerKeyHash": h.issuer_key_hash, "serialNumber": h.serial_number}


def log_request(p: c.GetDiagnostics, log_type: str):
    return "GetLog", drop_none({
        "logType": log_type, "requestId": p.request_id, "retries": p.retries, "retryInterval": p.retry_interval,
        "log": drop_none({"remoteLocation": p.location, "oldestTimestamp": format_time(p.start_time),
                          "latestTimestamp": format_time(p.stop_time)})})


def firmware(p: c.UpdateFirmware) -> dict:
    return drop_none({"location": p.location, "retrieveDateTime": format_time(p.retrieve_at),
                      "installDateTime": format_time(p.install_at), "signingCertificate": p.signing_certificate,
                      "signature": p.signature})


# --- the device model -------------------------------------------------------------------------
def component_of(ref: c.ComponentRef) -> dict:
    return drop_none({"name": ref.component, "instance": ref.component_instance,
                      "evse": evse_object(ref.evse, ref.connector)})


def variable_of(name: str | None, instance: str | None = None) -> dict | None:
    return None if name is None else drop_none({"name": name, "instance": instance})


def attribute(ref: c.VariableRef) -> dict:
    return drop_none({"component": component_of(ref), "variable": variable_of(ref.variable, ref.variable_instance),
                      "attributeType": ref.attribute_type})


def configuration_key(key: str, use: str) -> dict:
    """A 1.6 configuration key (or ``Component.Variable``) as 2.x's component and variable."""
    known = CONFIGURATION_KEYS.get(key)
    if known is None:
        component, _, variable = key.partition(".")
        if not (component and variable):
            raise CommandNotSupported(
                f"configuration key {key!r} has no known OCPP 2.0.1 equivalent: name it as Component.Variable "
                f"(e.g. OCPPCommCtrlr.HeartbeatInterval) or use {use}", {"key": key, "use": use})
        known = (component, variable, None)
    component, variable, instance = known
    return {"component": {"name": component}, "variable": variable_of(variable, instance)}


def get_configuration(p: c.GetConfiguration):
    if not p.keys:
        raise CommandNotSupported("get-configuration without keys has no equivalent in OCPP 2.0.1 or 2.1: use "
                                  "get-base-report for the whole device model", {"use": "get-base-report"})
    return "GetVariables", {"getVariableData": [configuration_key(key, "get-variables") for key in p.keys]}


def change_configuration(p: c.ChangeConfiguration):
    return "SetVariables", {"setVariableData": [{**configuration_key(p.key, "set-variables"),
                                                 "attributeValue": p.value}]}


def get_report(p: c.GetReport):
    targets = [drop_none({"component": component_of(t), "variable": variable_of(t.variable, t.variable_instance)})
               for t in p.variables or ()]
    return "GetReport", drop_none({"requestId": p.request_id, "componentVariable": targets or None,
                                   "componentCriteria": [x.capitalize() for x in p.criteria] if p.criteria else None})


# --- transactions, tokens, charging profiles ----------------------------------------------------
def remote_start(p: c.RemoteStart):
    return "RequestStartTransaction", drop_none({
        "idToken": id_token(p.id_tag, p.id_token_type), "remoteStartId": p.remote_start_id, "evseId": p.evse,
        "chargingProfile": p.charging_profile})


def reserve_now(p: c.ReserveNow):
    return "ReserveNow", drop_none({
        "id": p.reservation_id, "expiryDateTime": format_time(p.expires_at),
        "idToken": id_token(p.id_tag, p.id_token_type), "evseId": p.evse or None,
        "groupIdToken": group_token(p.parent_id_tag), "connectorType": p.connector_type})


def local_list_entry(e: c.LocalListEntry) -> dict:
    info = None if e.status is None else drop_none({
        "status": e.status, "cacheExpiryDateTime": format_time(e.expires_at),
        "groupIdToken": group_token(e.parent_id_tag)})
    return drop_none({"idToken": id_token(e.id_tag, e.id_token_type), "idTokenInfo": info})


def send_local_list(p: c.SendLocalList):
    return "SendLocalList", drop_none({
        "versionNumber": p.version, "updateType": p.update_type.capitalize(),
        "localAuthorizationList": [local_list_entry(e) for e in p.entries] or None})


def charging_profile(p: c.ChargingProfile) -> dict:
    s = p.schedule
    schedule = drop_none({
        "id": p.id if s.id is None else s.id, "startSchedule": format_time(s.start_schedule),
        "duration": s.duration, "chargingRateUnit": s.charging_rate_unit, "minChargingRate": s.min_charging_rate,
        "chargingSchedulePeriod": schedule_periods(s)})
    return drop_none({
        "id": p.id, "stackLevel": p.stack_level, "chargingProfilePurpose": purpose(p.purpose),
        "chargingProfileKind": p.kind, "recurrencyKind": p.recurrency, "validFrom": format_time(p.valid_from),
        "validTo": format_time(p.valid_to), "transactionId": p.transaction_id, "chargingSchedule": [schedule]})


def clear_charging_profile(p: c.ClearChargingProfile):
    criteria = drop_none({"evseId": p.evse, "chargingProfilePurpose": purpose(p.purpose), "stackLevel": p.stack_level})
    return "ClearChargingProfile", drop_none({"chargingProfileId": p.id, "chargingProfileCriteria": criteria or None})


def get_charging_profiles(p: c.GetChargingProfiles):
    criterion = drop_none({"chargingProfilePurpose": purpose(p.purpose), "stackLevel": p.stack_level,
                           "chargingProfileId": p.profile_ids, "chargingLimitSource": p.sources})
    return "GetChargingProfiles", drop_none({"requestId": p.request_id, "evseId": p.evse,
                                             "chargingProfile": criterion})


# --- network, certificates, customers -----------------------------------------------------------
def apn(a: c.Apn | None) -> dict | None:
    return None if a is None else drop_none({
        "apn": a.apn, "apnUserName": a.user_name, "apnPassword": a.password, "simPin": a.sim_pin,
        "preferredNetwork": a.preferred_network, "useOnlyPreferredNetwork": a.use_only_preferred_network,
        "apnAuthentication": a.authentication})


def vpn(v: c.Vpn | None) -> dict | None:
    return None if v is None else drop_none({"server": v.server, "user": v.user, "group": v.group,
                                             "password": v.password, "key": v.key, "type": v.type})


def set_network_profile(p: c.SetNetworkProfile):
    return "SetNetworkProfile", {"configurationSlot": p.configuration_slot, "connectionData": drop_none({
        "ocppVersion": NETWORK_OCPP_VERSION, "ocppTransport": "JSON", "ocppCsmsUrl": p.csms_url,
        "messageTimeout": p.message_timeout, "securityProfile": p.security_profile, "ocppInterface": p.interface,
        "apn": apn(p.apn), "vpn": vpn(p.vpn)})}


def customer_information(p: c.CustomerInformation):
    return "CustomerInformation", drop_none({
        "requestId": p.request_id, "report": p.report, "clear": p.clear, "customerIdentifier": p.customer_identifier,
        "idToken": None if p.id_tag is None else id_token(p.id_tag, p.id_token_type),
        "customerCertificate": None if p.customer_certificate is None else certificate_hash(p.customer_certificate)})


TABLE = {
    "remote-start": remote_start,
    "remote-stop": lambda p: ("RequestStopTransaction", {"transactionId": p.transaction_id}),
    "reset": lambda p: ("Reset", drop_none({"type": RESET_TYPES[p.type], "evseId": p.evse})),
    "unlock": lambda p: ("UnlockConnector", {"evseId": p.evse, "connectorId": p.connector}),
    "change-availability": lambda p: ("ChangeAvailability", drop_none({
        "operationalStatus": "Operative" if p.operative else "Inoperative",
        "evse": evse_object(p.evse, p.connector)})),
    "get-configuration": get_configuration,
    "change-configuration": change_configuration,
    "clear-cache": lambda p: ("ClearCache", {}),
    "trigger-message": lambda p: ("TriggerMessage", drop_none({
        "requestedMessage": TRIGGERS.get(p.message, p.message), "evse": evse_object(p.evse, p.connector)})),
    "data-transfer": lambda p: ("DataTransfer", drop_none({"vendorId": p.vendor_id, "messageId": p.message_id,
                                                           "data": p.data})),
    "reserve-now": reserve_now,
    "cancel-reservation": lambda p: ("CancelReservation", {"reservationId": p.reservation_id}),
    "send-local-list": send_local_list,
    "get-local-list-version": lambda p: ("GetLocalListVersion", {}),
    "set-charging-profile": lambda p: ("SetChargingProfile", {"evseId": p.evse,
                                                              "chargingProfile": charging_profile(p.profile)}),
    "clear-charging-profile": clear_charging_profile,
    "get-composite-schedule": lambda p: ("GetCompositeSchedule", drop_none({
        "evseId": p.evse, "duration": p.duration, "chargingRateUnit": p.charging_rate_unit})),
    "get-diagnostics": lambda p: log_request(p, LOG_TYPES["diagnostics"]),
    "update-firmware": lambda p: ("UpdateFirmware", drop_none({
        "requestId": p.request_id, "retries": p.retries, "retryInterval": p.retry_interval,
        "firmware": firmware(p)})),
    "get-variables": lambda p: ("GetVariables", {"getVariableData": [attribute(v) for v in p.variables]}),
    "set-variables": lambda p: ("SetVariables", {"setVariableData": [
        {**attribute(v), "attributeValue": v.value} for v in p.variables]}),
    "get-base-report": lambda p: ("GetBaseReport", {"requestId": p.request_id,
                                                    "reportBase": REPORT_BASES[p.report]}),
    "get-report": get_report,
    "get-charging-profiles": get_charging_profiles,
    "get-log": lambda p: log_request(p, LOG_TYPES[p.log_type]),
    "get-transaction-status": lambda p: ("GetTransactionStatus", drop_none({"transactionId": p.transaction_id})),
    "cost-updated": lambda p: ("CostUpdated", {"totalCost": float(p.total_cost), "transactionId": p.transaction_id}),
    "set-network-profile": set_network_profile,
    "install-certificate": lambda p: ("InstallCertificate", {"certificateType": p.certificate_type,
                                                             "certificate": p.certificate}),
    "get-installed-certificate-ids": lambda p: ("GetInstalledCertificateIds", drop_none({
        "certificateType": p.certificate_types})),
    "delete-certificate": lambda p: ("DeleteCertificate", {"certificateHashData": certificate_hash(p)}),
    "certificate-signed": lambda p: ("CertificateSigned", drop_none({
        "certificateChain": p.certificate_chain, "certificateType": p.certificate_type})),
    "customer-information": customer_information,
}
