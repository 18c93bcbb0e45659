"""Locations (sites): where charge points stand, with address, coordinates and opening hours."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    street: Mapped[str | None] = mapped_column(String(255))
    house_number: Mapped[str | None] = mapped_column(String(20))
    building_number: Mapped[str | None] = mapped_column(String(20))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(3))  # ISO 3166-1 alpha-3, as OCPI has it
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")  # IANA name
    opening_hours: Mapped[dict | None]  # OCPI Hours: twentyfourseven, regular_hours, exceptions
    parking_type: Mapped[str | None] = mapped_column(String(32))  # OCPI ParkingType
    publish: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
