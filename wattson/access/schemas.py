"""HTTP shapes of id tokens and API keys."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class IdTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"uid": "04A2B3C4D5E6F7"}]})

    uid: str = Field(min_length=1, max_length=36, description="The idTag / idToken value.")
    type: Literal["Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
                  "NoAuthorization"] = "ISO14443"
    status: Literal["Accepted", "Blocked", "Expired", "Invalid"] = "Accepted"
    valid_from: datetime | None = None
    expires_at: datetime | None = None
    parent_id_tag: str | None = Field(None, max_length=36)


class IdTokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str
    type: str
    status: str
    valid_from: datetime | None
    expires_at: datetime | None
    parent_id_tag: str | None
    created_at: datetime


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
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
