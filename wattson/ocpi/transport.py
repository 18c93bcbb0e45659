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


def iso(at: datetime | None) -> str | None:
    """OCPI DateTime: RFC 3339 in UTC with a Z, whole seconds or milliseconds."""
    if at is None:
        return None
    at = at.astimezone(timezone.utc)
    text = at.isoformat(timespec="milliseconds" if at.microsecond else "seconds")
    return text.replace("+00:00", "Z")


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
    if date_from is not None and date_to is not None and date_to <= date_from:
        raise OcpiError(400, INVALID_PARAMETERS, "date_to must be later than date_from")
    limit = max_limit if limit is None else min(limit, max_limit)
    return PageRequest(_utc(date_from), _utc(date_to), offset or 0, limit, max_limit)


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
    if at is None:
        return None
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
