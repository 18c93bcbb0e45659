"""Connection diagnostics: every refused handshake with its reason and what to do about it, and
the connects and disconnects around it, so an installer on the phone with a technician sees why a
station cannot connect. Unknown identities trying to connect can be registered from here."""

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wattson.api import pagination
from wattson.dashboard import auth
from wattson.dashboard.render import render
from wattson.dashboard.service import DashboardQueries
from wattson.diagnostics import rules
from wattson.errors import Invalid
from wattson.stations.identity import identity_problem

router = APIRouter(include_in_schema=False)
PAGE = 50
WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}


@router.get("/diagnostics", response_class=HTMLResponse)
async def diagnostics(request: Request, _=auth.viewer_page,
                      charge_point_id: str | None = Query(None, max_length=100),
                      kind: str | None = Query(None, max_length=16), reason: str | None = Query(None, max_length=40),
                      window: str = Query("24h", max_length=4), after: str | None = Query(None, max_length=200)):
    since = datetime.now(timezone.utc) - WINDOWS.get(window, WINDOWS["24h"])
    cursor = pagination.decode(after, datetime, int) if after else None
    rows = await request.app.state.services.diagnostics.find(
        PAGE + 1, cursor, charge_point_id=(charge_point_id or "").strip() or None, reason=reason or None,
        kind=kind if kind in rules.KINDS else None, since=since)
    more, rows = len(rows) > PAGE, rows[:PAGE]
    q = DashboardQueries.of(request)
    return render(request, "diagnostics.html", rows=rows, summary=await q.connection_summary(since),
                  unknown=await q.unknown_identities(since), reasons=sorted(rules.REASONS), kinds=rules.KINDS,
                  windows=WINDOWS, filters={"charge_point_id": charge_point_id or "", "kind": kind or "",
                                            "reason": reason or "", "window": window},
                  next_after=pagination.encode(rows[-1].last_at, rows[-1].id) if more else None)


@router.post("/diagnostics/register")
async def register(request: Request, charge_point_id: str = Form(..., max_length=48), _=auth.operator_action):
    """Register an identity that was refused as unknown; the station gets in at its next attempt."""
    identity = charge_point_id.strip()
    if problem := identity_problem(identity):
        raise Invalid(problem)
    await request.app.state.services.stations.create(identity)
    return RedirectResponse(f"/stations/{quote(identity, safe='')}", status_code=303)
