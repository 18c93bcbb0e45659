"""Cursor pagination: every list answers ``{"data": [...], "next_cursor": ...}``.

A cursor is the sort key of the last item returned, opaque to clients.
"""

import base64
from datetime import datetime
from typing import Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel

from wattson.errors import Invalid

T = TypeVar("T")
Limit = Query(50, ge=1, le=500, description="Items per page.")
CursorParam = Query(None, description="`next_cursor` of the previous page.")


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = None


def encode(*key) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode(cursor: str | None, *types: type) -> tuple | None:
    """The key a cursor holds, typed as ``types``; a tampered cursor is a 422, not a 500."""
    if not cursor:  # absent or empty: the first page
        return None
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError
        return tuple(datetime.fromisoformat(v) if t is datetime else t(v) for v, t in zip(values, types))
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise Invalid("invalid cursor", [{"field": "cursor", "message": "not a cursor this API issued"}]) from None


def page(items: list, limit: int, key) -> dict:
    """A page of ``items``, fetched with ``limit + 1`` to know whether another page exists."""
    more = len(items) > limit
    items = items[:limit]
    return {"data": items, "next_cursor": encode(*key(items[-1])) if more and items else None}
