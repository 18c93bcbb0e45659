"""HTTP shapes of webhook subscriptions and deliveries, and the body every delivery carries (the
OpenAPI webhook definitions use it, one per catalogue type)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from wattson.api.types import no_nul
from wattson.webhooks.catalogue import ALL, unknown

Status = Literal["pending", "delivered", "failed"]
Url = Annotated[str, Field(min_length=1, max_length=2000, examples=["https://billing.example.com/wattson"]),
                AfterValidator(no_nul)]
Secret = Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[\x21-\x7e]+$",
                              description="At least 16 printable ASCII characters; generated (whsec_…) when absent.")]
Description = Annotated[str | None, Field(None, max_length=255), AfterValidator(no_nul)]


def _known(events: list[str] | None) -> list[str] | None:
    if events is None:
        return None
    bad = unknown(events)
    if bad:
        raise ValueError(f"unknown event types: {', '.join(bad)} (GET /api/v1/webhooks/event-types lists them)")
    if not events:
        raise ValueError('give at least one event type, or ["*"] for all')
    return sorted(set(events)) if ALL not in events else [ALL]


Events = Annotated[list[Annotated[str, Field(max_length=48)]], Field(max_length=100),
                   AfterValidator(_known)]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url
    events: Events = Field(default_factory=lambda: [ALL], description='Event types, or ["*"] (the default) for all.')
    secret: Secret | None = None
    description: Description = None
    active: bool = True


class WebhookUpdate(BaseModel):
    """Only the fields given change; ``active: true`` re-activates a paused subscription."""
    model_config = ConfigDict(extra="forbid")
    url: Url | None = None
    events: Events | None = None
    description: Description = None
    active: bool | None = None

    @field_validator("url", "events", "active")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("may be left out, not null")
        return value


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid")
    secret: Secret | None = None


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    url: str
    events: list[str]
    description: str | None
    active: bool
    paused_reason: str | None = Field(description="Why the subscription was paused (its endpoint kept failing).")
    failures_in_a_row: int
    previous_secret_until: datetime | None = Field(description="Until when the rotated-out secret also signs.")
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret: shown in this answer only.")


class SecretOut(BaseModel):
    id: int
    secret: str = Field(description="The new signing secret: shown in this answer only.")
    previous_secret_until: datetime | None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    subscription_id: int
    event_id: str = Field(description="The event's id (evt_…): what receivers de-duplicate on.")
    event_type: str
    resource_key: str
    status: Status
    attempts: int
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried next.")
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class EventTypeOut(BaseModel):
    name: str
    resource: str
    description: str


class EventBody(BaseModel):
    """What every delivery POSTs (and the event stream sends): the resource as the API returns it
    in ``data``. Signed in the ``Wattson-Signature`` header (docs/webhooks.md)."""
    id: str = Field(description="The event's id: de-duplicate on it (deliveries are at-least-once).")
    type: str
    created_at: datetime
    data: dict
