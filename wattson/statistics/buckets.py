"""Time buckets in a time zone, DST-correct, as SQL can compute them from UTC timestamps.

A range [start, end) is cut where the zone's UTC offset changes (``offset_segments``); within a
segment, local time is UTC plus one constant offset, so a bucket is plain arithmetic on the
stored UTC timestamp (SQLite: ``strftime`` with a "+N seconds" modifier, both: epoch seconds
plus the offset, divided by 3600). An hour bucket is keyed by (local hour, offset): the hour
repeated when clocks go back is two buckets, as it is two hours. Day and month buckets start at
local midnight (a 23- or 25-hour day is one bucket).
"""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

INTERVALS = ("hour", "day", "month")
#: The longest range per interval: bounds on the rows one answer holds.
MAX_SPAN = {"hour": timedelta(days=32), "day": timedelta(days=400), "month": timedelta(days=3700)}
_STEP = timedelta(hours=6)  # no zone changes its offset twice within 6 hours


def _offset(zone: ZoneInfo, at: datetime) -> int:
    return int(at.astimezone(zone).utcoffset().total_seconds())


def offset_segments(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """[(until, offset seconds)] covering [start, end): each offset is in force until ``until``
    (UTC, exclusive), the last one (until None) to the end."""
    segments, at, current = [], start, _offset(zone, start)
    while at < end:
        step = min(at + _STEP, end)
        if _offset(zone, step) != current:
            low, high = at, step  # the change lies in (low, high]: find its second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if _offset(zone, middle) == current else (low, middle)
            segments.append((high.replace(microsecond=0), current))
            current = _offset(zone, high)
            at = high
        else:
            at = step
    segments.append((None, current))
    return segments


def hour_start(key: int, offset: int, zone: ZoneInfo) -> datetime:
    """The start of an hour bucket keyed (local epoch hour, offset), in ``zone``."""
    return datetime.fromtimestamp(key * 3600 - offset, timezone.utc).astimezone(zone)


def local_start(label: str | datetime | date, zone: ZoneInfo) -> datetime:
    """The start of a day ("YYYY-MM-DD") or month ("YYYY-MM") bucket: local midnight in ``zone``."""
    if isinstance(label, datetime):
        day = label.date()
    elif isinstance(label, date):
        day = label
    else:
        day = date.fromisoformat(label if len(label) == 10 else f"{label}-01")
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(zone)


def span_problem(interval: str, start: datetime, end: datetime) -> str | None:
    """Why [start, end) cannot be bucketed, or None: bounded per interval, and within years every
    zone can express (the first and last days of the calendar overflow in some)."""
    if start.year < 1900 or end.year > 9000:
        return "from and to must lie between the years 1900 and 9000"
    if start >= end:
        return "from must be before to"
    if end - start > MAX_SPAN[interval]:
        return f"at most {MAX_SPAN[interval].days} days by {interval}"
    return None
