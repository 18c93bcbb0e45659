"""The version-neutral catalogue of commands an operator can send to a station.

Each command has a name (used in the API path) and a parameter model. Protocol adapters
translate a command into their own message; a command that a version cannot express is
refused by that adapter, not here. What only Wattson knows (request ids, a stored token's
type) is filled in before the adapter sees the command (``with_generated_ids``,
``with_token_types``), so the adapters stay pure and the history shows what was sent.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from wattson.access.schemas import TokenType
from wattson.api.types import MAX_ID, UtcTime, no_nul

#: Text Wattson looks up or stores: no database keeps NUL characters.
Text = Annotated[str, AfterValidator(no_nul)]
Purpose = Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]
CertificateUse = Literal["CSMSRootCertificate", "ManufacturerRootCertificate", "V2GRootCertificate",
                         "MORootCertificate"]
AttributeType = Literal["Actual", "Target", "MinSet", "MaxSet"]
DEFAULT_TOKEN_TYPE = "ISO14443"


def examples(*values: dict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(values)})


def generated(what: str):
    """An id the station echoes in its later messages; Wattson picks a random one when omitted."""
    return Field(None, ge=0, le=MAX_ID, description=f"{what}; generated when omitted.")


def check_connector(evse: int | None, connector: int | None) -> None:
    if connector is not None and not evse:
        raise ValueError("connector needs an evse (1 or more)")


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoParams(Params):
    pass


class TokenParams(Params):
    """Parameters naming a token: 2.x sends its type along."""

    id_token_type: TokenType | None = Field(
        None, description="OCPP 2.x idToken type; omitted: the stored token's type, else ISO14443.")


class RemoteStart(TokenParams):
    model_config = examples({"id_tag": "04A2B3C4D5E6F7", "evse": 1})

    id_tag: Text = Field(min_length=1, max_length=36, description="The token the session is started for.")
    evse: int | None = Field(None, ge=1, le=MAX_ID, description="OCPP EVSE number; omitted lets the station choose.")
    charging_profile: dict[str, Any] | None = Field(
        None, description="A TxProfile in the station's own OCPP shape, passed through after validation.")
    remote_start_id: int | None = generated("2.x remoteStartId, named again in the transaction's events")


class TransactionRef(Params):
    session_id: int | None = Field(None, ge=1, le=MAX_ID, description="Wattson's session id.")
    transaction_id: str | None = Field(None, max_length=36, description="The protocol's transaction id.")


class RemoteStop(TransactionRef):
    model_config = examples({"session_id": 42})

    @model_validator(mode="after")
    def _one_of(self):
        if (self.session_id is None) == (self.transaction_id is None):
            raise ValueError("give exactly one of session_id or transaction_id")
        return self


class CostUpdated(RemoteStop):
    """Tell a 2.x station the running total cost of a transaction, incl. VAT, in the currency of
    its TariffCostCtrlr.Currency (OCPP 2.0.1 I02). The worker sends it by itself while a priced
    transaction runs (docs/station-cost.md); an operator may send one too."""

    model_config = examples({"session_id": 42, "total_cost": "3.15"})

    total_cost: Decimal = Field(ge=0, max_digits=18, decimal_places=6, description="Incl. VAT.")


class Reset(Params):
    model_config = examples({"type": "soft"})

    type: Literal["soft", "hard"] = "soft"
    evse: int | None = Field(None, ge=1, le=MAX_ID, description="2.x: reset this EVSE only.")


class Unlock(Params):
    model_config = examples({"evse": 1})

    evse: int = Field(ge=1)
    connector: int = Field(1, ge=1)


class ChangeAvailability(Params):
    model_config = examples({"evse": 0, "operative": False})

    evse: int = Field(0, ge=0, description="0 changes the whole station.")
    operative: bool
    connector: int | None = Field(None, ge=1, le=MAX_ID, description="2.x: one connector of the EVSE.")

    @model_validator(mode="after")
    def _connector(self):
        check_connector(self.evse, self.connector)
        return self


class GetConfiguration(Params):
    model_config = examples({"keys": ["HeartbeatInterval", "MeterValueSampleInterval"]})

    keys: list[str] | None = Field(
        None, description="1.6 keys or `Component.Variable`. Omitted: every key (1.6 only; 2.x has "
                          "get-base-report).")


class ChangeConfiguration(Params):
    model_config = examples({"key": "MeterValueSampleInterval", "value": "30"})

    key: str = Field(min_length=1, max_length=50, description="A 1.6 key or `Component.Variable`.")
    value: str = Field(max_length=500)


class TriggerMessage(Params):
    model_config = examples({"message": "StatusNotification", "evse": 1})

    message: Literal["BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
                     "Heartbeat", "MeterValues", "StatusNotification", "LogStatusNotification",
                     "SignChargingStationCertificate", "SignV2GCertificate", "SignCombinedCertificate",
                     "TransactionEvent", "PublishFirmwareStatusNotification"] = Field(
        description="1.6 and 2.x names; each version is sent its own.")
    evse: int | None = Field(None, ge=0)
    connector: int | None = Field(None, ge=1, le=MAX_ID, description="2.x: one connector of the EVSE.")

    @model_validator(mode="after")
    def _connector(self):
        check_connector(self.evse, self.connector)
        return self


class DataTransfer(Params):
    model_config = examples({"vendor_id": "com.acme", "message_id": "display", "data": "Welcome"})

    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(None, max_length=50)
    data: str | None = None


class ReserveNow(TokenParams):
    model_config = examples({"evse": 1, "id_tag": "04A2B3C4D5E6F7", "expires_at": "2026-12-01T18:00:00Z"})

    evse: int = Field(0, ge=0, le=MAX_ID, description="0 reserves any EVSE of the station.")
    id_tag: Text = Field(min_length=1, max_length=36)
    expires_at: UtcTime
    reservation_id: int | None = generated("The OCPP reservation id")
    parent_id_tag: Text | None = Field(None, max_length=36)
    connector_type: Text | None = Field(
        None, min_length=1, max_length=20,
        description="OCPP 2.x: reserve a connector of this type (2.0.1 ConnectorEnumType: cType2, cCCS2, sType2, "
                    "...; 2.1 its own list). OCPP 1.6 reserves by connector only: refused there.")


class CancelReservation(Params):
    model_config = examples({"reservation_id": 1234})

    reservation_id: int = Field(ge=0, le=MAX_ID)


class LocalListEntry(TokenParams):
    id_tag: Text = Field(min_length=1, max_length=36)
    status: Literal["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"] | None = None
    expires_at: datetime | None = None
    parent_id_tag: str | None = Field(None, max_length=36)


class SendLocalList(Params):
    model_config = examples({"version": 3, "update_type": "full",
                             "entries": [{"id_tag": "04A2B3C4D5E6F7", "status": "Accepted"}]})

    version: int = Field(ge=0)
    update_type: Literal["full", "differential"] = "full"
    entries: list[LocalListEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def entries_have_a_status(self):
        """A Full list must give every tag its info (stations drop bare ones), so status defaults to
        Accepted; in a Differential list a bare tag means "remove", so it cannot carry an expiry or parent."""
        for e in self.entries:
            if e.status is None and self.update_type == "full":
                e.status = "Accepted"
            elif e.status is None and (e.expires_at or e.parent_id_tag):
                raise ValueError(f"entry {e.id_tag}: expires_at and parent_id_tag need a status "
                                 "(an entry without status removes the tag)")
        return self


class SchedulePeriod(Params):
    start_period: int = Field(ge=0, description="Seconds from the start of the schedule.")
    limit: float = Field(ge=0)
    number_phases: int | None = Field(None, ge=1, le=3)


class ChargingSchedule(Params):
    id: int | None = Field(None, ge=0, le=MAX_ID, description="2.x schedule id; omitted: the profile's id.")
    charging_rate_unit: Literal["A", "W"]
    periods: list[SchedulePeriod] = Field(min_length=1)
    duration: int | None = Field(None, ge=0)
    start_schedule: datetime | None = None
    min_charging_rate: float | None = Field(None, ge=0)


class ChargingProfile(Params):
    id: int = Field(ge=0)
    stack_level: int = Field(0, ge=0)
    purpose: Purpose = Field(description="1.6 names; ChargePointMaxProfile is 2.x's ChargingStationMaxProfile.")
    kind: Literal["Absolute", "Recurring", "Relative"] = "Absolute"
    recurrency: Literal["Daily", "Weekly"] | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    schedule: ChargingSchedule


class SetChargingProfile(Params):
    model_config = examples({"evse": 1, "profile": {
        "id": 7, "stack_level": 0, "purpose": "TxDefaultProfile", "kind": "Absolute",
        "schedule": {"charging_rate_unit": "A", "periods": [{"start_period": 0, "limit": 16}]}}})

    evse: int = Field(0, ge=0, description="0 sets a station-wide profile.")
    profile: ChargingProfile


class ClearChargingProfile(Params):
    model_config = examples({"purpose": "TxDefaultProfile"})

    id: int | None = None
    evse: int | None = Field(None, ge=0)
    purpose: Purpose | None = None
    stack_level: int | None = Field(None, ge=0)


class GetCompositeSchedule(Params):
    model_config = examples({"evse": 1, "duration": 3600, "charging_rate_unit": "W"})

    evse: int = Field(0, ge=0)
    duration: int = Field(ge=1, description="Seconds.")
    charging_rate_unit: Literal["A", "W"] | None = None


class GetDiagnostics(Params):
    model_config = examples({"location": "ftp://diagnostics.example.com/uploads/"})

    location: str = Field(min_length=1, max_length=512, description="URI the station uploads to.")
    retries: int | None = Field(None, ge=0)
    retry_interval: int | None = Field(None, ge=0)
    start_time: datetime | None = None
    stop_time: datetime | None = None
    request_id: int | None = generated("2.x GetLog requestId, named in LogStatusNotification")


class GetLog(GetDiagnostics):
    """Have the station upload a diagnostics or security log (1.6: its security extension)."""

    model_config = examples({"log_type": "security", "location": "https://logs.example.com/upload"})

    log_type: Literal["diagnostics", "security"] = "diagnostics"


class UpdateFirmware(Params):
    model_config = examples({"location": "https://firmware.example.com/v2.1.bin",
                             "retrieve_at": "2026-12-01T02:00:00Z"})

    location: str = Field(min_length=1, max_length=512)
    retrieve_at: datetime
    retries: int | None = Field(None, ge=0)
    retry_interval: int | None = Field(None, ge=0)
    install_at: UtcTime | None = Field(None, description="2.x, or 1.6 signed firmware.")
    signing_certificate: str | None = Field(None, min_length=1, max_length=5500, description="PEM.")
    signature: str | None = Field(None, min_length=1, max_length=800, description="Base64.")
    request_id: int | None = generated("requestId of 2.x (and 1.6 signed) firmware updates")


# --- the OCPP 2.x device model ----------------------------------------------------------------
class ComponentRef(Params):
    component: str = Field(min_length=1, max_length=50, description="e.g. OCPPCommCtrlr")
    component_instance: str | None = Field(None, min_length=1, max_length=50)
    evse: int | None = Field(None, ge=1, le=MAX_ID)
    connector: int | None = Field(None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _connector(self):
        check_connector(self.evse, self.connector)
        return self


class VariableRef(ComponentRef):
    variable: str = Field(min_length=1, max_length=50, description="e.g. HeartbeatInterval")
    variable_instance: str | None = Field(None, min_length=1, max_length=50)
    attribute_type: AttributeType | None = Field(None, description="Omitted: Actual.")


class VariableSetting(VariableRef):
    value: str = Field(max_length=1000)


class ReportTarget(ComponentRef):
    variable: str | None = Field(None, min_length=1, max_length=50, description="Omitted: every variable.")
    variable_instance: str | None = Field(None, min_length=1, max_length=50)


class GetVariables(Params):
    """Read single attributes of the station's device model."""

    model_config = examples({"variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}]})

    variables: list[VariableRef] = Field(min_length=1, max_length=100)


class SetVariables(Params):
    """Write single attributes of the station's device model."""

    model_config = examples({"variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval",
                                            "value": "300"}]})

    variables: list[VariableSetting] = Field(min_length=1, max_length=100)


