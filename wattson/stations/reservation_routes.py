"""HTTP endpoints for reservations: made with reserve-now, ended by cancel-reservation or a session."""

from datetime import datetime

from fastapi import APIRouter, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID
from wattson.db import utcnow
from wattson.errors import Conflict
from wattson.stations import commands as c
from wattson.stations.command_http import OUTCOME_RESPONSES, command_answer
from wattson.stations.reservations import ACCEPTED, ACTIVE, ReservationFilter, effective_status
from wattson.stations.schemas import IDENTITY_PATTERN, ReservationCreate, ReservationOut, ReservationStatus

router = APIRouter(prefix="/api/v1", tags=["reservations"])
CpId = Path(pattern=IDENTITY_PATTERN, description="The charge point's OCPP identity.")
ReservationId = Path(ge=0, le=MAX_ID, description="The OCPP reservationId.")
STATION_ANSWERS = {k: v for k, v in OUTCOME_RESPONSES.items() if k != 202}


def _out(row) -> ReservationOut:
    return ReservationOut.model_validate(row).model_copy(update={"status": effective_status(row, utcnow())})


def _refused(record, what: str, reservation: ReservationOut | None = None) -> Conflict:
    details = {"station_status": record.status, "command_id": record.id}
    if reservation is not None:
        details["reservation"] = reservation.model_dump(mode="json")
    return Conflict(f"{record.charge_point_id} answered {what} with {record.status}", details)


@router.get("/reservations", response_model=Page[ReservationOut], dependencies=[auth.viewer])
async def list_reservations(
        request: Request,
        charge_point_id: str | None = Query(None, min_length=1, max_length=48, pattern=r"^[^\x00]*$"),
        status: ReservationStatus | None = Query(None, description="As shown: `expired` is an active reservation "
                                                                   "past its expiry."),
        id_tag: str | None = Query(None, min_length=1, max_length=36, pattern=r"^[^\x00]*$"),
        limit: int = Limit, cursor: str | None = CursorParam):
    """Reservations, newest first, with every filter given holding."""
    where = ReservationFilter(charge_point_id=charge_point_id, status=status, id_tag=id_tag)
    rows = await request.app.state.services.reservations.find(where, limit + 1,
                                                              pagination.decode(cursor, datetime, int))
    result = pagination.page(rows, limit, lambda r: (r.created_at, r.id))
    return {**result, "data": [_out(row) for row in result["data"]]}


@router.get("/reservations/{reservation_id}", response_model=ReservationOut, dependencies=[auth.viewer])
async def get_reservation(request: Request, reservation_id: int = ReservationId):
    return _out(await request.app.state.services.reservations.get(reservation_id))


@router.post("/charge-points/{charge_point_id}/reservations", status_code=201, response_model=ReservationOut,
             dependencies=[auth.operator], responses=STATION_ANSWERS)
async def reserve(request: Request, response: Response, body: ReservationCreate, charge_point_id: str = CpId):
    """Send reserve-now and wait for the station's answer: 201 with the reservation when it accepts;
    409 when it is offline, or answers Occupied, Faulted, Rejected or Unavailable (`details` has its
    `station_status` and the reservation, kept as rejected); 504 if it does not answer in time, 502
    if it answers with an error."""
    services = request.app.state.services
    record = await services.commands.submit(charge_point_id, "reserve-now", body.model_dump(exclude_none=True))
    if record.state != c.COMPLETED:
        return command_answer(record, response)
    reservation = _out(await services.reservations.get(record.params["reservation_id"]))
    if record.status != ACCEPTED:
        raise _refused(record, "ReserveNow", reservation)
    return reservation


@router.delete("/reservations/{reservation_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator], responses=STATION_ANSWERS)
async def cancel_reservation(request: Request, response: Response, reservation_id: int = ReservationId):
    """Send cancel-reservation to the reservation's station: 204 when it accepts; 409 when the
    reservation is not active, the station is offline or it refuses; 502/504 as for commands."""
    services = request.app.state.services
    row = await services.reservations.get(reservation_id)
    status = effective_status(row, utcnow())
    if status != ACTIVE:
        raise Conflict(f"reservation {reservation_id} is {status}, not active", {"status": status})
    record = await services.commands.submit(row.charge_point_id, "cancel-reservation",
                                            {"reservation_id": reservation_id})
    if record.state != c.COMPLETED:
        return command_answer(record, response)
    if record.status != ACCEPTED:
        raise _refused(record, "CancelReservation")
    return Response(status_code=204)
