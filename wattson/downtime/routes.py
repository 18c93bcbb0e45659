"""HTTP endpoints of downtime: periods (entered and computed), notices for drivers, and the
availability figure per EVSE, charge point and location (docs/operations.md)."""

from datetime import datetime

from fastapi import APIRouter, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID, UtcTime
from wattson.db import utcnow
from wattson.downtime import rules
from wattson.downtime.schemas import (
    AggregateAvailabilityOut, DowntimeNoticeCreate, DowntimeNoticeOut, DowntimeNoticeUpdate, DowntimePeriodCreate,
    DowntimePeriodOut, DowntimePeriodUpdate, EvseAvailabilityOut, Kind, Source,
)
from wattson.downtime.service import PeriodFilters, figure_window
from wattson.errors import Invalid
from wattson.stations.schemas import IDENTITY_PATTERN

router = APIRouter(prefix="/api/v1", tags=["downtime"])
PeriodId = Path(ge=1, le=MAX_ID, description="The downtime period's id (manual periods only).")
NoticeId = Path(ge=1, le=MAX_ID, description="The downtime notice's id.")
NO_NUL = r"^[^\x00]+$"
From = Query(None, alias="from", description="Start of the period (ISO 8601; default 30 days before `to`).")
To = Query(None, alias="to", description="End of the period, exclusive (default now); only the part before now counts.")


def _downtime(request: Request):
    return request.app.state.services.downtime


# --- periods -------------------------------------------------------------------------------------
@router.post("/downtime-periods", status_code=201, response_model=DowntimePeriodOut, dependencies=[auth.operator])
async def create_downtime_period(request: Request, body: DowntimePeriodCreate):
    """Enter a downtime period of a charge point or one of its EVSEs: planned maintenance (left
    out of the availability figure's period), an outage, or another cause."""
    fields = body.model_dump()
    if fields["planned"] is None:
        fields["planned"] = fields["kind"] == "planned_maintenance"
    return await _downtime(request).create_period(**fields)


@router.get("/downtime-periods", response_model=Page[DowntimePeriodOut], dependencies=[auth.viewer])
async def list_downtime_periods(
    request: Request, limit: int = Limit, cursor: str | None = CursorParam,
    charge_point_id: str | None = Query(None, min_length=1, max_length=48, pattern=NO_NUL),
    evse_id: int | None = Query(None, ge=1, le=MAX_ID, description="That EVSE's and its charge point's periods."),
    location_id: int | None = Query(None, ge=1, le=MAX_ID),
    source: Source | None = Query(None, description="manual (entered) or computed (from the history)."),
    planned: bool | None = Query(None),
    kind: Kind | None = Query(None),
    since: UtcTime | None = Query(None, alias="from", description="Periods going on at or after this time "
                                                                   "(default 30 days ago)."),
    until: UtcTime | None = Query(None, alias="to", description="Periods begun before this time (default a year "
                                                                 "ahead)."),
):
    """Downtime periods overlapping [from, to), the latest start first: those entered by hand and
    those computed on reading from the status history (while all of an EVSE's connectors, or the
    station itself, reported Faulted or Unavailable) and the connection history (offline). A
    computed period has no id and cannot be changed; one still going has no `ends_at`."""
    after = pagination.decode(cursor, datetime, str)
    if after is not None and after[0].tzinfo is None:
        raise Invalid("invalid cursor", [{"field": "cursor", "message": "not a cursor this API issued"}])
    filters = PeriodFilters(charge_point_id=charge_point_id, evse_id=evse_id, location_id=location_id, source=source,
                            planned=planned, kind=kind, since=since, until=until)
    rows = await _downtime(request).find_periods(limit + 1, after, filters)
    return pagination.page(rows, limit, lambda p: p.key)


@router.get("/downtime-periods/{period_id}", response_model=DowntimePeriodOut, dependencies=[auth.viewer])
async def get_downtime_period(request: Request, period_id: int = PeriodId):
    return await _downtime(request).get_period(period_id)


@router.patch("/downtime-periods/{period_id}", response_model=DowntimePeriodOut, dependencies=[auth.operator])
async def update_downtime_period(request: Request, body: DowntimePeriodUpdate, period_id: int = PeriodId):
    """Change only the fields sent; null clears `evse_id` (the whole charge point), `reason` or
    `ends_at` (open-ended)."""
    return await _downtime(request).update_period(period_id, **body.model_dump(exclude_unset=True))


