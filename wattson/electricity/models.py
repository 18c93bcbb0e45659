"""Electricity rates and the locations they are assigned to."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow


class ElectricityRate(Base):
    """What energy costs the operator: ``price_per_kwh`` (exact decimal as text, excl. VAT), unless
    one of the time-of-use ``periods`` ([{"weekdays": [1..7], "from": "HH:MM", "to": "HH:MM",
    "price_per_kwh": "0.21"}], local times in ``time_zone``) covers the instant. Assigned to the
    locations in ``electricity_rate_locations``, or the default of every location (``is_default``:
    explicit, so that a rate whose locations were all deleted does not become everyone's)."""

    __tablename__ = "electricity_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    price_per_kwh: Mapped[str] = mapped_column(String(24))
    periods: Mapped[list]
    time_zone: Mapped[str] = mapped_column(String(64))
    is_default: Mapped[bool] = mapped_column(default=False)
    valid_from: Mapped[datetime | None]
    valid_to: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ElectricityRateLocation(Base):
    __tablename__ = "electricity_rate_locations"

    rate_id: Mapped[int] = mapped_column(ForeignKey("electricity_rates.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)