class GetBaseReport(Params):
    """Ask for one of the predefined reports; the station sends it as NotifyReport messages."""

    model_config = examples({"report": "configuration"})

    report: Literal["configuration", "full", "summary"] = "full"
    request_id: int | None = generated("requestId, named in the NotifyReport messages")


class GetReport(Params):
    """Ask for a report of chosen components and variables, or of those meeting criteria."""

    model_config = examples({"variables": [{"component": "EVSE", "evse": 1}], "criteria": ["problem"]})

    variables: list[ReportTarget] | None = Field(None, min_length=1, max_length=100)
    criteria: list[Literal["active", "available", "enabled", "problem"]] | None = Field(
        None, min_length=1, max_length=4)
    request_id: int | None = generated("requestId, named in the NotifyReport messages")


class GetChargingProfiles(Params):
    """Ask for the installed charging profiles; the station sends ReportChargingProfiles."""

    model_config = examples({"evse": 1, "purpose": "TxDefaultProfile"})

    evse: int | None = Field(None, ge=0, le=MAX_ID, description="0: station-wide profiles only.")
    purpose: Purpose | None = None
    stack_level: int | None = Field(None, ge=0, le=MAX_ID)
    profile_ids: list[Annotated[int, Field(ge=0, le=MAX_ID)]] | None = Field(None, min_length=1, max_length=100)
    sources: list[Literal["EMS", "Other", "SO", "CSO"]] | None = Field(
        None, min_length=1, max_length=4, description="Who set the limit.")
    request_id: int | None = generated("requestId, named in ReportChargingProfiles")


