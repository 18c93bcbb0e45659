"""HTTP endpoints for charging zones and parking spaces."""

from fastapi import APIRouter, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID
from wattson.zones.schemas import SpaceCreate, SpaceOut, SpaceType, SpaceUpdate, ZoneCreate, ZoneOut, ZoneUpdate

router = APIRouter(prefix="/api/v1")
ZoneId = Path(ge=1, le=MAX_ID, description="The charging zone's id.")
SpaceId = Path(ge=1, le=MAX_ID, description="The parking space's id.")
NO_NUL = r"^[^\x00]+$"


def _zones(request: Request):
    return request.app.state.services.zones


def _filter_id(description: str):
    return Query(None, ge=1, le=MAX_ID, description=description)


# --- charging zones ------------------------------------------------------------------------
@router.post("/charging-zones", status_code=201, response_model=ZoneOut, dependencies=[auth.operator],
             tags=["charging zones"])
async def create_zone(request: Request, body: ZoneCreate):
    """Add a charging zone to a location (a garage level, a hall, a row of bays). 409 when the
    location has a zone of that name."""
    return await _zones(request).create_zone(**body.model_dump())


@router.get("/charging-zones", response_model=Page[ZoneOut], dependencies=[auth.viewer], tags=["charging zones"])
async def list_zones(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                     location_id: int | None = _filter_id("Only the zones of this location."),
                     floor: str | None = Query(None, min_length=1, max_length=20, pattern=NO_NUL,
                                               description="Only zones on this floor (exact).")):
    """Charging zones by id, each with its parking spaces and the EVSEs placed in it."""
    after = pagination.decode(cursor, int)
    rows = await _zones(request).find_zones(limit + 1, after[0] if after else None, location_id=location_id,
                                            floor=floor)
    return pagination.page(rows, limit, lambda zone: (zone.id,))


@router.get("/charging-zones/{zone_id}", response_model=ZoneOut, dependencies=[auth.viewer],
            tags=["charging zones"])
async def get_zone(request: Request, zone_id: int = ZoneId):
    return await _zones(request).get_zone(zone_id)


@router.patch("/charging-zones/{zone_id}", response_model=ZoneOut, dependencies=[auth.operator],
              tags=["charging zones"])
async def update_zone(request: Request, body: ZoneUpdate, zone_id: int = ZoneId):
    """Change only the fields sent; null clears `floor` or `description`."""
    return await _zones(request).update_zone(zone_id, **body.model_dump(exclude_unset=True))


@router.delete("/charging-zones/{zone_id}", status_code=204, response_class=Response, dependencies=[auth.operator],
               tags=["charging zones"])
async def delete_zone(request: Request, zone_id: int = ZoneId):
    """Delete a charging zone; 409 while parking spaces lie in it. Its EVSEs are then in no zone."""
    await _zones(request).delete_zone(zone_id)
    return Response(status_code=204)


# --- parking spaces ------------------------------------------------------------------------
@router.post("/parking-spaces", status_code=201, response_model=SpaceOut, dependencies=[auth.operator],
             tags=["parking spaces"])
async def create_space(request: Request, body: SpaceCreate):
    """Add a parking space (one bay) in a zone or directly at a location, with the EVSEs placed
    there. 409 when the location has a bay with that label."""
    return await _zones(request).create_space(**body.model_dump())


@router.get("/parking-spaces", response_model=Page[SpaceOut], dependencies=[auth.viewer], tags=["parking spaces"])
async def list_spaces(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                      location_id: int | None = _filter_id("Only the bays at this location."),
                      zone_id: int | None = _filter_id("Only the bays in this charging zone."),
                      type: SpaceType | None = Query(None, description="Only bays of this type."),
                      floor: str | None = Query(None, min_length=1, max_length=20, pattern=NO_NUL,
                                                description="Only bays whose own floor is this (exact)."),
                      evse_id: int | None = _filter_id("Only the bay this EVSE is placed at.")):
    """Parking spaces by id, each with the EVSEs placed there."""
    after = pagination.decode(cursor, int)
    rows = await _zones(request).find_spaces(limit + 1, after[0] if after else None, location_id=location_id,
                                             zone_id=zone_id, type=type, floor=floor, evse_id=evse_id)
    return pagination.page(rows, limit, lambda space: (space.id,))


@router.get("/parking-spaces/{space_id}", response_model=SpaceOut, dependencies=[auth.viewer],
            tags=["parking spaces"])
async def get_space(request: Request, space_id: int = SpaceId):
    return await _zones(request).get_space(space_id)


@router.patch("/parking-spaces/{space_id}", response_model=SpaceOut, dependencies=[auth.operator],
              tags=["parking spaces"])
async def update_space(request: Request, body: SpaceUpdate, space_id: int = SpaceId):
    """Change only the fields sent; `evse_ids` replaces the EVSEs placed at the bay, a new
    `zone_id` moves them into that zone."""
    return await _zones(request).update_space(space_id, **body.model_dump(exclude_unset=True))


@router.delete("/parking-spaces/{space_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator], tags=["parking spaces"])
async def delete_space(request: Request, space_id: int = SpaceId):
    """Delete a parking space; its EVSEs stay in their zone, at no bay."""
    await _zones(request).delete_space(space_id)
    return Response(status_code=204)
