"""Fetching a row that must exist: the one way services say "not found"."""

from sqlalchemy.ext.asyncio import AsyncSession

from wattson.errors import NotFound


async def get_or_404(s: AsyncSession, model, key, what: str):
    """The ``model`` row with primary key ``key``, or NotFound naming it as ``what``."""
    row = await s.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key!r} not found")
    return row