class GetTransactionStatus(TransactionRef):
    """Whether a transaction is ongoing and whether the station still queues messages for it;
    with neither id, whether it queues any transaction messages at all."""

    model_config = examples({"session_id": 42})

    @model_validator(mode="after")
    def _at_most_one(self):
        if self.session_id is not None and self.transaction_id is not None:
            raise ValueError("give at most one of session_id or transaction_id")
        return self


class Apn(Params):
    apn: str = Field(min_length=1, max_length=512)
    user_name: str | None = Field(None, max_length=20)
    password: str | None = Field(None, max_length=20)
    sim_pin: int | None = Field(None, ge=0, le=MAX_ID)
    preferred_network: str | None = Field(None, max_length=6, description="PLMN, e.g. 20408.")
    use_only_preferred_network: bool | None = None
    authentication: Literal["CHAP", "NONE", "PAP", "AUTO"] = "AUTO"


class Vpn(Params):
    server: str = Field(min_length=1, max_length=512)
    user: str = Field(max_length=20)
    group: str | None = Field(None, max_length=20)
    password: str = Field(max_length=20)
    key: str = Field(max_length=255)
    type: Literal["IKEv2", "IPSec", "L2TP", "PPTP"]


class SetNetworkProfile(Params):
    """Store a connection profile in one of the station's slots (OCPP-J over the given URL).
    Refused when its security profile is below the station's: a station is never downgraded."""

    model_config = examples({"configuration_slot": 1, "csms_url": "wss://csms.example.com/ocpp",
                             "security_profile": 1})

    configuration_slot: int = Field(ge=0, le=MAX_ID)
    csms_url: str = Field(min_length=1, max_length=512, pattern=r"^wss?://", description="ws:// or wss://")
    security_profile: int = Field(ge=0, le=3)
    message_timeout: int = Field(30, ge=1, le=3600, description="Seconds.")
    interface: Literal["Wired0", "Wired1", "Wired2", "Wired3", "Wireless0", "Wireless1", "Wireless2",
                       "Wireless3"] = "Wired0"
    apn: Apn | None = None
    vpn: Vpn | None = None


