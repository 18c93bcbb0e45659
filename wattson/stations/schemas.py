"""HTTP shapes of charge points, EVSEs, connectors, status history and commands."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from wattson.stations.status import REGISTRATION_STATUSES

IDENTITY_PATTERN = r"^[^/\s]{1,48}$"


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ChargePointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"id": "CP-1", "name": "Garage"}]})

    id: str = Field(pattern=IDENTITY_PATTERN, description="The OCPP identity: the last segment of its URL.")
    name: str | None = Field(None, max_length=255)
    registration_status: str = Field("Accepted", pattern="^(" + "|".join(REGISTRATION_STATUSES) + ")$",
                                     description="What the next BootNotification is answered with.")


class ConnectorOut(Out):
    id: int
    number: int
    hardware_status: str | None = Field(description="As last reported by the station; null until reported.")
    error_code: str | None
    status_at: datetime | None


class EvseOut(Out):
    id: int
    number: int = Field(description="The OCPP EVSE number (1.6: the connectorId).")
    evse_id: str | None = Field(description="The eMI3 EVSE ID, e.g. DE*AB7*E840*6487.")
    connectors: list[ConnectorOut]


class ChargePointOut(Out):
    id: str
    name: str | None
    registration_status: str
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
    evses: list[EvseOut]


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
