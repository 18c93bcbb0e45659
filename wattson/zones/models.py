"""Charging zones (a part of a location: a garage level, a depot hall) and parking spaces (one bay,
in a zone or directly at the location). An EVSE is placed in them by ``evses.zone_id`` and
``evses.parking_space_id`` (stations/models.py)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow


class ChargingZone(Base):
    __tablename__ = "charging_zones"
    __table_args__ = (UniqueConstraint("location_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # deleted with its location: a location is only deleted once no charge point stands there
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    floor: Mapped[str | None] = mapped_column(String(20))  # as signposted: "-1", "P2", "ground"
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ParkingSpace(Base):
    __tablename__ = "parking_spaces"
    __table_args__ = (UniqueConstraint("location_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), index=True)
    # the zone it lies in, at the same location; the service refuses to delete a zone with spaces,
    # so the cascade only runs when the location goes
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("charging_zones.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(20))  # the bay label painted on the ground, e.g. "B-12"
    floor: Mapped[str | None] = mapped_column(String(20))  # null: its zone's
    type: Mapped[str] = mapped_column(String(16), default="standard")  # rules.SPACE_TYPES
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
