"""HTTP shapes of charging zones and parking spaces."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from wattson.api.types import no_nul
from wattson.stations.schemas import DbId, Text
from wattson.zones.rules import SPACE_TYPES

SpaceType = Literal[SPACE_TYPES]
Description = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(no_nul)]
FLOOR = "The floor as signposted, e.g. '-1' or 'P2'."
SPACE_TYPE = ("What the bay is kept for: standard, ev_only, disabled (accessible), customers or motorcycles; "
              "published to roaming partners as the EVSE's OCPI parking_restrictions.")
EVSE_IDS = ("The EVSEs (Wattson EVSE ids) placed at this bay, replacing those placed before; each must belong to a "
            "charge point standing at the bay's location.")


def _distinct(ids: list[int] | None) -> list[int] | None:
    if ids is not None and len(ids) != len(set(ids)):
        raise PydanticCustomError("evse_ids", "EVSE ids must be distinct")
    return ids


class ZoneRef(BaseModel):
    """A location's zone as the location lists it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    floor: str | None


class ZoneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"location_id": 1, "name": "Level -1", "floor": "-1", "description": "Entrance from Hafenstraße, left ramp"},
    ]})

    location_id: DbId = Field(description="The location it is part of (must exist).")
    name: Text(100) = Field(description="Unique within its location.")
    floor: Text(20) | None = Field(None, description=FLOOR)
    description: Description | None = None


class ZoneUpdate(BaseModel):
    """Only the fields sent change; null clears ``floor`` and ``description``. A zone stays at its location."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"floor": "-2"}]})

    name: Text(100) = None
    floor: Text(20) | None = Field(None, description=FLOOR)
    description: Description | None = None


class ZoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    location_id: int
    name: str
    floor: str | None
    description: str | None
    parking_space_ids: list[int] = Field([], description="The parking spaces lying in it.")
    evse_ids: list[int] = Field([], description="The EVSEs placed in it (directly or through a parking space).")
    created_at: datetime
    updated_at: datetime


class SpaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"zone_id": 3, "label": "B-12", "type": "ev_only", "evse_ids": [41]},
        {"location_id": 1, "label": "7", "floor": "0", "type": "disabled"},
    ]})

    location_id: DbId | None = Field(None, description="The location it is at; may be left out when zone_id is "
                                                        "given, else it must be the zone's.")
    zone_id: DbId | None = Field(None, description="The charging zone it lies in (must exist); null: directly at "
                                                   "the location.")
    label: Text(20) = Field(description="The bay label painted on the ground, e.g. 'B-12'; unique within the "
                                        "location.")
    floor: Text(20) | None = Field(None, description=FLOOR + " Null: its zone's.")
    type: SpaceType = Field("standard", description=SPACE_TYPE)
    evse_ids: list[DbId] = Field([], max_length=32, description=EVSE_IDS)

    _evse_ids = field_validator("evse_ids")(_distinct)


class SpaceUpdate(BaseModel):
    """Only the fields sent change; null clears ``zone_id`` (the bay stays at its location) and ``floor``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"type": "disabled"}, {"evse_ids": [41, 42]}, {"zone_id": None},
    ]})

    zone_id: DbId | None = Field(None, description="A zone at the same location; null takes it out of its zone.")
    label: Text(20) = None
    floor: Text(20) | None = Field(None, description=FLOOR)
    type: SpaceType = Field(None, description=SPACE_TYPE)
    evse_ids: list[DbId] = Field(None, max_length=32, description=EVSE_IDS)

    _evse_ids = field_validator("evse_ids")(_distinct)


class SpaceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    location_id: int
    zone_id: int | None
    label: str
    floor: str | None = Field(description="Its own floor; null: its zone's.")
    type: str
    evse_ids: list[int] = Field([], description="The EVSEs placed at this bay.")
    created_at: datetime
    updated_at: datetime
