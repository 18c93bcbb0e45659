"""Downtime: periods entered by hand, periods computed from the status and connection history,
the availability figure, and the notices drivers see.

Computed periods are derived on read, not materialised: the history they come from is the
record (a status report queued by a station while it was offline arrives late with its own
timestamp, a charge point deleted takes its history along), so a figure read now is right now,
without a sweep to lag behind or to redo. It stays fast because it reads little: the down
reports of the stations concerned (``ix_status_events_down``, a partial index: a few in a
million reports), each with the first later report of another status by the (station, time)
index, their connection rows (at most ``diagnostics.service.MAX_ROWS`` in all) and their manual
periods: one statement, a union of the three, whatever the number of EVSEs, after one statement
for the EVSEs themselves (``availability_many``).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Integer, String, and_, cast, literal_column, null, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.db.one_of import one_of
from wattson.diagnostics.models import ConnectionEvent
from wattson.diagnostics.rules import CONNECTED, DISCONNECTED
from wattson.downtime import rules
from wattson.downtime.models import DowntimeNotice, DowntimeNoticeTarget, DowntimePeriod
from wattson.errors import Conflict, Invalid, NotFound
from wattson.locations.models import Location
from wattson.stations.models import ChargePoint, Connector, Evse, StatusEvent

#: The longest period a figure or a listing covers.
MAX_WINDOW = timedelta(days=400)
#: What a listing covers when it is not told: the last 30 days.
DEFAULT_WINDOW = timedelta(days=30)
_DOWN = [literal_column(f"'{status}'") for status in rules.DOWN_STATUSES]  # literals: the partial index's own


@dataclass(slots=True)
class PeriodItem:
    """A listed period, manual (``id`` set) or computed (``id`` None: derived, not stored)."""
    source: str
    id: int | None
    charge_point_id: str
    evse_id: int | None  # the EVSE's id; None: the whole charge point
    evse: int | None  # its OCPP number
    kind: str
    planned: bool
    reason: str | None
    starts_at: datetime
    ends_at: datetime | None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> tuple[datetime, str]:
        """The listing's order, newest start first, and what tells apart periods starting together."""
        tail = f"{self.id:010d}" if self.id is not None else f"{self.charge_point_id}:{self.evse or 0}:{self.reason}"
        return self.starts_at, f"{self.source}:{tail}"


@dataclass(slots=True, frozen=True)
class PeriodFilters:
    charge_point_id: str | None = None
    evse_id: int | None = None
    location_id: int | None = None
    source: str | None = None
    planned: bool | None = None
    kind: str | None = None
    since: datetime | None = None  # periods ending after (or open)
    until: datetime | None = None  # periods starting before


@dataclass(slots=True, frozen=True)
class Recent:
    """A charge point's recent downtime: its figure, each EVSE's (by id), the latest periods."""
    since: datetime
    until: datetime
    total: rules.Figure
    evses: dict[int, rules.Figure]
    periods: list[PeriodItem]


@dataclass(slots=True)
class _EvseRow:
    id: int
    charge_point_id: str
    number: int
    connectors: set


@dataclass(slots=True)
class _Station:
    """What the history of one charge point says, in neutral shapes for ``rules``."""
    offline_now: bool = False
    last_seen: datetime | None = None
    online_since: datetime | None = None
    runs: list = None
    points: list = None
    manual: list = None

    def __post_init__(self):
        self.runs, self.points, self.manual = [], [], []


#: How far ahead a listing looks when it is not told: planned maintenance is entered ahead.
AHEAD = timedelta(days=366)


def figure_window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """A figure's [since, until): by default the last 30 days; at most MAX_WINDOW, since before
    until (422 else)."""
    until = until or utcnow()
    since = since or _shifted(until, -DEFAULT_WINDOW)
    _ordered(since, until)
    if until - since > MAX_WINDOW:
        raise Invalid(f"a period covers at most {MAX_WINDOW.days} days",
                      [{"field": "to", "message": f"at most {MAX_WINDOW.days} days after from"}])
    return since, until


