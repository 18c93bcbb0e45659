"""The record of what EVs asked for over ISO 15118 (OCPP 2.x NotifyEVChargingNeeds), what Wattson
answered and offered, and the schedules the EVs chose (NotifyEVChargingSchedule). One row per
NotifyEVChargingNeeds: a renegotiation (K17) adds a row, the newest of a session is in force."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, Database, utcnow
from wattson.loadmgmt.ev_needs import EvNeeds, Period, Plan


class EvChargingNeeds(Base):
    __tablename__ = "ev_charging_needs"
    __table_args__ = (Index("ix_ev_charging_needs_session", "session_id", "id"),
                      Index("ix_ev_charging_needs_evse", "charge_point_id", "evse", "id"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    evse: Mapped[int]
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the needs, as ev_needs.EvNeeds has them
    transfer_mode: Mapped[str] = mapped_column(String(16))
    departure_at: Mapped[datetime | None]
    energy_wh: Mapped[float | None]
    min_current_a: Mapped[float | None]
    max_current_a: Mapped[float | None]
    max_voltage_v: Mapped[float | None]
    max_power_w: Mapped[float | None]
    max_periods: Mapped[int | None]
    # Wattson's answer (Accepted, Rejected, 2.1 NoChargingProfile) and why, when not Accepted
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # ev_needs.Plan.to_json(), as offered
    command_id: Mapped[str | None] = mapped_column(String(36))  # the set-charging-profile that carried it
    profile_status: Mapped[str | None] = mapped_column(String(20))  # the station's answer, or failed / timeout
    # the EV's own schedule (NotifyEVChargingSchedule), neutral, and whether it kept within the offer
    ev_schedule: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    ev_schedule_status: Mapped[str | None] = mapped_column(String(10))
    ev_schedule_at: Mapped[datetime | None]

    def needs(self) -> EvNeeds:
        return EvNeeds(self.transfer_mode, self.departure_at, self.energy_wh, self.min_current_a,
                       self.max_current_a, self.max_voltage_v, self.max_power_w, self.max_periods)


def _newest(session_ids: list[int]):
    """The id of each of these sessions' newest charging needs (a subquery)."""
    return (select(func.max(EvChargingNeeds.id)).where(EvChargingNeeds.session_id.in_(session_ids))
            .group_by(EvChargingNeeds.session_id))


async def latest_for_sessions(db: Database, session_ids: Iterable[int]) -> dict[int, EvNeeds]:
    """Session → the charging needs its EV told last: the departure and energy a departure-aware
    allocation uses (loadmgmt/allocation.py ``Demand``)."""
    ids = sorted(set(session_ids))
    if not ids:
        return {}
    async with db.session() as s:
        rows = await s.scalars(select(EvChargingNeeds).where(EvChargingNeeds.id.in_(_newest(ids))))
        return {row.session_id: row.needs() for row in rows}


async def latest_plans(db: Database, session_ids: Iterable[int]) -> dict[int, Plan]:
    """Session → the plan for its EV's newest needs, as planned (``planned_of``): what the load
    controller sends capped at each allocation. Sessions whose newest needs got no plan: none."""
    ids = sorted(set(session_ids))
    if not ids:
        return {}
    async with db.session() as s:
        rows = (await s.execute(select(EvChargingNeeds.session_id, EvChargingNeeds.plan)
                                .where(EvChargingNeeds.id.in_(_newest(ids))))).all()
    return {session_id: planned_of(plan) for session_id, plan in rows if plan}


def stored_plan(data: dict) -> Plan:
    """A plan as stored (``Plan.to_json``)."""
    return Plan(start=datetime.fromisoformat(data["start"]), unit=data["unit"], phases=data["phases"],
                periods=tuple(Period(p["start_s"], p["limit"]) for p in data["periods"]),
                deliverable_wh=data["deliverable_wh"], feasible=data["feasible"])


def planned_of(data: dict) -> Plan:
    """The plan as planned (``ev_needs.plan``), before the fail-safe tail of what went: what the
    load controller caps at each new allocation. Rows from before it was kept: as sent."""
    plan = stored_plan(data)
    if data.get("planned"):
        plan = replace(plan, periods=tuple(Period(p["start_s"], p["limit"]) for p in data["planned"]))
    return plan


async def history(db: Database, session_id: int) -> list[EvChargingNeeds]:
    """Every NotifyEVChargingNeeds of a session, oldest first."""
    async with db.session() as s:
        return list(await s.scalars(select(EvChargingNeeds).where(EvChargingNeeds.session_id == session_id)
                                    .order_by(EvChargingNeeds.id)))
