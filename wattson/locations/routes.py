"""HTTP endpoints for locations (sites)."""

from fastapi import APIRouter, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.errors import Invalid
from wattson.locations.rules import country_alpha3
from wattson.locations.schemas import LocationCreate, LocationOut, LocationUpdate
from wattson.api.types import MAX_ID

router = APIRouter(prefix="/api/v1", tags=["locations"])
LocationId = Path(ge=1, le=MAX_ID, description="The location's id.")


def _locations(request: Request):
    return request.app.state.services.locations


@router.post("/locations", status_code=201, response_model=LocationOut, dependencies=[auth.operator])
async def create_location(request: Request, body: LocationCreate):
    """Add a location. `country` may be alpha-2 or alpha-3 (stored as alpha-3); latitude and
    longitude come together; `opening_hours` follow OCPI's Hours."""
    return await _locations(request).create(**body.model_dump(exclude_unset=True, mode="json"))


@router.get("/locations", response_model=Page[LocationOut], dependencies=[auth.viewer])
async def list_locations(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                         city: str | None = Query(None, min_length=1, max_length=100,
                                                  description="Exact city name, ignoring case."),
                         country: str | None = Query(None, description="ISO 3166-1 alpha-2 or alpha-3."),
                         publish: bool | None = None):
    """Locations by id, each with the ids of its charge points."""
    if country is not None:
        try:
            country = country_alpha3(country)
        except ValueError as error:
            raise Invalid("request validation failed", [{"field": "query.country", "message": str(error)}]) from None
    after = pagination.decode(cursor, int)
    rows = await _locations(request).find(limit + 1, after[0] if after else None, city=city, country=country,
                                          publish=publish)
    return pagination.page(rows, limit, lambda location: (location.id,))


@router.get("/locations/{location_id}", response_model=LocationOut, dependencies=[auth.viewer])
async def get_location(request: Request, location_id: int = LocationId):
    return await _locations(request).get(location_id)


@router.patch("/locations/{location_id}", response_model=LocationOut, dependencies=[auth.operator])
async def update_location(request: Request, body: LocationUpdate, location_id: int = LocationId):
    """Change only the fields sent; null clears a nullable field (`name`, `time_zone` and
    `publish` cannot be null)."""
    return await _locations(request).update(location_id, **body.model_dump(exclude_unset=True, mode="json"))


@router.delete("/locations/{location_id}", status_code=204, response_class=Response, dependencies=[auth.operator])
async def delete_location(request: Request, location_id: int = LocationId):
    """Delete a location; 409 while charge points stand there."""
    await _locations(request).delete(location_id)
    return Response(status_code=204)