def listing_window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """A listing's [since, until): by default from 30 days ago to a year ahead."""
    now = utcnow()
    since = since or _shifted(min(now, until or now), -DEFAULT_WINDOW)
    until = until or _shifted(max(now, since), AHEAD)
    _ordered(since, until)
    return since, until


def _ordered(since: datetime, until: datetime) -> None:
    if since >= until:
        raise Invalid("from must be before to", [{"field": "to", "message": "must be after from"}])


def _shifted(at: datetime, by: timedelta) -> datetime:
    """``at + by``, kept within the years a datetime has (a window at year 1 or 9999 is cut there)."""
    try:
        return at + by
    except OverflowError:
        return datetime.max.replace(tzinfo=at.tzinfo) if by > timedelta() else datetime.min.replace(tzinfo=at.tzinfo)


class DowntimeService:
    def __init__(self, db: Database):
        self.db = db

    # --- manual periods ------------------------------------------------------------------------
    async def create_period(self, **fields) -> PeriodItem:
        async with self.db.session() as s:
            period = DowntimePeriod(**fields)
            await _check_period(s, period)
            s.add(period)
            try:
                await s.flush()
            except IntegrityError:
                raise Conflict("the charge point or EVSE was deleted meanwhile") from None
            return await _manual_item(s, period)

    async def get_period(self, id: int) -> PeriodItem:
        async with self.db.session() as s:
            return await _manual_item(s, await get_or_404(s, DowntimePeriod, id, "downtime period"))

    async def update_period(self, id: int, **changes) -> PeriodItem:
        """Only the fields given; None clears ``reason``, ``ends_at`` or ``evse_id``."""
        async with self.db.session() as s:
            period = await get_or_404(s, DowntimePeriod, id, "downtime period")
            for name, value in changes.items():
                setattr(period, name, value)
            await _check_period(s, period)
            try:
                await s.flush()
            except IntegrityError:
                raise Conflict("the charge point or EVSE was deleted meanwhile") from None
            return await _manual_item(s, period)

    async def delete_period(self, id: int) -> None:
        async with self.db.session() as s:
            await s.delete(await get_or_404(s, DowntimePeriod, id, "downtime period"))

    # --- listing -------------------------------------------------------------------------------
    async def find_periods(self, limit: int, after: tuple[datetime, str] | None = None,
                           filters: PeriodFilters = PeriodFilters()) -> list[PeriodItem]:
        """Up to ``limit`` periods overlapping [since, until), newest start first, after the
        cursor key ``after``: the manual ones and those computed from the history. With
        ``evse_id``, that EVSE's and its charge point's (which it shares)."""
        now = utcnow()
        since, until = listing_window(filters.since, filters.until)
        async with self.db.session() as s:
            evses = await _evses(s, filters)
            cp_ids = sorted({e.charge_point_id for e in evses}) if _narrowed(filters) else None
            if cp_ids == [] and filters.charge_point_id is not None and filters.evse_id is None:
                cp_ids = [filters.charge_point_id]  # a station without EVSEs still has station-wide periods
            stations = await _history(s, cp_ids, since, until)
        items = []
        if filters.source in (None, rules.MANUAL):
            items += [m for station in stations.values() for m in station.manual]
        if filters.source in (None, rules.COMPUTED) and filters.planned is not True \
                and filters.kind in (None, "outage"):
            items += _computed(stations, evses, min(until, now))
        chosen_evse = filters.evse_id
        items = [i for i in items
                 if (chosen_evse is None or i.evse_id in (None, chosen_evse))
                 and (filters.planned is None or i.planned == filters.planned)
                 and (filters.kind is None or i.kind == filters.kind)
                 and i.starts_at < until and (i.ends_at is None or i.ends_at > since)
                 and (after is None or i.key < after)]
        items.sort(key=lambda i: i.key, reverse=True)
        return items[:limit]

    # --- availability --------------------------------------------------------------------------
    async def availability_many(self, evse_ids: list[int], since: datetime, until: datetime
                                ) -> dict[int, rules.Figure]:
        """The availability figure of each EVSE over [since, until) (the part before now): two
        statements whatever their number (the EVSEs, then their history). Unknown ids are left out."""
        end = min(until, utcnow())
        async with self.db.session() as s:
            evses = await _evses(s, PeriodFilters(), evse_ids=list(evse_ids))
            stations = await _history(s, sorted({e.charge_point_id for e in evses}), since, until)
        return {e.id: _figure(e, stations.get(e.charge_point_id, _Station()), since, end) for e in evses}

    async def evse_availability(self, evse_id: int, since: datetime, until: datetime) -> rules.Figure:
        figures = await self.availability_many([evse_id], since, until)
        if evse_id not in figures:
            raise NotFound(f"EVSE {evse_id} not found")
        return figures[evse_id]

    async def charge_point_availability(self, charge_point_id: str, since: datetime, until: datetime
                                        ) -> dict[int, rules.Figure]:
        """Each EVSE's figure (their sum is the charge point's)."""
        async with self.db.session() as s:
            await get_or_404(s, ChargePoint, charge_point_id, "charge point")
            ids = list(await s.scalars(select(Evse.id).where(Evse.charge_point_id == charge_point_id)))
        return await self.availability_many(ids, since, until)

    async def location_availability(self, location_id: int, since: datetime, until: datetime
                                    ) -> dict[int, rules.Figure]:
        async with self.db.session() as s:
            await get_or_404(s, Location, location_id, "location")
            ids = list(await s.scalars(select(Evse.id).join(ChargePoint, ChargePoint.id == Evse.charge_point_id)
                                       .where(ChargePoint.location_id == location_id)))
        return await self.availability_many(ids, since, until)

    async def recent(self, charge_point_id: str, days: int = 30, limit: int = 10) -> "Recent":
        """What the station page shows: the last ``days`` days' figure, per EVSE and in all, and
        the latest periods."""
        until = utcnow()
        since = until - timedelta(days=days)
        figures = await self.charge_point_availability(charge_point_id, since, until)
        periods = await self.find_periods(limit, filters=PeriodFilters(charge_point_id=charge_point_id, since=since))
        return Recent(since, until, sum(figures.values(), rules.Figure(0, 0, 0)), figures, periods)

    # --- notices -------------------------------------------------------------------------------
    async def create_notice(self, charge_point_ids: list[str], location_ids: list[int], **fields) -> DowntimeNotice:
        async with self.db.session() as s:
            notice = DowntimeNotice(**fields)
            await _set_targets(s, notice, charge_point_ids, location_ids)
            _check_notice(notice)
            s.add(notice)
            await _flush_notice(s)
            return notice

    async def get_notice(self, id: int) -> DowntimeNotice:
        async with self.db.session() as s:
            return await get_or_404(s, DowntimeNotice, id, "downtime notice")

    async def update_notice(self, id: int, charge_point_ids: list[str] | None = None,
                            location_ids: list[int] | None = None, **changes) -> DowntimeNotice:
        async with self.db.session() as s:
            notice = await get_or_404(s, DowntimeNotice, id, "downtime notice")
            for name, value in changes.items():
                setattr(notice, name, value)
            if charge_point_ids is not None or location_ids is not None:
                kept = notice.targets
                await _set_targets(s, notice,
                                   [t.charge_point_id for t in kept if t.charge_point_id] if charge_point_ids is None
                                   else charge_point_ids,
                                   [t.location_id for t in kept if t.location_id] if location_ids is None
                                   else location_ids)
            _check_notice(notice)
            await _flush_notice(s)
            return notice

    async def delete_notice(self, id: int) -> None:
        async with self.db.session() as s:
            await s.delete(await get_or_404(s, DowntimeNotice, id, "downtime notice"))

    async def find_notices(self, limit: int, after: tuple[datetime, int] | None = None, *,
                           charge_point_id: str | None = None, location_id: int | None = None,
                           active_at: datetime | None = None) -> list[DowntimeNotice]:
        """Notices, the latest valid_from first; ``charge_point_id`` also finds those of its location."""
        query = select(DowntimeNotice)
        if charge_point_id is not None or location_id is not None:
            about = []
            if charge_point_id is not None:
                about.append(DowntimeNoticeTarget.charge_point_id == charge_point_id)
                about.append(DowntimeNoticeTarget.location_id.in_(
                    select(ChargePoint.location_id).where(ChargePoint.id == charge_point_id).scalar_subquery()))
            if location_id is not None:
                about.append(DowntimeNoticeTarget.location_id == location_id)
            query = query.where(DowntimeNotice.id.in_(select(DowntimeNoticeTarget.notice_id).where(or_(*about))))
        if active_at is not None:
            query = query.where(DowntimeNotice.valid_from <= active_at,
                                or_(DowntimeNotice.valid_until.is_(None), DowntimeNotice.valid_until > active_at))
        if after is not None:
            at, id = after
            query = query.where(or_(DowntimeNotice.valid_from < at,
                                    and_(DowntimeNotice.valid_from == at, DowntimeNotice.id < id)))
        query = query.order_by(DowntimeNotice.valid_from.desc(), DowntimeNotice.id.desc()).limit(limit)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def notices_for_evse(self, evse_id: int, at: datetime | None = None) -> list[DowntimeNotice]:
        """What the driver page of this EVSE shows now: the notices in force for its charge point
        or its location."""
        async with self.db.session() as s:
            cp = await s.scalar(select(Evse.charge_point_id).where(Evse.id == evse_id))
        if cp is None:
            return []
        return await self.find_notices(20, charge_point_id=cp, active_at=at or utcnow())


