"""OCPI 2.2.1 transport rules that need no I/O: the response envelope, status codes, errors, the
Authorization header, DateTime format and list paging (transport_and_format.asciidoc)."""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode

from fastapi.responses import JSONResponse

VERSION = "2.2.1"
# Status codes (status_codes.asciidoc).
SUCCESS = 1000
CLIENT_ERROR, INVALID_PARAMETERS, NOT_ENOUGH_INFORMATION, UNKNOWN_LOCATION, UNKNOWN_TOKEN = 2000, 2001, 2002, 2003, 2004
SERVER_ERROR, CLIENT_API_ERROR, UNSUPPORTED_VERSION, NO_MATCHING_ENDPOINTS = 3000, 3001, 3002, 3003


class OcpiError(Exception):
    """An answer other than success: the HTTP status and the OCPI status code, with a message."""

    def __init__(self, http_status: int, status_code: int, message: str, data=None):
        super().__init__(message)
        self.http_status, self.status_code, self.message, self.data = http_status, status_code, message, data


def iso(at: datetime | str | None) -> str | None:
    """The one OCPI DateTime format: RFC 3339 in UTC with a Z, whole seconds or milliseconds
    (20 or 24 characters: OCPI's DateTime is string(25), so never microseconds). Milliseconds are
    kept so that ``date_from`` paging does not skip what changed within the same second; they
    are cut, not rounded, so nothing is shown later than it happened. A string (a time in a
    stored body) is parsed first; a time without a zone is UTC, as OCPI's are."""
    if at is None:
        return None
    if isinstance(at, str):
        at = datetime.fromisoformat(at.replace("Z", "+00:00"))
    at = utc(at).replace(tzinfo=None)
    return at.isoformat(timespec="milliseconds" if at.microsecond >= 1000 else "seconds") + "Z"


#: The DateTime fields of the OCPI objects Wattson sends whose value other modules stored as text
#: (CDR bodies, tariff snapshots, charging periods, opening times).
DATETIME_FIELDS = frozenset({"start_date_time", "end_date_time", "last_updated", "period_begin", "period_end",
                             "timestamp"})


def with_iso_times(value):
    """``value`` with every DateTime field, at any depth, in the one format of ``iso``; a value
    that is not a time is left as it is (it was checked where it was stored)."""
    if isinstance(value, dict):
        return {k: _iso_text(v) if k in DATETIME_FIELDS else with_iso_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_iso_times(v) for v in value]
    return value


def _iso_text(value):
    if not isinstance(value, (str, datetime)):
        return value
    try:
        return iso(value)
    except (ValueError, OverflowError):
        return value


def utc(at: datetime) -> datetime:
    """``at`` in UTC; OCPI times without a zone are UTC (types.asciidoc, DateTime)."""
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def envelope(data=None, status_code: int = SUCCESS, message: str | None = None) -> dict:
    body = {"status_code": status_code, "timestamp": iso(datetime.now(timezone.utc))}
    if data is not None:
        body["data"] = data
    if message:
        body["status_message"] = message
    return body


def respond(data=None, http_status: int = 200, status_code: int = SUCCESS, message: str | None = None,
            headers: dict | None = None) -> JSONResponse:
    return JSONResponse(envelope(data, status_code, message), status_code=http_status, headers=headers)


def token_candidates(header: str | None) -> list[str]:
    """The credentials tokens an ``Authorization: Token …`` header may carry: the base64-decoded
    value (as 2.2.1 requires) and the value as sent (what many 2.1.1/2.2 peers do)."""
    if not header:
        return []
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    candidates = [value]
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return candidates
    if decoded and decoded.isprintable() and decoded != value:
        candidates.insert(0, decoded.strip())
    return candidates


def authorization_header(token: str, encode: bool = True) -> str:
    return "Token " + (base64.b64encode(token.encode()).decode() if encode else token)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A list request's paging and filters: ``date_from`` inclusive, ``date_to`` exclusive, on
    ``last_updated``; ``limit`` already capped at the server's maximum."""

    date_from: datetime | None
    date_to: datetime | None
    offset: int
    limit: int
    max_limit: int


def page_request(date_from: datetime | None, date_to: datetime | None, offset: int | None, limit: int | None,
                 max_limit: int) -> PageRequest:
    """``date_from``/``date_to`` with or without a zone (without: UTC), compared in UTC."""
    try:
        date_from, date_to = _utc(date_from), _utc(date_to)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00
        raise OcpiError(400, INVALID_PARAMETERS, "date_from/date_to out of range") from None
    if date_from is not None and date_to is not None and date_to <= date_from:
        raise OcpiError(400, INVALID_PARAMETERS, "date_to must be later than date_from")
    limit = max_limit if limit is None else min(limit, max_limit)
    return PageRequest(date_from, date_to, offset or 0, limit, max_limit)


def paging_headers(url: str, query: dict, page: PageRequest, total: int) -> dict:
    """X-Total-Count, X-Limit and, unless this is the last page, ``Link: <next>; rel="next"``
    carrying the original filters (transport_and_format.asciidoc, Paginated Response)."""
    headers = {"X-Total-Count": str(total), "X-Limit": str(page.max_limit)}
    next_offset = page.offset + page.limit
    if next_offset < total:
        params = {k: v for k, v in query.items() if k not in ("offset", "limit")}
        params.update(offset=next_offset, limit=page.limit)
        headers["Link"] = f'<{url}?{urlencode(params)}>; rel="next"'
    return headers


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else utc(at)
