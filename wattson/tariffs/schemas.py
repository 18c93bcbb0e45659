"""HTTP shapes of tariffs: the OCPI 2.2.1 Tariff object, validated, plus assignments, settings and
estimates. Money and volumes are decimals (at most 4 digits after the point, as OCPI allows),
written as JSON numbers."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator
from pydantic_core import PydanticCustomError

from wattson.api.types import UtcTime
from wattson.stations.schemas import DbId, Out, Text

HOUR_MINUTE = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
TARIFF_ID = r"^[A-Za-z0-9._\-]{1,36}$"  # OCPI CiString(36), kept to characters safe in URLs

TariffType = Literal["AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN", "REGULAR"]
Dimension = Literal["ENERGY", "FLAT", "PARKING_TIME", "TIME"]
DayOfWeek = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
ReservationRestriction = Literal["RESERVATION", "RESERVATION_EXPIRES"]
AssignmentKind = Literal["regular", "ad_hoc"]


def _four_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise PydanticCustomError("decimal", "must be a finite number")
    if value.as_tuple().exponent < -4 and value != value.quantize(Decimal("0.0001")):
        raise PydanticCustomError("decimal", "at most 4 digits after the decimal point")
    return value


def Number(**bounds):  # noqa: N802 - a type factory
    """A decimal within ``bounds``, at most 4 decimal places, written to JSON as a number."""
    return Annotated[Decimal, Field(**bounds), AfterValidator(_four_places),
                     PlainSerializer(float, return_type=float, when_used="json")]


Amount = Number(ge=0, le=10**9)


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")

    excl_vat: Amount
    incl_vat: Amount | None = None


class PriceComponent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Dimension
    price: Amount = Field(description="Excl. VAT: per kWh (ENERGY), per hour (TIME, PARKING_TIME), per session (FLAT).")
    vat: Number(ge=0, le=100) | None = Field(None, description="VAT percentage; absent: no VAT applies.")
    step_size: int = Field(1, ge=1, le=10**7, description="Billing step: Wh for ENERGY, seconds for TIME and "
                                                           "PARKING_TIME; the billed volume is rounded up to it.")


class Restrictions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_time: str | None = Field(None, pattern=HOUR_MINUTE, description="Local time HH:MM, inclusive.")
    end_time: str | None = Field(None, pattern=HOUR_MINUTE, description="Local time HH:MM, exclusive; "
                                                                       "earlier than start_time: across midnight.")
    start_date: date | None = Field(None, description="Local date, inclusive.")
    end_date: date | None = Field(None, description="Local date, exclusive.")
    min_kwh: Number(ge=0, le=10**6) | None = None
    max_kwh: Number(ge=0, le=10**6) | None = None
    min_current: Number(ge=0, le=10**5) | None = None
    max_current: Number(ge=0, le=10**5) | None = None
    min_power: Number(ge=0, le=10**6) | None = None
    max_power: Number(ge=0, le=10**6) | None = None
    min_duration: int | None = Field(None, ge=0, le=10**8, description="Seconds since the session started.")
    max_duration: int | None = Field(None, ge=0, le=10**8)
    day_of_week: list[DayOfWeek] | None = Field(None, max_length=7)
    reservation: ReservationRestriction | None = None

    @model_validator(mode="after")
    def _ranges(self):
        for low, high in (("start_date", "end_date"), ("min_kwh", "max_kwh"), ("min_current", "max_current"),
                          ("min_power", "max_power"), ("min_duration", "max_duration")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a >= b:
                raise PydanticCustomError("range", f"{low} must be less than {high}")
        if self.start_time is not None and self.start_time == self.end_time:
            raise PydanticCustomError("range", "start_time and end_time must differ")
        if self.day_of_week is not None and len(set(self.day_of_week)) != len(self.day_of_week):
            raise PydanticCustomError("day_of_week", "day_of_week lists a day twice")
        return self


class TariffElement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_components: list[PriceComponent] = Field(min_length=1, max_length=10)
    restrictions: Restrictions | None = None


class DisplayText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code.")
    text: Text(512)


class EnergySource(BaseModel):
    source: Literal["NUCLEAR", "GENERAL_FOSSIL", "COAL", "GAS", "GENERAL_GREEN", "SOLAR", "WIND", "WATER"]
    percentage: Number(ge=0, le=100)


class EnvironmentalImpact(BaseModel):
    category: Literal["NUCLEAR_WASTE", "CARBON_DIOXIDE"]
    amount: Number(ge=0, le=10**6)


class EnergyMix(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_green_energy: bool
    energy_sources: list[EnergySource] | None = Field(None, max_length=20)
    environ_impact: list[EnvironmentalImpact] | None = Field(None, max_length=20)
    supplier_name: Text(64) | None = None
    energy_product_name: Text(64) | None = None


def _currency(value: str) -> str:
    value = value.upper()
    if pycountry.currencies.get(alpha_3=value) is None:
        raise PydanticCustomError("currency", f"{value!r} is not an ISO 4217 currency code")
    return value


TARIFF_EXAMPLE = {
    "id": "AC-STANDARD",
    "currency": "EUR",
    "type": "REGULAR",
    "tariff_alt_text": [{"language": "en", "text": "0.39 EUR/kWh, 0.30 EUR/kWh at night; 0.05 EUR/min parking"}],
    "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 21.0, "step_size": 1}],
         "restrictions": {"start_time": "22:00", "end_time": "06:00"}},
        {"price_components": [{"type": "ENERGY", "price": 0.39, "vat": 21.0, "step_size": 1}]},
        {"price_components": [{"type": "PARKING_TIME", "price": 3.00, "vat": 21.0, "step_size": 60}]},
    ],
    "max_price": {"excl_vat": 100},
}


class _TariffFields(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": TARIFF_EXAMPLE})

    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code, e.g. EUR.")
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] = Field(default_factory=list, max_length=20)
    tariff_alt_url: Text(255) | None = None
    min_price: Price | None = Field(None, description="The least a session costs.")
    max_price: Price | None = Field(None, description="The most a session costs.")
    elements: list[TariffElement] = Field(min_length=1, max_length=100)
    start_date_time: UtcTime | None = Field(None, description="From when the tariff may be chosen for a session.")
    end_date_time: UtcTime | None = Field(None, description="Until when (exclusive).")
    energy_mix: EnergyMix | None = None

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        return _currency(value)

    @model_validator(mode="after")
    def _consistent(self):
        if self.min_price and self.max_price and self.min_price.excl_vat > self.max_price.excl_vat:
            raise PydanticCustomError("price", "min_price exceeds max_price")
        if self.start_date_time and self.end_date_time and self.start_date_time >= self.end_date_time:
            raise PydanticCustomError("validity", "start_date_time must be earlier than end_date_time")
        return self


class TariffCreate(_TariffFields):
    id: str | None = Field(None, pattern=TARIFF_ID, description="Your id (letters, digits, . _ -; up to 36); "
                                                                 "generated when omitted.")


class TariffReplace(_TariffFields):
    """A whole tariff, replacing the stored one (sessions already begun keep their copy)."""


class TariffOut(_TariffFields):
    model_config = ConfigDict(extra="ignore")

    id: str
    last_updated: datetime
    assignments: int = Field(description="How many assignments name this tariff.")


class AssignmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tariff_id: str = Field(pattern=TARIFF_ID)
    kind: AssignmentKind = Field("regular", description="`regular` for sessions, `ad_hoc` for direct payment.")
    location_id: DbId | None = None
    charge_point_id: str | None = Field(None, min_length=1, max_length=48)
    evse_id: DbId | None = Field(None, description="The EVSE's id in Wattson (not its eMI3 EVSE ID).")
    connector_id: DbId | None = None
    driver_group_id: DbId | None = Field(None, description="Only for drivers of this home group (e.g. employees "
                                                           "charge free); none: everyone.")

    @model_validator(mode="after")
    def _one_scope(self):
        scopes = [n for n in ("location_id", "charge_point_id", "evse_id", "connector_id") if getattr(self, n)]
        if len(scopes) > 1:
            raise PydanticCustomError("scope", "name at most one of location_id, charge_point_id, evse_id, "
                                               "connector_id")
        return self


class AssignmentOut(Out):
    id: int
    tariff_id: str
    kind: AssignmentKind
    location_id: int | None
    charge_point_id: str | None
    evse_id: int | None
    connector_id: int | None
    driver_group_id: int | None
    created_at: datetime


class SettingsOut(Out):
    default_tariff_id: str | None = Field(description="The tariff of sessions no assignment covers.")
    ad_hoc_tariff_id: str | None = Field(description="The direct-payment tariff where no ad hoc assignment covers.")
    updated_at: datetime | None


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"default_tariff_id": "AC-STANDARD"}})

    default_tariff_id: str | None = Field(None, pattern=TARIFF_ID)
    ad_hoc_tariff_id: str | None = Field(None, pattern=TARIFF_ID)


class EstimateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "energy_kwh": 20, "duration_minutes": 45, "start_at": "2026-11-29T21:30:00Z", "power_kw": 11,
        "parking_minutes": 15, "time_zone": "Europe/Prague"}})

    energy_kwh: Number(ge=0, le=10**4) = Field(description="Energy the driver expects to charge.")
    duration_minutes: int = Field(ge=0, le=7 * 24 * 60, description="Time charging.")
    start_at: UtcTime | None = Field(None, description="When charging starts; default now.")
    power_kw: Number(gt=0, le=10**4) | None = Field(None, description="Charging power; caps the energy that fits "
                                                                     "in the duration, and feeds power rules.")
    parking_minutes: int = Field(0, ge=0, le=7 * 24 * 60, description="Time connected after charging.")
    time_zone: str | None = Field(None, description="IANA zone of the charger for time-of-day rules; default UTC.")


class DimensionOut(BaseModel):
    volume: float = Field(description="What a price component priced: kWh (energy), hours (time, parking) or 1 "
                                      "(flat fee); 0 where no component of the tariff applied.")
    billed_volume: float = Field(description="The volume after rounding up to the step size.")
    excl_vat: float
    vat: float
    incl_vat: float


class VatLineOut(BaseModel):
    vat_percent: float | None = Field(description="null: no VAT applies to these components.")
    base_excl_vat: float
    vat: float


class CostOut(BaseModel):
    """A priced session: each dimension, the totals, the VAT lines, and OCPI charging periods.
    Each line is rounded to the currency's minor unit; the totals are the sums of the lines
    (docs/pricing.md)."""

    currency: str
    tariff_id: str | None
    energy: DimensionOut
    time: DimensionOut = Field(description="Charging time.")
    parking: DimensionOut = Field(description="Parking time: connected, not charging.")
    flat: DimensionOut
    total_excl_vat: float
    total_vat: float
    total_incl_vat: float
    reduction: float = Field(description="What min_price/max_price changed the total by (excl. VAT).")
    min_price_applied: bool
    max_price_applied: bool
    vat_lines: list[VatLineOut]
    charging_periods: list[dict] = Field(description="OCPI CDR charging periods: start_date_time, dimensions, "
                                                     "tariff_id.")

    @classmethod
    def of(cls, priced) -> "CostOut":
        """From a ``tariffs.pricing.PricedSession``."""
        def dimension(d):
            return DimensionOut(volume=d.volume, billed_volume=d.billed_volume, excl_vat=d.excl_vat, vat=d.vat,
                                incl_vat=d.incl_vat)
        return cls(currency=priced.currency, tariff_id=priced.tariff_id, energy=dimension(priced.energy),
                   time=dimension(priced.time), parking=dimension(priced.parking), flat=dimension(priced.flat),
                   total_excl_vat=priced.total_excl_vat, total_vat=priced.total_vat,
                   total_incl_vat=priced.total_incl_vat, reduction=priced.reduction,
                   min_price_applied=priced.min_price_applied, max_price_applied=priced.max_price_applied,
                   vat_lines=[VatLineOut(vat_percent=p, base_excl_vat=b, vat=v) for p, b, v in priced.vat_lines],
                   charging_periods=plain(priced.charging_periods))


def plain(value):
    """Decimals as JSON numbers, all the way down (OCPI writes amounts as numbers)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
