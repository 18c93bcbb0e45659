"""HTTP endpoints for charge points and the commands sent to them."""

from datetime import datetime

from fastapi import APIRouter, Body, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.errors import error_response
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.stations import commands as c
from wattson.stations.schemas import (
    IDENTITY_PATTERN, ChargePointCreate, ChargePointOut, CommandOut, StationEventOut, StatusEventOut,
)

router = APIRouter(prefix="/api/v1", tags=["charge points"])
CpId = Path(pattern=IDENTITY_PATTERN, description="The charge point's OCPP identity.")


def _services(request: Request):
    return request.app.state.services


@router.post("/charge-points", status_code=201, response_model=ChargePointOut, dependencies=[auth.operator])
async def create_charge_point(request: Request, body: ChargePointCreate):
    """Register a station so that it may connect."""
    return await _services(request).stations.create(body.id, body.name, body.registration_status)


@router.get("/charge-points", response_model=Page[ChargePointOut], dependencies=[auth.viewer])
async def list_charge_points(request: Request, limit: int = Limit, cursor: str | None = CursorParam):
    after = pagination.decode(cursor, str)
    rows = await _services(request).stations.find(limit + 1, after[0] if after else None)
    return pagination.page(rows, limit, lambda cp: (cp.id,))


@router.get("/charge-points/{charge_point_id}", response_model=ChargePointOut, dependencies=[auth.viewer])
async def get_charge_point(request: Request, charge_point_id: str = CpId):
    return await _services(request).stations.get(charge_point_id)


@router.get("/charge-points/{charge_point_id}/status-history", response_model=Page[StatusEventOut],
            dependencies=[auth.viewer])
async def status_history(request: Request, charge_point_id: str = CpId, limit: int = Limit):
    """Every status the station reported, newest first."""
    await _services(request).stations.get(charge_point_id)
    return {"data": await _services(request).stations.status_history(charge_point_id, limit)}


@router.get("/charge-points/{charge_point_id}/events", response_model=Page[StationEventOut],
            dependencies=[auth.viewer])
async def station_events(request: Request, charge_point_id: str = CpId, limit: int = Limit):
    """Boots, data transfers, firmware and diagnostics progress, unknown transactions; newest first."""
    await _services(request).stations.get(charge_point_id)
    return {"data": await _services(request).stations.events(charge_point_id, limit)}


@router.get("/charge-points/{charge_point_id}/commands", response_model=Page[CommandOut],
            dependencies=[auth.viewer])
async def command_history(request: Request, charge_point_id: str = CpId, limit: int = Limit,
                          cursor: str | None = CursorParam):
    await _services(request).stations.get(charge_point_id)
    rows = await _services(request).commands.history(charge_point_id, limit + 1,
                                                     pagination.decode(cursor, datetime, str))
    return pagination.page(rows, limit, lambda cmd: (cmd.created_at, cmd.id))


@router.get("/commands/{command_id}", response_model=CommandOut, dependencies=[auth.viewer])
async def get_command(request: Request, command_id: str):
    """Poll a command sent with ``wait=false``."""
    return await _services(request).commands.get(command_id)


def _command_endpoint(name: str, model: type[c.Params]):
    required = any(f.is_required() for f in model.model_fields.values())

    async def send_command(request: Request, response: Response, charge_point_id: str = CpId,
                           body: model = Body(... if required else None),
                           wait: bool = Query(True, description="false: answer 202 at once, poll the command.")):
        params = body.model_dump(exclude_unset=True) if body is not None else {}
        record = await _services(request).commands.submit(charge_point_id, name, params, wait)
        out = CommandOut.model_validate(record)
        if record.state == c.PENDING:
            response.status_code = 202
        elif record.state == c.TIMEOUT:
            return error_response(504, f"{charge_point_id} did not answer {record.action} in time",
                                  details=out.model_dump(mode="json"))
        elif record.state == c.FAILED:
            return error_response(502, f"{record.action} failed: {record.error_code} {record.error_description}",
                                  details=out.model_dump(mode="json"))
        return out

    send_command.__doc__ = (f"Send `{name}` to the station and, by default, wait for its answer. "
                            f"409 if the station is offline, 504 if it does not answer in time, 502 if it "
                            f"answers with an error.")
    return send_command


for _name, _model in c.CATALOGUE.items():
    router.add_api_route(f"/charge-points/{{charge_point_id}}/commands/{_name}", _command_endpoint(_name, _model),
                         methods=["POST"], response_model=CommandOut, dependencies=[auth.operator],
                         name=f"command_{_name.replace('-', '_')}", summary=f"Command: {_name}",
                         tags=["commands"])
