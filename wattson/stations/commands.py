"""The version-neutral catalogue of commands an operator can send to a station.

Each command has a name (used in the API path) and a parameter model. Protocol adapters
translate a command into their own message; a command that a version cannot express is
refused by that adapter, not here.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from wattson.api.types import MAX_ID, UtcTime, no_nul


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoParams(Params):
    pass


class RemoteStart(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id_tag": "04A2B3C4D5E6F7", "evse": 1}]})

    id_tag: str = Field(min_length=1, max_length=36, description="The token the session is started for.")
    evse: int | None = Field(None, ge=1, description="OCPP EVSE number; omitted lets the station choose.")
    charging_profile: dict[str, Any] | None = Field(
        None, description="A TxProfile in the station's own OCPP shape, passed through after validation.")


class RemoteStop(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"session_id": 42}]})

    session_id: int | None = Field(None, description="Wattson's session id.")
    transaction_id: str | None = Field(None, max_length=36, description="The protocol's transaction id.")

    @model_validator(mode="after")
    def _one_of(self):
        if (self.session_id is None) == (self.transaction_id is None):
            raise ValueError("give exactly one of session_id or transaction_id")
        return self


class Reset(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"type": "soft"}]})

    type: Literal["soft", "hard"] = "soft"


class Unlock(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"evse": 1}]})

    evse: int = Field(ge=1)
    connector: int = Field(1, ge=1)


class ChangeAvailability(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"evse": 0, "operative": False}]})

    evse: int = Field(0, ge=0, description="0 changes the whole station.")
    operative: bool


class GetConfiguration(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"keys": ["HeartbeatInterval", "MeterValueSampleInterval"]}]})

    keys: list[str] | None = Field(None, description="Omitted: every key the station reports.")


class ChangeConfiguration(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"key": "MeterValueSampleInterval", "value": "30"}]})

    key: str = Field(min_length=1, max_length=50)
    value: str = Field(max_length=500)


class TriggerMessage(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"message": "StatusNotification", "evse": 1}]})

    message: Literal["BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
                     "Heartbeat", "MeterValues", "StatusNotification"]
    evse: int | None = Field(None, ge=0)


class DataTransfer(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"vendor_id": "com.acme", "message_id": "display", "data": "Welcome"}]})

    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(None, max_length=50)
    data: str | None = None


class ReserveNow(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"evse": 1, "id_tag": "04A2B3C4D5E6F7", "expires_at": "2026-12-01T18:00:00Z"}]})

    evse: int = Field(0, ge=0, le=MAX_ID, description="0 reserves any EVSE of the station.")
    id_tag: Annotated[str, AfterValidator(no_nul)] = Field(min_length=1, max_length=36)
    expires_at: UtcTime
    reservation_id: int | None = Field(None, ge=0, le=MAX_ID, description="Generated when omitted.")
    parent_id_tag: Annotated[str | None, AfterValidator(no_nul)] = Field(None, max_length=36)


class CancelReservation(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reservation_id": 1234}]})

    reservation_id: int = Field(ge=0, le=MAX_ID)


class LocalListEntry(Params):
    id_tag: str = Field(min_length=1, max_length=36)
    status: Literal["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"] | None = None
    expires_at: datetime | None = None
    parent_id_tag: str | None = Field(None, max_length=36)


class SendLocalList(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 3, "update_type": "full", "entries": [{"id_tag": "04A2B3C4D5E6F7", "status": "Accepted"}]}]})

    version: int = Field(ge=0)
    update_type: Literal["full", "differential"] = "full"
    entries: list[LocalListEntry] = Field(default_factory=list)


class SchedulePeriod(Params):
    start_period: int = Field(ge=0, description="Seconds from the start of the schedule.")
    limit: float = Field(ge=0)
    number_phases: int | None = Field(None, ge=1, le=3)


class ChargingSchedule(Params):
    charging_rate_unit: Literal["A", "W"]
    periods: list[SchedulePeriod] = Field(min_length=1)
    duration: int | None = Field(None, ge=0)
    start_schedule: datetime | None = None
    min_charging_rate: float | None = Field(None, ge=0)


class ChargingProfile(Params):
    id: int = Field(ge=0)
    stack_level: int = Field(0, ge=0)
    purpose: Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]
    kind: Literal["Absolute", "Recurring", "Relative"] = "Absolute"
    recurrency: Literal["Daily", "Weekly"] | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    schedule: ChargingSchedule


class SetChargingProfile(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"evse": 1, "profile": {"id": 7, "stack_level": 0, "purpose": "TxDefaultProfile", "kind": "Absolute", "schedule": {"charging_rate_unit": "A", "periods": [{"start_period": 0, "limit": 16}]}}}]})

    evse: int = Field(0, ge=0, description="0 sets a station-wide profile.")
    profile: ChargingProfile


class ClearChargingProfile(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"purpose": "TxDefaultProfile"}]})

    id: int | None = None
    evse: int | None = Field(None, ge=0)
    purpose: Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"] | None = None
    stack_level: int | None = Field(None, ge=0)


class GetCompositeSchedule(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"evse": 1, "duration": 3600, "charging_rate_unit": "W"}]})

    evse: int = Field(0, ge=0)
    duration: int = Field(ge=1, description="Seconds.")
    charging_rate_unit: Literal["A", "W"] | None = None


class GetDiagnostics(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"location": "ftp://diagnostics.example.com/uploads/"}]})

    location: str = Field(min_length=1, max_length=512, description="URI the station uploads to.")
    retries: int | None = Field(None, ge=0)
    retry_interval: int | None = Field(None, ge=0)
    start_time: datetime | None = None
    stop_time: datetime | None = None


class UpdateFirmware(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"location": "https://firmware.example.com/v2.1.bin", "retrieve_at": "2026-12-01T02:00:00Z"}]})

    location: str = Field(min_length=1, max_length=512)
    retrieve_at: datetime
    retries: int | None = Field(None, ge=0)
    retry_interval: int | None = Field(None, ge=0)


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
}

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
