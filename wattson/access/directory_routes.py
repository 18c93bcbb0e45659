"""HTTP endpoints for drivers, groups and access rights, and who may charge at a charger."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AfterValidator

from wattson.access.directory import DriverFilter
from wattson.api.types import MAX_ID, no_nul
from wattson.access.schemas import (
    AccessRightCreate, AccessRightOut, AuthorizedDrivers, ChargerGroupOut, DriverCreate, DriverGroupOut,
    DriverGroupCreate, DriverGroupUpdate, DriverOut, DriverUpdate, GroupCreate, GroupUpdate,
)
from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page

router = APIRouter(prefix="/api/v1", tags=["drivers and access"])

GroupId = Annotated[int, Path(ge=1, le=MAX_ID, description="The group's id.")]
DriverId = Annotated[int, Path(ge=1, le=MAX_ID, description="The driver's id.")]
RightId = Annotated[int, Path(ge=1, le=MAX_ID, description="The access right's id.")]
CpId = Annotated[str, Path(pattern=r"^[^/\s\x00]{1,48}$", description="The charge point's OCPP identity.")]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
ExternalIdFilter = Annotated[str | None, Query(max_length=100, description="Exact match."), AfterValidator(no_nul)]


def _directory(request: Request):
    return request.app.state.services.directory


def _after(cursor: str | None) -> int | None:
    key = pagination.decode(cursor, int)
    return key[0] if key else None


def _page(rows: list, limit: int) -> dict:
    return pagination.page(rows, limit, lambda row: (row["id"] if isinstance(row, dict) else row.id,))


def _no_content() -> Response:
    return Response(status_code=204)


# --- driver groups ------------------------------------------------------------------------
@router.post("/driver-groups", status_code=201, response_model=DriverGroupOut, dependencies=[auth.operator])
async def create_driver_group(request: Request, body: DriverGroupCreate):
    """A group of drivers: the access rights of a driver are those of their home group;
    `charging_priority` orders their sessions on a circuit (docs/smart-charging.md)."""
    return await _directory(request).create_driver_group(body.name, body.external_id, body.charging_priority)


@router.get("/driver-groups", response_model=Page[DriverGroupOut], dependencies=[auth.viewer])
async def list_driver_groups(request: Request, external_id: ExternalIdFilter = None, limit: int = Limit,
                             cursor: str | None = CursorParam):
    rows = await _directory(request).list_driver_groups(limit + 1, _after(cursor), external_id)
    return _page(rows, limit)


@router.get("/driver-groups/{group_id}", response_model=DriverGroupOut, dependencies=[auth.viewer])
async def get_driver_group(request: Request, group_id: GroupId):
    return await _directory(request).get_driver_group(group_id)


@router.patch("/driver-groups/{group_id}", response_model=DriverGroupOut, dependencies=[auth.operator])
async def update_driver_group(request: Request, group_id: GroupId, body: DriverGroupUpdate):
    return await _directory(request).update_driver_group(group_id, body.model_dump(exclude_unset=True))


@router.delete("/driver-groups/{group_id}", status_code=204, dependencies=[auth.operator])
async def delete_driver_group(request: Request, group_id: GroupId):
    """Its access rights are deleted with it; its drivers stay, with no home group."""
    await _directory(request).delete_driver_group(group_id)
    return _no_content()


# --- charger groups -----------------------------------------------------------------------
@router.post("/charger-groups", status_code=201, response_model=ChargerGroupOut, dependencies=[auth.operator])
async def create_charger_group(request: Request, body: GroupCreate):
    """A group of chargers. A charger in no group is open to every valid tag; one in groups admits the
    drivers whose home group has an access right to one of them."""
    return await _directory(request).create_charger_group(body.name, body.external_id)


@router.get("/charger-groups", response_model=Page[ChargerGroupOut], dependencies=[auth.viewer])
async def list_charger_groups(request: Request, external_id: ExternalIdFilter = None,
                              charge_point_id: Annotated[str | None, Query(
                                  max_length=48, description="Only the groups this charger is in."),
                                  AfterValidator(no_nul)] = None,
                              limit: int = Limit, cursor: str | None = CursorParam):
    rows = await _directory(request).list_charger_groups(limit + 1, _after(cursor), external_id, charge_point_id)
    return _page(rows, limit)


@router.get("/charger-groups/{group_id}", response_model=ChargerGroupOut, dependencies=[auth.viewer])
async def get_charger_group(request: Request, group_id: GroupId):
    return await _directory(request).get_charger_group(group_id)


@router.patch("/charger-groups/{group_id}", response_model=ChargerGroupOut, dependencies=[auth.operator])
async def update_charger_group(request: Request, group_id: GroupId, body: GroupUpdate):
    return await _directory(request).update_charger_group(group_id, body.model_dump(exclude_unset=True))


@router.delete("/charger-groups/{group_id}", status_code=204, dependencies=[auth.operator])
async def delete_charger_group(request: Request, group_id: GroupId):
    """Its memberships and access rights are deleted with it; the chargers stay."""
    await _directory(request).delete_charger_group(group_id)
    return _no_content()


@router.put("/charger-groups/{group_id}/charge-points/{charge_point_id}", response_model=ChargerGroupOut,
            dependencies=[auth.operator])
async def add_charge_point(request: Request, group_id: GroupId, charge_point_id: CpId):
    """Put a charger in the group (already there: no change). The group, with its chargers."""
    return await _directory(request).add_charge_point(group_id, charge_point_id)


@router.delete("/charger-groups/{group_id}/charge-points/{charge_point_id}", response_model=ChargerGroupOut,
               dependencies=[auth.operator])
async def remove_charge_point(request: Request, group_id: GroupId, charge_point_id: CpId):
    """Take a charger out of the group (404 if it is not in it). The group, with its chargers."""
    return await _directory(request).remove_charge_point(group_id, charge_point_id)


# --- drivers ------------------------------------------------------------------------------
@router.post("/drivers", status_code=201, response_model=DriverOut, dependencies=[auth.operator])
async def create_driver(request: Request, body: DriverCreate):
    """A driver; link tags to them with the id token's ``driver_id``."""
    return await _directory(request).create_driver(body.name, body.email, body.external_id, body.home_group_id)


