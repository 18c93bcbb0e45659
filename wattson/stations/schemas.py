"""HTTP shapes of charge points, EVSEs, connectors, status history and commands."""

import unicodedata
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, computed_field, field_validator,
)
from pydantic_core import PydanticCustomError

from wattson.api.types import MAX_ID, UtcTime, no_nul
from wattson.catalogue.error_schemas import StationErrorOut
from wattson.stations.identifiers import check_evse_id
from wattson.stations.identity import PATTERN as IDENTITY_PATTERN
from wattson.stations.passwords import MAX_LENGTH as PASSWORD_MAX, MIN_LENGTH as PASSWORD_MIN, password_problem
from wattson.stations.status import evse_hardware_status



def _one_line(value: str) -> str:
    value = value.strip()
    if not value:
        raise PydanticCustomError("blank", "must not be blank")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return value


def Text(max_length: int):  # noqa: N802 - a type factory
    """One line of text, 1 to ``max_length`` characters, trimmed; no control characters."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length), AfterValidator(_one_line)]


DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
RegistrationStatus = Literal["Accepted", "Pending", "Rejected"]
AdminStatus = Literal["enabled", "disabled", "out_of_order"]
NetworkStatus = Literal["never_connected", "online", "offline"]
CurrentType = Literal["AC", "DC"]
#: OCPI 2.2.1 ConnectorType.
ConnectorStandard = Literal[
    "CHADEMO", "CHAOJI", "DOMESTIC_A", "DOMESTIC_B", "DOMESTIC_C", "DOMESTIC_D", "DOMESTIC_E", "DOMESTIC_F",
    "DOMESTIC_G", "DOMESTIC_H", "DOMESTIC_I", "DOMESTIC_J", "DOMESTIC_K", "DOMESTIC_L", "DOMESTIC_M",
    "DOMESTIC_N", "DOMESTIC_O", "GBT_AC", "GBT_DC", "IEC_60309_2_single_16", "IEC_60309_2_three_16",
    "IEC_60309_2_three_32", "IEC_60309_2_three_64", "IEC_62196_T1", "IEC_62196_T1_COMBO", "IEC_62196_T2",
    "IEC_62196_T2_COMBO", "IEC_62196_T3A", "IEC_62196_T3C", "NEMA_5_20", "NEMA_6_30", "NEMA_6_50",
    "NEMA_10_30", "NEMA_10_50", "NEMA_14_30", "NEMA_14_50", "TESLA_R", "TESLA_S",
]
ConnectorFormat = Literal["SOCKET", "CABLE"]
#: OCPI 2.2.1 PowerType.
PowerType = Literal["AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC"]
#: OCPP PhaseRotation: which circuit phase (R, S, T) each of the EVSE's L1, L2, L3 is wired to.
PhaseRotation = Literal["RST", "RTS", "SRT", "STR", "TRS", "TSR"]
#: Where an EVSE stands in its life: OCPI shows planned as PLANNED and retired as REMOVED.
Lifecycle = Literal["planned", "commissioned", "retired"]
LIFECYCLE_DESCRIPTION = ("planned (installed, not yet commissioned: OCPI PLANNED), commissioned (in service) or "
                         "retired (taken out of service for good: OCPI REMOVED).")
CIRCUIT_DESCRIPTION = "The circuit it is placed on for load management (must exist); null takes it off."

PASSWORD_FIELD = Field(None, min_length=PASSWORD_MIN, max_length=PASSWORD_MAX, repr=False,
                       json_schema_extra={"writeOnly": True},
                       description=f"HTTP Basic password for security profiles 1 and 2: {PASSWORD_MIN} to "
                                   f"{PASSWORD_MAX} characters. Write-only: stored as a salted hash, never returned.")
SECURITY_PROFILE_DESCRIPTION = (
    "OCPP security profile, which the station cannot go below when it connects: 0 none; 1 HTTP Basic "
    "authentication with `password`; 2 TLS (wss://) and `password`; 3 TLS with a client certificate whose "
    "subject CN is the station's id, no password. 2 needs WATTSON_TLS_CERT and WATTSON_TLS_KEY set on the "
    "server, 3 also WATTSON_TLS_CLIENT_CA (else 422).")


def _check_security_profile(value: int) -> int:
    if value not in (0, 1, 2, 3):
        raise PydanticCustomError("security_profile", "security_profile must be 0, 1, 2 or 3")
    return value


def _check_password(value: str | None) -> str | None:
    problem = value is not None and password_problem(value)
    if problem:
        raise PydanticCustomError("password", problem)
    return value


def _check_evse_id(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_evse_id(value)
    except ValueError as error:
        raise PydanticCustomError("evse_id", str(error)) from None


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- charge points ------------------------------------------------------------------------------
class ChargePointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"id": "CP-1", "name": "Garage"},
        {"id": "CP-2", "name": "Depot gate", "location_id": 1, "registration_status": "Pending",
         "admin_status": "enabled", "security_profile": 1, "password": "n7Qk2vX9pL4sW8dR"},
    ]})

    id: str = Field(pattern=IDENTITY_PATTERN, description="The OCPP identity: the last segment of its URL.")
    name: Text(255) | None = None
    location_id: DbId | None = Field(None, description="The location it stands at; must exist.")
    registration_status: RegistrationStatus = Field("Accepted", description="What the next BootNotification is "
                                                                             "answered with.")
    admin_status: AdminStatus = Field("enabled", description="The operator's status: enabled, disabled or "
                                                             "out_of_order.")
    security_profile: int = Field(0, description=SECURITY_PROFILE_DESCRIPTION)
    password: str | None = PASSWORD_FIELD

    _profile = field_validator("security_profile")(_check_security_profile)
    _password = field_validator("password")(_check_password)



class ChargePointUpdate(BaseModel):
    """Only the fields sent change; null clears a nullable field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Depot gate", "location_id": 1, "admin_status": "out_of_order"},
        {"security_profile": 1, "password": "n7Qk2vX9pL4sW8dR"},
        {"location_id": None},
    ]})

    name: Text(255) | None = None
    location_id: DbId | None = Field(None, description="The location it stands at (must exist); null detaches it.")
    circuit_id: DbId | None = Field(None, description=CIRCUIT_DESCRIPTION)
    model_id: DbId | None = Field(None, description="Its charge point model (/api/v1/charge-point-models, must "
                                                    "exist); its next BootNotification sets it from what it reports.")
    registration_status: RegistrationStatus = Field(None, description="What the next BootNotification is "
                                                                      "answered with.")
    admin_status: AdminStatus = None
    security_profile: int = Field(None, description=SECURITY_PROFILE_DESCRIPTION + " Setting 0 or 3 forgets the "
                                                                                    "password.")
    password: str | None = PASSWORD_FIELD

    _profile = field_validator("security_profile")(_check_security_profile)
    _password = field_validator("password")(_check_password)


