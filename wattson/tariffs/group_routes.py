"""HTTP endpoints for tariff groups (a named set of tariffs assigned together) and tariff snapshots
(the tariff as a session took it at its start)."""

from fastapi import APIRouter, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID
from wattson.tariffs.group_schemas import (TariffGroupAssignmentCreate, TariffGroupAssignmentOut, TariffGroupBody,
                                           TariffGroupOut, TariffSnapshotOut)
from wattson.tariffs.groups import TariffGroupService
from wattson.tariffs.schemas import TARIFF_ID
from wattson.tariffs.snapshots import TariffSnapshotService

router = APIRouter(prefix="/api/v1", tags=["tariffs"])
GroupId = Path(ge=1, le=MAX_ID, description="The tariff group's id.")


def _groups(request: Request) -> TariffGroupService:
    return request.app.state.services.tariff_groups


def _entries(body: TariffGroupBody) -> list[dict]:
    return [t.model_dump() for t in body.tariffs]


@router.post("/tariff-groups", status_code=201, response_model=TariffGroupOut, dependencies=[auth.operator])
async def create_tariff_group(request: Request, body: TariffGroupBody):
    """A named set of tariffs assigned together: for everyone or one driver group, regular or ad
    hoc, in order of precedence. It applies where it is assigned (`POST
    /tariff-groups/{id}/assignments`) and at EVSEs naming it (`tariff_group_id`); a tariff assigned
    on its own at the same place comes first (docs/pricing.md, "Tariff groups"). 409 when the name
    is taken, 422 when a tariff or driver group does not exist."""
    return await _groups(request).create(body.name, body.description, _entries(body))


@router.get("/tariff-groups", response_model=Page[TariffGroupOut], dependencies=[auth.viewer])
async def list_tariff_groups(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                             tariff_id: str | None = Query(None, pattern=TARIFF_ID,
                                                           description="Groups holding this tariff."),
                             driver_group_id: int | None = Query(None, ge=1, le=MAX_ID, description=(
                                 "Groups with a tariff for this driver group, or assigned for it.")),
                             location_id: int | None = Query(None, ge=1, le=MAX_ID,
                                                             description="Groups assigned at this location."),
                             charge_point_id: str | None = Query(None, min_length=1, max_length=48,
                                                                 pattern=r"^[^\x00]*$",
                                                                 description="Groups assigned at this charge point."),
                             name: str | None = Query(None, max_length=255, pattern=r"^[^\x00]*$",
                                                      description="Part of the name, any case.")):
    """Tariff groups by id."""
    after = pagination.decode(cursor, int)
    rows = await _groups(request).find(limit + 1, after[0] if after else None, tariff_id=tariff_id,
                                       driver_group_id=driver_group_id, location_id=location_id,
                                       charge_point_id=charge_point_id, name=name)
    return pagination.page(rows, limit, lambda g: (g.id,))


@router.get("/tariff-groups/{group_id}", response_model=TariffGroupOut, dependencies=[auth.viewer])
async def get_tariff_group(request: Request, group_id: int = GroupId):
    return await _groups(request).get(group_id)


@router.put("/tariff-groups/{group_id}", response_model=TariffGroupOut, dependencies=[auth.operator])
async def replace_tariff_group(request: Request, body: TariffGroupBody, group_id: int = GroupId):
    """Replace the group's name, description and tariffs; where it applies stays. Sessions already
    begun keep the tariff they took."""
    return await _groups(request).replace(group_id, body.name, body.description, _entries(body))


@router.delete("/tariff-groups/{group_id}", status_code=204, response_class=Response, dependencies=[auth.operator])
async def delete_tariff_group(request: Request, group_id: int = GroupId):
    """Delete a group; 409 while an assignment or an EVSE names it."""
    await _groups(request).delete(group_id)
    return Response(status_code=204)


@router.post("/tariff-groups/{group_id}/assignments", status_code=201, response_model=TariffGroupAssignmentOut,
             dependencies=[auth.operator])
async def assign_tariff_group(request: Request, body: TariffGroupAssignmentCreate, group_id: int = GroupId):
    """Apply the group at a location or a charge point, for everyone or one driver group, or for a
    driver group across the network. 409 when a group is assigned for that place and driver group
    already."""
    return await _groups(request).assign(group_id, **body.model_dump())


@router.delete("/tariff-groups/{group_id}/assignments/{assignment_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator])
async def unassign_tariff_group(request: Request, group_id: int = GroupId,
                                assignment_id: int = Path(ge=1, le=MAX_ID)):
    await _groups(request).unassign(group_id, assignment_id)
    return Response(status_code=204)


# --- snapshots -----------------------------------------------------------------------------------
def _snapshots(request: Request) -> TariffSnapshotService:
    return request.app.state.services.tariff_snapshots


@router.get("/tariff-snapshots", response_model=Page[TariffSnapshotOut], dependencies=[auth.viewer])
async def list_tariff_snapshots(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                                tariff_id: str | None = Query(None, pattern=TARIFF_ID,
                                                              description="The versions of this tariff.")):
    """Tariff versions sessions took, in the order they were first taken."""
    after = pagination.decode(cursor, int)
    rows = await _snapshots(request).find(limit + 1, after[0] if after else None, tariff_id=tariff_id)
    return pagination.page(rows, limit, lambda x: (x.id,))


@router.get("/tariff-snapshots/{snapshot_id}", response_model=TariffSnapshotOut, dependencies=[auth.viewer])
async def get_tariff_snapshot(request: Request, snapshot_id: int = Path(ge=1, le=MAX_ID)):
    """The tariff as it was when a session started (the session's `tariff_snapshot_id`): what
    priced it, whatever became of the tariff since."""
    return await _snapshots(request).get(snapshot_id)
