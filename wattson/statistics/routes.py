"""HTTP endpoint of the consumption statistics."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from wattson.api import auth
from wattson.api.types import MAX_ID, UtcTime
from wattson.errors import Invalid
from wattson.locations.rules import time_zone_name
from wattson.statistics.buckets import INTERVALS, span_problem
from wattson.statistics.schemas import ConsumptionOut
from wattson.statistics.service import GROUPS, StatisticsQuery

router = APIRouter(prefix="/api/v1", tags=["statistics"])


@router.get("/statistics/consumption", response_model=ConsumptionOut, response_model_by_alias=True,
            dependencies=[auth.viewer])
async def consumption(
    request: Request,
    *,
    group_by: Literal[GROUPS] = Query(description="location, charge_point, evse, driver or group (the driver's "
                                                  "home group)."),
    interval: Literal[INTERVALS] = Query("day", description="hour, day or month, in time_zone."),
    # Annotated, so that a required parameter keeps UtcTime's conversion (a default of Query(...) drops it)
    start: Annotated[UtcTime, Query(alias="from", description="Sessions started at or after (ISO 8601; no zone: "
                                                               "UTC).")],
    end: Annotated[UtcTime, Query(alias="to", description="Sessions started before.")],
    time_zone: str = Query("UTC", max_length=64, description="IANA zone the buckets are in (DST-correct)."),
    location_id: int | None = Query(None, ge=1, le=MAX_ID, description="Only sessions at this location."),
    charge_point_id: str | None = Query(None, min_length=1, max_length=48, pattern=r"^[^\x00]+$",
                                        description="Only sessions at this charge point."),
):
    """Energy, sessions, duration, revenue, energy cost and margin per key and bucket of their
    start time, ordered by key and bucket (docs/operations.md). A range spans at most 32 days by
    hour, 400 by day and 3700 by month (``MAX_SPAN``)."""
    try:
        zone = time_zone_name(time_zone)
    except ValueError as error:
        raise Invalid(str(error), [{"field": "time_zone", "message": str(error)}]) from None
    problem = span_problem(interval, start, end)
    if problem:
        raise Invalid(problem, [{"field": "to", "message": problem}])
    q = StatisticsQuery(group_by=group_by, interval=interval, start=start, end=end, time_zone=zone,
                        location_id=location_id, charge_point_id=charge_point_id)
    rows = await request.app.state.services.statistics.consumption(q)
    return {"group_by": group_by, "interval": interval, "time_zone": zone, "start": start, "end": end, "data": rows}
