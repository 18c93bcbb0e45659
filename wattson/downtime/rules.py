"""Downtime without I/O: what counts as down in a station's status and connection history, how an
EVSE's downtime is put together, and the availability figure (docs/operations.md, "Downtime
periods and availability")."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from wattson.downtime.intervals import clip, intersect, merge, subtract, total

#: The statuses in which a connector (or, reported for the station itself, every EVSE) cannot charge.
DOWN_STATUSES = ("Faulted", "Unavailable")
#: What a period is about: the three kinds of a manual one; computed ones are outages.
KINDS = ("planned_maintenance", "outage", "other")
MANUAL, COMPUTED = "manual", "computed"
SOURCES = (MANUAL, COMPUTED)
#: The reason a computed period gives for a station that was offline.
OFFLINE = "offline"


@dataclass(slots=True, frozen=True)
class Run:
    """One run of a down status of a connector (``evse`` None: the station itself), as the status
    history says: from a Faulted/Unavailable report to the next report of another status (``end``
    None: none yet)."""
    evse: int | None
    connector: int | None
    status: str
    error_code: str | None
    start: datetime
    end: datetime | None


@dataclass(slots=True, frozen=True)
class Downtime:
    """A stretch of downtime as listed: ``evse`` None for the whole charge point."""
    evse: int | None
    start: datetime
    end: datetime | None  # None: still going
    reason: str  # "Faulted (GroundFailure)", "Unavailable", "offline"


def status_downtime(runs: list[Run], evse: int, connectors: set[int], end: datetime) -> list[tuple]:
    """When EVSE ``evse`` could not charge by its own reports: while every one of its connectors
    (those known and those that reported) was in a down status. An open run lasts until ``end``."""
    mine = [r for r in runs if r.evse == evse]
    keys = set(connectors) | {r.connector or 1 for r in mine}
    if not mine:
        return []
    per_connector = [[(r.start, r.end or end) for r in mine if (r.connector or 1) == key] for key in sorted(keys)]
    return intersect(*per_connector)


def station_downtime(runs: list[Run], end: datetime) -> list[tuple]:
    """When the station as a whole reported a down status (1.6 connector 0, 2.x without EVSE)."""
    return merge((r.start, r.end or end) for r in runs if r.evse is None)


def offline_intervals(points: list[tuple[datetime, bool]], offline_now: bool, last_seen: datetime | None,
                      online_since: datetime | None, end: datetime) -> list[tuple]:
    """When a station was offline, from its connection history: ``points`` are (time, online)
    pairs, a disconnect False and a connect True. A diagnostics row folds repeats within ten
    minutes, so each row gives two points, its first and its last time: the runs between are lost
    (each shorter than ten minutes). At one instant a disconnect is taken before a connect. An
    offline stretch still open at the end lasts until ``end`` if the station is offline now, else
    until it connected (``online_since``); a station offline now whose last point is a connect
    (its gateway died, no disconnect recorded) has been offline since it was last seen."""
    out, since = [], None
    last = None
    for at, online in sorted(points, key=lambda p: (p[0], p[1])):
        last = (at, online)
        if not online and since is None:
            since = at
        elif online and since is not None:
            out.append((since, at))
            since = None
    if since is not None:
        if offline_now:
            out.append((since, end))
        elif online_since is not None and online_since > since:
            out.append((since, online_since))
    elif offline_now and last_seen is not None and (last is None or last_seen >= last[0]):
        out.append((last_seen, end))
    return merge(out)


@dataclass(slots=True, frozen=True)
class Figure:
    """The availability of one EVSE (or a sum of EVSEs) over a period, in seconds."""
    period_s: float
    planned_s: float
    unplanned_s: float

    @property
    def availability(self) -> float | None:
        """1 − unplanned / (period − planned), as a percentage with two decimals; None when
        planned downtime covers the whole period (nothing to measure)."""
        basis = self.period_s - self.planned_s
        if basis <= 0:
            return None
        return round(100 * (1 - self.unplanned_s / basis), 2)

    def __add__(self, other: "Figure") -> "Figure":
        return Figure(self.period_s + other.period_s, self.planned_s + other.planned_s,
                      self.unplanned_s + other.unplanned_s)


def figure(start: datetime, end: datetime, planned: list[tuple], unplanned: list[tuple]) -> Figure:
    """The figure of ``[start, end)``: planned downtime is left out of the period, and unplanned
    downtime counts only where no planned downtime is (a fault during maintenance is maintenance)."""
    planned = clip(planned, start, end)
    unplanned = subtract(clip(unplanned, start, end), planned)
    return Figure(max(end - start, timedelta()).total_seconds(), total(planned).total_seconds(),
                  total(unplanned).total_seconds())


def reason(run: Run) -> str:
    return f"{run.status} ({run.error_code})" if run.error_code and run.error_code != "NoError" else run.status


def message_for(messages: dict[str, str], language: str) -> str | None:
    """A notice's text for a driver reading ``language``: that language, else its base language
    (de for de-AT, de-AT for de), else English, else the first language by name."""
    if not messages:
        return None
    base = language.split("-")[0]
    for candidate in (language, base):
        if candidate in messages:
            return messages[candidate]
    for key in sorted(messages):
        if key.split("-")[0] == base:
            return messages[key]
    return messages.get("en") or messages[sorted(messages)[0]]
