"""HTTP endpoints of webhook subscriptions and their deliveries (admin and operator keys), and the
OpenAPI webhook definitions: one per catalogue type, with its example (docs/webhooks.md)."""

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.openapi.utils import get_openapi

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import IdPath
from wattson.webhooks.catalogue import TYPES
from wattson.webhooks.examples import EXAMPLES
from wattson.webhooks.schemas import (DeliveryOut, EventBody, EventTypeOut, RotateSecret, SecretOut, Status,
                                      WebhookCreate, WebhookCreated, WebhookOut, WebhookUpdate)

router = APIRouter(prefix="/api/v1", tags=["webhooks"], dependencies=[auth.operator])


def _webhooks(request: Request):
    return request.app.state.services.webhooks


def _delivery(delivery, event) -> dict:
    return {"id": delivery.id, "subscription_id": delivery.subscription_id, "event_id": event.uid,
            "event_type": event.type, "resource_key": delivery.resource_key, "status": delivery.status,
            "attempts": delivery.attempts,
            "next_attempt_at": delivery.next_attempt_at if delivery.status == "pending" else None,
            "last_attempt_at": delivery.last_attempt_at, "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error, "delivered_at": delivery.delivered_at,
            "created_at": delivery.created_at}


@router.get("/webhooks/event-types", response_model=list[EventTypeOut])
async def event_types():
    """The event catalogue: what a subscription's `events` may name (or `*` for all)."""
    return [{"name": t.name, "resource": t.resource, "description": t.description} for t in TYPES.values()]


@router.post("/webhooks", status_code=201, response_model=WebhookCreated)
async def create_webhook(request: Request, body: WebhookCreate):
    """Subscribe a URL to event types. The URL must be https (http only for loopback and private
    targets where WATTSON_WEBHOOK_ALLOW_PRIVATE allows them, or with WATTSON_WEBHOOK_ALLOW_HTTP)
    and resolve to public addresses unless WATTSON_WEBHOOK_ALLOW_PRIVATE=true: 422 otherwise.
    The signing `secret` is generated when absent and shown in this answer only."""
    sub = await _webhooks(request).create(body.url, body.events, body.secret, body.description, body.active)
    return {**WebhookOut.model_validate(sub).model_dump(), "secret": sub.secret}


@router.get("/webhooks", response_model=Page[WebhookOut])
async def list_webhooks(request: Request, limit: int = Limit, cursor: str | None = CursorParam):
    after = pagination.decode(cursor, int)
    rows = await _webhooks(request).find(limit + 1, after[0] if after else None)
    return pagination.page(rows, limit, lambda sub: (sub.id,))


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut)
async def get_webhook(request: Request, webhook_id: IdPath):
    """A subscription; `paused_reason` says why it was paused when its endpoint kept failing."""
    return await _webhooks(request).get(webhook_id)


@router.patch("/webhooks/{webhook_id}", response_model=WebhookOut)
async def update_webhook(request: Request, body: WebhookUpdate, webhook_id: IdPath):
    """Change `url`, `events`, `description` or `active`; `active: true` resumes a paused
    subscription (its failure count starts again from zero)."""
    return await _webhooks(request).update(webhook_id, body.model_dump(exclude_unset=True))


@router.delete("/webhooks/{webhook_id}", status_code=204, response_class=Response)
async def delete_webhook(request: Request, webhook_id: IdPath):
    """Delete a subscription with its deliveries (pending ones are not sent)."""
    await _webhooks(request).delete(webhook_id)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/rotate-secret", response_model=SecretOut)
async def rotate_secret(request: Request, webhook_id: IdPath, body: RotateSecret | None = None):
    """A new signing secret (given, or generated), shown in this answer only; deliveries carry a
    second `v1=` signature with the previous secret until `previous_secret_until`
    (WATTSON_WEBHOOK_SECRET_GRACE_S)."""
    sub = await _webhooks(request).rotate_secret(webhook_id, body.secret if body else None)
    return {"id": sub.id, "secret": sub.secret, "previous_secret_until": sub.previous_secret_until}


@router.post("/webhooks/{webhook_id}/test", status_code=202, response_model=DeliveryOut)
async def test_webhook(request: Request, webhook_id: IdPath):
    """Send a `ping` event to this subscription only; follow it in its deliveries. 409 when the
    subscription is not active."""
    return _delivery(*await _webhooks(request).ping(webhook_id))


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(request: Request, webhook_id: IdPath, limit: int = Limit,
                          cursor: str | None = CursorParam, status: Status | None = Query(None)):
    """Its deliveries, newest first: status, attempts, the last response code, time and error."""
    before = pagination.decode(cursor, int)
    rows = await _webhooks(request).deliveries(webhook_id, limit + 1, before[0] if before else None, status)
    return pagination.page([_delivery(d, e) for d, e in rows], limit, lambda d: (d["id"],))


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202,
             response_model=DeliveryOut)
async def redeliver(request: Request, webhook_id: IdPath, delivery_id: IdPath):
    """Queue a delivery again, due now (a failed one too; its retry horizon starts anew). The
    receiver gets the same event id: it may already have it."""
    return _delivery(*await _webhooks(request).redeliver(webhook_id, delivery_id))


def install_definitions(api: FastAPI) -> None:
    """One OpenAPI webhook definition per catalogue type, with its example body, added to the
    document ``api.openapi`` builds (call after wattson.api.openapi.install)."""
    for event_type in TYPES.values():
        _define(api, event_type, EXAMPLES.get(event_type.name))
    base = api.openapi

    def openapi() -> dict:
        spec = base()
        if "webhooks" not in spec:
            extra = get_openapi(title=api.title, version=api.version, routes=[], webhooks=api.webhooks.routes)
            for operations in extra.get("webhooks", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)  # Wattson sends; it gets no 422
            spec["webhooks"] = extra.get("webhooks", {})
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in extra.get("components", {}).get("schemas", {}).items():
                if name not in ("HTTPValidationError", "ValidationError"):
                    schemas.setdefault(name, schema)
        return spec

    api.openapi = openapi


def _define(api: FastAPI, event_type, example: dict | None) -> None:
    extra = {"requestBody": {"content": {"application/json": {"example": example}}}} if example else None

    async def receive(body: EventBody):  # documentation only: the receiver is the operator's
        return None

    receive.__doc__ = (f"{event_type.description} `data`: the {event_type.resource.replace('_', ' ')} "
                       "as the operator API returns it. Verify the `Wattson-Signature` header; answer 2xx.")
    api.webhooks.post(event_type.name, summary=event_type.name, tags=["webhooks"], openapi_extra=extra,
                      status_code=200)(receive)