# --- certificates and customer data -------------------------------------------------------------
class InstallCertificate(Params):
    """Install a root certificate the station trusts."""

    model_config = examples({"certificate_type": "CSMSRootCertificate",
                             "certificate": "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----"})

    certificate_type: CertificateUse
    certificate: str = Field(min_length=1, max_length=5500, description="PEM.")


class GetInstalledCertificateIds(Params):
    """List the hashes of the certificates the station has installed."""

    model_config = examples({"certificate_types": ["CSMSRootCertificate"]})

    certificate_types: list[CertificateUse | Literal["V2GCertificateChain"]] | None = Field(
        None, min_length=1, max_length=5, description="Omitted: all (2.x); 1.6 takes exactly one.")


class CertificateHash(Params):
    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"] = "SHA256"
    issuer_name_hash: str = Field(min_length=1, max_length=128)
    issuer_key_hash: str = Field(min_length=1, max_length=128)
    serial_number: str = Field(min_length=1, max_length=40)


class DeleteCertificate(CertificateHash):
    """Delete an installed certificate, named by its hashes (from get-installed-certificate-ids)."""

    model_config = examples({"issuer_name_hash": "7c3f1e0a9b", "issuer_key_hash": "a1b2c3d4e5",
                             "serial_number": "0a1b2c"})


class CertificateSigned(Params):
    """Send the certificate chain signed for the station's certificate signing request."""

    model_config = examples({"certificate_chain": "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----"})

    certificate_chain: str = Field(min_length=1, max_length=10000, description="PEM, leaf first.")
    certificate_type: Literal["ChargingStationCertificate", "V2GCertificate"] | None = Field(
        None, description="Omitted: ChargingStationCertificate.")


