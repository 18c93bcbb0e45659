"""HTTP endpoints for commands: the typed, version-neutral catalogue, raw OCPP calls, and history."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.stations import commands as c
from wattson.stations.command_http import OUTCOME_RESPONSES, command_answer
from wattson.stations.schemas import IDENTITY_PATTERN, CommandOut

router = APIRouter(prefix="/api/v1", tags=["commands"])
CpId = Path(pattern=IDENTITY_PATTERN, description="The charge point's OCPP identity.")
Wait = Query(True, description="false: answer 202 at once, then poll `GET /api/v1/commands/{id}`.")


@router.get("/charge-points/{charge_point_id}/commands", response_model=Page[CommandOut],
            dependencies=[auth.viewer])
async def command_history(request: Request, charge_point_id: str = CpId, limit: int = Limit,
                          cursor: str | None = CursorParam):
    """The commands sent to a station, newest first."""
    services = request.app.state.services
    await services.stations.get(charge_point_id)
    rows = await services.commands.history(charge_point_id, limit + 1, pagination.decode(cursor, datetime, str))
    return pagination.page(rows, limit, lambda cmd: (cmd.created_at, cmd.id))


@router.get("/commands/{command_id}", response_model=CommandOut, dependencies=[auth.viewer])
async def get_command(request: Request, command_id: str = Path(max_length=36)):
    """Poll a command sent with ``wait=false``."""
    return await request.app.state.services.commands.get(command_id)


@router.post("/charge-points/{charge_point_id}/ocpp/{action}", response_model=CommandOut,
             dependencies=[auth.operator], responses=OUTCOME_RESPONSES)
async def send_raw_call(
    request: Request, response: Response, charge_point_id: str = CpId,
    action: str = Path(pattern=r"^[A-Za-z0-9]{1,64}$", examples=["GetConfiguration"],
                       description="An action the central system sends in the station's OCPP version."),
    payload: dict[str, Any] = Body(default_factory=dict, examples=[{"key": ["HeartbeatInterval"]}],
                                   description="The exact payload of that version; validated before sending."),
    wait: bool = Wait,
):
    """Send one OCPP call exactly as given, for what the typed commands don't cover. 422 if the
    action is not one a central system sends in the station's version or the payload breaks its
    schema; otherwise answered as the typed commands are."""
    record = await request.app.state.services.commands.submit_raw(charge_point_id, action, payload, wait)
    return command_answer(record, response)


def _command_endpoint(name: str, model: type[c.Params]):
    required = any(f.is_required() for f in model.model_fields.values())

    async def send_command(request: Request, response: Response, charge_point_id: str = CpId,
                           body: model = Body(... if required else None), wait: bool = Wait):
        params = body.model_dump(exclude_unset=True) if body is not None else {}
        record = await request.app.state.services.commands.submit(charge_point_id, name, params, wait)
        return command_answer(record, response)

    send_command.__doc__ = (f"Send `{name}` to the station and, by default, wait for its answer. 409 if the "
                            f"station is offline, 504 if it does not answer in time, 502 if it answers with "
                            f"an error.")
    return send_command


for _name, _model in c.CATALOGUE.items():
    router.add_api_route(f"/charge-points/{{charge_point_id}}/commands/{_name}", _command_endpoint(_name, _model),
                         methods=["POST"], response_model=CommandOut, dependencies=[auth.operator],
                         responses=OUTCOME_RESPONSES, name=f"command_{_name.replace('-', '_')}",
                         summary=f"Command: {_name}")
