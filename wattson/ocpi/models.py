"""What the OCPI adapter keeps: partners, their tokens, roaming authorisations and the push outbox."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow

# Partner status: ``pending`` holds a token A (versions and credentials only), ``registered`` a
# token C, ``suspended`` is registered but switched off by the operator, ``unregistered`` is gone.
PENDING, REGISTERED, SUSPENDED, UNREGISTERED = "pending", "registered", "suspended", "unregistered"


class OcpiPartner(Base):
    """A platform connected over OCPI (an eMSP or a hub). ``token_hash`` is the sha256 of the
    credentials token it calls us with; ``remote_token`` the one we call it with."""

    __tablename__ = "ocpi_partners"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid: opaque, unguessable
    name: Mapped[str] = mapped_column(String(100))
    country_code: Mapped[str | None] = mapped_column(String(2))
    party_id: Mapped[str | None] = mapped_column(String(3))
    roles: Mapped[list] = mapped_column(default=list)  # OCPI CredentialsRole objects, as they sent them
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    remote_token: Mapped[str | None] = mapped_column(String(64))
    encode_token: Mapped[bool] = mapped_column(default=True)  # send our token base64-encoded (2.2.1)
    versions_url: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(8))
    endpoints: Mapped[list] = mapped_column(default=list)  # OCPI Endpoint objects of that version
    registered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OcpiToken(Base):
    """A driver token an eMSP pushed to us (Tokens module, receiver interface)."""

    __tablename__ = "ocpi_tokens"
    __table_args__ = (UniqueConstraint("country_code", "party_id", "uid", "type"),
                      Index("ix_ocpi_tokens_uid", "uid"))

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True)
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    uid: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(16))
    contract_id: Mapped[str] = mapped_column(String(36))
    valid: Mapped[bool]
    whitelist: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[str | None] = mapped_column(String(36))
    body: Mapped[dict]  # the whole OCPI Token object as last received
    last_updated: Mapped[datetime]


class OcpiAuthorization(Base):
    """A partner token admitted at one of our chargers — by whitelist, by the eMSP's real-time
    answer, or by its START_SESSION / RESERVE_NOW — and the session it became. It is what makes a
    session a roaming session: whose token, which authorization_reference, how it was authorised."""

    __tablename__ = "ocpi_authorizations"
    __table_args__ = (Index("ix_ocpi_authorizations_uid", "uid", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True)
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    uid: Mapped[str] = mapped_column(String(36))
    token_type: Mapped[str] = mapped_column(String(16))
    contract_id: Mapped[str] = mapped_column(String(36))
    auth_method: Mapped[str] = mapped_column(String(16))  # AUTH_REQUEST | COMMAND | WHITELIST
    authorization_reference: Mapped[str | None] = mapped_column(String(36))
    charge_point_id: Mapped[str | None] = mapped_column(String(48))  # None: anywhere
    reservation_ref: Mapped[str | None] = mapped_column(String(36))  # OCPI reservation_id (RESERVE_NOW)
    reservation_id: Mapped[int | None]  # the OCPP reservationId we chose for it
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OcpiOutbox(Base):
    """One push to a partner, kept until it was delivered. ``body`` null means: build the object
    when sending (``object_key`` names it), so a queued update always carries the latest state."""

    __tablename__ = "ocpi_outbox"
    __table_args__ = (Index("ix_ocpi_outbox_due", "status", "next_attempt_at"),
                      Index("ix_ocpi_outbox_partner", "partner_id", "status", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(String(16))  # locations | sessions | cdrs | tariffs | commands
    method: Mapped[str] = mapped_column(String(8))  # PUT | PATCH | POST | DELETE
    target: Mapped[str] = mapped_column(Text)  # path under the partner's module endpoint, or a full URL
    object_key: Mapped[str | None] = mapped_column(String(64))  # e.g. "session:12"
    body: Mapped[dict | None]
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
