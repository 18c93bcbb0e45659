"""HTTP endpoints for charging sessions."""

import csv
import io
from datetime import datetime
from typing import Literal

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID
from wattson.db import utcnow
from wattson.sessions.meter import ENERGY_REGISTER
from wattson.sessions.periods import POWER, charging_periods, power_summary
from wattson.sessions.query import BASE_FIELDS, EXPORT_MAX_ROWS, ITEM_FIELDS, SessionCriteria
from wattson.sessions.schemas import (ChargingPeriodOut, PowerOut, SessionDetail, SessionOut, SessionQuery,
                                      SessionQueryPage, SessionUpdate, TransactionEventOut, UtcTime)
from wattson.sessions.service import SessionFilter
from wattson.tariffs.schemas import CostOut

#: The measurands charging periods and the power summary are read from.
PERIOD_MEASURANDS = frozenset({ENERGY_REGISTER, POWER})

router = APIRouter(prefix="/api/v1", tags=["sessions"])

_TIME = "ISO 8601; without a zone it is UTC."


@router.get("/sessions", response_model=Page[SessionOut], dependencies=[auth.viewer])
async def list_sessions(
        request: Request,
        charge_point_id: str | None = Query(None, min_length=1, max_length=48, pattern=r"^[^\x00]*$"),
        evse: int | None = Query(None, ge=0, le=MAX_ID, description="The OCPP EVSE number; needs charge_point_id."),
        evse_id: int | None = Query(None, ge=1, le=MAX_ID, description="The EVSE's id in Wattson."),
        location_id: int | None = Query(None, ge=1, le=MAX_ID),
        driver_id: int | None = Query(None, ge=1, le=MAX_ID),
        id_tag: str | None = Query(None, min_length=1, max_length=36, pattern=r"^[^\x00]*$"),
        status: Literal["active", "finished"] | None = None,
        started_after: UtcTime | None = Query(None, description="Started at or after this time. " + _TIME),
        started_before: UtcTime | None = Query(None, description="Started before this time. " + _TIME),
        stopped_after: UtcTime | None = Query(None, description="Stopped at or after this time. " + _TIME),
        stopped_before: UtcTime | None = Query(None, description="Stopped before this time. " + _TIME),
        limit: int = Limit, cursor: str | None = CursorParam):
    """Sessions, newest first, with every filter given holding."""
    where = SessionFilter(charge_point_id=charge_point_id, evse=evse, evse_id=evse_id, location_id=location_id,
                          driver_id=driver_id, id_tag=id_tag, status=status,
                          started_after=started_after, started_before=started_before, stopped_after=stopped_after,
                          stopped_before=stopped_before)
    rows = await request.app.state.services.sessions.find(where, limit + 1, pagination.decode(cursor, datetime, int))
    return pagination.page(rows, limit, lambda s: (s.started_at, s.id))


@router.post("/sessions/query", response_model=SessionQueryPage, dependencies=[auth.viewer])
async def query_sessions(request: Request, body: SessionQuery):
    """Sessions by page number, with filters, a sort key and the total (seed 004's session query).

    Sessions that started within [start_time, start_time_search_end] and stopped within
    [stop_time_search_begin, stop_time] (a stop bound leaves active sessions out), at any of
    charger_ids, of any of driver_ids, at any of site_ids, with any of rfid_tags. Each item has
    the driver's and the site's names, and the cost breakdown incl./excl. VAT (null where no
    tariff applies; an active session's energy and time so far, priced as one charging period).
    """
    result = await request.app.state.services.session_query.query(query_criteria(body), body.page, body.limit)
    # Built from plain values (query.ITEM_FIELDS), the page is written as JSON as it is, the way
    # pydantic would write it: validating it against the response model first, and pydantic's
    # writer, took a sixth of a 1,000-item page's time.
    page = {"page": result.page, "limit": result.limit, "total_records": result.total_records,
            "has_next_page": result.has_next_page, "has_previous_page": result.has_previous_page, "items": result.items}
    return Response(orjson.dumps(page, option=orjson.OPT_UTC_Z), media_type="application/json")


@router.post("/sessions/query.csv", dependencies=[auth.viewer], response_class=StreamingResponse,
             responses={200: {"content": {"text/csv": {}}, "description": "A header row, then one row per session."}})
