"""Circuit pages: the tree of circuits with each phase's live load as a bar, a circuit with its
figures per phase and the allocation per charging EVSE, and the forms that create and edit
circuits and place a charge point on one. Everything goes through the load service
(``loadmgmt/service.py``) and the station service, checked by the API's own request models."""

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wattson.api.types import MAX_ID
from wattson.dashboard import auth, charts, forms
from wattson.dashboard.forms import FormErrors
from wattson.dashboard.render import render
from wattson.dashboard.stations import show_station
from wattson.errors import WattsonError
from wattson.loadmgmt.schemas import CircuitCreate, CircuitUpdate
from wattson.loadmgmt.service import STRATEGIES
from wattson.stations.schemas import ChargePointUpdate

router = APIRouter(include_in_schema=False)
CircuitId = Path(ge=1, le=MAX_ID)
#: The most circuits the list shows; each shown is one live-load look-up.
SHOWN = 100
#: The fields of the circuit form, in its order.
FIELDS = ("name", "max_current_a", "phases", "safety_margin_a", "parent_id", "strategy", "unmanaged_fixed_a")
#: Emptied in the form, these mean 0 (not "unchanged").
ZERO_WHEN_EMPTY = ("safety_margin_a", "unmanaged_fixed_a")
DEFAULTS = {"phases": 3, "strategy": "equal", "safety_margin_a": 0, "unmanaged_fixed_a": 0}


def _load(request: Request):
    return request.app.state.services.load


def tree(circuits) -> list[tuple[int, object]]:
    """The circuits depth first, each with its depth (0: a grid connection), siblings by id. A
    circuit whose parent is not among them is shown as a root, so none is ever left out."""
    ids = {c.id for c in circuits}
    children: dict[int | None, list] = {}
    for circuit in sorted(circuits, key=lambda c: c.id):
        parent = circuit.parent_id if circuit.parent_id in ids else None
        children.setdefault(parent, []).append(circuit)
    out: list[tuple[int, object]] = []
    stack = [(0, c) for c in reversed(children.get(None, []))]
    while stack:
        depth, circuit = stack.pop()
        out.append((depth, circuit))
        stack.extend((depth + 1, c) for c in reversed(children.get(circuit.id, [])))
    return out


def evse_state(evse: dict) -> str:
    """How an EVSE of a circuit's live load stands: refused (its station refused the profile: it
    is counted at its maximum), paused (allocated 0) or managed."""
    if not evse["managed"]:
        return "refused"
    return "paused" if evse["limit_a"] <= 0 else "managed"


def bars(load: dict) -> list[tuple[dict, str]]:
    """Each phase of a circuit's live load with its bar."""
    return [(p, charts.phase_bar(p["limit_a"], p["unmanaged_a"], p["allocated_a"], p["drawn_a"], f"L{p['phase']}"))
            for p in load["phases"]]


def circuit_body(data: dict, model):
    """The form as ``model`` (CircuitCreate or CircuitUpdate): name and limit are required, an
    empty margin or unmanaged load is 0, an empty parent makes a grid connection."""
    data = dict(data)
    missing = {name: "required" for name in ("name", "max_current_a") if not data.get(name)}
    if missing:
        raise FormErrors(missing)
    for name in ZERO_WHEN_EMPTY:
        data[name] = data.get(name) or "0"
    if data.get("phases") in ("1", "3"):
        data["phases"] = int(data["phases"])  # the model's Literal[1, 3] takes no text
    body = forms.checked(model, data, clearable=("parent_id",) if model is CircuitUpdate else ())
    return body.model_dump(exclude_unset=True, by_alias=True)


# --- the list --------------------------------------------------------------------------------
@router.get("/circuits", response_class=HTMLResponse)
async def circuit_list(request: Request, _=auth.viewer_page):
    return await _circuit_list(request)


async def _circuit_list(request: Request, errors=None, values=None, status_code=200):
    rows = await _load(request).find(SHOWN + 1)
    more = len(rows) > SHOWN
    rows = rows[:SHOWN]
    loads = {c.id: bars(await _load(request).load(c.id)) for c in rows}
    return render(request, "circuits.html", status_code=status_code, rows=tree(rows), loads=loads, more=more,
                  circuits=rows, strategies=STRATEGIES, errors=errors or {}, values=values or dict(DEFAULTS))


@router.post("/circuits")
async def create_circuit(request: Request, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        circuit = await _load(request).create(**circuit_body(data, CircuitCreate))
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _circuit_list(request, errors=errors, values=data, status_code=status)
    return RedirectResponse(f"/circuits/{circuit.id}", status_code=303)


# --- a circuit -------------------------------------------------------------------------------
@router.get("/circuits/{circuit_id}", response_class=HTMLResponse)
async def circuit_page(request: Request, circuit_id: int = CircuitId, _=auth.viewer_page):
    return await _circuit_page(request, circuit_id)


async def _circuit_page(request: Request, circuit_id: int, errors=None, values=None, status_code=200):
    services = request.app.state.services
    circuit = await _load(request).get(circuit_id)
    load = await _load(request).load(circuit_id)
    others = [c for c in await _load(request).find(500) if c.id != circuit_id]
    names = {c.id: c.name for c in others} | {circuit.id: circuit.name}
    own_evses = [await services.stations.get_evse(evse_id) for evse_id in circuit.evse_ids[:50]]
    return render(request, "circuit.html", status_code=status_code, circuit=circuit, load=load, bars=bars(load),
                  evse_state=evse_state, names=names, others=others, own_evses=own_evses, strategies=STRATEGIES,
                  errors=errors or {}, values=values or {name: getattr(circuit, name) for name in FIELDS})


@router.post("/circuits/{circuit_id}")
async def update_circuit(request: Request, circuit_id: int = CircuitId, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        await _load(request).update(circuit_id, **circuit_body(data, CircuitUpdate))
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _circuit_page(request, circuit_id, errors=errors, values=data, status_code=status)
    return RedirectResponse(f"/circuits/{circuit_id}?saved=1", status_code=303)


@router.post("/circuits/{circuit_id}/delete")
async def delete_circuit(request: Request, circuit_id: int = CircuitId, _=auth.operator_action):
    """Refused (409, with the reason on the page) while it has sub-circuits; what was placed on it
    is left unplaced."""
    await _load(request).delete(circuit_id)
    return RedirectResponse("/circuits", status_code=303)


# --- placing a charge point ------------------------------------------------------------------
@router.post("/stations/{charge_point_id}/circuit")
async def place_station(request: Request, charge_point_id: str, _=auth.operator_action):
    """Put the station on the chosen circuit (empty: take it off), as ``PATCH /charge-points/{id}
    {"circuit_id"}`` does; a refusal is shown beside the select on the station page."""
    data = await forms.fields(request)
    try:
        body = forms.checked(ChargePointUpdate, {"circuit_id": data.get("circuit_id", "")}, clearable=("circuit_id",))
        await request.app.state.services.stations.update(charge_point_id, **body.model_dump(exclude_unset=True))
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await show_station(request, charge_point_id, status_code=status, circuit_errors=errors)
    return RedirectResponse(f"/stations/{charge_point_id}?placed=1#circuit", status_code=303)
