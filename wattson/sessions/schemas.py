"""HTTP shapes of sessions, their meter values, charging periods, and the session query."""

import re
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import (AfterValidator, AliasChoices, AliasGenerator, BaseModel, BeforeValidator, ConfigDict, Field,
                      StrictBool, StrictInt, StringConstraints, field_validator)
from pydantic.alias_generators import to_camel

from wattson.api.types import MAX_ID
from wattson.tariffs.schemas import TARIFF_ID, CostOut

MAX_IDS = 1000  # per list filter of the session query
SORT_KEYS = ("started_at", "stopped_at", "charge_point_id", "energy_wh", "duration", "id", "user_name", "site_name",
             "total_cost_incl_vat", "id_tag", "driver_id", "location_id")
#: Seed 004's item field names (camelCase as the seed writes them, and snake_case) → Wattson's sort keys.
SEED_SORT_KEYS = {
    **{name: key for names, key in (
        (("timestampStart", "timestamp_start"), "started_at"),
        (("timestampEnd", "timestamp_end"), "stopped_at"),
        (("chargerId", "charger_id"), "charge_point_id"),
        (("fullConsumptionWh", "full_consumption_wh", "fullConsumptionKWh", "full_consumption_kwh"), "energy_wh"),
        (("transactionLengthMinutes", "transaction_length_minutes"), "duration"),
        (("userName",), "user_name"),
        (("siteName",), "site_name"),
        (("totalCostInclVat",), "total_cost_incl_vat"),
        (("authorizedTagId", "authorized_tag_id"), "id_tag"),
        (("authorizedUserId", "authorized_user_id"), "driver_id"),
        (("siteId", "site_id"), "location_id"),
    ) for name in names},
}
#: Seed 004's body keys where they are not plain camelCase of Wattson's (``chargerIDs``, not ``chargerIds``).
_SEED_BODY_KEYS = {"charger_ids": "chargerIDs", "driver_ids": "driverIDs", "site_ids": "siteIDs"}
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def iso_8601_only(value):
    """Times are ISO 8601 text: the number of seconds since 1970 that pydantic would also take is
    not what the API documents (format date-time), and is refused."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2025-03-01T12:00:00Z")
    return value


def as_utc(value: datetime | None) -> datetime | None:
    """Zone-less input is UTC; anything else is converted to UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError("out of range once converted to UTC") from None


def seed_sort_key(value):
    """A seed 004 field name given as the sort key becomes the Wattson key it sorts by."""
    return SEED_SORT_KEYS.get(value, value) if isinstance(value, str) else value


def body_key_choices(name: str) -> AliasChoices:
    """The keys a session query body may name a field by: Wattson's snake_case first (the one the
    OpenAPI schema shows), then seed 004's camelCase (``sortKey``, ``chargerIDs``, also ``chargerIds``)."""
    camel = to_camel(name)
    return AliasChoices(*dict.fromkeys((name, _SEED_BODY_KEYS.get(name, camel), camel)))


def no_nul(value: str) -> str:
    """No database stores NUL in text, and PostgreSQL refuses it even in a comparison."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


#: A database id in a JSON body: an integer (not "7", not 7.0), 1 to 2^31 - 1.
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
UtcTime = Annotated[datetime, BeforeValidator(iso_8601_only), AfterValidator(as_utc)]
ChargePointId = Annotated[str, StringConstraints(min_length=1, max_length=48), AfterValidator(no_nul)]
TagUid = Annotated[str, StringConstraints(min_length=1, max_length=36), AfterValidator(no_nul)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SessionOut(Out):
    id: int = Field(description="Wattson's session id.")
    charge_point_id: str
    evse: int = Field(description="The OCPP EVSE number (1.6: the connectorId).")
    evse_id: int | None = Field(description="The EVSE's id in Wattson (the `evses` row), if it still exists.")
    connector: int
    transaction_id: str | None = Field(description="The protocol's transaction id.")
    id_tag: str | None
    driver_id: int | None = Field(description="The tag's driver when the session started; null for unknown or "
                                              "unassigned tags.")
    location_id: int | None = Field(description="The charge point's location when the session started.")
    auth_status: str | None = Field(description="The authorisation answered when the session started.")
    status: str = Field(description="active or finished.")
    started_at: datetime
    stopped_at: datetime | None
    meter_start: int = Field(description="Energy register at start, Wh.")
    meter_stop: int | None = Field(description="Energy register at stop, Wh.")
    meter_last: int | None = Field(description="Latest energy register reading, Wh.")
    energy_wh: int = Field(description="Energy delivered so far (live) or in total (finished), Wh.")
    stop_reason: str | None = Field(description="As the station said (1.6 reason, 2.x stoppedReason); "
                                                "EndedNotReceived: a 2.x transaction closed by Wattson because "
                                                "the next one started on its EVSE before its Ended arrived.")
    reservation_id: int | None
    start_reason: str | None = Field(description="OCPP 2.x: the triggerReason of the Started event.")
    charging_state: str | None = Field(description="OCPP 2.x: Charging, EVConnected, SuspendedEV, "
                                                   "SuspendedEVSE or Idle, as last reported; null once ended "
                                                   "without one.")
    remote_start_id: int | None = Field(description="The remote-start command's remote_start_id: 2.x names it in "
                                                    "the transaction's events; a 1.6 start for the token of a remote "
                                                    "start the station accepted within 10 minutes is taken as its.")
    tariff_id: str | None = Field(description="The tariff chosen when the session started (its copy prices the "
                                              "session; later edits of the tariff do not).")
    tariff_snapshot_id: int | None = Field(None, description="That copy: GET /api/v1/tariff-snapshots/{id}.")
    charging_priority: int | None = Field(None, description="Load management: its priority on its circuit (higher "
                                                            "first); null: its driver group's, else 0.")


class SessionUpdate(BaseModel):
    """What an operator may change on a session: its priority for load management."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"charging_priority": 10},
                                                                              {"charging_priority": None}]})

    charging_priority: int | None = Field(ge=-1000, le=1000, description="Higher charges first under the priority "
                                                                        "strategy; null: its driver group's.")


