"""The record of the limits the load controller sent: one row per profile that went (or was
meant to go) to a station, with the station's answer. Read back as a session's charging profile
history and as the allocation per EVSE of a circuit's live load (docs/smart-charging.md)."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, func, select, tuple_
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, Database, utcnow

ACCEPTED, REJECTED, FAILED = "accepted", "rejected", "failed"


class ChargingLimit(Base):
    """One profile the controller sent: a TxProfile of a session, or a station's fail-safe
    TxDefaultProfile (``session_id`` None, ``evse`` 0). A refresh that repeats the limit in force
    moves ``refreshed_at`` rather than adding a row: the history shows changes, not heartbeats.

    ``status``: accepted; rejected (the station answered Rejected or a CALLERROR: the EVSE is
    counted at its maximum for the rest of the session); failed (no answer, or it could not go:
    tried again at the next round)."""

    __tablename__ = "charging_limits"
    __table_args__ = (Index("ix_charging_limits_session", "session_id", "id"),
                      Index("ix_charging_limits_evse", "charge_point_id", "evse", "id"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    evse: Mapped[int]  # 0: the station-wide fail-safe
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(24))  # TxProfile | TxDefaultProfile
    profile_id: Mapped[int]
    limit_a: Mapped[float]  # per phase, as allocated (0: paused)
    phases: Mapped[int | None]
    limit: Mapped[float]  # as sent, in ``unit``
    unit: Mapped[str] = mapped_column(String(1))  # A | W
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    composite_limit: Mapped[float | None]  # what GetCompositeSchedule said is in force, in ``unit``
    verified: Mapped[bool | None]  # the composite schedule holds the limit; None: not checked


async def history(db: Database, session_id: int) -> list[ChargingLimit]:
    """Every profile sent for a session, oldest first."""
    async with db.session() as s:
        return list(await s.scalars(select(ChargingLimit).where(ChargingLimit.session_id == session_id)
                                    .order_by(ChargingLimit.id)))


async def latest(db: Database, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], ChargingLimit]:
    """(station, EVSE) → the latest TxProfile record of each, for the allocation per EVSE a
    circuit's load shows (read it together with the EVSE's active session)."""
    keys = list(keys)
    if not keys:
        return {}
    last = (select(func.max(ChargingLimit.id)).where(
        tuple_(ChargingLimit.charge_point_id, ChargingLimit.evse).in_(keys), ChargingLimit.evse > 0)
        .group_by(ChargingLimit.charge_point_id, ChargingLimit.evse))
    async with db.session() as s:
        rows = await s.scalars(select(ChargingLimit).where(ChargingLimit.id.in_(last)))
        return {(row.charge_point_id, row.evse): row for row in rows}
