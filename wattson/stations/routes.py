"""HTTP endpoints for charge points, EVSEs, connectors, and what stations report."""

from fastapi import APIRouter, Path, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID
from wattson.stations.schemas import (
    IDENTITY_PATTERN, AdminStatus, ChargePointCreate, ChargePointOut, ChargePointUpdate,
    ConnectorCreate, ConnectorOut, ConnectorUpdate, EvseCreate, EvseOut, EvseUpdate, NetworkStatus, StationEventOut,
    StatusEventOut,
)

router = APIRouter(prefix="/api/v1", tags=["charge points"])
CpId = Path(pattern=IDENTITY_PATTERN, description="The charge point's OCPP identity.")
EvseId = Path(ge=1, le=MAX_ID, description="The EVSE's id in Wattson (not its OCPP number).")
ConnectorId = Path(ge=1, le=MAX_ID, description="The connector's id in Wattson (not its number).")


def _services(request: Request):
    return request.app.state.services


@router.post("/charge-points", status_code=201, response_model=ChargePointOut, dependencies=[auth.operator])
async def create_charge_point(request: Request, body: ChargePointCreate):
    """Register a station so that it may connect. Security profile 1 needs a `password`
    (16 to 40 characters), which the station then sends with HTTP Basic authentication."""
    return await _services(request).stations.create(
        body.id, body.name, body.registration_status, location_id=body.location_id, admin_status=body.admin_status,
        security_profile=body.security_profile, password=body.password)


@router.get("/charge-points", response_model=Page[ChargePointOut], dependencies=[auth.viewer])
async def list_charge_points(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                             location_id: int | None = Query(None, ge=1, le=MAX_ID),
                             network_status: NetworkStatus | None = None, admin_status: AdminStatus | None = None):
    """Stations by id, with their EVSEs and connectors."""
    after = pagination.decode(cursor, str)
    rows = await _services(request).stations.find(limit + 1, after[0] if after else None, location_id=location_id,
                                                  network_status=network_status, admin_status=admin_status)
    page = pagination.page(rows, limit, lambda cp: (cp.id,))
    await _services(request).catalogue.attach_errors(page["data"])  # decoded by the catalogue (catalogue/)
    return page


@router.get("/charge-points/{charge_point_id}", response_model=ChargePointOut, dependencies=[auth.viewer])
async def get_charge_point(request: Request, charge_point_id: str = CpId):
    """The station with its EVSEs and connectors, and its current errors decoded by its vendor's
    error codes (`current_errors`)."""
    cp = await _services(request).stations.get(charge_point_id)
    await _services(request).catalogue.attach_errors([cp])
    return cp


@router.patch("/charge-points/{charge_point_id}", response_model=ChargePointOut, dependencies=[auth.operator])
async def update_charge_point(request: Request, body: ChargePointUpdate, charge_point_id: str = CpId):
    """Change only the fields sent; null clears `name` or detaches from the location. A new
    `registration_status` answers the station's next BootNotification. Security profile 0 forgets
    the password; 1 needs one, unless the station already has one."""
    cp = await _services(request).stations.update(charge_point_id, **body.model_dump(exclude_unset=True))
    await _services(request).catalogue.attach_errors([cp])
    return cp


