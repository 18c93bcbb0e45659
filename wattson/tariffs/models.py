"""Tariffs (OCPI 2.2.1 shape), where they apply, and the network-wide settings that name defaults."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow

REGULAR = "regular"
AD_HOC = "ad_hoc"


class Tariff(Base):
    """The whole OCPI tariff object is kept in ``body`` exactly as validated; the columns beside it
    are what look-ups filter on. Sessions copy ``body`` at their start, so editing a tariff never
    changes the price of a session that already began."""

    __tablename__ = "tariffs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # OCPI CiString(36)
    currency: Mapped[str] = mapped_column(String(3))
    type: Mapped[str | None] = mapped_column(String(16))
    start_date_time: Mapped[datetime | None]
    end_date_time: Mapped[datetime | None]
    body: Mapped[dict]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)  # OCPI last_updated


class TariffAssignment(Base):
    """A tariff applying at a connector, an EVSE, a charge point or a location (at most one of
    them; none: the whole network), for everyone or for one driver group only, as the regular
    tariff or the ad hoc (direct payment) one."""

    __tablename__ = "tariff_assignments"
    __table_args__ = (Index("ix_tariff_assignments_scope", "kind", "location_id", "charge_point_id", "evse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tariff_id: Mapped[str] = mapped_column(ForeignKey("tariffs.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default=REGULAR)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    charge_point_id: Mapped[str | None] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    evse_id: Mapped[int | None] = mapped_column(ForeignKey("evses.id", ondelete="CASCADE"))
    connector_id: Mapped[int | None] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    driver_group_id: Mapped[int | None] = mapped_column(ForeignKey("driver_groups.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NetworkSettings(Base):
    """One row: network-wide choices an operator makes through ``/api/v1/settings``."""

    __tablename__ = "network_settings"

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    default_tariff_id: Mapped[str | None] = mapped_column(ForeignKey("tariffs.id", ondelete="SET NULL"))
    ad_hoc_tariff_id: Mapped[str | None] = mapped_column(ForeignKey("tariffs.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