class TransactionEventOut(Out):
    """One OCPP 2.x TransactionEvent as the station sent it."""

    seq_no: int
    event_type: Literal["started", "updated", "ended"]
    trigger_reason: str
    timestamp: datetime
    offline: bool = Field(description="Queued by the station while it was offline.")
    charging_state: str | None
    stopped_reason: str | None
    id_tag: str | None
    received_at: datetime


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


class ChargingPeriodOut(Out):
    start_at: datetime = Field(description="Start of the period, inclusive.")
    end_at: datetime = Field(description="End of the period, exclusive.")
    state: Literal["charging", "idle"] = Field(
        description="charging: the energy register rose; idle: it did not (EV suspended, full or parked).")
    energy_wh: int
    duration_s: float
    average_power_w: float = Field(description="energy_wh over duration_s, in W.")


class PowerOut(Out):
    latest_w: float = Field(description="The latest Power.Active.Import sample, W.")
    peak_w: float = Field(description="The highest sample, W.")
    average_w: float = Field(description="The mean of the samples, W.")


class SessionDetail(SessionOut):
    meter_values: list[MeterValueOut] = Field(description="In time order; at most 10,000.")
    charging_periods: list[ChargingPeriodOut] = Field(
        description="Alternating charging and idle periods from the energy register readings, start and stop. "
                    "An active session's periods end at its latest reading.")
    power: PowerOut | None = Field(description="From Power.Active.Import samples; null when the station sent none.")
    cost: CostOut | None = Field(description="Live while the session runs (up to its latest reading), final once "
                                             "it stopped; null when no tariff applies.")


# --- the session query (seed 004) -------------------------------------------------------------

_QUERY_DEFAULTS = {"page": 1, "limit": 50, "sort_key": "started_at", "sort_descending": True}


class SessionQuery(BaseModel):
    """Filters, order and page of ``POST /sessions/query``. Every filter given must hold; an empty
    or null list is no filter. Time bounds without a zone are UTC. Every key may also be written
    as seed 004 writes it (``sortKey``, ``sortDescending``, ``startTimeSearchEnd``, ``chargerIDs``, …)."""

    model_config = ConfigDict(extra="forbid", alias_generator=AliasGenerator(validation_alias=body_key_choices),
                              json_schema_extra={"examples": [
        {"page": 1, "limit": 50, "sort_key": "started_at", "sort_descending": True,
         "start_time": "2025-02-01T00:00:00Z", "start_time_search_end": "2025-03-01T00:00:00Z",
         "charger_ids": ["CP-0001", "CP-0002"], "driver_ids": [], "site_ids": [3], "rfid_tags": []},
        {"sort_key": "energy_wh", "rfid_tags": ["04A2B3C4D5E6F7"]},
        {"sortKey": "timestampStart", "sortDescending": True, "page": 1, "limit": 5},
    ]})

    page: StrictInt | None = Field(1, ge=1, le=1_000_000, description="1 for the first page; null means 1.")
    limit: StrictInt | None = Field(50, ge=1, le=1000, description="Items per page, 1–1000; null means 50.")
    sort_key: Annotated[Literal[SORT_KEYS], BeforeValidator(seed_sort_key)] | None = Field(
        "started_at", description="started_at, stopped_at (active sessions count as not stopped yet: first when "
                                  "descending), charge_point_id, energy_wh, duration (stop − start; an active "
                                  "session's runs to the time of the request, so it sorts among the finished ones "
                                  "by how long it has run so far), id, user_name (the driver's name), site_name "
                                  "(the location's name), total_cost_incl_vat (the final price; active sessions "
                                  "and sessions no tariff applied to have none yet), id_tag, driver_id or "
                                  "location_id; a missing name, price, tag, driver or location sorts after every "
                                  "value (first when descending). Seed 004's item field names are taken too: "
                                  "timestampStart, timestampEnd, chargerId, fullConsumptionWh, fullConsumptionKWh, "
                                  "transactionLengthMinutes, userName, siteName, totalCostInclVat, authorizedTagId, "
                                  "authorizedUserId, siteId, and their snake_case. Ties are broken by id. Null means "
                                  "started_at.")
    sort_descending: StrictBool | None = Field(True, description="Null means true.")
    start_time: UtcTime | None = Field(None, description="Sessions that started at or after this time.")
    start_time_search_end: UtcTime | None = Field(None, description="Sessions that started at or before this time.")
    stop_time_search_begin: UtcTime | None = Field(None, description="Sessions that stopped at or after this time.")
    stop_time: UtcTime | None = Field(None, description="Sessions that stopped at or before this time (and so "
                                                        "started at or before it too).")
    charger_ids: list[ChargePointId] | None = Field(None, max_length=MAX_IDS, description="Charge point ids.")
    driver_ids: list[Id] | None = Field(None, max_length=MAX_IDS, description="Driver ids.")
    site_ids: list[Id] | None = Field(None, max_length=MAX_IDS, description="Location ids.")
    rfid_tags: list[TagUid] | None = Field(None, max_length=MAX_IDS, description="Id tag uids.")

    @field_validator("page", "limit", "sort_key", "sort_descending", mode="before")
    @classmethod
    def _null_is_default(cls, value, info):
        """Seed 004 has these nullable: null means the default, so they are never None after."""
        return _QUERY_DEFAULTS[info.field_name] if value is None else value