# --- reading the history ---------------------------------------------------------------------------
def _narrowed(filters: PeriodFilters) -> bool:
    return filters.charge_point_id is not None or filters.evse_id is not None or filters.location_id is not None


async def _evses(s: AsyncSession, filters: PeriodFilters, evse_ids: list[int] | None = None) -> list[_EvseRow]:
    """The EVSEs concerned with their connectors' numbers: one statement."""
    query = select(Evse.id, Evse.charge_point_id, Evse.number, Connector.number).outerjoin(
        Connector, Connector.evse_id == Evse.id)
    if evse_ids is not None:
        if not evse_ids:
            return []
        query = query.where(one_of(s, Evse.id, evse_ids))
    if filters.evse_id is not None:
        query = query.where(Evse.id == filters.evse_id)
    if filters.charge_point_id is not None:
        query = query.where(Evse.charge_point_id == filters.charge_point_id)
    if filters.location_id is not None:
        query = query.where(Evse.charge_point_id.in_(
            select(ChargePoint.id).where(ChargePoint.location_id == filters.location_id)))
    evses: dict[int, _EvseRow] = {}
    for id, cp, number, connector in await s.execute(query):
        row = evses.setdefault(id, _EvseRow(id, cp, number, set()))
        if connector is not None:
            row.connectors.add(connector)
    return list(evses.values())