@router.delete("/downtime-periods/{period_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator])
async def delete_downtime_period(request: Request, period_id: int = PeriodId):
    await _downtime(request).delete_period(period_id)
    return Response(status_code=204)


# --- notices -------------------------------------------------------------------------------------
@router.post("/downtime-notices", status_code=201, response_model=DowntimeNoticeOut, dependencies=[auth.operator])
async def create_downtime_notice(request: Request, body: DowntimeNoticeCreate):
    """A notice for drivers, a message per language, shown on the driver page of the EVSEs of
    its charge points and locations while it is in force."""
    fields = body.model_dump()
    fields["valid_from"] = fields["valid_from"] or utcnow()
    return await _downtime(request).create_notice(**fields)


@router.get("/downtime-notices", response_model=Page[DowntimeNoticeOut], dependencies=[auth.viewer])
async def list_downtime_notices(
    request: Request, limit: int = Limit, cursor: str | None = CursorParam,
    charge_point_id: str | None = Query(None, min_length=1, max_length=48, pattern=NO_NUL,
                                        description="About this charge point, or its location."),
    location_id: int | None = Query(None, ge=1, le=MAX_ID),
    active_at: UtcTime | None = Query(None, description="Only those in force at this time."),
):
    """Downtime notices, the latest `valid_from` first."""
    after = pagination.decode(cursor, datetime, int)
    if after is not None and (after[0].tzinfo is None or not 0 <= after[1] <= MAX_ID):
        raise Invalid("invalid cursor", [{"field": "cursor", "message": "not a cursor this API issued"}])
    rows = await _downtime(request).find_notices(limit + 1, after, charge_point_id=charge_point_id,
                                                 location_id=location_id, active_at=active_at)
    return pagination.page(rows, limit, lambda n: (n.valid_from, n.id))


@router.get("/downtime-notices/{notice_id}", response_model=DowntimeNoticeOut, dependencies=[auth.viewer])
async def get_downtime_notice(request: Request, notice_id: int = NoticeId):
    return await _downtime(request).get_notice(notice_id)


@router.patch("/downtime-notices/{notice_id}", response_model=DowntimeNoticeOut, dependencies=[auth.operator])
async def update_downtime_notice(request: Request, body: DowntimeNoticeUpdate, notice_id: int = NoticeId):
    """Change only the fields sent; `charge_point_ids` or `location_ids` replace the list sent."""
    return await _downtime(request).update_notice(notice_id, **body.model_dump(exclude_unset=True))


@router.delete("/downtime-notices/{notice_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator])
async def delete_downtime_notice(request: Request, notice_id: int = NoticeId):
    await _downtime(request).delete_notice(notice_id)
    return Response(status_code=204)


# --- availability --------------------------------------------------------------------------------
def _evse_out(evse_id: int, figure: rules.Figure, since: datetime, until: datetime) -> dict:
    return {"evse_id": evse_id, "from_": since, "to": until, **_figures(figure)}


def _figures(figure: rules.Figure) -> dict:
    return {"period_s": figure.period_s, "planned_downtime_s": figure.planned_s,
            "unplanned_downtime_s": figure.unplanned_s, "availability_percent": figure.availability}


def _aggregate(figures: dict[int, rules.Figure], since: datetime, until: datetime, **owner) -> dict:
    total = sum(figures.values(), rules.Figure(0, 0, 0))
    return {**owner, "from_": since, "to": until, **_figures(total),
            "evses": [_evse_out(id, figure, since, until) for id, figure in sorted(figures.items())]}


@router.get("/evses/{evse_id}/availability", response_model=EvseAvailabilityOut, response_model_by_alias=True,
            dependencies=[auth.viewer], tags=["EVSEs"])
async def evse_availability(request: Request, evse_id: int = Path(ge=1, le=MAX_ID), since: UtcTime | None = From,
                            until: UtcTime | None = To):
    """The EVSE's availability over [from, to) (AFIR): 1 − unplanned downtime / (period − planned
    downtime). Downtime: its own and its charge point's, computed (Faulted/Unavailable, offline)
    and entered; planned downtime is left out of the period (docs/operations.md)."""
    since, until = figure_window(since, until)
    figure = await _downtime(request).evse_availability(evse_id, since, until)
    return _evse_out(evse_id, figure, since, until)


@router.get("/charge-points/{charge_point_id}/availability", response_model=AggregateAvailabilityOut,
            response_model_by_alias=True, dependencies=[auth.viewer], tags=["charge points"])
async def charge_point_availability(request: Request, charge_point_id: str = Path(pattern=IDENTITY_PATTERN),
                                    since: UtcTime | None = From, until: UtcTime | None = To):
    """The charge point's availability: the sum of its EVSEs' figures, and each EVSE's."""
    since, until = figure_window(since, until)
    figures = await _downtime(request).charge_point_availability(charge_point_id, since, until)
    return _aggregate(figures, since, until, charge_point_id=charge_point_id)


@router.get("/locations/{location_id}/availability", response_model=AggregateAvailabilityOut,
            response_model_by_alias=True, dependencies=[auth.viewer], tags=["locations"])
async def location_availability(request: Request, location_id: int = Path(ge=1, le=MAX_ID),
                                since: UtcTime | None = From, until: UtcTime | None = To):
    """The location's availability: the sum of the figures of its charge points' EVSEs, and each EVSE's."""
    since, until = figure_window(since, until)
    figures = await _downtime(request).location_availability(location_id, since, until)
    return _aggregate(figures, since, until, location_id=location_id)
