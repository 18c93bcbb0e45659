"""HTTP shapes of vendors, charge point models and vendor error codes."""

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from wattson.catalogue.rules import OCPP_VERSIONS, SEVERITIES
from wattson.stations.schemas import ConnectorFormat, ConnectorStandard, DbId, PowerType, Text

Severity = Literal[SEVERITIES]
OcppVersion = Literal[OCPP_VERSIONS]
URL_PATTERN = r"^https?://[^\s]+$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _prose(value: str) -> str:
    value = value.strip()
    if not value:
        raise PydanticCustomError("blank", "must not be blank")
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t" for ch in value):
        raise PydanticCustomError("control_characters", "must not contain control characters other than "
                                                        "line breaks and tabs")
    return value


def Prose(max_length: int):  # noqa: N802 - a type factory
    """Text of several lines, 1 to ``max_length`` characters, trimmed; no control characters
    other than line breaks and tabs."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length), AfterValidator(_prose)]


def _distinct(values: list) -> list:
    if len(set(values)) != len(values):
        raise PydanticCustomError("duplicates", "must not repeat a value")
    return values


# --- vendors ------------------------------------------------------------------------------------
class _VendorFields(BaseModel):
    website: Text(255) | None = Field(None, pattern=URL_PATTERN, description="http:// or https:// URL.")
    support_email: Text(255) | None = Field(None, pattern=EMAIL_PATTERN)
    support_phone: Text(50) | None = None
    notes: Prose(4000) | None = None


class VendorCreate(_VendorFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "ABB", "website": "https://new.abb.com/ev-charging", "support_email": "support@example.com",
         "notes": "Firmware updates through the ABB portal."}]})

    name: Text(50) = Field(description="As its stations report it (chargePointVendor, vendorName): boots are "
                                       "matched by it ignoring case and extra blanks; unique so compared.")
    discovered: bool = Field(False, description="Created by a station's boot rather than by hand.")


class VendorUpdate(_VendorFields):
    """Only the fields sent change; null clears a nullable field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"website": None},
                                                                              {"discovered": False}]})
    name: Text(50) = None
    discovered: bool = None


class VendorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    website: str | None
    support_email: str | None
    support_phone: str | None
    notes: str | None
    discovered: bool
    created_at: datetime
    updated_at: datetime


# --- charge point models ------------------------------------------------------------------------
class ConnectorCapability(BaseModel):
    model_config = ConfigDict(extra="forbid")
    evse: int | None = Field(None, ge=1, le=100, description="The EVSE number it is on; null: on each EVSE.")
    standard: ConnectorStandard = Field(description="OCPI ConnectorType, e.g. IEC_62196_T2.")
    format: ConnectorFormat = Field(description="SOCKET or CABLE.")
    power_type: PowerType = Field(description="OCPI PowerType: AC_1_PHASE, AC_3_PHASE, DC, …")
    max_power_w: int | None = Field(None, ge=1, le=10_000_000, description="Its most power, in W.")


class _ModelFields(BaseModel):
    evse_count: int | None = Field(None, ge=1, le=100, description="How many EVSEs it has.")
    connectors: list[ConnectorCapability] | None = Field(None, max_length=100)
    max_power_w: int | None = Field(None, ge=1, le=10_000_000, description="The station's most power, in W.")
    ocpp_versions: list[OcppVersion] | None = Field(None, max_length=3, description="The OCPP versions it speaks.")
    quirks: Prose(4000) | None = Field(None, description="Known quirks, for people.")
    tags: list[Text(40)] | None = Field(None, max_length=30, description="Short labels of its quirks, e.g. "
                                                                  "'meter-values-in-kWh'.")

    _distinct_versions = field_validator("ocpp_versions")(lambda v: v if v is None else _distinct(v))
    _distinct_tags = field_validator("tags")(lambda v: v if v is None else _distinct(v))

    @model_validator(mode="after")
    def _connectors_on_its_evses(self):
        if self.evse_count is not None and self.connectors:
            beyond = [c.evse for c in self.connectors if c.evse is not None and c.evse > self.evse_count]
            if beyond:
                raise PydanticCustomError("evse", "a connector is on EVSE {evse} of a model with {count} EVSEs",
                                          {"evse": beyond[0], "count": self.evse_count})
        return self