async def _history(s: AsyncSession, cp_ids: list[str] | None, since: datetime, until: datetime
                   ) -> dict[str, _Station]:
    """What bears on [since, until) for these charge points (None: all): their down runs, their
    connection rows and their manual periods (one statement, a union), and their presence now."""
    if cp_ids == []:
        return {}
    e, n = StatusEvent, aliased(StatusEvent)
    next_up = (select(n.timestamp).where(
        n.charge_point_id == e.charge_point_id, n.timestamp >= e.timestamp,
        or_(n.timestamp > e.timestamp, n.id > e.id), n.status.not_in(_DOWN),
        n.evse.is_not_distinct_from(e.evse), n.connector.is_not_distinct_from(e.connector))
        .order_by(n.timestamp).limit(1).scalar_subquery())
    status = select(literal_column("'status'").label("source"), e.id, e.charge_point_id, e.evse.label("evse"),
                    e.connector.label("connector"), cast(null(), Integer).label("evse_id"), e.status.label("label"),
                    e.error_code.label("detail"), cast(null(), Boolean).label("planned"),
                    e.timestamp.label("starts_at"), next_up.label("ends_at"), e.timestamp.label("created_at")
                    ).where(e.status.in_(_DOWN), e.timestamp < until)
    c = ConnectionEvent
    connection = select(literal_column("'connection'"), c.id, c.charge_point_id, cast(null(), Integer),
                        cast(null(), Integer), cast(null(), Integer), c.kind, c.reason, cast(null(), Boolean),
                        c.first_at, c.last_at, c.first_at
                        ).where(c.kind.in_([CONNECTED, DISCONNECTED]), c.first_at < until)
    p = DowntimePeriod
    manual = select(literal_column("'manual'"), p.id, p.charge_point_id, cast(null(), Integer), cast(null(), Integer),
                    p.evse_id, p.kind, p.reason, p.planned, p.starts_at, p.ends_at, p.created_at
                    ).where(p.starts_at < until, or_(p.ends_at.is_(None), p.ends_at > since))
    if cp_ids is not None:
        status = status.where(one_of(s, e.charge_point_id, cp_ids))
        connection = connection.where(one_of(s, c.charge_point_id, cp_ids))
        manual = manual.where(one_of(s, p.charge_point_id, cp_ids))
    stations: dict[str, _Station] = defaultdict(_Station)
    manual_rows = []
    for row in await s.execute(union_all(status, connection, manual)):
        station = stations[row.charge_point_id]
        if row.source == "status":
            if row.ends_at is None or row.ends_at > since:
                station.runs.append(rules.Run(row.evse if row.evse else None, row.connector, row.label, row.detail,
                                              row.starts_at, row.ends_at))
        elif row.source == "connection":
            online = row.label == CONNECTED
            station.points += [(row.starts_at, online), (row.ends_at, online)]
        else:
            manual_rows.append(row.id)
    if manual_rows:  # the page's manual periods in full (a handful: the window's)
        periods = list(await s.scalars(select(DowntimePeriod).where(DowntimePeriod.id.in_(manual_rows))))
        numbers = dict((await s.execute(select(Evse.id, Evse.number).where(
            Evse.id.in_({p.evse_id for p in periods if p.evse_id is not None})))).all())
        for period in periods:
            stations[period.charge_point_id].manual.append(_item(period, numbers.get(period.evse_id)))
    presence = select(ChargePoint.id, ChargePoint.network_status, ChargePoint.last_seen, ChargePoint.connected_at)
    if cp_ids is not None:
        presence = presence.where(one_of(s, ChargePoint.id, cp_ids))
    else:  # all: those with history, and those offline now (since they were last seen)
        presence = presence.where(or_(one_of(s, ChargePoint.id, list(stations)), ChargePoint.network_status == "offline"))
    known = {}
    for id, network_status, last_seen, connected_at in await s.execute(presence):
        station = known[id] = stations[id]
        station.offline_now, station.last_seen, station.online_since = network_status == "offline", last_seen, \
            connected_at
    return known  # connection rows outlive a deleted charge point: its history is gone with it


