"""What partners send us, checked against the OCPI 2.2.1 field tables (types.asciidoc,
credentials.asciidoc, mod_tokens.asciidoc, mod_commands.asciidoc)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from wattson.api.types import as_utc, no_nul


def _printable_ascii(value: str) -> str:
    if not value.isascii() or not value.isprintable():
        raise ValueError("only printable ASCII characters")
    return value


def CiString(length: int):  # noqa: N802 - named after the OCPI type
    return Annotated[str, StringConstraints(min_length=1, max_length=length), AfterValidator(_printable_ascii)]


def String(length: int):  # noqa: N802
    return Annotated[str, StringConstraints(max_length=length), AfterValidator(no_nul)]


Url = Annotated[str, StringConstraints(max_length=255, pattern=r"^https?://\S+$")]
DateTime = Annotated[datetime, AfterValidator(as_utc)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
PartyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{3}$")]
Role = Literal["CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP"]
TokenType = Literal["AD_HOC_USER", "APP_USER", "OTHER", "RFID"]
Whitelist = Literal["ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"]
ProfileType = Literal["CHEAP", "FAST", "GREEN", "REGULAR"]
COMMANDS = ("START_SESSION", "STOP_SESSION", "RESERVE_NOW", "CANCEL_RESERVATION", "UNLOCK_CONNECTOR")
CommandType = Literal["START_SESSION", "STOP_SESSION", "RESERVE_NOW", "CANCEL_RESERVATION", "UNLOCK_CONNECTOR"]


class Model(BaseModel):
    """Unknown fields are ignored, as OCPI asks of receivers; the ones we know are checked."""

    model_config = ConfigDict(extra="ignore")


class Image(Model):
    url: Url
    thumbnail: Url | None = None
    category: Literal["CHARGER", "ENTRANCE", "LOCATION", "NETWORK", "OPERATOR", "OTHER", "OWNER"]
    type: CiString(4)
    width: int | None = Field(None, ge=0, le=99999)
    height: int | None = Field(None, ge=0, le=99999)


class BusinessDetails(Model):
    name: String(100)
    website: Url | None = None
    logo: Image | None = None


class CredentialsRole(Model):
    role: Role
    business_details: BusinessDetails
    party_id: PartyId
    country_code: CountryCode


class Credentials(Model):
    token: CiString(64)
    url: Url
    roles: list[CredentialsRole] = Field(min_length=1)


class EnergyContract(Model):
    supplier_name: String(64)
    contract_id: String(64) | None = None


class Token(Model):
    country_code: CountryCode
    party_id: PartyId
    uid: CiString(36)
    type: TokenType
    contract_id: CiString(36)
    visual_number: String(64) | None = None
    issuer: String(64)
    group_id: CiString(36) | None = None
    valid: bool
    whitelist: Whitelist
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


class TokenPatch(Model):
    """A PATCH names the fields that change; ``last_updated`` is required (mod_tokens, PATCH)."""

    contract_id: CiString(36) | None = None
    visual_number: String(64) | None = None
    issuer: String(64) | None = None
    group_id: CiString(36) | None = None
    valid: bool | None = None
    whitelist: Whitelist | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


class StartSession(Model):
    response_url: Url
    token: Token
    location_id: CiString(36)
    evse_uid: CiString(36) | None = None
    connector_id: CiString(36) | None = None
    authorization_reference: CiString(36) | None = None


class StopSession(Model):
    response_url: Url
    session_id: CiString(36)


class ReserveNow(Model):
    response_url: Url
    token: Token
    expiry_date: DateTime
    reservation_id: CiString(36)
    location_id: CiString(36)
    evse_uid: CiString(36) | None = None
    authorization_reference: CiString(36) | None = None


class CancelReservation(Model):
    response_url: Url
    reservation_id: CiString(36)


class UnlockConnector(Model):
    response_url: Url
    location_id: CiString(36)
    evse_uid: CiString(36)
    connector_id: CiString(36)


COMMAND_BODIES = {"START_SESSION": StartSession, "STOP_SESSION": StopSession, "RESERVE_NOW": ReserveNow,
                  "CANCEL_RESERVATION": CancelReservation, "UNLOCK_CONNECTOR": UnlockConnector}
