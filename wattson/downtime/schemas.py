"""HTTP shapes of downtime periods, downtime notices and availability figures."""

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from wattson.api.types import UtcTime
from wattson.downtime.rules import KINDS, SOURCES
from wattson.stations.schemas import DbId, Text

Kind = Literal[KINDS]
Source = Literal[SOURCES]
#: A language tag as the driver page picks them: ISO 639-1, optionally a region (de, de-AT).
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
Message = Annotated[str, StringConstraints(min_length=1, max_length=1000, strip_whitespace=True)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=1000, strip_whitespace=True)]
PLANNED = Field(None, description="Left out of the availability figure's period (maintenance announced "
                                  "ahead). Default: true for planned_maintenance, false otherwise.")


class _NotNull(BaseModel):
    """An update may clear only what may be empty."""
    model_config = ConfigDict(extra="forbid")
    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _no_nulls(self):
        for name in self.not_null:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class DowntimePeriodCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"charge_point_id": "CP-0001", "evse_id": 12, "kind": "planned_maintenance", "reason": "cable replaced",
         "starts_at": "2026-12-10T07:00:00Z", "ends_at": "2026-12-10T11:00:00Z"}]})
    charge_point_id: Text(48) = Field(description="The charge point.")
    evse_id: DbId | None = Field(None, description="One of its EVSEs (Wattson's id); null: the whole charge point.")
    kind: Kind = Field("outage", description="planned_maintenance, outage or other.")
    planned: bool | None = PLANNED
    reason: Reason | None = None
    starts_at: UtcTime
    ends_at: UtcTime | None = Field(None, description="Null: open-ended, until it is set.")


class DowntimePeriodUpdate(_NotNull):
    not_null = ("kind", "planned", "starts_at")
    evse_id: DbId | None = None
    kind: Kind = None
    planned: bool = None
    reason: Reason | None = None
    starts_at: UtcTime = None
    ends_at: UtcTime | None = None


class DowntimePeriodOut(BaseModel):
    """A downtime period: entered by hand (``source`` manual, with an ``id``: it can be changed) or
    computed from the station's status history (Faulted/Unavailable) and connection history
    (offline) on reading (``id`` null)."""
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": 3, "source": "manual", "charge_point_id": "CP-0001", "evse_id": 12, "evse": 1,
         "kind": "planned_maintenance", "planned": True, "reason": "cable replaced",
         "starts_at": "2026-12-10T07:00:00Z", "ends_at": "2026-12-10T11:00:00Z",
         "created_at": "2026-12-04T09:00:00Z", "updated_at": "2026-12-04T09:00:00Z"},
        {"id": None, "source": "computed", "charge_point_id": "CP-0001", "evse_id": 12, "evse": 1,
         "kind": "outage", "planned": False, "reason": "Faulted (GroundFailure)",
         "starts_at": "2026-12-03T22:14:05Z", "ends_at": "2026-12-04T06:40:00Z", "created_at": None,
         "updated_at": None}]})
    id: int | None
    source: Source
    charge_point_id: str
    evse_id: int | None = Field(description="Null: the whole charge point (all its EVSEs).")
    evse: int | None = Field(description="The EVSE's OCPP number.")
    kind: str
    planned: bool
    reason: str | None = Field(description="Computed: the status and error code, or offline.")
    starts_at: datetime
    ends_at: datetime | None = Field(description="Null: still going (or open-ended).")
    created_at: datetime | None
    updated_at: datetime | None


class DowntimeNoticeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"messages": {"en": "Charger 2 is being repaired until Friday.", "cs": "Nabíječka 2 je v opravě do pátku."},
         "valid_from": "2026-12-04T08:00:00Z", "valid_until": "2026-12-11T18:00:00Z",
         "charge_point_ids": ["CP-0001"], "location_ids": []}]})
    messages: dict[Language, Message] = Field(min_length=1, max_length=30,
                                              description="Language (en, cs, de-AT, …) → the text drivers see.")
    valid_from: UtcTime | None = Field(None, description="Shown from then; default now.")
    valid_until: UtcTime | None = Field(None, description="Shown until then; null: until withdrawn.")
    charge_point_ids: list[Text(48)] = Field([], max_length=500)
    location_ids: list[DbId] = Field([], max_length=500, description="All charge points of these locations.")


class DowntimeNoticeUpdate(_NotNull):
    not_null = ("messages", "valid_from", "charge_point_ids", "location_ids")
    messages: dict[Language, Message] = Field(None, min_length=1, max_length=30)
    valid_from: UtcTime = None
    valid_until: UtcTime | None = None
    charge_point_ids: list[Text(48)] = Field(None, max_length=500)
    location_ids: list[DbId] = Field(None, max_length=500)


class DowntimeNoticeOut(BaseModel):
    """What drivers are told, on the driver page of the EVSEs of these charge points and locations
    while it is in force."""
    model_config = ConfigDict(from_attributes=True)
    id: int
    messages: dict[str, str]
    valid_from: datetime
    valid_until: datetime | None
    charge_point_ids: list[str]
    location_ids: list[int]
    created_at: datetime
    updated_at: datetime


class Availability(BaseModel):
    period_s: float = Field(description="The period's length up to now, seconds.")
    planned_downtime_s: float = Field(description="Planned downtime within it: left out of the basis.")
    unplanned_downtime_s: float = Field(description="Other downtime within it, outside planned downtime.")
    availability_percent: float | None = Field(
        description="100 × (1 − unplanned / (period − planned)), two decimals; null when planned downtime "
                    "covers the whole period.")


class EvseAvailabilityOut(Availability):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"evse_id": 12, "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "period_s": 2592000.0,
         "planned_downtime_s": 14400.0, "unplanned_downtime_s": 25875.0, "availability_percent": 99.0}]})
    evse_id: int
    from_: datetime = Field(serialization_alias="from")
    to: datetime


class AggregateAvailabilityOut(Availability):
    """The sum of its EVSEs' figures (each EVSE weighs by its own period), and each EVSE's."""
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"charge_point_id": "CP-0001", "location_id": None, "from": "2026-11-01T00:00:00Z",
         "to": "2026-12-01T00:00:00Z", "period_s": 5184000.0, "planned_downtime_s": 14400.0,
         "unplanned_downtime_s": 25875.0, "availability_percent": 99.5, "evses": []}]})
    charge_point_id: str | None = None
    location_id: int | None = None
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    evses: list[EvseAvailabilityOut]
