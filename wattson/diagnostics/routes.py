"""HTTP endpoints for the installer: why a station could not connect, and its last OCPP frames."""

from datetime import datetime

from fastapi import APIRouter, Path, Query, Request

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import UtcTime
from wattson.diagnostics.rules import KINDS, REASONS
from wattson.diagnostics.schemas import ConnectionEventOut, Kind, OcppLogOut
from wattson.stations.identity import PATTERN as IDENTITY_PATTERN

router = APIRouter(prefix="/api/v1", tags=["connection diagnostics"])
CpId = Path(pattern=IDENTITY_PATTERN, description="The charge point's OCPP identity.")
Reason = Query(None, pattern="^(" + "|".join(REASONS) + ")$",
               description="Only this reason code (docs/operations.md, \"Why can't my station connect?\").")
Since = Query(None, description="Only runs seen at or after this time (ISO 8601).")
KindParam = Query(None, description=f"Only this kind: {', '.join(KINDS)}.")


@router.get("/connection-diagnostics", response_model=Page[ConnectionEventOut], dependencies=[auth.viewer])
async def connection_diagnostics(
    request: Request, limit: int = Limit, cursor: str | None = CursorParam,
    charge_point_id: str | None = Query(None, max_length=100, description="The station id as the station gave it."),
    reason: str | None = Reason, kind: Kind | None = KindParam,
    known: bool | None = Query(None, description="true: registered charge points only; false: unknown ids only."),
    since: UtcTime | None = Since,
):
    """Refused handshakes (with the reason and what to do about it), connections and disconnects
    of every station, known or not, the most recently seen first. Repeats of one outcome from
    one address within 10 minutes are one item with a ``count``."""
    return await _page(request, limit, cursor, charge_point_id=charge_point_id, reason=reason, kind=kind,
                       known=known, since=since)


@router.get("/charge-points/{charge_point_id}/connection-diagnostics", response_model=Page[ConnectionEventOut],
            dependencies=[auth.viewer], tags=["charge points"])
async def station_connection_diagnostics(request: Request, charge_point_id: str = CpId, limit: int = Limit,
                                         cursor: str | None = CursorParam, reason: str | None = Reason,
                                         kind: Kind | None = KindParam, since: UtcTime | None = Since):
    """One station's timeline: "refused: wrong password ×3, then connected", newest first. Also
    for an identity not registered (what it tried is the point), so never a 404."""
    return await _page(request, limit, cursor, charge_point_id=charge_point_id, reason=reason, kind=kind,
                       since=since)


async def _page(request: Request, limit: int, cursor: str | None, **filters) -> dict:
    after = pagination.decode(cursor, datetime, int)
    rows = await request.app.state.services.diagnostics.find(limit + 1, after, **filters)
    return pagination.page(rows, limit, lambda row: (row.last_at, row.id))


@router.get("/charge-points/{charge_point_id}/ocpp-log", response_model=OcppLogOut, dependencies=[auth.viewer],
            tags=["charge points"])
async def ocpp_log(request: Request, charge_point_id: str = CpId,
                   action: str | None = Query(None, min_length=1, max_length=100,
                                              description="Only frames of this action (a reply counts as its "
                                                          "call's), e.g. BootNotification."),
                   limit: int = Query(100, ge=1, le=10_000, description="At most this many frames.")):
    """The station's last OCPP frames in both directions, newest first, from the gateway holding
    (or last holding) its connection; kept in memory, the last WATTSON_OCPP_LOG_FRAMES per
    station, also for a while after it disconnects."""
    services = request.app.state.services
    await services.stations.get(charge_point_id)  # 404 for an unknown station
    return await request.app.state.runtime.frames(charge_point_id, action=action, limit=limit)
