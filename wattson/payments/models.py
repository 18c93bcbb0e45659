"""Direct (ad hoc) payment: the products a driver can buy at an EVSE, the payments made for them
with their event log, and the built-in sandbox provider's ledger of card holds."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow


class PaymentProduct(Base):
    """What a driver can buy without a contract: "up to 30 min", "up to 20 kWh", … Each holds
    ``blocking_value`` on the card and stops the session at its time or energy limit, or when the
    running cost reaches the hold. Offered at one EVSE, one charge point, one location, or (none
    of them) the whole network; the price comes from the ad hoc tariff of the EVSE."""

    __tablename__ = "payment_products"

    id: Mapped[int] = mapped_column(primary_key=True)  # the seed's id_product
    uid: Mapped[str] = mapped_column(String(36), unique=True)  # the seed's id (a UUID)
    name: Mapped[str] = mapped_column(String(100))
    blocking_value: Mapped[str] = mapped_column(String(24))  # the hold, incl. VAT, exact decimal as text
    max_duration_min: Mapped[int | None]
    max_energy_wh: Mapped[int | None]
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), index=True)
    charge_point_id: Mapped[str | None] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"),
                                                        index=True)
    evse_id: Mapped[int | None] = mapped_column(ForeignKey("evses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)  # order on the driver page
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Payment(Base):
    """One direct payment: a hold on a card for one product at one EVSE, the session it paid for,
    and what was captured, released and refunded. ``state`` moves only as ``machine.py`` allows;
    every move is also an event row."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_state_updated", "state", "updated_at"),
        Index("ix_payments_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)  # the driver's handle (seed: session_id)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(64), index=True)  # hold id, e.g. a PaymentIntent
    product_id: Mapped[int | None] = mapped_column(ForeignKey("payment_products.id", ondelete="SET NULL"))
    product: Mapped[dict]  # the product as bought: name, limits, hold
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"), index=True)
    evse_id: Mapped[int | None] = mapped_column(ForeignKey("evses.id", ondelete="SET NULL"))
    evse: Mapped[int]  # the OCPP EVSE number
    evse_code: Mapped[str | None] = mapped_column(String(48))
    id_tag: Mapped[str] = mapped_column(String(20), unique=True)  # the token the station is started with
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"), index=True)
    command_id: Mapped[str | None] = mapped_column(String(36))  # the remote start (then the remote stop)
    currency: Mapped[str] = mapped_column(String(3))
    amount_held: Mapped[str] = mapped_column(String(24))
    amount_captured: Mapped[str | None] = mapped_column(String(24))
    amount_released: Mapped[str | None] = mapped_column(String(24))
    amount_refunded: Mapped[str] = mapped_column(String(24), default="0")
    cdr_id: Mapped[int | None]
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    failure: Mapped[str | None] = mapped_column(String(255))  # why it was declined, failed or released
    card: Mapped[str | None] = mapped_column(String(32))  # brand and last four digits, for the receipt
    email: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="en")
    start_deadline: Mapped[datetime | None]  # the station must have started by then
    next_attempt_at: Mapped[datetime | None]  # a retried step waits until then
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    authorized_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class PaymentEvent(Base):
    """A payment's history: each state change and provider call, in order."""

    __tablename__ = "payment_events"
    __table_args__ = (Index("ix_payment_events_payment", "payment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxHold(Base):
    """The sandbox provider's ledger: what a card network would remember of a hold."""

    __tablename__ = "sandbox_holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # "sbx_…"
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # authorized|declined|failed|captured|released
    amount: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str] = mapped_column(String(3))
    captured: Mapped[str] = mapped_column(String(24), default="0")
    refunded: Mapped[str] = mapped_column(String(24), default="0")
    operations: Mapped[dict] = mapped_column(default=dict)  # idempotency key -> result of capture/refund/release
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