_PRICE = "From the session's price (docs/pricing.md); null when no tariff applies to it."


class SessionQueryItem(BaseModel):
    id: int = Field(description="Wattson's session id.")
    timestamp_start: datetime
    timestamp_end: datetime | None = Field(description="Null while the session is active.")
    charger_id: str = Field(description="The charge point id.")
    socket_id: int = Field(description="The OCPP EVSE number.")
    authorized_tag_id: str | None = Field(description="The id tag the session started with.")
    authorized_user_id: int | None = Field(description="The tag's driver when the session started.")
    user_name: str | None = Field(description="That driver's name.")
    site_id: int | None = Field(description="The location of the charge point when the session started.")
    site_name: str | None
    driver_site_id: int | None = Field(description="The driver's home group id.")
    driver_site_name: str | None = Field(description="The driver's home group name.")
    full_consumption_wh: int = Field(description="Energy delivered so far (active) or in total, Wh.")
    full_consumption_kwh: float
    transaction_length_minutes: float = Field(description="Stop − start, or now − start for an active session.")
    evse_transaction_id: str | None = Field(description="The protocol's transaction id.")
    operation_timestamp: datetime | None = Field(description="When the session was last updated.")
    origin: str = Field(description="Where the session came from: ocpp.")
    status: str = Field(description="active or finished.")
    unit_power_cost: float | None = Field(description=_PRICE)
    currency: str | None = Field(description=_PRICE)
    vat_percent: float | None = Field(description=_PRICE)
    energy_price_incl_vat: float | None = Field(description=_PRICE)
    energy_price_excl_vat: float | None = Field(description=_PRICE)
    charging_time_price_incl_vat: float | None = Field(description=_PRICE)
    charging_time_price_excl_vat: float | None = Field(description=_PRICE)
    parking_time_price_incl_vat: float | None = Field(description=_PRICE)
    parking_time_price_excl_vat: float | None = Field(description=_PRICE)
    flat_fee_incl_vat: float | None = Field(description=_PRICE)
    flat_fee_excl_vat: float | None = Field(description=_PRICE)
    total_margin_amount: float | None = Field(description=_PRICE)
    reduction_amount: float | None = Field(description=_PRICE)
    total_cost_incl_vat: float | None = Field(description=_PRICE)
    total_cost_excl_vat: float | None = Field(description=_PRICE)
    total_vat_amount: float | None = Field(description=_PRICE)


class SessionQueryPage(BaseModel):
    page: int
    limit: int
    total_records: int = Field(description="Sessions matching the filters, on every page.")
    has_next_page: bool
    has_previous_page: bool
    items: list[SessionQueryItem]


# --- CDRs ---------------------------------------------------------------------------------------

class CdrOut(Out):
    id: int
    session_id: int
    sequence: int = Field(description="0 for a session's first CDR; a credit and a re-issue count on.")
    credit: bool = Field(description="A credit CDR cancels the CDR `credit_of_id` with negated amounts.")
    credit_of_id: int | None
    reason: str | None = Field(description="Why a credit CDR was issued.")
    charge_point_id: str
    location_id: int | None
    driver_id: int | None
    id_tag: str | None
    start_date_time: datetime
    end_date_time: datetime
    currency: str
    tariff_id: str | None
    total_energy_wh: int
    total_excl_vat: float
    total_incl_vat: float
    created_at: datetime = Field(description="When it was issued; it never changes after.")
    ocpi: dict = Field(validation_alias="body", description="The OCPI 2.2.1 CDR object.")


class CreditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "reason": "charger fault: energy over-reported", "reissue_with_tariff_id": "AC-GOODWILL"}})

    reason: Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(no_nul)]
    reissue_with_tariff_id: str | None = Field(None, pattern=TARIFF_ID,
                                               description="Also issue a new CDR for the session, priced with "
                                                           "this tariff.")


class CreditOut(BaseModel):
    credit: CdrOut
    reissued: CdrOut | None
