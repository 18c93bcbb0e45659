"""Writing events: ``emit`` adds one to the transaction the change is made in, so there is no
event without its change and no change without its event. Delivery happens later, elsewhere
(``delivery.py``), from the committed rows."""

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from wattson.db import utcnow
from wattson.webhooks.catalogue import TYPES
from wattson.webhooks.models import WebhookEvent


def new_uid() -> str:
    return "evt_" + secrets.token_hex(12)


def emit(s: AsyncSession, type: str, resource_id: object, data: dict, charge_point_id: str | None = None) -> None:
    """Record event ``type`` about a resource (its API representation in ``data``) in ``s``'s
    transaction: it is delivered once that commits, and never if it rolls back."""
    if type not in TYPES:
        raise ValueError(f"{type!r} is not in the event catalogue")
    s.add(WebhookEvent(uid=new_uid(), type=type, resource_id=str(resource_id), charge_point_id=charge_point_id,
                       data=data, created_at=utcnow()))
