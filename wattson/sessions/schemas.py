"""HTTP shapes of sessions and their meter values."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SessionOut(Out):
    id: int = Field(description="Wattson's session id.")
    charge_point_id: str
    evse: int = Field(description="The OCPP EVSE number (1.6: the connectorId).")
    connector: int
    transaction_id: str | None = Field(description="The protocol's transaction id.")
    id_tag: str | None
    auth_status: str | None = Field(description="The authorisation answered when the session started.")
    status: str = Field(description="active or finished.")
    started_at: datetime
    stopped_at: datetime | None
    meter_start: int = Field(description="Energy register at start, Wh.")
    meter_stop: int | None = Field(description="Energy register at stop, Wh.")
    meter_last: int | None = Field(description="Latest energy register reading, Wh.")
    energy_wh: int = Field(description="Energy delivered so far (live) or in total (finished), Wh.")
    stop_reason: str | None
    reservation_id: int | None


class MeterValueOut(Out):
    timestamp: datetime
    measurand: str
    value: str
    numeric: float | None
    unit: str | None
    phase: str | None
    context: str | None
    location: str | None
    format: str | None


class SessionDetail(SessionOut):
    meter_values: list[MeterValueOut]
