"""HTTP endpoints for tariffs, their assignments, the network settings and price estimates."""

from datetime import datetime, timezone

from fastapi import APIRouter, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID, UtcTime
from wattson.errors import Invalid, NotFound
from wattson.locations.rules import time_zone_name
from wattson.tariffs.pricing import estimate_intervals, price_session
from wattson.tariffs.schemas import (TARIFF_ID, AssignmentCreate, AssignmentKind, AssignmentOut, CostOut,
                                     EstimateRequest, SettingsOut, SettingsUpdate, TariffCreate, TariffOut,
                                     TariffReplace, TariffType)

router = APIRouter(prefix="/api/v1", tags=["tariffs"])
TariffId = Path(pattern=TARIFF_ID, description="The tariff's id.")


def _tariffs(request: Request):
    return request.app.state.services.tariffs


def _out(tariff) -> dict:
    return {**tariff.body, "id": tariff.id, "last_updated": tariff.updated_at, "assignments": tariff.assignment_count}


def _body(model) -> dict:
    """The OCPI tariff object as stored: JSON types, absent fields left out."""
    return model.model_dump(mode="json", exclude_none=True)


@router.post("/tariffs", status_code=201, response_model=TariffOut, dependencies=[auth.operator])
async def create_tariff(request: Request, body: TariffCreate):
    """Add a tariff in the OCPI 2.2.1 shape: elements of price components (ENERGY per kWh, TIME per
    hour charging, PARKING_TIME per hour parked, FLAT per session; prices excl. VAT, `vat` in
    percent, `step_size` in Wh or seconds) with optional restrictions; the first element whose
    restrictions hold prices each dimension. 409 when the id exists."""
    return _out(await _tariffs(request).create(_body(body)))


@router.get("/tariffs", response_model=Page[TariffOut], dependencies=[auth.viewer])
async def list_tariffs(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                       currency: str | None = Query(None, pattern=r"^[A-Za-z]{3}$"),
                       type: TariffType | None = None):
    """Tariffs by id."""
    after = pagination.decode(cursor, str)
    rows = await _tariffs(request).find(limit + 1, after[0] if after else None, currency=currency, type=type)
    return pagination.page([_out(t) for t in rows], limit, lambda t: (t["id"],))


@router.get("/tariffs/{tariff_id}", response_model=TariffOut, dependencies=[auth.viewer])
async def get_tariff(request: Request, tariff_id: str = TariffId):
    return _out(await _tariffs(request).get(tariff_id))


@router.put("/tariffs/{tariff_id}", response_model=TariffOut, dependencies=[auth.operator])
async def replace_tariff(request: Request, body: TariffReplace, tariff_id: str = TariffId):
    """Replace a tariff as a whole. Sessions that already started keep the tariff they started
    with; the new version prices sessions from now on."""
    return _out(await _tariffs(request).replace(tariff_id, _body(body)))


@router.delete("/tariffs/{tariff_id}", status_code=204, response_class=Response, dependencies=[auth.operator])
async def delete_tariff(request: Request, tariff_id: str = TariffId):
    """Delete a tariff; 409 while an assignment or the network settings name it. Sessions and
    CDRs keep their own copy."""
    await _tariffs(request).delete(tariff_id)
    return Response(status_code=204)


@router.post("/tariffs/{tariff_id}/estimate", response_model=CostOut, dependencies=[auth.viewer])
async def estimate(request: Request, body: EstimateRequest, tariff_id: str = TariffId):
    """Price a session that has not happened: `energy_kwh` charged over `duration_minutes` from
    `start_at` (at `power_kw`, which caps the energy that fits), then `parking_minutes` parked,
    with the time-of-day rules read in `time_zone`. What a driver is shown before starting."""
    tariff = await _tariffs(request).get(tariff_id)
    try:
        zone = time_zone_name(body.time_zone) if body.time_zone else "UTC"
    except ValueError as error:
        raise Invalid("request validation failed", [{"field": "body.time_zone", "message": str(error)}]) from None
    start = body.start_at or datetime.now(timezone.utc)
    intervals = estimate_intervals(start, body.energy_kwh * 1000, body.duration_minutes * 60, body.power_kw,
                                   body.parking_minutes * 60)
    return CostOut.of(price_session({**tariff.body, "id": tariff.id}, intervals, zone))


