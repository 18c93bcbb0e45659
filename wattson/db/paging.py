"""Keyset paging: stable under inserts, and as fast on page 1,000 as on page 1."""

from datetime import datetime

from sqlalchemy import Select, select


def newest_first(query: Select, time_column, id_column, limit: int,
                 before: tuple[datetime, object] | None = None) -> Select:
    """``query`` ordered by (time, id) descending, after the (time, id) key ``before``."""
    query = query.order_by(time_column.desc(), id_column.desc()).limit(limit)
    if before is not None:
        at, key = before
        query = query.where((time_column < at) | ((time_column == at) & (id_column < key)))
    return query


def by_id(model, limit: int, after_id=None, **equal) -> Select:
    """``model`` rows in id order after ``after_id``; each filter that is not None must equal."""
    query = select(model).order_by(model.id).limit(limit)
    if after_id is not None:
        query = query.where(model.id > after_id)
    return query.where(*[getattr(model, name) == value for name, value in equal.items() if value is not None])
