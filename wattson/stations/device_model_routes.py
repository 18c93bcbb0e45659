"""HTTP endpoint for the OCPP 2.x device model a station reported."""

from datetime import datetime

from fastapi import APIRouter, Path, Query, Request

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID
from wattson.stations.schemas import IDENTITY_PATTERN, Out

router = APIRouter(prefix="/api/v1", tags=["charge points"])


class DeviceVariableOut(Out):
    id: int
    component: str
    component_instance: str | None
    evse: int | None
    connector: int | None
    variable: str
    variable_instance: str | None
    attribute_type: str
    value: str | None
    mutability: str | None
    persistent: bool | None
    constant: bool | None
    data_type: str | None
    unit: str | None
    min_limit: float | None
    max_limit: float | None
    values_list: str | None
    supports_monitoring: bool | None
    source: str
    updated_at: datetime


@router.get("/charge-points/{charge_point_id}/variables", response_model=Page[DeviceVariableOut],
            dependencies=[auth.viewer])
async def device_variables(
    request: Request, charge_point_id: str = Path(pattern=IDENTITY_PATTERN), limit: int = Limit,
    cursor: str | None = CursorParam,
    component: str | None = Query(None, max_length=50, description="e.g. OCPPCommCtrlr"),
    variable: str | None = Query(None, max_length=50, description="e.g. HeartbeatInterval"),
    evse: int | None = Query(None, ge=0, le=MAX_ID),
):
    """The station's OCPP 2.x device model as last reported (get-base-report, get-report) or read
    and written (get-variables, set-variables): one item per attribute. Empty for OCPP 1.6
    stations, whose configuration is read with get-configuration."""
    services = request.app.state.services
    await services.stations.get(charge_point_id)
    after = pagination.decode(cursor, int)
    rows = await services.device_model.find(charge_point_id, limit + 1, after[0] if after else None,
                                            component=component, variable=variable, evse=evse)
    return pagination.page(rows, limit, lambda row: (row.id,))