@router.delete("/charge-points/{charge_point_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator])
async def delete_charge_point(request: Request, charge_point_id: str = CpId):
    """Delete a station with its EVSEs, connectors, status history and commands. 409 while it is
    connected, and when it has sessions (which are never deleted: set `admin_status` instead)."""
    online = await _services(request).commands.bus.is_online(charge_point_id)
    await _services(request).stations.delete(charge_point_id, online=online)
    return Response(status_code=204)


# --- EVSEs and connectors -----------------------------------------------------------------------
@router.post("/charge-points/{charge_point_id}/evses", status_code=201, response_model=EvseOut,
             dependencies=[auth.operator], tags=["EVSEs"])
async def create_evse(request: Request, body: EvseCreate, charge_point_id: str = CpId):
    """Add an EVSE (with its connectors) to a station. 409 if the station has this EVSE number or
    another EVSE has this EVSE ID. Stations also create EVSEs by reporting on them."""
    fields = body.model_dump(exclude={"number", "connectors"})
    return await _services(request).stations.create_evse(
        charge_point_id, body.number, [c.model_dump() for c in body.connectors], **fields)


@router.get("/evses", response_model=Page[EvseOut], dependencies=[auth.viewer], tags=["EVSEs"])
async def list_evses(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                     charge_point_id: str | None = Query(None, pattern=IDENTITY_PATTERN),
                     location_id: int | None = Query(None, ge=1, le=MAX_ID,
                                                     description="EVSEs of the charge points at this location.")):
    """EVSEs by id, with their connectors."""
    after = pagination.decode(cursor, int)
    rows = await _services(request).stations.find_evses(limit + 1, after[0] if after else None,
                                                        charge_point_id=charge_point_id, location_id=location_id)
    return pagination.page(rows, limit, lambda evse: (evse.id,))


@router.get("/evses/{evse_id}", response_model=EvseOut, dependencies=[auth.viewer], tags=["EVSEs"])
async def get_evse(request: Request, evse_id: int = EvseId):
    return await _services(request).stations.get_evse(evse_id)


@router.patch("/evses/{evse_id}", response_model=EvseOut, dependencies=[auth.operator], tags=["EVSEs"])
async def update_evse(request: Request, body: EvseUpdate, evse_id: int = EvseId):
    """Change only the fields sent; null clears a nullable field."""
    return await _services(request).stations.update_evse(evse_id, **body.model_dump(exclude_unset=True))


@router.delete("/evses/{evse_id}", status_code=204, response_class=Response, dependencies=[auth.operator],
               tags=["EVSEs"])
async def delete_evse(request: Request, evse_id: int = EvseId):
    """Delete an EVSE and its connectors; 409 while a session is active on it."""
    await _services(request).stations.delete_evse(evse_id)
    return Response(status_code=204)


@router.post("/evses/{evse_id}/connectors", status_code=201, response_model=ConnectorOut,
             dependencies=[auth.operator], tags=["EVSEs"])
async def create_connector(request: Request, body: ConnectorCreate, evse_id: int = EvseId):
    """Add a connector to an EVSE; 409 if the EVSE has this connector number."""
    fields = body.model_dump(exclude={"number"})
    return await _services(request).stations.create_connector(evse_id, body.number, **fields)


@router.patch("/connectors/{connector_id}", response_model=ConnectorOut, dependencies=[auth.operator],
              tags=["EVSEs"])
async def update_connector(request: Request, body: ConnectorUpdate, connector_id: int = ConnectorId):
    """Change only the fields sent; null clears."""
    return await _services(request).stations.update_connector(connector_id, **body.model_dump(exclude_unset=True))


@router.delete("/connectors/{connector_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator], tags=["EVSEs"])
async def delete_connector(request: Request, connector_id: int = ConnectorId):
    await _services(request).stations.delete_connector(connector_id)
    return Response(status_code=204)


@router.get("/charge-points/{charge_point_id}/status-history", response_model=Page[StatusEventOut],
            dependencies=[auth.viewer])
async def status_history(request: Request, charge_point_id: str = CpId, limit: int = Limit,
                         cursor: str | None = CursorParam):
    """Every status the station reported, newest first."""
    stations = _services(request).stations
    await stations.get(charge_point_id)
    before = pagination.decode(cursor, int)
    rows = await stations.status_history(charge_point_id, limit + 1, before[0] if before else None)
    return pagination.page(rows, limit, lambda e: (e.id,))


@router.get("/charge-points/{charge_point_id}/events", response_model=Page[StationEventOut],
            dependencies=[auth.viewer])
async def station_events(request: Request, charge_point_id: str = CpId, limit: int = Limit,
                         cursor: str | None = CursorParam):
    """Boots, data transfers, firmware and diagnostics progress, unknown transactions; newest first."""
    stations = _services(request).stations
    await stations.get(charge_point_id)
    before = pagination.decode(cursor, int)
    rows = await stations.events(charge_point_id, limit + 1, before[0] if before else None)
    return pagination.page(rows, limit, lambda e: (e.id,))
