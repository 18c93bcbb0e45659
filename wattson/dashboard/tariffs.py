"""Tariff pages: the list (cursor-paged, as the API's), a tariff with its elements, a price
estimate and its assignments, and the form-based editor of the OCPI tariff, validated by the
API's own schema (tariff_form.py holds the form's rules)."""

from datetime import datetime, timezone

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from wattson.api import pagination
from wattson.api.types import MAX_ID
from wattson.dashboard import auth, tariff_form
from wattson.dashboard.render import render
from wattson.errors import Invalid, NotFound
from wattson.locations.rules import time_zone_name
from wattson.tariffs.pricing import estimate_intervals, price_session
from wattson.tariffs.schemas import TARIFF_ID, AssignmentCreate, EstimateRequest

router = APIRouter(include_in_schema=False)
PAGE = 50
TariffId = Path(pattern=TARIFF_ID)
#: The estimate form's fields and what they start with.
ESTIMATE = {"energy_kwh": "20", "duration_minutes": "60", "start_at": "", "power_kw": "", "parking_minutes": "0",
            "time_zone": ""}
SCOPES = (("charge_point_id", "Charge point"), ("location_id", "Location id"), ("evse_id", "EVSE id (Wattson's)"),
          ("connector_id", "Connector id (Wattson's)"))


def _service(request: Request):
    return request.app.state.services.tariffs


@router.get("/tariffs", response_class=HTMLResponse)
async def tariff_list(request: Request, _=auth.viewer_page, after: str | None = Query(None, max_length=200),
                      currency: str | None = Query(None, max_length=3)):
    """Tariffs by id, a page at a time (the API's cursor), with the network's default ones."""
    key = pagination.decode(after, str)
    currency = (currency or "").strip().upper() or None
    if currency and not currency.isalpha():
        raise Invalid("a currency is three letters, e.g. EUR")
    rows = await _service(request).find(PAGE + 1, key[0] if key else None, currency=currency)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    settings = await _service(request).settings()
    return render(request, "tariffs.html", tariffs=rows, settings=settings, currency=currency or "",
                  next_after=pagination.encode(rows[-1].id) if more else None)


def _editor(request: Request, draft, new: bool, problems: dict | None = None, status_code: int = 200,
            tariff_id: str | None = None):
    return render(request, "tariff_edit.html", status_code=status_code, draft=draft, new=new, problems=problems or {},
                  tariff_id=tariff_id, dimensions=tariff_form.DIMENSIONS, days=tariff_form.DAYS,
                  types=tariff_form.TYPES, restrictions=tariff_form.RESTRICTIONS)


@router.get("/tariffs/new", response_class=HTMLResponse)
async def new_tariff(request: Request, _=auth.operator_page):
    return _editor(request, tariff_form.Draft(), new=True)


@router.post("/tariffs/new", response_class=HTMLResponse)
async def create_tariff(request: Request, _=auth.operator_action):
    return await _save(request, None)


@router.get("/tariffs/{tariff_id}/edit", response_class=HTMLResponse)
async def edit_tariff(request: Request, tariff_id: str = TariffId, _=auth.operator_page):
    tariff = await _service(request).get(tariff_id)
    return _editor(request, tariff_form.from_tariff(tariff.id, tariff.body), new=False, tariff_id=tariff.id)


@router.post("/tariffs/{tariff_id}/edit", response_class=HTMLResponse)
async def replace_tariff(request: Request, tariff_id: str = TariffId, _=auth.operator_action):
    await _service(request).get(tariff_id)  # a 404 page before anything else
    return await _save(request, tariff_id)


async def _save(request: Request, tariff_id: str | None):
    """The editor's post: a shape button re-renders the form with what was typed; save validates
    with the API's schema (errors next to the fields, 422) and stores it."""
    form = await request.form()
    draft = tariff_form.from_form(form)
    new = tariff_id is None
    if not new:
        draft.top["id"] = tariff_id
    if tariff_form.apply(draft, str(form.get("op") or "")):
        return _editor(request, draft, new, tariff_id=tariff_id)
    body, problems = tariff_form.body_of(draft)
    stored, schema_problems = tariff_form.validate(body, new)
    problems = {**schema_problems, **problems}
    if problems:
        return _editor(request, draft, new, problems, status_code=422, tariff_id=tariff_id)
    service = _service(request)
    if new:
        tariff = await service.create(stored)
    else:
        previous = await service.get(tariff_id)
        # What the form does not edit (the energy mix) stays as it was.
        kept = {k: v for k, v in previous.body.items() if k == "energy_mix"}
        tariff = await service.replace(tariff_id, {**kept, **stored})
    return RedirectResponse(f"/tariffs/{tariff.id}?saved=1", status_code=303)


