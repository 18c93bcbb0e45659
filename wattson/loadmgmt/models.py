"""Circuits: the electrical tree (grid connection → sub-circuits → charge points and EVSEs) whose
limits the allocation keeps, and the load on them that Wattson does not control (docs/smart-charging.md).

Charge points and EVSEs name their circuit themselves (``charge_points.circuit_id``,
``evses.circuit_id``, ON DELETE SET NULL); a circuit's children name their parent (RESTRICT: a
circuit with sub-circuits cannot be deleted).
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow
from wattson.sessions.models import Session

#: The status of the sessions a snapshot reads, as a literal: a partial index is used only when the
#: query's condition is its own, not a parameter.
ACTIVE_STATUS = literal_column("'active'")


class Circuit(Base):
    __tablename__ = "circuits"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("circuits.id", ondelete="RESTRICT"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"), index=True)
    max_current_a: Mapped[float]  # per phase
    max_power_w: Mapped[float | None]  # an extra cap on the sum of power, where the contract has one
    phases: Mapped[int] = mapped_column(default=3)  # 1 | 3
    voltage_v: Mapped[float] = mapped_column(default=230.0)  # phase to neutral, for W <-> A
    safety_margin_a: Mapped[float] = mapped_column(default=0.0)
    strategy: Mapped[str] = mapped_column(String(16), default="equal")  # allocation.STRATEGIES
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")  # the schedule's, IANA
    # Unmanaged load, added up: a fixed value, a daily schedule, and the latest of a station's meter
    # (its readings outside transactions) and a posted reading, each while fresh.
    unmanaged_fixed_a: Mapped[float] = mapped_column(default=0.0)  # per phase
    unmanaged_schedule: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # [{from, to, current_a}]
    unmanaged_meter_charge_point_id: Mapped[str | None] = mapped_column(
        ForeignKey("charge_points.id", ondelete="SET NULL"))
    unmanaged_meter_evse: Mapped[int | None]  # 0: the station's main meter
    unmanaged_meter_valid_s: Mapped[int] = mapped_column(default=300)  # a meter reading older is stale
    unmanaged_posted_a: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # [l1, l2, l3]
    unmanaged_posted_at: Mapped[datetime | None]
    unmanaged_posted_valid_s: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


#: The active sessions, without reading the finished ones (millions, in time): every snapshot of the
#: circuits starts from them.
Index("ix_sessions_active", Session.charge_point_id, Session.evse,
      sqlite_where=Session.status == ACTIVE_STATUS, postgresql_where=Session.status == ACTIVE_STATUS)
