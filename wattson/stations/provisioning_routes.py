"""HTTP endpoint to accept a Pending (or Rejected) station now."""

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from wattson.api import auth
from wattson.stations.schemas import IDENTITY_PATTERN, ChargePointOut, CommandOut

router = APIRouter(prefix="/api/v1", tags=["charge points"])
CpId = Path(pattern=IDENTITY_PATTERN, description="The charge point's OCPP identity.")


class AcceptedOut(BaseModel):
    charge_point: ChargePointOut
    trigger: CommandOut | None = Field(description="The TriggerMessage BootNotification sent, when the station "
                                                   "is connected; null when it is not (Accepted at its next boot).")


@router.post("/charge-points/{charge_point_id}/accept", response_model=AcceptedOut, dependencies=[auth.operator])
async def accept_charge_point(request: Request, charge_point_id: str = CpId):
    """Set the station's registration Accepted and, if it is connected, trigger a BootNotification
    so that it is Accepted at once (OCPP 2.x B02, 1.6 TriggerMessage)."""
    station, trigger = await request.app.state.services.provisioning.accept(charge_point_id)
    return AcceptedOut(charge_point=ChargePointOut.model_validate(station),
                       trigger=None if trigger is None else CommandOut.model_validate(trigger))
