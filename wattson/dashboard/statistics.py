"""The consumption statistics page: the form's GET parameters checked as the API checks its query
(the same groups, intervals, UTC times, time zone names and span bounds), then energy per bucket
as a bar chart and per key and bucket as a table (or CSV), all from StatisticsService."""

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wattson.api.types import UtcTime
from wattson.dashboard import auth, charts
from wattson.dashboard.render import render
from wattson.locations.rules import time_zone_name
from wattson.statistics.buckets import INTERVALS, span_problem
from wattson.statistics.service import GROUPS, StatisticsQuery

router = APIRouter(include_in_schema=False)
GROUP_LABELS = {"location": "location", "charge_point": "charge point", "evse": "EVSE", "driver": "driver",
                "group": "driver group"}
#: The form's fields, as the API's query parameters are named.
FIELDS = ("group_by", "interval", "from", "to", "time_zone")
#: How a bucket's start is labelled under its bar and in the table, per interval.
LABELS = {"hour": "%Y-%m-%d %H:%M %z", "day": "%Y-%m-%d", "month": "%Y-%m"}
CSV_COLUMNS = ("key", "bucket", "energy_wh", "sessions", "duration_s", "revenue", "energy_cost", "currency", "margin")


class StatisticsForm(BaseModel):
    """The API's query parameters (statistics/routes.py) as a model, so the page refuses what it refuses."""
    model_config = ConfigDict(populate_by_name=True, extra="ignore")
    group_by: Literal[GROUPS] = "location"
    interval: Literal[INTERVALS] = "day"
    start: UtcTime = Field(alias="from")
    end: UtcTime = Field(alias="to")
    time_zone: str = Field("UTC", max_length=64)


def default_period(now: datetime) -> tuple[str, str]:
    """The last 30 days up to the end of today (UTC), as the form writes them."""
    end = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return f"{end - timedelta(days=30):%Y-%m-%dT%H:%M}", f"{end:%Y-%m-%dT%H:%M}"


def form_values(params, now: datetime) -> dict[str, str]:
    """The form as sent (stripped), with the defaults where a field is absent or empty."""
    start, end = default_period(now)
    defaults = {"group_by": "location", "interval": "day", "from": start, "to": end, "time_zone": "UTC"}
    return {name: (params.get(name) or "").strip() or defaults[name] for name in FIELDS}


def statistics_query(values: dict[str, str]) -> tuple[StatisticsQuery | None, list[tuple[str, str]]]:
    """The service's query from the form, or None and the problems (field, message) to show."""
    try:
        form = StatisticsForm.model_validate(values)
    except ValidationError as error:
        return None, [(str(e["loc"][0]) if e["loc"] else "form", e["msg"]) for e in error.errors(include_url=False)]
    try:
        zone = time_zone_name(form.time_zone)
    except ValueError as error:
        return None, [("time_zone", str(error))]
    problem = span_problem(form.interval, form.start, form.end)
    if problem:
        return None, [("to", problem)]
    return StatisticsQuery(group_by=form.group_by, interval=form.interval, start=form.start, end=form.end,
                           time_zone=zone), []


def per_bucket(rows: list[dict], interval: str) -> list[tuple[str, float]]:
    """Energy (kWh) per bucket over all keys, in time order: the chart's bars."""
    totals: dict[datetime, float] = {}
    for row in rows:
        totals[row["bucket"]] = totals.get(row["bucket"], 0.0) + row["energy_wh"] / 1000
    return [(f"{bucket:{LABELS[interval]}}", kwh)
            for bucket, kwh in sorted(totals.items(), key=lambda item: item[0].timestamp())]


async def _rows(request: Request, q: StatisticsQuery) -> list[dict]:
    return await request.app.state.services.statistics.consumption(q)


@router.get("/statistics", response_class=HTMLResponse)
async def statistics_page(request: Request, _=auth.viewer_page):
    values = form_values(request.query_params, datetime.now(timezone.utc))
    q, problems = statistics_query(values)
    rows = await _rows(request, q) if q else []
    chart = charts.bars(f"Energy per {values['interval']}", per_bucket(rows, q.interval), "kWh") if q else ""
    query = urlencode({name: values[name] for name in FIELDS})
    return render(request, "statistics.html", status_code=422 if problems else 200, values=values,
                  problems=problems, rows=rows, chart=chart, groups=GROUP_LABELS, intervals=INTERVALS,
                  label=LABELS[q.interval] if q else "", query=query)


@router.get("/statistics.csv")
async def statistics_csv(request: Request, _=auth.viewer_page):
    """The table as CSV, for a spreadsheet: the API's fields, one row per key and bucket."""
    q, problems = statistics_query(form_values(request.query_params, datetime.now(timezone.utc)))
    if q is None:
        message = "; ".join(f"{field}: {text}" for field, text in problems)
        return Response(message + "\n", status_code=422, media_type="text/plain; charset=utf-8")
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in await _rows(request, q):
        writer.writerow({**row, "bucket": row["bucket"].isoformat()})
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=consumption.csv",
                             "Cache-Control": "no-store"})
