"""HTTP endpoint of the charging profile history: what the load controller sent for a session."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from wattson.api import auth
from wattson.api.types import MAX_ID
from wattson.loadmgmt import limits

router = APIRouter(prefix="/api/v1", tags=["load management"])


class ChargingProfileOut(BaseModel):
    """One charging profile the load controller sent, and what became of it."""

    model_config = ConfigDict(from_attributes=True)

    charge_point_id: str
    evse: int
    purpose: Literal["TxProfile", "TxDefaultProfile"]
    profile_id: int
    limit_a: float = Field(description="The allocated limit, A per phase (0: paused).")
    phases: int | None
    limit: float = Field(description="The limit as sent, in unit (W = A × voltage × phases).")
    unit: Literal["A", "W"]
    sent_at: datetime
    refreshed_at: datetime | None = Field(description="The last time the same limit was sent again before its "
                                                      "hold ran out (WATTSON_LOADMGMT_HOLD_S).")
    status: Literal["accepted", "rejected", "failed"] = Field(
        description="rejected: the station answered Rejected or an error, and the EVSE is counted at its maximum "
                    "for the rest of the session; failed: no answer, tried again.")
    reason: str | None
    composite_limit: float | None = Field(description="What the station's GetCompositeSchedule said is in force "
                                                      "right after, in unit.")
    verified: bool | None = Field(description="Whether that is the limit sent; null: not checked.")


@router.get("/sessions/{session_id}/charging-profiles", response_model=list[ChargingProfileOut],
            dependencies=[auth.viewer])
async def charging_profiles(request: Request, session_id: int = Path(ge=1, le=MAX_ID)):
    """The charging profiles the load controller sent for a session, oldest first: each change of
    its limit, the station's answer and its composite schedule (docs/smart-charging.md)."""
    services = request.app.state.services
    await services.sessions.get(session_id)  # 404 for a session that does not exist
    return await limits.history(services.db, session_id)
