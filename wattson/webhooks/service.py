"""Webhook subscriptions and their deliveries: what the operator API and the dashboard change.
Delivering is the worker's (``delivery.Deliverer``); this service only queues (a ping, a
redelivery) and wakes it when it runs in the same process."""

import secrets as tokens
from datetime import timedelta

from sqlalchemy import func, select

from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.errors import Conflict, Invalid, NotFound
from wattson.settings import Settings
from wattson.webhooks import rules
from wattson.webhooks.delivery import PENDING, Deliverer, check_url, resource_key
from wattson.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from wattson.webhooks.outbox import new_uid


def new_secret() -> str:
    return "whsec_" + tokens.token_urlsafe(32)


class WebhookService:
    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        self.deliverer = Deliverer(db, settings)  # started by the worker role (runtime.py)

    async def _check(self, url: str) -> None:
        try:
            await check_url(url, self.settings)
        except rules.Refused as refused:
            raise Invalid(f"webhook URL refused: {refused}", [{"field": "url", "message": str(refused)}]) from None

    # --- subscriptions -----------------------------------------------------------------------
    async def create(self, url: str, events: list[str], secret: str | None = None, description: str | None = None,
                     active: bool = True) -> WebhookSubscription:
        """A new subscription; it hears events from now on. Its ``secret`` is set on the returned
        object (the only time the API shows it)."""
        await self._check(url)
        async with self.db.session() as s:
            cursor = await s.scalar(select(func.max(WebhookEvent.id))) or 0
            sub = WebhookSubscription(url=url, events=events, description=description, secret=secret or new_secret(),
                                      active=active, failures_in_a_row=0, cursor=cursor)
            s.add(sub)
        return sub

    async def get(self, subscription_id: int) -> WebhookSubscription:
        async with self.db.session() as s:
            return await get_or_404(s, WebhookSubscription, subscription_id, "webhook")

    async def find(self, limit: int, after_id: int | None = None) -> list[WebhookSubscription]:
        async with self.db.session() as s:
            query = select(WebhookSubscription).order_by(WebhookSubscription.id).limit(limit)
            if after_id is not None:
                query = query.where(WebhookSubscription.id > after_id)
            return list((await s.scalars(query)).all())

    async def update(self, subscription_id: int, changes: dict) -> WebhookSubscription:
        """Change url, events, description or active; re-activating clears the pause and its count."""
        if "url" in changes:
            await self._check(changes["url"])
        async with self.db.session() as s:
            sub = await get_or_404(s, WebhookSubscription, subscription_id, "webhook")
            for name in ("url", "events", "description"):
                if name in changes:
                    setattr(sub, name, changes[name])
            if "active" in changes:
                if changes["active"] and not sub.active:
                    sub.paused_reason, sub.failures_in_a_row = None, 0
                sub.active = changes["active"]
            sub.updated_at = utcnow()
        self.deliverer.wake.set()
        return sub

    async def delete(self, subscription_id: int) -> None:
        """Its deliveries go with it (pending ones are not sent)."""
        async with self.db.session() as s:
            sub = await get_or_404(s, WebhookSubscription, subscription_id, "webhook")
            await s.execute(WebhookDelivery.__table__.delete().where(WebhookDelivery.subscription_id == sub.id))
            await s.delete(sub)

    async def rotate_secret(self, subscription_id: int, secret: str | None = None) -> WebhookSubscription:
        """A new secret; the old one still signs (a second ``v1=``) for WATTSON_WEBHOOK_SECRET_GRACE_S."""
        async with self.db.session() as s:
            sub = await get_or_404(s, WebhookSubscription, subscription_id, "webhook")
            grace = timedelta(seconds=self.settings.webhook_secret_grace_s)
            sub.previous_secret, sub.previous_secret_until = (sub.secret, utcnow() + grace) if grace else (None, None)
            sub.secret = secret or new_secret()
            sub.updated_at = utcnow()
        return sub

    # --- deliveries --------------------------------------------------------------------------
    async def deliveries(self, subscription_id: int, limit: int, before_id: int | None = None,
                         status: str | None = None) -> list[tuple[WebhookDelivery, WebhookEvent]]:
        """Its deliveries, newest first, each with its event."""
        async with self.db.session() as s:
            await get_or_404(s, WebhookSubscription, subscription_id, "webhook")
            query = (select(WebhookDelivery, WebhookEvent).join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                     .where(WebhookDelivery.subscription_id == subscription_id)
                     .order_by(WebhookDelivery.id.desc()).limit(limit))
            if before_id is not None:
                query = query.where(WebhookDelivery.id < before_id)
            if status is not None:
                query = query.where(WebhookDelivery.status == status)
            return [tuple(row) for row in (await s.execute(query)).all()]

    async def last_deliveries(self, subscription_ids: list[int]) -> dict[int, tuple[WebhookDelivery, WebhookEvent]]:
        """Each subscription's newest delivery with its event, in one query (a list page's column)."""
        if not subscription_ids:
            return {}
        newest = (select(func.max(WebhookDelivery.id)).where(WebhookDelivery.subscription_id.in_(subscription_ids))
                  .group_by(WebhookDelivery.subscription_id))
        query = (select(WebhookDelivery, WebhookEvent).join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                 .where(WebhookDelivery.id.in_(newest)))
        async with self.db.session() as s:
            return {delivery.subscription_id: (delivery, event) for delivery, event in (await s.execute(query)).all()}

    async def redeliver(self, subscription_id: int, delivery_id: int) -> tuple[WebhookDelivery, WebhookEvent]:
        """Queue a delivery again, due now, whatever its status; the retry horizon starts anew."""
        async with self.db.session() as s:
            delivery = await s.get(WebhookDelivery, delivery_id)
            if delivery is None or delivery.subscription_id != subscription_id:
                raise NotFound(f"delivery {delivery_id} of webhook {subscription_id} not found")
            now = utcnow()
            delivery.status, delivery.next_attempt_at, delivery.queued_at = PENDING, now, now
            event = await s.get(WebhookEvent, delivery.event_id)
        self.deliverer.wake.set()
        return delivery, event

    async def ping(self, subscription_id: int) -> tuple[WebhookDelivery, WebhookEvent]:
        """A ``ping`` event for this subscription only: its delivery row is made here (fan-out
        never hands pings to anyone)."""
        async with self.db.session() as s:
            sub = await get_or_404(s, WebhookSubscription, subscription_id, "webhook")
            if not sub.active:
                raise Conflict("the webhook is not active: PATCH it with active true first"
                               + (f" ({sub.paused_reason})" if sub.paused_reason else ""))
            now = utcnow()
            event = WebhookEvent(uid=new_uid(), type="ping", resource_id=str(sub.id), created_at=now,
                                 data={"webhook_id": sub.id, "message": "A test event from Wattson."})
            s.add(event)
            await s.flush()
            delivery = WebhookDelivery(subscription_id=sub.id, event_id=event.id, resource_key=resource_key(event),
                                       status=PENDING, attempts=0, next_attempt_at=now, created_at=now, queued_at=now)
            s.add(delivery)
        self.deliverer.wake.set()
        return delivery, event