class ConnectorOut(Out):
    id: int
    number: int
    standard: str | None = Field(description="OCPI ConnectorType, e.g. IEC_62196_T2.")
    format: str | None = Field(description="SOCKET or CABLE.")
    power_type: str | None = Field(description="AC_1_PHASE, AC_3_PHASE, DC, ...")
    hardware_status: str | None = Field(description="As last reported by the station; null until reported.")
    error_code: str | None
    status_at: datetime | None


class EvseOut(Out):
    id: int
    charge_point_id: str
    number: int = Field(description="The OCPP EVSE number (1.6: the connectorId).")
    evse_id: str | None = Field(description="The eMI3 EVSE ID, e.g. DE*AB7*E840*6487.")
    physical_reference: str | None
    label: str | None
    current_type: str | None = Field(description="AC or DC.")
    max_power_w: int | None
    max_voltage_v: int | None
    max_amperage_a: int | None
    phases: int | None
    circuit_id: int | None = Field(None, description="The circuit it is placed on itself; null: its charge point's.")
    phase_rotation: str | None = Field(None, description="OCPP PhaseRotation of its wiring; null: RST.")
    admin_status: str = Field(description="enabled, disabled or out_of_order.")
    allows_reservation: bool
    zone_id: int | None = Field(None, description="The charging zone it is placed in (zones/).")
    parking_space_id: int | None = Field(None, description="The parking space (bay) it is placed at.")
    lifecycle: str = Field("commissioned", description=LIFECYCLE_DESCRIPTION)
    external_id: str | None = Field(None, description="The operator's own reference for it.")
    tariff_group_id: int | None = Field(None, description="The tariff group it is priced by.")
    mid_meter_certification_end_year: int | None = Field(None, description="The year its MID meter's "
                                                                           "certification runs out.")
    connectors: list[ConnectorOut]
    created_at: datetime
    updated_at: datetime

    @computed_field(description="Its single connector's, or of several the most active one; null until reported.")
    @property
    def hardware_status(self) -> str | None:
        return evse_hardware_status(c.hardware_status for c in self.connectors)

    @computed_field(description="max_power_w in kW (seed 001's maxPowerKw); null when not set.")
    @property
    def max_power_kw(self) -> float | None:
        return None if self.max_power_w is None else self.max_power_w / 1000


