"""Consumption statistics: one SQL GROUP BY over ``sessions`` per answer, bucketed in a time zone.

Sessions count in the bucket of their start, on the (started_at) or (location_id / charge_point_id,
started_at) indexes. The aggregate is grouped by key, bucket and the session's location, so that
energy cost follows the location's electricity rates: where one fixed rate was in force for all
of a group's sessions, its cost is energy × price; otherwise (time of use, or rates changing in
between) that location's sessions are read (times and energy only) and each is priced as
``electricity.rules.energy_cost`` prices its energy spread linearly from start to stop (by a
``CostTable``: the location's price pieces cut once).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, Numeric, case, cast, extract, func, literal, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement

from wattson.access.models import Driver
from wattson.db import Database, UTCDateTime, utcnow
from wattson.electricity.rules import KWH, CostTable, rates_for, single_fixed_rate
from wattson.electricity.service import all_rates
from wattson.sessions.models import Session as S
from wattson.statistics.buckets import hour_start, local_start, offset_segments

GROUPS = ("location", "charge_point", "evse", "driver", "group")


@dataclass(frozen=True, slots=True)
class StatisticsQuery:
    group_by: str
    interval: str
    start: datetime
    end: datetime
    time_zone: str = "UTC"
    location_id: int | None = None
    charge_point_id: str | None = None


def _key(group_by: str) -> ColumnElement:
    return {"location": S.location_id, "charge_point": S.charge_point_id, "evse": S.evse_id, "driver": S.driver_id,
            "group": Driver.home_group_id}[group_by]


def _offset(segments: list[tuple[datetime | None, int]]) -> ColumnElement:
    """The zone's UTC offset in seconds at each session's start (a CASE over the segments)."""
    if len(segments) == 1:
        return literal(segments[0][1])
    return case(*[(S.started_at < until, offset) for until, offset in segments[:-1]], else_=segments[-1][1])


def _ordinals(n: int) -> list[ColumnElement]:
    """GROUP BY 1, 2, …: the bucket expressions carry parameters, and PostgreSQL takes a grouped
    expression for the selected one only when it is written the same, parameters included."""
    return [literal_column(str(i)) for i in range(1, n + 1)]


class StatisticsService:
    def __init__(self, db: Database):
        self.db = db

    def _buckets(self, q: StatisticsQuery, zone: ZoneInfo) -> list[ColumnElement]:
        """The bucket columns: (key,) or, for hours, (epoch hour, offset)."""
        segments = offset_segments(zone, q.start, q.end)
        offset = _offset(segments)
        pg = self.db.dialect == "postgresql"
        if q.interval == "hour":
            epoch = (cast(func.floor(extract("epoch", S.started_at)), BigInteger) if pg
                     else cast(func.strftime("%s", S.started_at), Integer))
            return [(epoch + offset) // 3600, offset]
        if pg:  # the zone's name is one of the tz database's (checked), written into the SQL
            return [func.date_trunc(literal_column(f"'{q.interval}'"),
                                    func.timezone(literal_column(f"'{q.time_zone}'"), S.started_at))]
        modifier = func.printf("%+d seconds", offset)
        return [func.strftime("%Y-%m-%d" if q.interval == "day" else "%Y-%m", S.started_at, modifier)]

    def _duration(self, now: datetime) -> ColumnElement:
        end = func.coalesce(S.stopped_at, literal(now, UTCDateTime()))
        if self.db.dialect == "postgresql":
            return extract("epoch", end - S.started_at)
        return (func.julianday(end) - func.julianday(S.started_at)) * 86400

    def _where(self, q: StatisticsQuery) -> list[ColumnElement]:
        where = [S.started_at >= q.start, S.started_at < q.end]
        if q.location_id is not None:
            where.append(S.location_id == q.location_id)
        if q.charge_point_id is not None:
            where.append(S.charge_point_id == q.charge_point_id)
        return where

    def _from(self, query, group_by: str):
        return query.outerjoin(Driver, Driver.id == S.driver_id) if group_by == "group" else query

    async def consumption(self, q: StatisticsQuery, now: datetime | None = None) -> list[dict]:
        now = now or utcnow()
        zone = ZoneInfo(q.time_zone)
        key, buckets = _key(q.group_by), self._buckets(q, zone)
        revenue = cast(S.cost["total_excl_vat"].as_string(), Numeric(18, 6))
        query = self._from(select(
            key, *buckets, S.location_id, func.count(), func.coalesce(func.sum(S.energy_wh), 0),
            func.coalesce(func.sum(self._duration(now)), 0), func.coalesce(func.sum(revenue), 0),
            func.min(S.started_at), func.max(func.coalesce(S.stopped_at, S.meter_last_at, S.started_at)),
        ), q.group_by).where(*self._where(q)).group_by(*_ordinals(len(buckets) + 2))
        async with self.db.session() as s:
            groups = (await s.execute(query)).all()
            rates = await all_rates(s) if groups else []
            width = len(buckets)
            rows: dict[tuple, dict] = {}
            priced_apart: dict = {}  # location → (first start, last stop) of its sessions priced one by one
            for g in groups:
                k, bucket, location_id = g[0], tuple(g[1:1 + width]), g[1 + width]
                count, energy, duration, money, first, last = g[2 + width:]
                row = rows.setdefault((k, bucket), {"key": k, "bucket": bucket, "energy_wh": 0, "sessions": 0,
                                                    "duration_s": 0.0, "revenue": Decimal(0),
                                                    "energy_cost": Decimal(0), "currencies": set(), "known": True})
                row["energy_wh"] += int(energy)
                row["sessions"] += int(count)
                row["duration_s"] += float(duration or 0)
                row["revenue"] += Decimal(str(money or 0))
                candidates = rates_for(rates, location_id)
                rate = single_fixed_rate(candidates, first, last) if candidates else None
                if rate is not None:
                    row["energy_cost"] += Decimal(int(energy)) * rate.price_per_kwh / KWH
                    row["currencies"].add(rate.currency)
                elif not candidates:
                    row["known"] = False
                else:
                    known = priced_apart.get(location_id, (first, last))
                    priced_apart[location_id] = (min(known[0], first), max(known[1], last))
            if priced_apart:
                await self._price_apart(s, q, key, buckets, rates, priced_apart, rows)
        return sorted((_answer(row, q.interval, zone) for row in rows.values()), key=_order)

    async def _price_apart(self, s, q: StatisticsQuery, key, buckets, rates, locations: dict, rows: dict) -> None:
        """Each session of ``locations`` priced on its own (time of use, or rates changing), by a
        ``CostTable`` of the location's price pieces over its sessions' time."""
        known = [i for i in locations if i is not None]
        at = [S.location_id.in_(known)] if known else []
        if None in locations:
            at.append(S.location_id.is_(None))
        query = self._from(select(key, *buckets, S.location_id, S.started_at,
                                  func.coalesce(S.stopped_at, S.meter_last_at, S.started_at), S.energy_wh),
                           q.group_by).where(*self._where(q), or_(*at))
        width = len(buckets)
        tables = {location_id: CostTable(rates_for(rates, location_id), *window)
                  for location_id, window in locations.items()}
        for r in await s.execute(query):
            k, bucket, location_id = r[0], tuple(r[1:1 + width]), r[1 + width]
            started_at, stopped_at, energy_wh = r[2 + width:]
            cost = tables[location_id].cost(started_at, stopped_at, energy_wh or 0)
            row = rows[(k, bucket)]
            if cost is None:
                row["known"] = False
            else:
                row["energy_cost"] += cost.amount
                row["currencies"].add(cost.currency)


def _order(row: dict):
    """By key (none first), then bucket start: the repeated hour of a DST change in time order."""
    # by timestamp: datetimes of one zone compare by wall clock, which the repeated hour shares
    return row["key"] is not None, row["key"] if row["key"] is not None else 0, row["bucket"].timestamp()


def _answer(row: dict, interval: str, zone: ZoneInfo) -> dict:
    if interval == "hour":
        bucket = hour_start(int(row["bucket"][0]), int(row["bucket"][1]), zone)
    else:
        bucket = local_start(row["bucket"][0], zone)
    known = row["known"] and len(row["currencies"]) <= 1
    cost = round(row["energy_cost"], 4) if known else None
    revenue = round(row["revenue"], 4)
    return {"key": row["key"], "bucket": bucket, "energy_wh": row["energy_wh"], "sessions": row["sessions"],
            "duration_s": round(row["duration_s"]), "revenue": revenue, "energy_cost": cost,
            "currency": next(iter(row["currencies"])) if known and row["currencies"] else None,
            "margin": revenue - cost if cost is not None else None}
