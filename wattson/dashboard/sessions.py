"""Session pages: the list with seed 004's filters (time windows, chargers, drivers, sites, tags,
sort), its totals and CSV export, all from the session query service the JSON API uses; and a
session with its power and energy curves (live while it charges), charging periods, cost, CDRs,
receipt links and a Stop button."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from pydantic import ValidationError

from wattson.api.types import MAX_ID
from wattson.dashboard import auth, charts
from wattson.dashboard.render import render
from wattson.db import utcnow
from wattson.errors import Conflict, NotFound
from wattson.loadmgmt import limits
from wattson.sessions import cdr_routes
from wattson.sessions.meter import Sample
from wattson.sessions.models import ACTIVE
from wattson.sessions.periods import POWER, charging_periods, power_summary
from wattson.sessions.query import EXPORT_MAX_ROWS
from wattson.sessions.routes import PERIOD_MEASURANDS, query_criteria, csv_lines
from wattson.sessions.schemas import SORT_KEYS, SessionQuery

router = APIRouter(include_in_schema=False)
PAGE = 50
SessionId = Path(ge=1, le=MAX_ID)
#: The filter form's fields → SessionQuery's (the seed's names), for messages next to the form.
TIMES = {"started_from": "start_time", "started_to": "start_time_search_end",
         "stopped_from": "stop_time_search_begin", "stopped_to": "stop_time"}
LISTS = {"chargers": "charger_ids", "drivers": "driver_ids", "sites": "site_ids", "tags": "rfid_tags"}
SORT_LABELS = {"started_at": "start", "stopped_at": "stop", "charge_point_id": "charger", "energy_wh": "energy",
               "duration": "duration", "id": "id", "user_name": "driver", "site_name": "site",
               "total_cost_incl_vat": "cost", "id_tag": "tag", "driver_id": "driver id", "location_id": "site id"}
_W_PER_UNIT = {"W": 1.0, "kW": 1000.0}


class FilterError(Exception):
    """The filter form holds something the query cannot take: (form field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


def _words(text: str) -> list[str]:
    """A list typed into one field: separated by commas, spaces or new lines."""
    return [w for w in text.replace(",", " ").split() if w]


def session_query(params) -> SessionQuery:
    """The seed's query from the filter form's values (a mapping of query parameters), checked by
    the API's own schema; FilterError names the fields that are wrong."""
    body: dict = {"limit": PAGE}
    problems = []
    page = (params.get("page") or "1").strip()
    if not page.isdigit() or int(page) < 1:
        problems.append(("page", "must be a whole number from 1"))
    else:
        body["page"] = int(page)
    sort = params.get("sort") or "started_at"
    body["sort_key"] = sort
    body["sort_descending"] = (params.get("order") or "desc") != "asc"
    for name, field in TIMES.items():
        if value := (params.get(name) or "").strip():
            body[field] = value
    for name, field in LISTS.items():
        values = params.getlist(name) if name == "sites" else _words(params.get(name) or "")
        values = [v for v in values if v]
        if field in ("driver_ids", "site_ids"):
            bad = [v for v in values if not v.isdigit()]
            if bad:
                problems.append((name, f"ids are numbers, not {bad[0][:20]!r}"))
                continue
            values = [int(v) for v in values]
        if values:
            body[field] = values
    if problems:
        raise FilterError(problems)
    try:
        return SessionQuery.model_validate(body)
    except ValidationError as error:
        raise FilterError([(_form_name(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in error.errors()])


def _form_name(loc: tuple) -> str:
    back = {**{v: k for k, v in TIMES.items()}, **{v: k for k, v in LISTS.items()}, "sort_key": "sort",
            "sort_descending": "order", "page": "page"}
    return back.get(str(loc[0]), str(loc[0])) if loc else "filters"


def page_totals(items: list[dict]) -> dict[str, Decimal]:
    """The page's money incl. VAT per currency (sessions without a tariff add nothing)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        if item["total_cost_incl_vat"] is not None:
            totals[item["currency"]] += Decimal(str(item["total_cost_incl_vat"]))
    return dict(totals)


def _filters(request: Request) -> dict:
    q = request.query_params
    return {"started_from": q.get("started_from", ""), "started_to": q.get("started_to", ""),
            "stopped_from": q.get("stopped_from", ""), "stopped_to": q.get("stopped_to", ""),
            "chargers": q.get("chargers", ""), "drivers": q.get("drivers", ""), "tags": q.get("tags", ""),
            "sites": [int(v) for v in q.getlist("sites") if v.isdigit()], "sort": q.get("sort", "started_at"),
            "order": q.get("order", "desc"), "page": q.get("page", "")}


def _query_string(filters: dict, **changes) -> str:
    """The list's query string with ``changes`` (page, …): links keep the filters."""
    pairs = [(k, v) for k, v in {**filters, **changes}.items() if k != "sites" and v not in ("", None)]
    pairs += [("sites", s) for s in filters["sites"]]
    return urlencode(pairs)


@router.get("/sessions", response_class=HTMLResponse)
async def session_list(request: Request, _=auth.viewer_page):
    services = request.app.state.services
    filters = _filters(request)
    locations = await services.locations.find(500)
    context = dict(filters=filters, locations=locations, sort_labels=SORT_LABELS, sort_keys=SORT_KEYS,
                   query_string=lambda **changes: _query_string(filters, **changes))
    try:
        body = session_query(request.query_params)
    except FilterError as error:
        return render(request, "sessions.html", status_code=422, problems=error.problems, result=None,
                      totals=None, page_money={}, **context)
    criteria = query_criteria(body)
    result = await services.session_query.query(criteria, body.page, body.limit)
    # Energy and active counts are summed over every matching row: worth it for a window or a
    # charger, not for a whole history (its count alone comes with the page).
    filtered = any(getattr(body, f) for f in (*TIMES.values(), *LISTS.values()))
    totals = await services.session_query.totals(criteria) if filtered else None
    return render(request, "sessions.html", problems=[], result=result, totals=totals,
                  page_money=page_totals(result.items), **context)


@router.get("/sessions.csv")
async def session_export(request: Request, _=auth.viewer_page):
    """The same filters as the list, every matching session as CSV (the API's export)."""
    try:
        body = session_query(request.query_params)
    except FilterError as error:
        return render(request, "error.html", status_code=422, title="Those filters do not work",
                      message=str(error))
    chunks = await request.app.state.services.session_query.export(query_criteria(body), utcnow(), EXPORT_MAX_ROWS)
    return StreamingResponse(csv_lines(chunks), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="sessions.csv"'})


def power_points(samples: list[Sample]) -> list[tuple[datetime, float]]:
    """Active import power over time in kW: the outlet's total where the station sent it, else
    its phases added up per instant (as ``periods.power_summary`` reads them)."""
    total: dict[datetime, float] = {}
    by_phase: dict[datetime, float] = defaultdict(float)
    for sample in samples:
        factor, number = _W_PER_UNIT.get(sample.unit or "W"), sample.numeric
        if sample.measurand != POWER or factor is None or number is None:
            continue
        if sample.phase is None:
            total[sample.timestamp] = number * factor / 1000
        else:
            by_phase[sample.timestamp] += number * factor / 1000
    return sorted((total or by_phase).items())


def energy_points(periods) -> list[tuple[datetime, float]]:
    """Energy delivered since the start in kWh, at the start and at the end of every reading
    interval (``charging_periods(..., merge=False)``)."""
    if not periods:
        return []
    points, wh = [(periods[0].start_at, 0.0)], 0
    for period in periods:
        wh += period.energy_wh
        points.append((period.end_at, wh / 1000))
    return points


async def _unless_gone(lookup):
    """A driver or site the session names, or None once it was deleted (the session stays)."""
    try:
        return await lookup
    except NotFound:
        return None


async def _session_view(request: Request, session_id: int) -> dict:
    services = request.app.state.services
    session = await services.sessions.get(session_id)
    samples = await services.sessions.all_samples(session_id, PERIOD_MEASURANDS)
    args = (session.started_at, session.meter_start, samples, session.stopped_at, session.meter_stop)
    periods = charging_periods(*args)
    power = power_points(samples)
    cost = await services.billing.price(session)
    cdrs = await services.billing.find_cdrs(20, session_id=session_id)
    driver = await _unless_gone(services.directory.get_driver(session.driver_id)) if session.driver_id else None
    site = await _unless_gone(services.locations.get(session.location_id)) if session.location_id else None
    profiles = await limits.history(services.db, session_id)  # what the load controller sent (loadmgmt/)
    return dict(s=session, driver_name=driver and driver["name"], site_name=site and site.name, periods=periods,
                profiles=profiles,
                summary=power_summary(samples), cost=cost, cdrs=cdrs, running=session.status == ACTIVE,
                power_chart=charts.lines("Power", [("Power, kW", power)], "kW"),
                energy_chart=charts.lines("Energy", [("Energy, kWh", energy_points(charging_periods(
                    *args, merge=False)))], "kWh"))


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
async def session_page(request: Request, session_id: int = SessionId, _=auth.viewer_page,
                       sent: str | None = Query(None, max_length=64)):
    return render(request, "session.html", sent=sent, **await _session_view(request, session_id))


@router.post("/sessions/{session_id}/stop")
async def stop_session(request: Request, session_id: int = SessionId, _=auth.operator_action):
    """A remote stop, not waited for: the page shows the session end live."""
    services = request.app.state.services
    session = await services.sessions.get(session_id)
    if session.status != ACTIVE:
        raise Conflict(f"session {session_id} has finished already")
    if services.commands is None:
        raise Conflict("this process sends no commands to stations")
    record = await services.commands.submit(session.charge_point_id, "remote-stop", {"session_id": session_id},
                                            wait=False)
    return RedirectResponse(f"/sessions/{session_id}?sent={record.id}", status_code=303)


@router.get("/sessions/{session_id}/receipt", response_class=HTMLResponse)
async def receipt(request: Request, session_id: int = SessionId, _=auth.viewer_page):
    """The API's receipt (sessions/cdr_routes.py), for a logged-in operator without an API key."""
    return await cdr_routes.receipt_html(request, session_id)


@router.get("/sessions/{session_id}/receipt.pdf")
async def receipt_pdf(request: Request, session_id: int = SessionId, _=auth.viewer_page):
    return await cdr_routes.receipt_pdf(request, session_id)
