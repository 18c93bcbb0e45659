"""HTTP shapes of direct payment: the operator's products and payments, and the driver API,
whose ChargingPoint is seed 000's, field for field."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, model_validator
from pydantic_core import PydanticCustomError

from wattson.payments import machine as m
from wattson.stations.schemas import DbId, Out, Text

PaymentState = Literal[m.STATES]  # type: ignore[valid-type]


def _places(value: Decimal, places: int) -> Decimal:
    if not value.is_finite():
        raise PydanticCustomError("decimal", "must be a finite number")
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise PydanticCustomError("decimal", f"at most {places} digits after the decimal point")
    return value


def Money(**bounds):  # noqa: N802 - a type factory
    """An amount incl. VAT: at most 2 decimals (4 for a hold, which is rounded to the currency),
    written to JSON as a number."""
    return Annotated[Decimal, Field(**bounds), AfterValidator(lambda v: _places(v, 2)),
                     PlainSerializer(float, return_type=float, when_used="json")]


AsNumber = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


# --- products (operator API) ----------------------------------------------------------------------
class ProductFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text(100) | None = Field(None, description="As the driver sees it, e.g. \"Up to 60 minutes\".")
    blocking_value: Money(gt=0, le=100_000) | None = Field(
        None, description="The amount held on the card, incl. VAT, in the ad hoc tariff's currency: the most the "
                          "driver pays; the session stops when its cost reaches it.")
    max_duration_min: int | None = Field(None, ge=1, le=2880, description="Stop after this many minutes.")
    max_energy_kwh: Annotated[Decimal, Field(gt=0, le=1000), AfterValidator(lambda v: _places(v, 3)),
                              PlainSerializer(float, return_type=float, when_used="json")] | None = Field(
        None, description="Stop once this much energy was delivered.")
    evse_id: DbId | None = Field(None, description="Offered at this EVSE (its id) only.")
    charge_point_id: Text(48) | None = Field(None, description="Offered at this charge point's EVSEs.")
    location_id: DbId | None = Field(None, description="Offered at this location's EVSEs. None of the three: "
                                                       "everywhere.")
    position: int | None = Field(None, ge=0, le=10_000, description="Order on the driver page (lowest first).")
    active: bool | None = Field(None, description="Offered to drivers.")


class ProductCreate(ProductFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Up to 60 minutes", "blocking_value": 20, "max_duration_min": 60},
        {"name": "Up to 20 kWh", "blocking_value": 15, "max_energy_kwh": 20, "location_id": 1}]})

    name: Text(100)
    blocking_value: Money(gt=0, le=100_000)
    position: int = Field(0, ge=0, le=10_000)
    active: bool = True


class ProductUpdate(ProductFields):
    @model_validator(mode="after")
    def _no_nulls(self):
        for name in ("name", "blocking_value", "position", "active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ProductOut(Out):
    id: int
    uid: str = Field(description="The product's UUID: the driver API's `id`.")
    name: str
    blocking_value: AsNumber
    max_duration_min: int | None
    max_energy_kwh: AsNumber | None
    evse_id: int | None
    charge_point_id: str | None
    location_id: int | None
    position: int
    active: bool
    created_at: datetime
    updated_at: datetime


# --- payments (operator API) ----------------------------------------------------------------------
class PaymentEventOut(Out):
    event: str
    from_state: str | None
    to_state: str
    data: dict | None
    at: datetime


class PaymentOut(Out):
    id: int
    session_id: str = Field(description="The driver's handle of this payment (the driver API's session_id).")
    state: PaymentState
    provider: str
    provider_ref: str | None
    product: dict
    charge_point_id: str
    evse: int
    evse_code: str | None
    charging_session_id: int | None = Field(description="Wattson's session it paid for.")
    currency: str
    amount_held: AsNumber
    amount_captured: AsNumber | None
    amount_released: AsNumber | None
    amount_refunded: AsNumber
    cdr_id: int | None
    stop_reason: str | None
    failure: str | None
    card: str | None
    created_at: datetime
    authorized_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    events: list[PaymentEventOut] | None = None


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": 2.5, "reason": "goodwill"}]})

    amount: Money(gt=0, le=100_000) | None = Field(None, description="Omitted: all that is left to refund.")
    reason: Text(255) | None = None


# --- the driver API (seed 000) ----------------------------------------------------------------------
class CodeListSystem(BaseModel):
    code: str | None
    is_cabel: bool | None
    id: int
    name: str | None


class Address(BaseModel):
    id: int
    street: str | None
    descriptive_number: str | None
    house_number: str | None
    post_code: str | None
    city: str | None
    country: CodeListSystem | None
    type: CodeListSystem | None


class DirectPaymentProduct(BaseModel):
    id: str = Field(description="The product's UUID.")
    name: str | None
    reservation_time: int | None = Field(description="The product's time limit in minutes (null: none).")
    blocking_value: float | None = Field(description="The amount held on the card, incl. VAT.")
    id_product: int | None
    amount_with_vat: float | None = Field(description="The price of using all of the product at the ad hoc "
                                                      "tariff, incl. VAT, at most the blocking value.")


class ChargingPoint(BaseModel):
    """Seed 000's ChargingPoint."""

    id: int
    id_transaction: int | None
    hw_code: str | None
    products: list[DirectPaymentProduct] | None
    code: str | None
    name: str | None
    inclusion: str | None
    is_possible_to_charge: bool | None
    is_possible_to_charge_direct_payment: bool | None
    state: CodeListSystem | None
    charging_station: CodeListSystem | None
    address: Address | None
    charging_speed: CodeListSystem | None
    is_socket: bool | None
    is_public: bool | None
    location: CodeListSystem | None
    rated_power: float | None
    connector: CodeListSystem | None
    output_power_from_manufacturer: float | None
    output_power_avaiable_max: float | None
    output_current_manufacturer: float | None
    output_voltage_manufacturer: float | None
    output_power_from: float | None
    output_power_to: float | None
    output_current: float | None
    charging_start_hour: int | None
    charging_start_minute: int | None
    charging_start_second: int | None
    still_continues: bool | None
    planned_charging_end: datetime | None
    charging_start: datetime | None
    percent: int | None