class ChargePointOut(Out):
    id: str
    name: str | None
    location_id: int | None
    circuit_id: int | None = Field(None, description="The circuit it is placed on for load management.")
    model_id: int | None = Field(None, description="Its charge point model: what its boot's vendor and model "
                                                   "match in the catalogue (/api/v1/charge-point-models).")
    registration_status: str
    admin_status: str = Field(description="enabled, disabled or out_of_order.")
    security_profile: int
    password_hash: str | None = Field(None, exclude=True)
    ocpp_version: str | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    hardware_status: str | None = Field(description="The station as a whole (1.6 connector 0); null until reported.")
    error_code: str | None
    status_at: datetime | None
    network_status: str = Field(description="never_connected, online or offline.")
    last_seen: datetime | None
    connected_at: datetime | None
    booted_at: datetime | None
    firmware_status: str | None
    diagnostics_status: str | None
    created_at: datetime
    updated_at: datetime
    evses: list[EvseOut]
    current_errors: list[StationErrorOut] = Field([], description="The errors it reports now, decoded by its "
                                                                  "vendor's error codes (docs/operations.md).")

    @computed_field(description="Whether a password (security profiles 1 and 2) is set; it is never shown.")
    @property
    def has_password(self) -> bool:
        return self.password_hash is not None


# --- EVSEs and connectors -----------------------------------------------------------------------
class ConnectorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"number": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE"},
    ]})

    number: int = Field(ge=1, le=MAX_ID, description="The connector's number on its EVSE, from 1.")
    standard: ConnectorStandard | None = Field(None, description="OCPI ConnectorType.")
    format: ConnectorFormat | None = None
    power_type: PowerType | None = None


class ConnectorUpdate(BaseModel):
    """Only the fields sent change; null clears."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"standard": "IEC_62196_T2_COMBO", "format": "CABLE", "power_type": "DC"},
    ]})

    standard: ConnectorStandard | None = Field(None, description="OCPI ConnectorType.")
    format: ConnectorFormat | None = None
    power_type: PowerType | None = None


class _EvseFields(BaseModel):
    evse_id: str | None = Field(None, max_length=48, description="eMI3 EVSE ID, e.g. DE*AB7*E840*6487; unique in "
                                                                 "the network (compared in upper case, '*' ignored).")
    physical_reference: Text(16) | None = Field(None, description="The number painted on it, e.g. '2'.")
    label: Text(100) | None = None
    current_type: CurrentType | None = None
    max_power_w: int | None = Field(None, ge=1, le=10_000_000)
    max_voltage_v: int | None = Field(None, ge=1, le=10_000)
    max_amperage_a: int | None = Field(None, ge=1, le=10_000)
    phases: Literal[1, 3] | None = None
    circuit_id: DbId | None = Field(None, description="A circuit of its own for load management (must exist), "
                                                      "instead of its charge point's; null: its charge point's.")
    phase_rotation: PhaseRotation | None = Field(None, description="OCPP PhaseRotation: the circuit phases (R, S, T) "
                                                                   "its L1, L2, L3 are wired to; null: RST.")
    zone_id: DbId | None = Field(None, description="The charging zone it is placed in, at its charge point's "
                                                   "location; null: none.")
    parking_space_id: DbId | None = Field(None, description="The parking space (bay) it is placed at, at its charge "
                                                            "point's location; a bay in a zone puts it in that zone.")
    external_id: Text(100) | None = Field(None, description="The operator's own reference for it.")
    tariff_group_id: DbId | None = Field(None, description="The tariff group it is priced by.")
    mid_meter_certification_end_year: int | None = Field(None, ge=2000, le=2200, description="The year its MID "
                                                         "meter's certification runs out.")

    _evse_id = field_validator("evse_id")(_check_evse_id)


class EvseCreate(_EvseFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"number": 1, "evse_id": "DE*AB7*E840*6487", "physical_reference": "1", "current_type": "AC",
         "max_power_w": 22000, "max_voltage_v": 400, "max_amperage_a": 32, "phases": 3,
         "connectors": [{"number": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE"}]},
    ]})

    number: int = Field(ge=1, le=MAX_ID, description="The OCPP EVSE number (1.6: the connectorId); unique "
                                                         "per charge point.")
    admin_status: AdminStatus = "enabled"
    allows_reservation: bool = True
    lifecycle: Lifecycle = Field("commissioned", description=LIFECYCLE_DESCRIPTION)
    connectors: list[ConnectorCreate] = Field([], max_length=32)

    @field_validator("connectors")
    @classmethod
    def _distinct_numbers(cls, connectors: list[ConnectorCreate]) -> list[ConnectorCreate]:
        numbers = [c.number for c in connectors]
        if len(numbers) != len(set(numbers)):
            raise PydanticCustomError("connectors", "connector numbers must be distinct")
        return connectors


class EvseUpdate(_EvseFields):
    """Only the fields sent change; null clears a nullable field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"admin_status": "out_of_order", "label": "Left bay"},
        {"evse_id": None},
    ]})

    admin_status: AdminStatus = None
    allows_reservation: bool = None
    lifecycle: Lifecycle = Field(None, description=LIFECYCLE_DESCRIPTION)


