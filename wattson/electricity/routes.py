"""HTTP endpoints of electricity rates: what energy costs the operator."""

from fastapi import APIRouter, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID, UtcTime
from wattson.electricity.schemas import RateCreate, RateOut, RateUpdate
from wattson.errors import Invalid

router = APIRouter(prefix="/api/v1", tags=["electricity rates"])
RateId = Path(ge=1, le=MAX_ID, description="The electricity rate's id.")


def _rates(request: Request):
    return request.app.state.services.electricity_rates


@router.post("/electricity-rates", status_code=201, response_model=RateOut, dependencies=[auth.operator])
async def create_rate(request: Request, body: RateCreate):
    """Add an electricity rate: a fixed price per kWh, or time-of-use periods over a base price,
    in force from `valid_from` to `valid_to`, at the locations named (none: the default rate).
    A location's own rate in force wins over the default; of several, the latest `valid_from`."""
    data = body.model_dump()
    data["periods"] = body.periods
    return await _rates(request).create(**data)


@router.get("/electricity-rates", response_model=Page[RateOut], dependencies=[auth.viewer])
async def list_rates(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                     location_id: int | None = Query(None, ge=1, le=MAX_ID,
                                                     description="Only the rates assigned to this location."),
                     currency: str | None = Query(None, pattern="^[A-Za-z]{3}$", description="Only in this currency."),
                     at: UtcTime | None = Query(None, description="Only the rates in force at this time.")):
    """Electricity rates by id."""
    after = pagination.decode(cursor, int)
    if after is not None and not 0 <= after[0] <= MAX_ID:
        raise Invalid("invalid cursor", [{"field": "cursor", "message": "not a cursor this API issued"}])
    rows = await _rates(request).find(limit + 1, after[0] if after else None, location_id=location_id,
                                      currency=currency.upper() if currency else None, at=at)
    return pagination.page(rows, limit, lambda rate: (rate["id"],))


@router.get("/electricity-rates/{rate_id}", response_model=RateOut, dependencies=[auth.viewer])
async def get_rate(request: Request, rate_id: int = RateId):
    return await _rates(request).get(rate_id)


@router.patch("/electricity-rates/{rate_id}", response_model=RateOut, dependencies=[auth.operator])
async def update_rate(request: Request, body: RateUpdate, rate_id: int = RateId):
    """Change only the fields sent; `location_ids` and `periods` replace what was there. Sessions
    are costed with the rates as they are when asked: a change reprices past energy too."""
    changes = body.model_dump(exclude_unset=True)
    if "periods" in changes:
        changes["periods"] = body.periods
    return await _rates(request).update(rate_id, **changes)


@router.delete("/electricity-rates/{rate_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator])
async def delete_rate(request: Request, rate_id: int = RateId):
    await _rates(request).delete(rate_id)
    return Response(status_code=204)