@router.get("/charge-points/{charge_point_id}/tariff", response_model=TariffOut, dependencies=[auth.viewer])
async def applicable_tariff(request: Request,
                            charge_point_id: str = Path(min_length=1, max_length=48, pattern=r"^[^\x00]*$"),
                            evse: int | None = Query(None, ge=0, le=MAX_ID, description="The OCPP EVSE number."),
                            connector: int = Query(1, ge=1, le=MAX_ID),
                            driver_group_id: int | None = Query(None, ge=1, le=MAX_ID),
                            kind: AssignmentKind = "regular",
                            at: UtcTime | None = Query(None, description="Default now (ISO 8601).")):
    """The tariff a session starting here (`at`, for a driver of `driver_group_id`) would get:
    what a driver is shown, and how to check assignments. 404 when none applies."""
    when = at or datetime.now(timezone.utc)
    tariff = await _tariffs(request).applicable(charge_point_id, evse, connector if evse else None,
                                                driver_group_id, when, kind)
    if tariff is None:
        raise NotFound(f"no {kind} tariff applies at {charge_point_id}")
    return _out(tariff)


# --- assignments ---------------------------------------------------------------------------------
@router.post("/tariff-assignments", status_code=201, response_model=AssignmentOut, dependencies=[auth.operator])
async def assign(request: Request, body: AssignmentCreate):
    """Put a tariff on a connector, EVSE, charge point or location (at most one), optionally for
    one driver group only (e.g. employees charge free), as the regular or the ad hoc (direct
    payment) tariff. A new session takes the driver group's own tariff first, most specific place
    first, then everyone's, then the network default (`PATCH /settings`). 409 when an assignment
    already covers the same place, kind and group."""
    fields = body.model_dump(exclude={"tariff_id", "kind"})
    return await _tariffs(request).assign(body.tariff_id, body.kind, **fields)


@router.get("/tariff-assignments", response_model=Page[AssignmentOut], dependencies=[auth.viewer])
async def list_assignments(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                           tariff_id: str | None = Query(None, pattern=TARIFF_ID),
                           kind: AssignmentKind | None = None,
                           location_id: int | None = Query(None, ge=1, le=MAX_ID),
                           charge_point_id: str | None = Query(None, min_length=1, max_length=48,
                                                               pattern=r"^[^\x00]*$"),
                           evse_id: int | None = Query(None, ge=1, le=MAX_ID),
                           driver_group_id: int | None = Query(None, ge=1, le=MAX_ID)):
    after = pagination.decode(cursor, int)
    rows = await _tariffs(request).assignments(limit + 1, after[0] if after else None, tariff_id=tariff_id,
                                               kind=kind, location_id=location_id, charge_point_id=charge_point_id,
                                               evse_id=evse_id, driver_group_id=driver_group_id)
    return pagination.page(rows, limit, lambda a: (a.id,))


@router.delete("/tariff-assignments/{assignment_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator])
async def unassign(request: Request, assignment_id: int = Path(ge=1, le=MAX_ID)):
    await _tariffs(request).unassign(assignment_id)
    return Response(status_code=204)


# --- network settings ----------------------------------------------------------------------------
@router.get("/settings", response_model=SettingsOut, dependencies=[auth.viewer])
async def get_settings(request: Request):
    return await _tariffs(request).settings()


@router.patch("/settings", response_model=SettingsOut, dependencies=[auth.operator])
async def update_settings(request: Request, body: SettingsUpdate):
    """Change the network's default tariff (sessions no assignment covers) or its ad hoc tariff;
    null clears one."""
    return await _tariffs(request).update_settings(**body.model_dump(exclude_unset=True))