def _figure(evse: _EvseRow, station: _Station, since: datetime, end: datetime) -> rules.Figure:
    """One EVSE's figure over [since, end): its own and its charge point's downtime."""
    unplanned = rules.status_downtime(station.runs, evse.number, evse.connectors, end) \
        + rules.station_downtime(station.runs, end) \
        + rules.offline_intervals(station.points, station.offline_now, station.last_seen, station.online_since, end)
    planned = []
    for m in station.manual:
        if m.evse_id in (None, evse.id):
            (planned if m.planned else unplanned).append((m.starts_at, m.ends_at or end))
    return rules.figure(since, max(since, end), planned, unplanned)


def _computed(stations: dict[str, _Station], evses: list[_EvseRow], end: datetime) -> list[PeriodItem]:
    """The periods the history shows: per EVSE while all its connectors were down, per charge
    point while it reported itself down or was offline. Still going: ``ends_at`` None."""
    by_station = defaultdict(list)
    for evse in evses:
        by_station[evse.charge_point_id].append(evse)
    items = []
    for cp, station in stations.items():
        for start, stop in rules.station_downtime(station.runs, end):
            items.append(_computed_item(cp, None, None, _reason(station.runs, None, start), start, stop, end))
        offline = rules.offline_intervals(station.points, station.offline_now, station.last_seen,
                                          station.online_since, end)
        for start, stop in offline:
            items.append(_computed_item(cp, None, None, rules.OFFLINE, start, stop, end))
        for evse in by_station.get(cp, []):
            for start, stop in rules.status_downtime(station.runs, evse.number, evse.connectors, end):
                items.append(_computed_item(cp, evse.id, evse.number, _reason(station.runs, evse.number, start),
                                            start, stop, end))
    return items


