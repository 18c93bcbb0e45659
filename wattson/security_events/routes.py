"""HTTP endpoint of the security events: one list of what stations report and what Wattson saw."""

from datetime import datetime

from fastapi import APIRouter, Query, Request

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID, UtcTime
from wattson.errors import Invalid
from wattson.security_events.rules import SOURCES
from wattson.security_events.schemas import SecurityEventOut, Severity, Source
from wattson.security_events.service import Filters

router = APIRouter(prefix="/api/v1", tags=["security events"])
NO_NUL = r"^[^\x00]+$"


@router.get("/security-events", response_model=Page[SecurityEventOut], dependencies=[auth.viewer])
async def security_events(
    request: Request, limit: int = Limit, cursor: str | None = CursorParam,
    charge_point_id: str | None = Query(None, min_length=1, max_length=100, pattern=NO_NUL,
                                        description="Only this station's (as the station gave its id)."),
    type: str | None = Query(None, min_length=1, max_length=50, pattern=NO_NUL,
                             description="Only this type: a station's (TamperDetectionActivated, …) or Wattson's "
                                         "own (HandshakeRefused, StationPasswordChanged, SecurityProfileChanged, …)."),
    source: Source | None = Query(None, description="Only from station, connection (refused handshakes) or csms."),
    severity: Severity | None = Query(None, description="Only critical, warning or info events."),
    since: UtcTime | None = Query(None, description="Only events recorded at or after this time (ISO 8601)."),
    until: UtcTime | None = Query(None, description="Only events recorded before this time (ISO 8601)."),
):
    """Security events, newest recorded first: what stations report with SecurityEventNotification
    (OCPP 1.6 security extension and 2.x), refused handshakes (the connection diagnostics, with
    their reason), station password and security profile changes through the API, and certificate
    events. Severity: OCPP's critical events are critical, other station reports and refusals of
    credentials warnings, a lower security profile a warning (docs/security.md)."""
    if since is not None and until is not None and since >= until:
        raise Invalid("since must be before until", [{"field": "until", "message": "must be after since"}])
    after = pagination.decode(cursor, datetime, str, int)
    if after is not None and (after[1] not in SOURCES or after[0].tzinfo is None or not 0 <= after[2] <= MAX_ID):
        raise Invalid("invalid cursor", [{"field": "cursor", "message": "not a cursor this API issued"}])
    filters = Filters(charge_point_id=charge_point_id, type=type, source=source, severity=severity, since=since,
                      until=until)
    rows = await request.app.state.services.security_events.find(limit + 1, after, filters)
    return pagination.page(rows, limit, lambda e: (e.recorded_at, e.source, e.row_id))
