"""HTTP shapes of locations (sites), with OCPI 2.2.1 opening hours."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from wattson.api.types import as_utc
from wattson.locations.rules import country_alpha3, time_zone_name
from wattson.stations.schemas import Text
from wattson.zones.schemas import ZoneRef

#: OCPI 2.2.1 ParkingType.
ParkingType = Literal["ALONG_MOTORWAY", "PARKING_GARAGE", "PARKING_LOT", "ON_DRIVEWAY", "ON_STREET",
                      "UNDERGROUND_GARAGE"]
HOUR_MINUTE = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"  # OCPI's RegularHours period syntax
COUNTRY_DESCRIPTION = "ISO 3166-1 alpha-2 or alpha-3 code, any case (e.g. 'de' or 'DEU'); stored and shown as alpha-3."
TIME_ZONE_DESCRIPTION = "IANA time zone name, e.g. Europe/Berlin."

HOURS_EXAMPLE = {
    "twentyfourseven": False,
    "regular_hours": [{"weekday": day, "period_begin": "07:00", "period_end": "22:00"} for day in range(1, 6)],
    "exceptional_openings": [],
    "exceptional_closings": [{"period_begin": "2025-12-25T00:00:00Z", "period_end": "2025-12-26T00:00:00Z"}],
}


def _country(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return country_alpha3(value)
    except ValueError as error:
        raise PydanticCustomError("country", str(error)) from None


def time_zone_field(value: str | None) -> str | None:
    """A time_zone field's validator: the IANA name as stored, or a 422 saying why not."""
    if value is None:
        return None
    try:
        return time_zone_name(value)
    except ValueError as error:
        raise PydanticCustomError("time_zone", str(error)) from None


class RegularHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekday: int = Field(ge=1, le=7, description="1 is Monday, 7 is Sunday.")
    period_begin: str = Field(pattern=HOUR_MINUTE, description="Local time, HH:MM.")
    period_end: str = Field(pattern=HOUR_MINUTE, description="Local time, HH:MM; later than period_begin.")

    @model_validator(mode="after")
    def _end_after_begin(self):
        if self.period_end <= self.period_begin:  # zero-padded HH:MM compare as times
            raise PydanticCustomError("period", "period_end must be later than period_begin")
        return self


class ExceptionalPeriod(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period_begin: datetime = Field(description="UTC; a time without a zone is UTC.")
    period_end: datetime = Field(description="UTC; later than period_begin.")

    @field_validator("period_begin", "period_end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return as_utc(value)
        except ValueError as error:
            raise PydanticCustomError("datetime", str(error)) from None

    @model_validator(mode="after")
    def _end_after_begin(self):
        if self.period_end <= self.period_begin:
            raise PydanticCustomError("period", "period_end must be later than period_begin")
        return self


class Hours(BaseModel):
    """OCPI Hours: open around the clock or on regular weekly hours, with dated exceptions."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [HOURS_EXAMPLE]})

    twentyfourseven: bool = Field(description="Open 24/7 (except exceptional_closings); excludes regular_hours.")
    regular_hours: list[RegularHours] = Field([], max_length=100)
    exceptional_openings: list[ExceptionalPeriod] = Field([], max_length=500)
    exceptional_closings: list[ExceptionalPeriod] = Field([], max_length=500)

    @model_validator(mode="after")
    def _either_247_or_regular(self):
        if self.twentyfourseven and self.regular_hours:
            raise PydanticCustomError("hours", "regular_hours are only used when twentyfourseven is false")
        return self


class _LocationFields(BaseModel):
    street: Text(255) | None = None
    house_number: Text(20) | None = None
    building_number: Text(20) | None = None
    postal_code: Text(20) | None = None
    city: Text(100) | None = None
    country: str | None = Field(None, description=COUNTRY_DESCRIPTION)
    latitude: float | None = Field(None, ge=-90, le=90, description="WGS 84 degrees; with longitude.")
    longitude: float | None = Field(None, ge=-180, le=180, description="WGS 84 degrees; with latitude.")
    opening_hours: Hours | None = Field(None, description="OCPI Hours; null: not known.")
    parking_type: ParkingType | None = Field(None, description="OCPI ParkingType.")

    _country = field_validator("country")(_country)


class LocationCreate(_LocationFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Depot North", "street": "Hafenstraße", "house_number": "12", "postal_code": "20457",
         "city": "Hamburg", "country": "DE", "latitude": 53.5413, "longitude": 9.9846, "time_zone": "Europe/Berlin",
         "opening_hours": {"twentyfourseven": True}, "parking_type": "PARKING_LOT", "publish": True},
    ]})

    name: Text(255)
    time_zone: str = Field("UTC", description=TIME_ZONE_DESCRIPTION)
    publish: bool = Field(True, description="Whether it may be published to roaming partners and maps.")

    _time_zone = field_validator("time_zone")(time_zone_field)



class LocationUpdate(_LocationFields):
    """Only the fields sent change; null clears a nullable field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Depot North (gate 2)", "publish": False},
        {"latitude": 53.5413, "longitude": 9.9846},
        {"opening_hours": None},
    ]})

    name: Text(255) = None
    time_zone: str = Field(None, description=TIME_ZONE_DESCRIPTION)
    publish: bool = None

    _time_zone = field_validator("time_zone")(time_zone_field)


class LocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    street: str | None
    house_number: str | None
    building_number: str | None
    postal_code: str | None
    city: str | None
    country: str | None = Field(description="ISO 3166-1 alpha-3.")
    latitude: float | None
    longitude: float | None
    time_zone: str
    opening_hours: Hours | None
    parking_type: str | None
    publish: bool
    charge_point_ids: list[str] = Field([], description="The charge points standing here.")
    zones: list[ZoneRef] = Field([], description="Its charging zones (/api/v1/charging-zones), by id.")
    created_at: datetime
    updated_at: datetime