def _reason(runs: list[rules.Run], evse: int | None, at: datetime) -> str:
    """The status of the run that covers ``at`` (the latest to start by then)."""
    covering = [r for r in runs if r.evse == evse and r.start <= at]
    return rules.reason(max(covering, key=lambda r: r.start)) if covering else rules.DOWN_STATUSES[0]


def _computed_item(cp: str, evse_id: int | None, evse: int | None, reason: str, start: datetime, stop: datetime,
                   end: datetime) -> PeriodItem:
    return PeriodItem(rules.COMPUTED, None, cp, evse_id, evse, "outage", False, reason, start,
                      None if stop >= end else stop)


def _item(period: DowntimePeriod, evse: int | None) -> PeriodItem:
    return PeriodItem(rules.MANUAL, period.id, period.charge_point_id, period.evse_id, evse, period.kind,
                      period.planned, period.reason, period.starts_at, period.ends_at, period.created_at,
                      period.updated_at)


async def _manual_item(s: AsyncSession, period: DowntimePeriod) -> PeriodItem:
    evse = None if period.evse_id is None else await s.scalar(select(Evse.number).where(Evse.id == period.evse_id))
    return _item(period, evse)


# --- checks ----------------------------------------------------------------------------------------
def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": f"body.{field}", "message": message}])


async def _check_period(s: AsyncSession, period: DowntimePeriod) -> None:
    """The charge point exists, the EVSE is one of its own, the end after the start."""
    if period.ends_at is not None and period.ends_at <= period.starts_at:
        raise _invalid("ends_at", "ends_at must be after starts_at")
    if await s.scalar(select(ChargePoint.id).where(ChargePoint.id == period.charge_point_id)) is None:
        raise _invalid("charge_point_id", f"charge point {period.charge_point_id!r} does not exist")
    if period.evse_id is not None:
        owner = await s.scalar(select(Evse.charge_point_id).where(Evse.id == period.evse_id))
        if owner != period.charge_point_id:
            raise _invalid("evse_id", f"EVSE {period.evse_id} is not an EVSE of charge point "
                                      f"{period.charge_point_id!r}" if owner else f"EVSE {period.evse_id} does not exist")


async def _set_targets(s: AsyncSession, notice: DowntimeNotice, charge_point_ids: list[str],
                       location_ids: list[int]) -> None:
    charge_point_ids, location_ids = sorted(set(charge_point_ids)), sorted(set(location_ids))
    if not charge_point_ids and not location_ids:
        raise _invalid("charge_point_ids", "a notice is about one charge point or location at least")
    known = set(await s.scalars(select(ChargePoint.id).where(ChargePoint.id.in_(charge_point_ids))))
    missing = [cp for cp in charge_point_ids if cp not in known]
    if missing:
        raise _invalid("charge_point_ids", f"unknown charge points: {', '.join(missing)}")
    known = set(await s.scalars(select(Location.id).where(Location.id.in_(location_ids))))
    missing = [str(id) for id in location_ids if id not in known]
    if missing:
        raise _invalid("location_ids", f"unknown locations: {', '.join(missing)}")
    notice.targets = [DowntimeNoticeTarget(charge_point_id=cp) for cp in charge_point_ids] + \
        [DowntimeNoticeTarget(location_id=id) for id in location_ids]


def _check_notice(notice: DowntimeNotice) -> None:
    if notice.valid_from is not None and notice.valid_until is not None and notice.valid_until <= notice.valid_from:
        raise _invalid("valid_until", "valid_until must be after valid_from")


async def _flush_notice(s: AsyncSession) -> None:
    try:
        await s.flush()
    except IntegrityError:
        raise Conflict("a charge point or location of the notice was deleted meanwhile") from None