@router.get("/drivers", response_model=Page[DriverOut], dependencies=[auth.viewer])
async def list_drivers(request: Request, home_group_id: IdFilter = None, external_id: ExternalIdFilter = None,
                       email: Annotated[str | None, Query(max_length=255, description="Case-insensitive."),
                                        AfterValidator(no_nul)] = None,
                       limit: int = Limit, cursor: str | None = CursorParam):
    """Drivers in id order, each with their home group and tags; the filters given narrow the list."""
    where = DriverFilter(home_group_id=home_group_id, external_id=external_id, email=email)
    return _page(await _directory(request).list_drivers(where, limit + 1, _after(cursor)), limit)


@router.get("/drivers/{driver_id}", response_model=DriverOut, dependencies=[auth.viewer])
async def get_driver(request: Request, driver_id: DriverId):
    return await _directory(request).get_driver(driver_id)


@router.patch("/drivers/{driver_id}", response_model=DriverOut, dependencies=[auth.operator])
async def update_driver(request: Request, driver_id: DriverId, body: DriverUpdate):
    """Change the fields sent; null clears email, external_id or home_group_id."""
    return await _directory(request).update_driver(driver_id, body.model_dump(exclude_unset=True))


@router.delete("/drivers/{driver_id}", status_code=204, dependencies=[auth.operator])
async def delete_driver(request: Request, driver_id: DriverId):
    """The driver's tags stay, with no driver: they are then admitted at chargers in no group only."""
    await _directory(request).delete_driver(driver_id)
    return _no_content()


# --- access rights ------------------------------------------------------------------------
@router.post("/access-rights", status_code=201, response_model=AccessRightOut, dependencies=[auth.operator])
async def create_access_right(request: Request, body: AccessRightCreate):
    """Let the drivers of a driver group charge at the chargers of a charger group."""
    return await _directory(request).create_access_right(body.driver_group_id, body.charger_group_id)


@router.get("/access-rights", response_model=Page[AccessRightOut], dependencies=[auth.viewer])
async def list_access_rights(request: Request, driver_group_id: IdFilter = None, charger_group_id: IdFilter = None,
                             limit: int = Limit, cursor: str | None = CursorParam):
    rows = await _directory(request).list_access_rights(limit + 1, _after(cursor), driver_group_id, charger_group_id)
    return _page(rows, limit)


@router.get("/access-rights/{right_id}", response_model=AccessRightOut, dependencies=[auth.viewer])
async def get_access_right(request: Request, right_id: RightId):
    return await _directory(request).get_access_right(right_id)


@router.delete("/access-rights/{right_id}", status_code=204, dependencies=[auth.operator])
async def delete_access_right(request: Request, right_id: RightId):
    await _directory(request).delete_access_right(right_id)
    return _no_content()


# --- who may charge where -----------------------------------------------------------------
@router.get("/charge-points/{charge_point_id}/authorized-drivers", response_model=AuthorizedDrivers,
            dependencies=[auth.viewer])
async def authorized_drivers(request: Request, charge_point_id: CpId, limit: int = Limit,
                             cursor: str | None = CursorParam):
    """The drivers allowed to charge at this charger, in id order, with the access rights that admit
    them and all their tags, whatever their status (a station still refuses a blocked or expired one).
    ``restricted: false``: the charger is in no charger group, so every driver (and every valid tag,
    even one with no driver) may charge there."""
    restricted, rows = await _directory(request).authorized_drivers(charge_point_id, limit + 1, _after(cursor))
    return {**_page(rows, limit), "restricted": restricted}
