"""Raw OCPP calls: for integrators who need an action the typed commands don't cover."""

from typing import Any

from fastapi import APIRouter, Body, Path, Query, Request, Response

from wattson.api import auth
from wattson.stations.command_http import OUTCOME_RESPONSES, command_answer
from wattson.stations.schemas import IDENTITY_PATTERN, CommandOut

router = APIRouter(prefix="/api/v1", tags=["commands"])


@router.post("/charge-points/{charge_point_id}/ocpp/{action}", response_model=CommandOut,
             dependencies=[auth.operator], responses=OUTCOME_RESPONSES)
async def send_raw_call(
    request: Request, response: Response,
    charge_point_id: str = Path(pattern=IDENTITY_PATTERN),
    action: str = Path(pattern=r"^[A-Za-z0-9]{1,64}$", examples=["GetConfiguration"],
                       description="An action the central system sends in the station's OCPP version."),
    payload: dict[str, Any] = Body(default_factory=dict, examples=[{"key": ["HeartbeatInterval"]}],
                                   description="The exact payload of that version; validated before sending."),
    wait: bool = Query(True, description="false: answer 202 at once, poll the command."),
):
    """Send one OCPP call exactly as given. 422 if the action is not one a central system sends
    in the station's version or the payload breaks its schema; otherwise as the typed commands."""
    record = await request.app.state.services.commands.submit_raw(charge_point_id, action, payload, wait)
    return command_answer(record, response)