MODEL_EXAMPLE = {
    "vendor_id": 1, "name": "Terra AC W22-T-RD-M-0", "evse_count": 1,
    "connectors": [{"standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE", "max_power_w": 22000}],
    "max_power_w": 22000, "ocpp_versions": ["1.6"],
    "quirks": "Sends MeterValues in kWh with unit Wh before firmware 1.6.6.",
    "tags": ["meter-unit-kwh"]}


class ModelCreate(_ModelFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [MODEL_EXAMPLE]})

    vendor_id: DbId = Field(description="Its vendor; must exist.")
    name: Text(50) = Field(description="As its stations report it (chargePointModel, model): boots are matched "
                                       "by it ignoring case and extra blanks; unique so compared within the vendor.")
    discovered: bool = Field(False, description="Created by a station's boot rather than by hand.")


class ModelUpdate(_ModelFields):
    """Only the fields sent change; null clears evse_count, max_power_w or quirks. The vendor stays."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"max_power_w": 11000, "ocpp_versions": ["1.6", "2.0.1"]}, {"discovered": False}]})
    name: Text(50) = None
    discovered: bool = None


class ModelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": 3, **MODEL_EXAMPLE, "vendor_name": "ABB", "discovered": False,
         "created_at": "2026-12-04T09:00:00Z", "updated_at": "2026-12-04T09:00:00Z"}]})
    id: int
    vendor_id: int
    vendor_name: str = Field(description="Its vendor's name.")
    name: str
    evse_count: int | None
    connectors: list[ConnectorCapability]
    max_power_w: int | None
    ocpp_versions: list[str]
    quirks: str | None
    tags: list[str]
    discovered: bool
    created_at: datetime
    updated_at: datetime


# --- vendor error codes -------------------------------------------------------------------------
class _CodeFields(BaseModel):
    suggested_action: Prose(2000) | None = Field(None, description="What to do about it.")


class CodeCreate(_CodeFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"vendor_id": 1, "model_id": None, "code": "0x0010", "description": "RCD tripped (residual current)",
         "severity": "error", "suggested_action": "Check the vehicle cable; reset the RCD on site."}]})

    vendor_id: DbId = Field(description="Its vendor; must exist.")
    model_id: DbId | None = Field(None, description="Only for this model of the vendor; null: every model.")
    code: Text(50) = Field(description="As stations report it (vendorErrorCode, techCode, or an OCPP errorCode); "
                                       "matched ignoring case; unique per vendor and model.")
    description: Prose(2000)
    severity: Severity = "error"


class CodeUpdate(_CodeFields):
    """Only the fields sent change; null clears suggested_action. Vendor and model stay."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"severity": "critical"}]})
    code: Text(50) = None
    description: Prose(2000) = None
    severity: Severity = None


class CodeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    vendor_id: int
    model_id: int | None
    code: str
    description: str
    severity: str
    suggested_action: str | None
    created_at: datetime
    updated_at: datetime


class CodeEntry(_CodeFields):
    """One code of an import."""
    model_config = ConfigDict(extra="forbid")
    code: Text(50)
    description: Prose(2000)
    severity: Severity = "error"


class CodeImport(BaseModel):
    """A vendor's (or one model's) codes at once: new codes are added, known ones (same code,
    ignoring case) changed; all or none."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"vendor_id": 1, "model_id": None, "codes": [
            {"code": "0x0010", "description": "RCD tripped", "severity": "error", "suggested_action": "Reset the RCD."},
            {"code": "0x0200", "description": "Overtemperature: power reduced", "severity": "warning"}]}]})

    vendor_id: DbId
    model_id: DbId | None = None
    codes: list[CodeEntry] = Field(min_length=1, max_length=5000)

    @field_validator("codes")
    @classmethod
    def _distinct_codes(cls, codes: list[CodeEntry]) -> list[CodeEntry]:
        seen = set()
        for entry in codes:
            key = entry.code.casefold()
            if key in seen:
                raise PydanticCustomError("duplicates", "code {code} appears twice", {"code": entry.code})
            seen.add(key)
        return codes


class ImportResult(BaseModel):
    created: int
    updated: int