def _estimate_form(request: Request) -> dict:
    q = request.query_params
    return {name: (q.get(name) if q.get(name) is not None else default).strip()[:64]
            for name, default in ESTIMATE.items()}


def estimate_request(values: dict) -> EstimateRequest:
    """The API's estimate request from the form (empty fields left out); Invalid with the
    fields' messages when it does not hold."""
    try:
        return EstimateRequest.model_validate({k: v for k, v in values.items() if v})
    except ValidationError as error:
        problems = [{"field": ".".join(map(str, e["loc"])) or "form", "message": e["msg"]} for e in error.errors()]
        raise Invalid("; ".join(f"{p['field']}: {p['message']}" for p in problems), problems) from None


def estimate(tariff, ask: EstimateRequest):
    """The price of the asked session with this tariff (as ``POST /api/v1/tariffs/{id}/estimate``)."""
    try:
        zone = time_zone_name(ask.time_zone) if ask.time_zone else "UTC"
    except ValueError as error:
        raise Invalid(f"time_zone: {error}") from None
    start = ask.start_at or datetime.now(timezone.utc)
    intervals = estimate_intervals(start, ask.energy_kwh * 1000, ask.duration_minutes * 60, ask.power_kw,
                                   ask.parking_minutes * 60)
    return price_session({**tariff.body, "id": tariff.id}, intervals, zone)


@router.get("/tariffs/{tariff_id}", response_class=HTMLResponse)
async def tariff_page(request: Request, tariff_id: str = TariffId, _=auth.viewer_page,
                      saved: int | None = Query(None, ge=0, le=1),
                      after: int | None = Query(None, ge=0, le=MAX_ID)):
    service = _service(request)
    tariff = await service.get(tariff_id)
    values = _estimate_form(request)
    priced, problem = None, None
    try:
        priced = estimate(tariff, estimate_request(values))
    except Invalid as error:
        problem = error.message
    assignments = await service.assignments(PAGE + 1, after, tariff_id=tariff_id)
    more = len(assignments) > PAGE
    assignments = assignments[:PAGE]
    groups = await request.app.state.services.tariff_groups.find(PAGE, tariff_id=tariff_id)
    status = 422 if problem and request.query_params.get("fragment") == "estimate" else 200
    return render(request, "tariff.html", status_code=status, t=tariff, saved=saved, values=values, priced=priced,
                  problem=problem, assignments=assignments, scopes=SCOPES,
                  next_after=assignments[-1].id if more else None, groups=groups)


@router.post("/tariffs/{tariff_id}/delete")
async def delete_tariff(request: Request, tariff_id: str = TariffId, _=auth.operator_action):
    await _service(request).delete(tariff_id)  # a Conflict page while something still names it
    return RedirectResponse("/tariffs", status_code=303)


@router.post("/tariffs/{tariff_id}/assignments")
async def add_assignment(request: Request, tariff_id: str = TariffId, _=auth.operator_action):
    """An assignment from the form: one place (or none, for a driver group or ad hoc), the kind,
    optionally a driver group; checked by the API's schema."""
    form = await request.form()
    scope = str(form.get("scope") or "")
    value = str(form.get("value") or "").strip()
    group = str(form.get("driver_group_id") or "").strip()
    body = {"tariff_id": tariff_id, "kind": str(form.get("kind") or "regular")}
    if scope:
        if scope not in dict(SCOPES):
            raise Invalid(f"no such place: {scope[:30]!r}")
        if not value:
            raise Invalid(f"name the {dict(SCOPES)[scope].lower()} the tariff applies at")
        body[scope] = value
    if group:
        body["driver_group_id"] = group
    try:
        ask = AssignmentCreate.model_validate(body)
    except ValidationError as error:
        raise Invalid("; ".join(f"{'.'.join(map(str, e['loc'])) or 'assignment'}: {e['msg']}"
                                for e in error.errors())) from None
    await _service(request).assign(ask.tariff_id, ask.kind, **ask.model_dump(exclude={"tariff_id", "kind"}))
    return RedirectResponse(f"/tariffs/{tariff_id}#assignments", status_code=303)


@router.post("/tariffs/{tariff_id}/assignments/{assignment_id}/delete")
async def remove_assignment(request: Request, tariff_id: str = TariffId,
                            assignment_id: int = Path(ge=1, le=MAX_ID), _=auth.operator_action):
    service = _service(request)
    found = await service.assignments(1, assignment_id - 1, tariff_id=tariff_id)  # the next id from there
    if not found or found[0].id != assignment_id:
        raise NotFound(f"tariff {tariff_id} has no assignment {assignment_id}")
    await service.unassign(assignment_id)
    return RedirectResponse(f"/tariffs/{tariff_id}#assignments", status_code=303)
