"""Input types shared by every feature's HTTP schemas.

Ids are 32-bit integer keys on PostgreSQL: a larger number cannot name anything, and passing it
on would be a database error rather than a clean 422. No database stores NUL in text. Times
without a zone are UTC.
"""

from datetime import datetime, timezone
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field

MAX_ID = 2**31 - 1


def no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` in UTC; zone-less is UTC. ValueError where UTC has no such time (the edges of
    years 1 and 9999 in a far-off zone)."""
    if value is None or value.tzinfo is None:
        return value if value is None else value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is out of range in UTC") from None


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
UtcTime = Annotated[datetime, AfterValidator(as_utc)]