class Card(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card_number: str = Field(max_length=32)
    exp_month: int
    exp_year: int
    cvc: str = Field(max_length=8)


class PayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"evse_id": "CZ*WAT*E0001*1", "product_id": "34a51869-90d5-4787-a5d1-a42faccda28b",
         "card": {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}]})

    evse_id: str = Field(min_length=1, max_length=64)
    product_id: str = Field(min_length=1, max_length=36, description="The product's `id` (UUID) or `id_product`.")
    card: Card | None = Field(None, description="Sandbox provider: the test card as typed.")
    payment_method: str | None = Field(None, max_length=255, description="Stripe: the PaymentMethod id from "
                                                                         "Stripe Elements (pm_...).")
    email: str | None = Field(None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$",
                              description="Where the receipt link may be sent.")
    language: Literal["en", "cs"] = "en"


class DriverPayment(BaseModel):
    session_id: str
    state: PaymentState
    evse_id: str | None
    product: dict
    currency: str
    amount_held: float
    amount_captured: float | None
    amount_released: float | None
    amount_refunded: float
    energy_kwh: float | None
    cost_incl_vat: float | None = Field(description="Cost so far (final once settled), incl. VAT.")
    elapsed_s: int | None
    started_at: datetime | None
    stopped_at: datetime | None
    stop_reason: str | None
    failure: str | None
    card: str | None = Field(description="The card's brand and last four digits, e.g. \"Visa •••• 4242\".")
    text: dict[str, str | None] = Field(description="amount_held, amount_captured, amount_released, "
                                                    "amount_refunded and cost_incl_vat written as the driver's "
                                                    "language writes money (`lang`, else the payment's): "
                                                    "\"CZK 1,234.50\", \"1 234,50 Kč\".")
    receipt_url: str | None
    receipt_pdf_url: str | None