async def export_sessions(request: Request, body: SessionQuery):
    """Every session the same body matches, as CSV (page and limit are ignored), in its order.

    At most 1,000,000 rows. The columns are the query's item fields; times are ISO 8601 UTC and
    null is an empty cell. A text cell starting with =, +, -, @, a tab or a carriage return gets a
    leading ' so that spreadsheets do not run it as a formula (the JSON query has the text as it is).
    """
    chunks = await request.app.state.services.session_query.export(query_criteria(body), utcnow(), EXPORT_MAX_ROWS)
    return StreamingResponse(csv_lines(chunks), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="sessions.csv"'})


@router.get("/sessions/query", include_in_schema=False)
@router.get("/sessions/query.csv", include_in_schema=False)
async def query_needs_post():
    """Without this, GET /sessions/query would be read as session id "query" (a 422)."""
    raise HTTPException(405, "Method Not Allowed: the session query is a POST", headers={"Allow": "POST"})


@router.get("/sessions/{session_id}", response_model=SessionDetail, dependencies=[auth.viewer])
async def get_session(request: Request, session_id: int = Path(ge=1, le=MAX_ID)):
    """A session with its meter values in time order, its charging periods and power."""
    sessions = request.app.state.services.sessions
    session = await sessions.get(session_id)
    samples = await sessions.all_samples(session_id, PERIOD_MEASURANDS)
    periods = charging_periods(session.started_at, session.meter_start, samples, session.stopped_at,
                               session.meter_stop)
    power = power_summary(samples)
    priced = await request.app.state.services.billing.price(session)
    return SessionDetail.model_validate({
        **SessionOut.model_validate(session).model_dump(),
        "cost": CostOut.of(priced) if priced else None,
        "meter_values": await sessions.meter_values(session_id),
        "charging_periods": [ChargingPeriodOut(start_at=p.start_at, end_at=p.end_at, state=p.state,
                                               energy_wh=p.energy_wh, duration_s=p.duration_s,
                                               average_power_w=p.average_power_w) for p in periods],
        "power": PowerOut.model_validate(power) if power else None})


@router.patch("/sessions/{session_id}", response_model=SessionOut, dependencies=[auth.operator])
async def update_session(request: Request, body: SessionUpdate, session_id: int = Path(ge=1, le=MAX_ID)):
    """Set a session's `charging_priority` for load management (docs/smart-charging.md); null
    falls back to its driver group's."""
    return await request.app.state.services.load.set_session_priority(session_id, body.charging_priority)


@router.get("/sessions/{session_id}/transaction-events", response_model=list[TransactionEventOut],
            dependencies=[auth.viewer])
async def transaction_events(request: Request, session_id: int = Path(ge=1, le=MAX_ID)):
    """The OCPP 2.x TransactionEvents of a session in the station's order (seqNo), each kept once
    however often it was sent. Empty for an OCPP 1.6 session."""
    return await request.app.state.services.transactions.events(session_id)


def query_criteria(body: SessionQuery) -> SessionCriteria:
    return SessionCriteria(sort_key=body.sort_key, sort_descending=body.sort_descending, start_time=body.start_time,
                           start_time_search_end=body.start_time_search_end,
                           stop_time_search_begin=body.stop_time_search_begin, stop_time=body.stop_time,
                           charger_ids=body.charger_ids or [], driver_ids=body.driver_ids or [],
                           site_ids=body.site_ids or [], rfid_tags=body.rfid_tags or [])


_TIMES = [i for i, name in enumerate(BASE_FIELDS) if name in ("timestamp_start", "timestamp_end",
                                                                "operation_timestamp")]
#: Text from stations and operators: a cell starting with one of _FORMULA_START gets a ' in front.
_TEXTS = [i for i, name in enumerate(BASE_FIELDS) if name in ("charger_id", "authorized_tag_id", "user_name",
                                                                "site_name", "driver_site_name", "evse_transaction_id")]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_row(values: tuple) -> list:
    row = list(values)
    for i in _TIMES:
        if row[i] is not None:
            row[i] = row[i].isoformat().replace("+00:00", "Z")
    for i in _TEXTS:
        if row[i] is not None and row[i].startswith(_FORMULA_START):
            row[i] = "'" + row[i]
    return row


async def csv_lines(chunks):
    """The CSV text: the header, then the rows of each chunk; null is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ITEM_FIELDS)
    yield buffer.getvalue()
    async for rows in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_row(row) for row in rows])
        yield buffer.getvalue()
