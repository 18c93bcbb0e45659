"""Station pages: the list (live status, filters), a station with its EVSEs, timeline, sessions,
commands (buttons for the common ones) and, from the gateway, its OCPP traffic and refused
connections."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wattson.dashboard import auth
from wattson.dashboard.render import render
from wattson.dashboard.service import DashboardQueries
from wattson.errors import Invalid
from wattson.stations.status import evse_hardware_status

router = APIRouter(include_in_schema=False)
PAGE = 50
#: The buttons on a station page: command name → (label, the fields its form asks for).
BUTTONS = {
    "remote-start": ("Start a session", ("id_tag", "evse")),
    "remote-stop": ("Stop the session", ("session_id",)),
    "reset": ("Reset", ("type",)),
    "unlock": ("Unlock a connector", ("evse",)),
    "change-availability": ("Change availability", ("evse", "operative")),
    "trigger-message": ("Trigger a message", ("message", "evse")),
    "get-diagnostics": ("Get diagnostics", ("location",)),
    "update-firmware": ("Update firmware", ("location", "retrieve_date")),
}


def evse_status(evse) -> str:
    return evse_hardware_status(c.hardware_status for c in evse.connectors) or "Unknown"


@router.get("/stations", response_class=HTMLResponse)
async def station_list(request: Request, _=auth.viewer_page,
                       location_id: int | None = Query(None, ge=1), status: str | None = Query(None, max_length=20),
                       ocpp: str | None = Query(None, max_length=8), q: str | None = Query(None, max_length=100),
                       after: str | None = Query(None, max_length=48)):
    rows = await DashboardQueries.of(request).stations(PAGE + 1, after, location_id=location_id, status=status or None,
                                             ocpp_version=ocpp or None, text=(q or "").strip() or None)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    locations = await request.app.state.services.locations.find(500)
    return render(request, "stations.html", stations=rows, more=more, next_after=rows[-1].id if more else None,
                  evse_status=evse_status, locations=locations,
                  filters={"location_id": location_id, "status": status or "", "ocpp": ocpp or "", "q": q or ""})


@router.get("/stations/{charge_point_id}", response_class=HTMLResponse)
async def station_page(request: Request, charge_point_id: str, _=auth.viewer_page,
                       action: str | None = Query(None, max_length=64)):
    return await show_station(request, charge_point_id, action)


async def show_station(request: Request, charge_point_id: str, action: str | None = None, status_code: int = 200,
                       circuit_errors: dict | None = None):
    """The station page; ``circuit_errors``: why the circuit form was refused (circuits.py)."""
    services = request.app.state.services
    cp = await services.stations.get(charge_point_id)
    timeline = await services.stations.status_history(charge_point_id, 30)
    commands = await services.commands.history(charge_point_id, 15)
    sessions = await DashboardQueries.of(request).station_sessions(charge_point_id, 15)
    frames = await _frames(request, charge_point_id, action)
    refusals = await _refusals(request, charge_point_id)
    active = [s for s in sessions if s.stopped_at is None]
    circuits = await services.load.find(500) if services.load is not None else []
    errors = (await services.catalogue.current_errors([cp]))[cp.id]  # decoded by the catalogue (catalogue/)
    model = await services.catalogue.get_model(cp.model_id) if cp.model_id is not None else None
    downtime = await services.downtime.recent(cp.id)  # the last 30 days (downtime/)
    return render(request, "station.html", status_code=status_code, cp=cp, timeline=timeline, commands=commands,
                  sessions=sessions, active=active, frames=frames, refusals=refusals, action=action or "",
                  buttons=BUTTONS, evse_status=evse_status, circuits=circuits, circuit_errors=circuit_errors or {},
                  station_errors=errors, model=model, downtime=downtime)


async def _frames(request: Request, charge_point_id: str, action: str | None):
    """The station's recent OCPP frames, where the gateway keeps them (docs/dashboard.md)."""
    runtime = request.app.state.runtime
    frames = getattr(runtime, "frames", None)
    return await frames(charge_point_id, action=action or None, limit=100) if frames else None


async def _refusals(request: Request, charge_point_id: str):
    diagnostics = getattr(request.app.state.services, "diagnostics", None)
    return await diagnostics.find(limit=20, charge_point_id=charge_point_id) if diagnostics else None


def _params(name: str, form) -> dict:
    """The command's parameters from its form: empty fields left out, numbers and flags typed."""
    params = {}
    for field in BUTTONS[name][1]:
        value = (form.get(field) or "").strip()
        if not value:
            continue
        if field in ("evse", "session_id"):
            if not value.isdigit():
                raise Invalid(f"{field} must be a number, not {value[:20]!r}")
            value = int(value)
        elif field == "operative":
            value = value == "true"
        params[field] = value
    return params


@router.post("/stations/{charge_point_id}/commands/{name}")
async def send_command(request: Request, charge_point_id: str, name: str, _=auth.operator_action):
    if name not in BUTTONS:
        raise Invalid(f"no such button: {name}")
    params = _params(name, await request.form())
    # Not waited for: the station page shows it pending, and its answer live.
    record = await request.app.state.services.commands.submit(charge_point_id, name, params, wait=False)
    return RedirectResponse(f"/stations/{charge_point_id}?sent={record.id}#commands", status_code=303)
