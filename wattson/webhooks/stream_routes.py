"""``GET /api/v1/events/stream``: the webhook catalogue's events as Server-Sent Events, for the
dashboard and scripts; an API key (any role) or a dashboard login admits (docs/webhooks.md)."""

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wattson.api import auth
from wattson.dashboard.auth import current_login
from wattson.errors import Invalid
from wattson.webhooks import catalogue
from wattson.webhooks.stream import Feed, Filter, stream

router = APIRouter(prefix="/api/v1", tags=["webhooks"])
_bearer = HTTPBearer(auto_error=False, description="An API key, any role; or the dashboard's login cookie.")
_viewer_key = auth.require("viewer")


async def _admitted(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """An API key of any role when one is sent (a wrong one is refused, not tried as a login),
    else a live dashboard login."""
    if credentials is not None:
        await _viewer_key(request, credentials)
    elif await current_login(request) is None:
        raise HTTPException(401, "missing API key: send Authorization: Bearer <key> (or log in to the dashboard)",
                            headers={"WWW-Authenticate": "Bearer"})


def _filter(types: str | None, charge_point_id: str | None) -> Filter:
    names = None
    if types is not None:
        names = [t.strip() for t in types.split(",") if t.strip()]
        unknown = catalogue.unknown(names)
        if unknown:
            raise Invalid(f"unknown event type: {', '.join(unknown)}",
                          [{"field": "types", "message": f"not in the catalogue: {t}"} for t in unknown])
        if not names or catalogue.ALL in names:
            names = None
    return Filter(frozenset(names) if names is not None else None, charge_point_id)


def _resume(last_event_id: str | None, after: int | None) -> int | None:
    """Where to resume: the header the browser sends on reconnecting wins over ``?after=``."""
    if last_event_id is None or not last_event_id.strip():
        return after
    if not last_event_id.strip().isdigit() or len(last_event_id.strip()) > 18:
        raise Invalid("Last-Event-ID must be the id: of an event this stream sent (a whole number)",
                      [{"field": "Last-Event-ID", "message": "a whole number"}])
    return int(last_event_id)


def _feed(request: Request) -> Feed:
    state = request.app.state
    if not hasattr(state, "event_feed"):
        state.event_feed = Feed(state.services.db, state.runtime.settings.event_stream_poll_s)
    return state.event_feed


@router.get("/events/stream", dependencies=[Depends(_admitted)],
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`id: <n>` and `data: {\"id\": \"evt_…\", \"type\", \"created_at\", "
                                            "\"data\"}` per event; `: keep-alive` comments in between."}})
async def event_stream(
    request: Request,
    types: str | None = Query(None, max_length=2000, description="Comma-separated event types (the catalogue of "
                                                                 "GET /api/v1/webhooks/event-types); unset: all."),
    charge_point_id: str | None = Query(None, min_length=1, max_length=100,
                                        description="Only events of this station."),
    after: int | None = Query(None, ge=0, description="Resume after this event id (the SSE `id:`); the "
                                                      "Last-Event-ID header, when sent, wins."),
    last_event_id: str | None = Header(None, max_length=40, include_in_schema=False),
):
    """Server-Sent Events of the webhook catalogue, newest as they happen, in order: each
    message's `id:` is the event's position (reconnect with `Last-Event-ID` to miss nothing the
    outbox still keeps), its `data:` the event as a webhook delivery carries it."""
    wanted, start = _filter(types, charge_point_id), _resume(last_event_id, after)
    settings = request.app.state.runtime.settings
    return StreamingResponse(stream(_feed(request), wanted, start, request.is_disconnected,
                                    settings.event_stream_keepalive_s),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
