"""HTTP shapes of id tokens, drivers, groups, access rights and API keys."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from wattson.api.types import Id, UtcTime, no_nul

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def email_syntax(value: str | None) -> str | None:
    if value is not None and not _EMAIL.match(value):
        raise ValueError("not an email address (expected name@domain.tld)")
    return value


TokenText = Annotated[str, StringConstraints(min_length=1, max_length=36), AfterValidator(no_nul)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), AfterValidator(no_nul)]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                       AfterValidator(no_nul)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), AfterValidator(no_nul),
                  AfterValidator(email_syntax)]
VisualNumber = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(no_nul)]
TokenType = Literal["Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization"]
TokenStatus = Literal["Accepted", "Blocked", "Expired", "Invalid"]


def _not_null(cls, value):
    """For PATCH: a field that may be left out but not cleared."""
    if value is None:
        raise ValueError("must not be null")
    return value


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- id tokens ----------------------------------------------------------------------------
class IdTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"uid": "04A2B3C4D5E6F7"},
        {"uid": "04A2B3C4D5E6F8", "type": "ISO14443", "visual_number": "FI-WAT-000123", "status": "Accepted",
         "valid_from": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "invoicable": True,
         "driver_id": 1}]})

    uid: TokenText = Field(description="The idTag / idToken value.")
    type: TokenType = Field("ISO14443", description="OCPP 2.0.1 IdTokenType.")
    status: TokenStatus = "Accepted"
    valid_from: UtcTime | None = Field(None, description="Not valid before; zone-less times are UTC.")
    expires_at: UtcTime | None = Field(None, description="Not valid from then on; after valid_from.")
    parent_id_tag: TokenText | None = None
    visual_number: VisualNumber | None = Field(None, description="The number printed on the card.")
    invoicable: bool = False
    driver_id: Id | None = Field(None, description="The driver the tag belongs to.")


class IdTokenUpdate(BaseModel):
    """Only the fields sent change; null clears a nullable field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "Blocked"}, {"expires_at": "2027-06-30T23:59:59Z", "driver_id": None}]})

    uid: TokenText | None = None
    type: TokenType | None = None
    status: TokenStatus | None = None
    valid_from: UtcTime | None = None
    expires_at: UtcTime | None = None
    parent_id_tag: TokenText | None = None
    visual_number: VisualNumber | None = None
    invoicable: bool | None = None
    driver_id: Id | None = None

    _required = field_validator("uid", "type", "status", "invoicable")(_not_null)


class IdTokenOut(Out):
    id: int
    uid: str
    type: str
    status: str
    valid_from: datetime | None
    expires_at: datetime | None
    parent_id_tag: str | None
    visual_number: str | None
    invoicable: bool
    driver_id: int | None
    created_at: datetime
    updated_at: datetime


class TagOut(Out):
    """A driver's id token, as listed with the driver."""

    id: int
    uid: str
    type: str
    status: str
    valid_from: datetime | None
    expires_at: datetime | None
    parent_id_tag: str | None
    visual_number: str | None
    invoicable: bool
    created_at: datetime
    updated_at: datetime = Field(description="When the tag last changed (seed 003's lastUpdated).")


# --- groups -------------------------------------------------------------------------------
class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Employees", "external_id": "HR-42"}]})

    name: Name
    external_id: ExternalId | None = Field(None, description="The group's id in another system.")


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Staff"}, {"external_id": None}]})

    name: Name | None = None
    external_id: ExternalId | None = None

    _required = field_validator("name")(_not_null)


PRIORITY_DESCRIPTION = ("Load management: its drivers' sessions charge first under a circuit's priority strategy, "
                        "higher first (a session's own charging_priority wins); null: 0.")


class DriverGroupCreate(GroupCreate):
    charging_priority: int | None = Field(None, ge=-1000, le=1000, description=PRIORITY_DESCRIPTION)


class DriverGroupUpdate(GroupUpdate):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Staff"}, {"external_id": None}, {"charging_priority": 10}]})

    charging_priority: int | None = Field(None, ge=-1000, le=1000, description=PRIORITY_DESCRIPTION)


class GroupRef(Out):
    id: int
    name: str


class GroupOut(Out):
    id: int
    name: str
    external_id: str | None
    created_at: datetime
    updated_at: datetime


class DriverGroupOut(GroupOut):
    charging_priority: int | None = Field(None, description=PRIORITY_DESCRIPTION)


class ChargerGroupOut(GroupOut):
    charge_point_ids: list[str] = Field(description="The charge points in the group, in id order.")


# --- drivers ------------------------------------------------------------------------------
class DriverCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Ada Lovelace", "email": "ada@example.com", "external_id": "EMP-1815", "home_group_id": 1}]})

    name: Name
    email: Email | None = None
    external_id: ExternalId | None = Field(None, description="Unique among drivers.")
    home_group_id: Id | None = Field(None, description="The driver group whose access rights apply.")


class DriverUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"email": "ada@example.org"}, {"home_group_id": None}]})

    name: Name | None = None
    email: Email | None = None
    external_id: ExternalId | None = None
    home_group_id: Id | None = None

    _required = field_validator("name")(_not_null)


class DriverOut(Out):
    id: int
    name: str
    email: str | None
    external_id: str | None
    home_group: GroupRef | None
    tags: list[TagOut] = Field(description="The driver's id tokens.")
    created_at: datetime
    updated_at: datetime


# --- access rights ------------------------------------------------------------------------
class AccessRightCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"driver_group_id": 1, "charger_group_id": 1}]})

    driver_group_id: Id
    charger_group_id: Id


class AccessRightOut(Out):
    id: int
    driver_group: GroupRef
    charger_group: GroupRef
    created_at: datetime


class Grant(Out):
    access_right_id: int
    driver_group: GroupRef
    charger_group: GroupRef


class UsableChargerGroup(BaseModel):
    id: int
    name: str
    external_id: str | None
    charge_point_ids: list[str] = Field(description="Its chargers.")
    online_evses: int = Field(description="EVSEs of its connected chargers that are not faulted.")
    offline_evses: int = Field(description="EVSEs of its chargers that are not connected.")
    faulted_evses: int = Field(description="EVSEs of its connected chargers that report Faulted.")


class UsableCharger(BaseModel):
    id: str
    name: str | None
    location_id: int | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    network_status: str = Field(description="never_connected, online or offline.")
    hardware_status: str | None = Field(description="The station as a whole, as last reported.")
    last_seen: datetime | None
    evse_count: int


class AuthorizedDriverOut(Out):
    id: int
    name: str
    email: str | None
    external_id: str | None
    home_group: GroupRef | None
    tags: list[TagOut]
    granted_by: list[Grant] = Field(description="The access rights admitting the driver; empty at an open charger.")
    charger_groups: list[UsableChargerGroup] = Field(
        [], description="Every charger group the driver's home group has a right to, here or elsewhere.")
    chargers: list[UsableCharger] = Field(
        [], description="The chargers in those groups, by id: where the driver may charge besides the open chargers "
                        "(in no group), which every valid tag may use and which are not listed.")


class AuthorizedDrivers(BaseModel):
    data: list[AuthorizedDriverOut]
    next_cursor: str | None = None
    restricted: bool = Field(description="false: the charger is in no charger group and open to every valid tag.")


# --- API keys -----------------------------------------------------------------------------
class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "dashboard", "role": "viewer"}]})

    name: Annotated[str, AfterValidator(no_nul)] = Field(min_length=1, max_length=100)
    role: Literal["admin", "operator", "viewer"]


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: str
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret, shown once.")
