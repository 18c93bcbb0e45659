"""HTTP shapes of electricity rates."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from wattson.api.types import UtcTime
from wattson.electricity.rules import period_problem
from wattson.locations.rules import time_zone_name
from wattson.stations.schemas import DbId, Text
from wattson.tariffs.schemas import Number, _currency

PricePerKwh = Number(ge=0, le=1000)
TIME = "Local time HH:MM in the rate's time zone"


def _zone(value: str) -> str:
    try:
        return time_zone_name(value)
    except ValueError as error:
        raise PydanticCustomError("time_zone", str(error)) from None


def _distinct(values: list[int]) -> list[int]:
    if len(values) != len(set(values)):
        raise PydanticCustomError("distinct", "must be distinct")
    return values


Weekdays = Annotated[list[Annotated[int, Field(ge=1, le=7)]], Field(min_length=1, max_length=7),
                     AfterValidator(_distinct)]
Currency = Annotated[str, Field(min_length=3, max_length=3, description="ISO 4217 code, e.g. EUR."),
                     AfterValidator(_currency)]
TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_zone)]
LocationIds = Annotated[list[DbId], Field(max_length=1000), AfterValidator(_distinct)]


class RatePeriod(BaseModel):
    """A time-of-use period: on these weekdays, from–to local time, this price."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    weekdays: Weekdays = Field(description="ISO weekday numbers, 1 = Monday … 7 = Sunday.")
    start: str = Field(alias="from", description=f"{TIME}, inclusive.")
    end: str = Field(alias="to", description=f"{TIME}, exclusive; 24:00 is the end of the day. An overnight span "
                                             "is two periods.")
    price_per_kwh: PricePerKwh

    @model_validator(mode="after")
    def _times(self):
        problem = period_problem(self.start, self.end)
        if problem:
            raise PydanticCustomError("period", problem)
        return self


Periods = Annotated[list[RatePeriod], Field(max_length=50)]


def _window(valid_from: datetime | None, valid_to: datetime | None) -> None:
    if valid_from is not None and valid_to is not None and valid_from >= valid_to:
        raise PydanticCustomError("validity", "valid_from must be before valid_to")


class RateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Grid supply 2026", "currency": "EUR", "price_per_kwh": 0.24, "is_default": True},
        {"name": "Hafen time of use", "currency": "EUR", "price_per_kwh": 0.28, "time_zone": "Europe/Berlin",
         "periods": [{"weekdays": [1, 2, 3, 4, 5], "from": "22:00", "to": "24:00", "price_per_kwh": 0.17},
                     {"weekdays": [1, 2, 3, 4, 5, 6, 7], "from": "00:00", "to": "06:00", "price_per_kwh": 0.17}],
         "valid_from": "2026-01-01T00:00:00+01:00", "location_ids": [1]},
    ]})

    name: Text(100)
    currency: Currency
    price_per_kwh: PricePerKwh = Field(description="Excl. VAT; what energy outside every period costs (all of it "
                                                   "for a fixed rate).")
    periods: Periods = Field([], description="Time-of-use prices; the first period covering an instant gives its "
                                             "price.")
    time_zone: TimeZone = Field("UTC", description="IANA zone the periods' times are read in.")
    valid_from: UtcTime | None = Field(None, description="In force from (inclusive); null: always before.")
    valid_to: UtcTime | None = Field(None, description="In force until (exclusive); null: open-ended.")
    location_ids: LocationIds = Field([], description="The locations it applies to.")
    is_default: bool = Field(False, description="The default rate: of every location without one of its own in force "
                                                "(then location_ids stays empty).")

    @model_validator(mode="after")
    def _valid(self):
        _window(self.valid_from, self.valid_to)
        problem = assignment_problem(self.is_default, self.location_ids)
        if problem:
            raise PydanticCustomError("assignment", problem)
        return self


class RateUpdate(BaseModel):
    """Only the fields sent change; ``location_ids`` replaces the assignment; null clears a validity bound."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"price_per_kwh": 0.26}]})

    name: Text(100) = None
    currency: Currency = None
    price_per_kwh: PricePerKwh = None
    periods: Periods = None
    time_zone: TimeZone = None
    valid_from: UtcTime | None = None
    valid_to: UtcTime | None = None
    location_ids: LocationIds = None
    is_default: bool = None

    @field_validator("name", "currency", "price_per_kwh", "periods", "time_zone", "location_ids", "is_default",
                     mode="before")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise PydanticCustomError("not_null", "cannot be null")
        return value


class RateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    currency: str
    price_per_kwh: float
    periods: list[dict] = Field(description="[{weekdays, from, to, price_per_kwh}]")
    time_zone: str
    valid_from: datetime | None
    valid_to: datetime | None
    location_ids: list[int]
    is_default: bool
    created_at: datetime
    updated_at: datetime


def assignment_problem(is_default: bool, location_ids: list[int]) -> str | None:
    """Why a rate's assignment is wrong: the default rate is assigned to no location, any other to some."""
    if is_default and location_ids:
        return "a default rate applies to every location: leave location_ids empty"
    if not is_default and not location_ids:
        return "name the locations in location_ids, or make it the default rate (is_default)"
    return None


def period_json(period: RatePeriod) -> dict:
    """A period as stored: the price an exact decimal in text."""
    return {"weekdays": sorted(period.weekdays), "from": period.start, "to": period.end,
            "price_per_kwh": str(Decimal(period.price_per_kwh))}
