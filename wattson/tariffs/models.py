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


class TariffGroup(Base):
    """A named set of tariffs assigned together (seed 001's tariff groups): for everyone, for a
    driver group, as the regular or the ad hoc tariff. It applies where it is assigned (a location,
    a charge point, a driver group: ``TariffGroupAssignment``) and at the EVSEs that name it
    (``evses.tariff_group_id``); ``TariffService.resolve_many`` weighs it beside single tariffs."""

    __tablename__ = "tariff_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TariffGroupTariff(Base):
    """One tariff of a group, for everyone or one driver group, of one kind. Where several could
    apply, the driver group's own comes first, then the lowest ``position`` (the order given)."""

    __tablename__ = "tariff_group_tariffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    tariff_group_id: Mapped[int] = mapped_column(ForeignKey("tariff_groups.id", ondelete="CASCADE"), index=True)
    tariff_id: Mapped[str] = mapped_column(ForeignKey("tariffs.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default=REGULAR)
    driver_group_id: Mapped[int | None] = mapped_column(ForeignKey("driver_groups.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)


class TariffGroupAssignment(Base):
    """A tariff group applying at a location or a charge point (at most one of them; none: the
    whole network, which needs a driver group), for everyone or for one driver group only. An
    EVSE names its group itself (``evses.tariff_group_id``)."""

    __tablename__ = "tariff_group_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    tariff_group_id: Mapped[int] = mapped_column(ForeignKey("tariff_groups.id", ondelete="RESTRICT"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), index=True)
    charge_point_id: Mapped[str | None] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"),
                                                        index=True)
    driver_group_id: Mapped[int | None] = mapped_column(ForeignKey("driver_groups.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TariffSnapshot(Base):
    """A tariff as a session took it at its start (``billing.tariff_snapshot``: the OCPI object with
    its id and last_updated), stored once however many sessions took the same version: ``digest``
    is the SHA-256 of its canonical JSON. Never changed or deleted; sessions name theirs by
    ``sessions.tariff_snapshot_id``."""

    __tablename__ = "tariff_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    tariff_id: Mapped[str] = mapped_column(String(36), index=True)  # no foreign key: it outlives its tariff
    body: Mapped[dict]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
