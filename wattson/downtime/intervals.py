"""Interval maths without I/O: half-open intervals ``(start, end)``, ``start < end``, of any
ordered values (datetimes in Wattson). A list of intervals is "merged" when sorted, disjoint and
not touching; every function here answers merged lists."""

from collections.abc import Iterable
from datetime import timedelta

Interval = tuple


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of ``intervals`` as a merged list: overlapping or touching ones become one;
    empty ones (start >= end) are dropped."""
    merged: list[list] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def clip(intervals: Iterable[Interval], start, end) -> list[Interval]:
    """The parts of ``intervals`` within ``[start, end)``, merged."""
    return merge((max(a, start), min(b, end)) for a, b in intervals)


def subtract(intervals: Iterable[Interval], removed: Iterable[Interval]) -> list[Interval]:
    """What of ``intervals`` lies outside every one of ``removed``, merged."""
    holes = merge(removed)
    left = []
    for start, end in merge(intervals):
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                left.append((start, hole_start))
            start = max(start, hole_end)
            if start >= end:
                break
        if start < end:
            left.append((start, end))
    return left


def intersect(*sets: Iterable[Interval]) -> list[Interval]:
    """Where every one of ``sets`` (each a collection of intervals) holds, merged; nothing for no sets."""
    if not sets:
        return []
    common = merge(sets[0])
    for other in sets[1:]:
        other = merge(other)
        out, i, j = [], 0, 0
        while i < len(common) and j < len(other):
            start, end = max(common[i][0], other[j][0]), min(common[i][1], other[j][1])
            if start < end:
                out.append((start, end))
            if common[i][1] < other[j][1]:
                i += 1
            else:
                j += 1
        common = out
    return common


def total(intervals: Iterable[Interval]) -> timedelta:
    """How long the union of ``intervals`` lasts (datetimes)."""
    return sum((end - start for start, end in merge(intervals)), timedelta())