# --- history ------------------------------------------------------------------------------------
class StatusEventOut(Out):
    id: int
    evse: int | None
    connector: int | None
    status: str
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    timestamp: datetime
    received_at: datetime


class StationEventOut(Out):
    id: int
    kind: str
    data: dict
    timestamp: datetime | None
    received_at: datetime


class CommandOut(Out):
    id: str
    charge_point_id: str
    name: str
    params: dict
    state: str = Field(description="pending, completed, failed or timeout.")
    action: str | None = Field(description="The OCPP action sent.")
    request: dict | None
    response: dict | None
    status: str | None = Field(description="The station's answer, e.g. Accepted or Rejected.")
    error_code: str | None
    error_description: str | None
    created_at: datetime
    completed_at: datetime | None


# --- reservations -------------------------------------------------------------------------------
ReservationStatus = Literal["active", "cancelled", "used", "expired", "rejected", "removed"]
IdTag = Annotated[str, StringConstraints(min_length=1, max_length=36), AfterValidator(no_nul)]


class ReservationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"evse": 1, "id_tag": "04A2B3C4D5E6F7", "expires_at": "2030-12-01T18:00:00Z"},
        {"id_tag": "04A2B3C4D5E6F7", "expires_at": "2030-12-01T18:00:00Z", "parent_id_tag": "FLEET-7"},
    ]})

    evse: int = Field(0, ge=0, le=MAX_ID, description="The OCPP EVSE number; 0 reserves any EVSE of the station.")
    id_tag: IdTag = Field(description="The token the reservation is held for.")
    expires_at: UtcTime = Field(description="When the station lets the reservation go; must be in the future. "
                                            "Without a zone it is UTC.")
    parent_id_tag: IdTag | None = Field(None, description="A parent token that may also use the reservation.")
    connector_type: str | None = Field(None, min_length=1, max_length=20,
                                       description="OCPP 2.x: a connector of this type (cType2, cCCS2, ...); "
                                                   "refused for an OCPP 1.6 station, which reserves by connector.")

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: datetime) -> datetime:
        if value <= datetime.now(timezone.utc):
            raise PydanticCustomError("past", "must be in the future")
        return value


class ReservationOut(Out):
    id: int = Field(description="The OCPP reservationId.")
    charge_point_id: str
    evse: int = Field(description="0: any EVSE of the station.")
    id_tag: str
    parent_id_tag: str | None
    expires_at: datetime
    status: ReservationStatus = Field(description="active, cancelled, used (by `session_id`), rejected by the "
                                                  "station, expired (active past `expires_at`, or so reported by "
                                                  "an OCPP 2.x station), or removed by the station.")
    session_id: int | None = Field(description="The session that used the reservation.")
    command_id: str | None = Field(description="The reserve-now command that made it.")
    created_at: datetime
    updated_at: datetime
