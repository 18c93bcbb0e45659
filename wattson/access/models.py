"""API keys for operators and id tokens (RFID tags) for drivers."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))  # admin | operator | viewer
    prefix: Mapped[str] = mapped_column(String(16), index=True)  # shown in listings, never the key
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the whole key
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class IdToken(Base):
    __tablename__ = "id_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)  # the idTag / idToken value
    type: Mapped[str] = mapped_column(String(20), default="ISO14443")
    status: Mapped[str] = mapped_column(String(16), default="Accepted")  # Accepted|Blocked|Expired|Invalid
    valid_from: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    parent_id_tag: Mapped[str | None] = mapped_column(String(36))
    visual_number: Mapped[str | None] = mapped_column(String(64))  # printed on the card
    invoicable: Mapped[bool] = mapped_column(default=False)
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("drivers.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DriverGroup(Base):
    __tablename__ = "driver_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(100))
    charging_priority: Mapped[int | None]  # load management: its drivers' sessions, higher first (loadmgmt/)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Driver(Base):
    __tablename__ = "drivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(100))
    home_group_id: Mapped[int | None] = mapped_column(ForeignKey("driver_groups.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChargerGroup(Base):
    __tablename__ = "charger_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChargerGroupMember(Base):
    """A charge point in a charger group. A charge point in no group is open to every valid tag."""

    __tablename__ = "charger_group_members"

    charger_group_id: Mapped[int] = mapped_column(ForeignKey("charger_groups.id", ondelete="CASCADE"),
                                                  primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"),
                                                 primary_key=True, index=True)


class AccessRight(Base):
    """Drivers of a driver group may charge at the chargers of a charger group."""

    __tablename__ = "access_rights"
    __table_args__ = (UniqueConstraint("driver_group_id", "charger_group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_group_id: Mapped[int] = mapped_column(ForeignKey("driver_groups.id", ondelete="CASCADE"))
    charger_group_id: Mapped[int] = mapped_column(ForeignKey("charger_groups.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
