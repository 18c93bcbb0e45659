"""HTTP endpoints for circuits: the tree, its unmanaged load and its live load."""

from fastapi import APIRouter, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID
from wattson.loadmgmt.schemas import CircuitCreate, CircuitLoad, CircuitOut, CircuitUpdate, PostedLoad

router = APIRouter(prefix="/api/v1", tags=["circuits"])
CircuitId = Path(ge=1, le=MAX_ID, description="The circuit's id.")


def _load(request: Request):
    return request.app.state.services.load


@router.post("/circuits", status_code=201, response_model=CircuitOut, dependencies=[auth.operator])
async def create_circuit(request: Request, body: CircuitCreate):
    """Add a circuit: a grid connection (no `parent_id`) or a part of one, with its limit per phase
    (`max_current_a`). Place charge points on it with `PATCH /charge-points/{id} {"circuit_id"}`,
    single EVSEs with `PATCH /evses/{id} {"circuit_id"}` (docs/smart-charging.md)."""
    return await _load(request).create(**body.model_dump(exclude_unset=True, by_alias=True))


@router.get("/circuits", response_model=Page[CircuitOut], dependencies=[auth.viewer])
async def list_circuits(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                        parent_id: int | None = Query(None, ge=1, le=MAX_ID, description="Only its sub-circuits."),
                        location_id: int | None = Query(None, ge=1, le=MAX_ID),
                        roots: bool = Query(False, description="Only grid connections (circuits without a parent).")):
    """Circuits by id, each with its sub-circuits' ids and what is placed on it."""
    after = pagination.decode(cursor, int)
    rows = await _load(request).find(limit + 1, after[0] if after else None, parent_id=parent_id,
                                     location_id=location_id, roots=roots)
    return pagination.page(rows, limit, lambda circuit: (circuit.id,))


@router.get("/circuits/{circuit_id}", response_model=CircuitOut, dependencies=[auth.viewer])
async def get_circuit(request: Request, circuit_id: int = CircuitId):
    return await _load(request).get(circuit_id)


@router.patch("/circuits/{circuit_id}", response_model=CircuitOut, dependencies=[auth.operator])
async def update_circuit(request: Request, body: CircuitUpdate, circuit_id: int = CircuitId):
    """Change only the fields sent; null clears a nullable field. A parent that is the circuit
    itself or below it is refused (422)."""
    return await _load(request).update(circuit_id, **body.model_dump(exclude_unset=True, by_alias=True))


@router.delete("/circuits/{circuit_id}", status_code=204, response_class=Response, dependencies=[auth.operator])
async def delete_circuit(request: Request, circuit_id: int = CircuitId):
    """Delete a circuit; 409 while it has sub-circuits. Charge points and EVSEs on it are left
    unplaced (their `circuit_id` becomes null) and no longer managed."""
    await _load(request).delete(circuit_id)
    return Response(status_code=204)


@router.post("/circuits/{circuit_id}/unmanaged-load", response_model=CircuitOut, dependencies=[auth.operator])
async def post_unmanaged_load(request: Request, body: PostedLoad, circuit_id: int = CircuitId):
    """A reading of load Wattson does not control on this circuit (a building, a heat pump), from
    another system: counted for `valid_s` seconds on top of the fixed and scheduled unmanaged load,
    then stale and left out. A newer station meter reading of the circuit wins over it."""
    return await _load(request).post_unmanaged(circuit_id, body.current_a, body.valid_s)


@router.get("/circuits/{circuit_id}/load", response_model=CircuitLoad, dependencies=[auth.viewer])
async def circuit_load(request: Request, circuit_id: int = CircuitId):
    """The live load of a circuit and everything below it: per phase its limit, unmanaged load,
    allocated and drawn current; per charging EVSE its limit and what it draws."""
    return await _load(request).load(circuit_id)