class CustomerInformation(TokenParams):
    """Ask for (report) and/or delete (clear) what the station keeps about one customer, named by
    exactly one of an identifier, a token or a certificate."""

    model_config = examples({"id_tag": "04A2B3C4D5E6F7", "report": True, "clear": False})

    report: bool = True
    clear: bool = False
    customer_identifier: str | None = Field(None, min_length=1, max_length=64)
    id_tag: Text | None = Field(None, min_length=1, max_length=36)
    customer_certificate: CertificateHash | None = None
    request_id: int | None = generated("requestId, named in NotifyCustomerInformation")

    @model_validator(mode="after")
    def _one_customer(self):
        named = [self.customer_identifier, self.id_tag, self.customer_certificate]
        if sum(x is not None for x in named) != 1:
            raise ValueError("give exactly one of customer_identifier, id_tag or customer_certificate")
        if not (self.report or self.clear):
            raise ValueError("report or clear (or both) must be true")
        return self


CATALOGUE: dict[str, type[Params]] = {
    "remote-start": RemoteStart,
    "remote-stop": RemoteStop,
    "reset": Reset,
    "unlock": Unlock,
    "change-availability": ChangeAvailability,
    "get-configuration": GetConfiguration,
    "change-configuration": ChangeConfiguration,
    "clear-cache": NoParams,
    "trigger-message": TriggerMessage,
    "data-transfer": DataTransfer,
    "reserve-now": ReserveNow,
    "cancel-reservation": CancelReservation,
    "send-local-list": SendLocalList,
    "get-local-list-version": NoParams,
    "set-charging-profile": SetChargingProfile,
    "clear-charging-profile": ClearChargingProfile,
    "get-composite-schedule": GetCompositeSchedule,
    "get-diagnostics": GetDiagnostics,
    "update-firmware": UpdateFirmware,
    "get-variables": GetVariables,
    "set-variables": SetVariables,
    "get-base-report": GetBaseReport,
    "get-report": GetReport,
    "get-charging-profiles": GetChargingProfiles,
    "get-log": GetLog,
    "get-transaction-status": GetTransactionStatus,
    "cost-updated": CostUpdated,
    "set-network-profile": SetNetworkProfile,
    "install-certificate": InstallCertificate,
    "get-installed-certificate-ids": GetInstalledCertificateIds,
    "delete-certificate": DeleteCertificate,
    "certificate-signed": CertificateSigned,
    "customer-information": CustomerInformation,
}


# --- what Wattson fills in (no I/O) -------------------------------------------------------------
GENERATED_IDS = ("reservation_id", "remote_start_id", "request_id")
TOKEN_TYPES = frozenset(get_args(TokenType))
#: stored types outside 2.0.1's IdTokenEnumType (2.1 added some): the nearest 2.0.1 type;
#: anything else is an id the CSMS knows, i.e. Central
NEAREST_TOKEN_TYPE = {"EVCCID": "MacAddress"}


def with_generated_ids(params: Params) -> Params:
    """Every omitted request id given a fresh random one, so the recorded command has it."""
    fields = type(params).model_fields
    missing = {name: secrets.randbelow(MAX_ID + 1) for name in GENERATED_IDS
               if name in fields and getattr(params, name) is None}
    return params.model_copy(update=missing) if missing else params


def token_type(stored: str | None) -> str:
    """The 2.0.1 idToken type for a token stored with type ``stored`` (None: not stored)."""
    if stored is None:
        return DEFAULT_TOKEN_TYPE
    return stored if stored in TOKEN_TYPES else NEAREST_TOKEN_TYPE.get(stored, "Central")


def _needs_type(item: Params) -> bool:
    return isinstance(item, TokenParams) and item.id_tag is not None and item.id_token_type is None


def _items(params: Params) -> list[Params]:
    return params.entries if isinstance(params, SendLocalList) else [params]


def untyped_tokens(params: Params) -> set[str]:
    """The tokens whose type ``with_token_types`` needs."""
    return {item.id_tag for item in _items(params) if _needs_type(item)}


def with_token_types(params: Params, stored: Mapping[str, str]) -> Params:
    """Each token without a type given the type it is stored with (uid → type in ``stored``)."""
    def typed(item):
        if not _needs_type(item):
            return item
        return item.model_copy(update={"id_token_type": token_type(stored.get(item.id_tag))})

    if isinstance(params, SendLocalList):
        return params.model_copy(update={"entries": [typed(e) for e in params.entries]})
    return typed(params)


# Outcome states of a command in the history.
PENDING, COMPLETED, FAILED, TIMEOUT = "pending", "completed", "failed", "timeout"


@dataclass(slots=True)
class Outcome:
    """What happened to one command at the station."""

    state: str
    action: str | None = None
    request: dict | None = None
    response: dict | None = None
    status: str | None = None  # the station's status field, when its answer has one
    error_code: str | None = None
    error_description: str | None = None
