"""HTTP endpoint of a session's ISO 15118 charging needs: what the EV asked, what Wattson answered
and offered, and the schedule the EV chose (docs/smart-charging.md "ISO 15118 charging needs")."""

from datetime import datetime

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from wattson.api import auth
from wattson.api.types import MAX_ID
from wattson.loadmgmt import charging_needs

router = APIRouter(prefix="/api/v1", tags=["load management"])


class SchedulePeriodOut(BaseModel):
    start_s: int = Field(description="Seconds from the schedule's start.")
    limit: float | None = Field(description="A per phase, or W (unit); null: the EV gave none (2.1 setpoints).")


class PlanOut(BaseModel):
    start: datetime
    unit: str = Field(description="A (AC, per phase) or W (DC).")
    phases: int | None
    periods: list[SchedulePeriodOut]
    deliverable_wh: float | None = Field(description="What the periods allow before the departure.")
    feasible: bool = Field(description="The energy asked for fits before the departure.")


class EvScheduleOut(BaseModel):
    time_base: datetime
    unit: str
    duration: int | None
    periods: list[SchedulePeriodOut]


class ChargingNeedsOut(BaseModel):
    """One NotifyEVChargingNeeds and what came of it."""

    model_config = ConfigDict(from_attributes=True)

    charge_point_id: str
    evse: int
    received_at: datetime
    transfer_mode: str = Field(description="requestedEnergyTransfer, e.g. AC_three_phase or DC.")
    departure_at: datetime | None
    energy_wh: float | None
    min_current_a: float | None
    max_current_a: float | None
    max_voltage_v: float | None
    max_power_w: float | None
    max_periods: int | None = Field(description="maxScheduleTuples: the most periods the EV takes.")
    status: str = Field(description="Wattson's answer: Accepted, Rejected (2.0.1) or NoChargingProfile (2.1).")
    reason: str | None = Field(description="Why not Accepted.")
    plan: PlanOut | None = Field(description="The schedule offered as the transaction's TxProfile.")
    command_id: str | None = Field(description="The set-charging-profile command that carried it.")
    profile_status: str | None = Field(description="The station's answer to it (Accepted, Rejected), or failed / "
                                                   "timeout, or why it could not go.")
    ev_schedule: EvScheduleOut | None = Field(description="The EV's own schedule (NotifyEVChargingSchedule).")
    ev_schedule_status: str | None = Field(description="Accepted: within the offer; Rejected: beyond it.")
    ev_schedule_at: datetime | None


@router.get("/sessions/{session_id}/charging-needs", response_model=list[ChargingNeedsOut],
            dependencies=[auth.viewer])
async def session_charging_needs(request: Request, session_id: int = Path(ge=1, le=MAX_ID)):
    """What the session's EV told of its needs over ISO 15118 (OCPP 2.x NotifyEVChargingNeeds),
    oldest first: Wattson's answer, the schedule it offered and the station's answer to it, and the
    EV's own schedule with its verdict (docs/smart-charging.md)."""
    services = request.app.state.services
    await services.sessions.get(session_id)  # 404 for a session that does not exist
    return await charging_needs.history(services.db, session_id)
