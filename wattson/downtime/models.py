"""Downtime periods entered by hand, and the notices drivers see. Computed periods are not
stored: they are read from the status and connection history (service.py)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wattson.db import Base, utcnow
from wattson.stations.models import StatusEvent


class DowntimePeriod(Base):
    """A period a charge point (``evse_id`` None) or one of its EVSEs could not charge, or will
    not: planned maintenance, an outage or something else, as an operator entered it."""

    __tablename__ = "downtime_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    evse_id: Mapped[int | None] = mapped_column(ForeignKey("evses.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # rules.KINDS
    planned: Mapped[bool]  # left out of the availability figure's period
    reason: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]  # None: open-ended
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_downtime_periods_cp_starts", "charge_point_id", "starts_at"),
                      Index("ix_downtime_periods_starts", "starts_at", "id"))


class DowntimeNotice(Base):
    """What drivers are told about downtime: a message per language, shown within its validity
    window on the driver page of the EVSEs of its charge points and locations."""

    __tablename__ = "downtime_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    messages: Mapped[dict]  # language (ISO 639-1) -> text
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]  # None: until withdrawn
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    targets: Mapped[list["DowntimeNoticeTarget"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DowntimeNoticeTarget.id")

    __table_args__ = (Index("ix_downtime_notices_from", "valid_from", "id"),)

    @property
    def charge_point_ids(self) -> list[str]:
        return [t.charge_point_id for t in self.targets if t.charge_point_id is not None]

    @property
    def location_ids(self) -> list[int]:
        return [t.location_id for t in self.targets if t.location_id is not None]


class DowntimeNoticeTarget(Base):
    """One charge point or one location a notice is about (exactly one of the two)."""

    __tablename__ = "downtime_notice_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("downtime_notices.id", ondelete="CASCADE"), index=True)
    charge_point_id: Mapped[str | None] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"),
                                                        index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), index=True)


#: The down reports of each station by time, without reading its other reports: the computed
#: periods start from these (a few in a million status reports).
DOWN_CONDITION = text("status IN ('Faulted', 'Unavailable')")
Index("ix_status_events_down", StatusEvent.charge_point_id, StatusEvent.timestamp,
      sqlite_where=DOWN_CONDITION, postgresql_where=DOWN_CONDITION)
