"""The outbox of events, the subscriptions, and one delivery per (event, subscription)."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow


class WebhookEvent(Base):
    """One event, written in the transaction of the change it tells of (``outbox.emit``); its
    ``data`` is the resource as the API returns it at that moment. Kept for a retention period."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_cp", "charge_point_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)  # evt_…: what receivers de-duplicate on
    type: Mapped[str] = mapped_column(String(48), index=True)  # e.g. session.started (catalogue.TYPES)
    resource_id: Mapped[str] = mapped_column(String(64))  # ordering is per (resource kind, resource id)
    charge_point_id: Mapped[str | None] = mapped_column(String(48))
    data: Mapped[dict]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list]  # event types, or ["*"] for all
    description: Mapped[str | None] = mapped_column(String(255))
    secret: Mapped[str] = mapped_column(String(128))
    previous_secret: Mapped[str | None] = mapped_column(String(128))  # valid until previous_secret_until
    previous_secret_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    paused_reason: Mapped[str | None] = mapped_column(Text)  # set when its endpoint kept failing
    failures_in_a_row: Mapped[int] = mapped_column(default=0)
    #: the last event id fanned out to it: events after it get deliveries (``delivery.fan_out``)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id"),
                      Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_webhook_deliveries_sub", "subscription_id", "id"),
                      Index("ix_webhook_deliveries_resource", "subscription_id", "resource_key", "status", "id"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    #: the event's resource, for ordering: a later event of one resource waits for the earlier
    resource_key: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when it was (re)queued: the retry horizon counts from here (a redelivery starts anew; 0019)
    queued_at: Mapped[datetime | None] = mapped_column(default=utcnow)
