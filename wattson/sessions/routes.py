"""HTTP endpoints for charging sessions."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.sessions.schemas import SessionDetail, SessionOut
from wattson.sessions.service import SessionFilter

router = APIRouter(prefix="/api/v1", tags=["sessions"])


@router.get("/sessions", response_model=Page[SessionOut], dependencies=[auth.viewer])
async def list_sessions(request: Request, charge_point_id: str | None = Query(None, max_length=48),
                        status: Literal["active", "finished"] | None = None,
                        id_tag: str | None = Query(None, max_length=36),
                        limit: int = Limit, cursor: str | None = CursorParam):
    """Sessions, newest first."""
    where = SessionFilter(charge_point_id=charge_point_id, status=status, id_tag=id_tag)
    rows = await request.app.state.services.sessions.find(where, limit + 1, pagination.decode(cursor, datetime, int))
    return pagination.page(rows, limit, lambda s: (s.started_at, s.id))


@router.get("/sessions/{session_id}", response_model=SessionDetail, dependencies=[auth.viewer])
async def get_session(request: Request, session_id: int):
    """A session with its meter values in time order."""
    sessions = request.app.state.services.sessions
    session = await sessions.get(session_id)
    return SessionDetail.model_validate(
        {**SessionOut.model_validate(session).model_dump(), "meter_values": await sessions.meter_values(session_id)})
