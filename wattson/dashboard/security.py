"""The security log: what stations report (SecurityEventNotification), the refused handshakes and
Wattson's own security events (password, profile and certificate changes) on one page, newest
first, read through the SecurityEventService as the API lists them (docs/security.md)."""

from datetime import datetime, timezone

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from wattson.api import pagination
from wattson.api.types import MAX_ID
from wattson.dashboard import auth
from wattson.dashboard.render import render
from wattson.errors import Invalid
from wattson.security_events import rules
from wattson.security_events.service import Filters

router = APIRouter(include_in_schema=False)
PAGE = 50
#: The badge of each severity, in the dashboard's colours.
BADGES = {rules.CRITICAL: "failed", rules.WARNING: "paused", rules.INFO: ""}
OWN_TYPES = (rules.HANDSHAKE_REFUSED, rules.PASSWORD_CHANGED, rules.PROFILE_CHANGED, rules.CERTIFICATE_SIGNED,
             rules.CERTIFICATE_CHANGED, rules.CERTIFICATE_REFUSED, rules.CERTIFICATE_FAILED)


def _text(value: str, name: str, longest: int) -> str | None:
    value = value.strip()
    if len(value) > longest:
        raise ValueError(f"{name}: at most {longest} characters")
    if "\x00" in value:
        raise ValueError(f"{name}: no NUL characters")
    return value or None


def _choice(value: str, name: str, choices: tuple[str, ...]) -> str | None:
    if value and value not in choices:
        raise ValueError(f"{name}: one of {', '.join(choices)}")
    return value or None


def _time(value: str, name: str) -> datetime | None:
    """A time as the form's datetime-local field sends it (or ISO 8601); zone-less means UTC."""
    if not value.strip():
        return None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name}: not a date and time (YYYY-MM-DD HH:MM, UTC)") from None
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at


def filters_of(charge_point_id: str, type: str, source: str, severity: str, since: str, until: str) -> Filters:
    """The page's filters, or ValueError saying which one is wrong."""
    filters = Filters(charge_point_id=_text(charge_point_id, "Station", 100), type=_text(type, "Type", 50),
                      source=_choice(source, "Source", rules.SOURCES),
                      severity=_choice(severity, "Severity", rules.SEVERITIES),
                      since=_time(since, "Since"), until=_time(until, "Until"))
    if filters.since is not None and filters.until is not None and filters.since >= filters.until:
        raise ValueError("Since must be before Until")
    return filters


def _cursor(after: str) -> tuple[datetime, str, int] | None:
    key = pagination.decode(after, datetime, str, int)  # Invalid for a tampered one
    if key is not None and (key[1] not in rules.SOURCES or key[0].tzinfo is None or not 0 <= key[2] <= MAX_ID):
        raise Invalid("invalid cursor")
    return key


@router.get("/security", response_class=HTMLResponse)
async def security(request: Request, _=auth.viewer_page, charge_point_id: str = Query("", max_length=1000),
                   type: str = Query("", max_length=1000), source: str = Query("", max_length=1000),
                   severity: str = Query("", max_length=1000), since: str = Query("", max_length=1000),
                   until: str = Query("", max_length=1000), after: str = Query("", max_length=1000)):
    """Bad filters give the page with what is wrong, not an error page: the form stays to fix them."""
    shown = {"charge_point_id": charge_point_id, "type": type, "source": source, "severity": severity,
             "since": since, "until": until}
    rows, more, problem = [], False, None
    try:
        filters, cursor = filters_of(**shown), _cursor(after)
    except ValueError as error:
        problem = str(error)
    except Invalid:
        problem = "That page link is not one this page made: start again from the newest."
    if problem is None:
        rows = await request.app.state.services.security_events.find(PAGE + 1, cursor, filters)
        more, rows = len(rows) > PAGE, rows[:PAGE]
    return render(request, "security.html", status_code=422 if problem else 200, rows=rows, problem=problem,
                  filters=shown, sources=rules.SOURCES, severities=rules.SEVERITIES, types=OWN_TYPES,
                  badges=BADGES, next_after=pagination.encode(rows[-1].recorded_at, rows[-1].source, rows[-1].row_id)
                  if more else None)
