"""The session query of seed 004: filters, sorting, page numbers and totals, and CSV export.

A page is one SELECT and, unless the page itself tells, one COUNT over ``sessions`` alone. The
SELECT is a deferred join: a subquery finds the page's ids on ``sessions`` (filtered, sorted,
offset, limited), and only those ids are joined to drivers, driver groups and locations for the
names. Every filter is a column of ``sessions`` with an index ((charge_point_id, started_at),
(driver_id, started_at), (location_id, started_at), (id_tag, status), started_at, stopped_at), and
every sort key has one ((started_at, id), (stopped_at, started_at), and for ``energy_wh`` and
``duration`` one on the finished sessions' stop − start readings and times, merged with the few
active sessions sorted apart); on SQLite, where every index holds the row id, the
subquery and the count mostly never touch the table. The sort keys of names, final price, tag,
driver and location (seed 004's ``userName``, ``siteName``, ``totalCostInclVat``, …) have no index:
they sort the matching sessions, which a filter keeps few.

Without a filter, the total is the sum of ``session_days`` (sessions per start day, kept by
triggers) rather than a count of a million index entries, and a deep page in start order begins
at the day its offset falls in. Other page numbers are offsets: page 1,000 reads and skips 999
pages of index entries. That is what the seed's API asks for; the cursor-paged ``GET /sessions``
stays the way to walk a long history.
"""

from array import array
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import AsyncIterator

from sqlalchemy import Numeric, Select, cast, func, literal, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from wattson.access.models import Driver, DriverGroup
from wattson.db import Database, UTCDateTime, utcnow
from wattson.electricity.service import session_energy_costs
from wattson.locations.models import Location
from wattson.sessions.models import ACTIVE, Session, SessionDay, elapsed, finished_energy
from wattson.tariffs.pricing import Interval, PricedSession, price_session

EXPORT_MAX_ROWS = 1_000_000
EXPORT_CHUNK = 2000
DEEP_OFFSET = 5000  # from this offset on, a page in start order skips to where it begins first
ORIGIN = "ocpp"

#: Seed 004's price fields (``price_fields``): null for a session no tariff applies to.
PRICE_FIELDS = ("unit_power_cost", "currency", "vat_percent", "energy_price_incl_vat", "energy_price_excl_vat",
                "charging_time_price_incl_vat", "charging_time_price_excl_vat", "parking_time_price_incl_vat",
                "parking_time_price_excl_vat", "flat_fee_incl_vat", "flat_fee_excl_vat", "total_margin_amount",
                "reduction_amount", "total_cost_incl_vat", "total_cost_excl_vat", "total_vat_amount")

#: The fields of an item Wattson fills in, in order; then come the price fields.
BASE_FIELDS = ("id", "timestamp_start", "timestamp_end", "charger_id", "socket_id", "authorized_tag_id",
               "authorized_user_id", "user_name", "site_id", "site_name", "driver_site_id", "driver_site_name",
               "full_consumption_wh", "full_consumption_kwh", "transaction_length_minutes", "evse_transaction_id",
               "operation_timestamp", "origin", "status")
#: Every field of an item, in order: the JSON item and the CSV columns.
ITEM_FIELDS = (*BASE_FIELDS, *PRICE_FIELDS)

#: A page's row: ``_values`` and ``_costs`` read it by position (a row's attribute by name costs
#: 20 times as much, which shows in a 1,000-row page).
_COLUMNS = (Session.id, Session.started_at, Session.stopped_at, Session.charge_point_id, Session.evse,
            Session.id_tag, Session.driver_id, Driver.name, Session.location_id, Location.name,
            Driver.home_group_id, DriverGroup.name, Session.energy_wh, Session.transaction_id, Session.updated_at,
            Session.status, Session.cost, Session.tariff_snapshot.is_not(None))
#: ``sessions`` as the page's subqueries name it, aliased once: a new alias costs a millisecond on
#: first use (SQLAlchemy builds its column collection), more than the rest of a page's statements.
_PAGE, _LAST = aliased(Session, name="m"), aliased(Session, name="t")
_FINISHED, _ACTIVE = aliased(Session, name="finished"), aliased(Session, name="active")


@dataclass(slots=True)
class SessionCriteria:
    """What to find and in which order. Empty lists are no filter; time bounds are inclusive."""

    sort_key: str = "started_at"
    sort_descending: bool = True
    start_time: datetime | None = None
    start_time_search_end: datetime | None = None
    stop_time_search_begin: datetime | None = None
    stop_time: datetime | None = None
    charger_ids: list[str] = field(default_factory=list)
    driver_ids: list[int] = field(default_factory=list)
    site_ids: list[int] = field(default_factory=list)
    rfid_tags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class QueryPage:
    page: int
    limit: int
    total_records: int
    items: list[dict]

    @property
    def has_next_page(self) -> bool:
        return self.page * self.limit < self.total_records

    @property
    def has_previous_page(self) -> bool:
        return self.page > 1


@dataclass(frozen=True, slots=True)
class QueryTotals:
    sessions: int
    energy_wh: int
    active: int


class SessionQueryService:
    def __init__(self, db: Database):
        self.db = db

    async def query(self, criteria: SessionCriteria, page: int = 1, limit: int = 50,
                    now: datetime | None = None) -> QueryPage:
        """One page of matching sessions and how many match in all."""
        now = now or utcnow()
        offset = (page - 1) * limit
        async with self.db.session() as s:
            skip, bound = offset, None
            if offset >= DEEP_OFFSET and criteria.sort_key == "started_at":
                if not _where(criteria):
                    skip, bound = await _skip_days(s, criteria.sort_descending, offset)
                elif self.db.dialect == "postgresql":
                    skip, bound = await self._skip_in_index(s, criteria, offset)
            rows_query, count_query = self.statements(criteria, skip, limit, now, bound)
            rows = [] if skip is None else await _rows(s, rows_query)
            if 0 < len(rows) < limit or (offset == 0 and not rows):
                total = offset + len(rows)  # the last page tells the total: no count needed
            else:
                total = await s.scalar(count_query)
            costs = await _costs(s, rows, now)
            energy = await _energy_costs(s, rows, costs, now)
        return QueryPage(page, limit, total, [dict(zip(ITEM_FIELDS, _item_values(row, now, costs, energy)))
                                              for row in rows])

    def statements(self, criteria: SessionCriteria, offset: int, limit: int, now: datetime,
                   start_bound: datetime | None = None) -> tuple[Select, Select]:
        """The SELECT of one page and the count of all matching sessions (without a filter, the
        sum of the sessions per day).

        The page is a deferred join: its ids are found on ``sessions`` alone (from an index where
        one serves), and only those ids are joined for names. Joining before sorting would join
        every matching row, and skipping to page N would join every skipped row. ``start_bound``
        (from ``_skip_days`` or ``_skip_in_index``) starts the page's search at that started_at.
        """
        m = _PAGE
        where = _where(criteria, m)
        count = (select(func.count()).select_from(Session).where(*_where(criteria)) if where
                 else select(func.coalesce(func.sum(SessionDay.sessions), 0)))
        if start_bound is not None:
            where.append(m.started_at <= start_bound if criteria.sort_descending else m.started_at >= start_bound)
        elif criteria.sort_key == "started_at" and criteria.sort_descending and _stop_window(criteria):
            where.append(m.started_at >= _earliest_start_of_last_stopped(criteria, offset + limit))
        if criteria.sort_key == "duration":
            page_ids = _by_duration(criteria, now, offset, limit).subquery("page")
        elif criteria.sort_key == "energy_wh":
            page_ids = _by_energy(criteria, offset, limit).subquery("page")
        else:
            page_ids = (_ordered(select(m.id).where(*where), criteria, now, self.db.dialect, m)
                        .offset(offset).limit(limit).subquery("page"))
        rows = _ordered(self._joined().join(page_ids, page_ids.c.id == Session.id), criteria, now, self.db.dialect)
        return rows, count

    async def _skip_in_index(self, s, criteria: SessionCriteria, offset: int) -> tuple[int | None, datetime | None]:
        """A deep page of filtered sessions in started_at order, skipped on the index alone: (rows
        still to skip, the started_at to start from); (None, None) past the last row.

        PostgreSQL's filter indexes ((charge_point_id, started_at), …) have no id, so skipping N
        rows in (started_at, id) order visits N table rows for their ids (~50 ms for page 1,000 at
        10^5 sessions). Skipping in started_at order alone reads only the index (with the
        visibility map set): ``b`` is the started_at at the offset, ``before`` the number of rows
        strictly before ``b``; the page is then the rows from ``b`` on, in (started_at, id) order,
        skipping ``offset - before`` of them.
        """
        m = _PAGE
        where = _where(criteria, m)
        order = m.started_at.desc() if criteria.sort_descending else m.started_at.asc()
        b = await s.scalar(select(m.started_at).where(*where).order_by(order).offset(offset).limit(1))
        if b is None:
            return None, None
        ahead = m.started_at > b if criteria.sort_descending else m.started_at < b
        before = await s.scalar(select(func.count()).select_from(m).where(*where, ahead))
        return offset - before, b

    async def totals(self, criteria: SessionCriteria) -> "QueryTotals":
        """How many sessions match, how many of them run, and their energy: one aggregate over
        ``sessions`` alone (the dashboard's totals line)."""
        query = select(func.count(), func.coalesce(func.sum(Session.energy_wh), 0),
                       func.count(Session.id).filter(Session.status == ACTIVE)).where(*_where(criteria))
        async with self.db.session() as s:
            count, energy_wh, active = (await s.execute(query)).one()
        return QueryTotals(int(count), int(energy_wh), int(active))

    async def export(self, criteria: SessionCriteria, now: datetime | None = None,
                     max_rows: int = EXPORT_MAX_ROWS) -> AsyncIterator[list[tuple]]:
        """Every matching session (up to ``max_rows``) in order, as an iterator of chunks of
        rows: each row the item's values in ``ITEM_FIELDS`` order.

        The matching ids are read first, in one query; rows then come in chunks of
        ``EXPORT_CHUNK``, each in a short transaction of its own, so that a slow download never
        holds a database connection (SQLite has one) between chunks.
        """
        now = now or utcnow()
        ids_query = _ordered(select(Session.id).where(*_where(criteria)), criteria, now, self.db.dialect)
        async with self.db.session() as s:
            ids = array("q", await s.scalars(ids_query.limit(max_rows)))
        return self._chunks(ids, now)

    async def _chunks(self, ids: array, now: datetime) -> AsyncIterator[list[tuple]]:
        for start in range(0, len(ids), EXPORT_CHUNK):
            chunk = ids[start:start + EXPORT_CHUNK]
            async with self.db.session() as s:
                rows = {row[0]: row for row in await _rows(s, self._joined().where(Session.id.in_(chunk.tolist())))}
                costs = await _costs(s, list(rows.values()), now)
                energy = await _energy_costs(s, list(rows.values()), costs, now)
            # a session deleted meanwhile is left out
            yield [_item_values(rows[i], now, costs, energy) for i in chunk if i in rows]

    @staticmethod
    def _joined() -> Select:
        return (select(*_COLUMNS)
                .outerjoin(Driver, Driver.id == Session.driver_id)
                .outerjoin(DriverGroup, DriverGroup.id == Driver.home_group_id)
                .outerjoin(Location, Location.id == Session.location_id))


def _where(c: SessionCriteria, S=Session) -> list[ColumnElement]:
    where = []
    if c.start_time is not None:
        where.append(S.started_at >= c.start_time)
    if c.start_time_search_end is not None:
        where.append(S.started_at <= c.start_time_search_end)
    if c.stop_time_search_begin is not None:
        where.append(S.stopped_at >= c.stop_time_search_begin)
    if c.stop_time is not None:
        where.append(S.stopped_at <= c.stop_time)
        # Implied, as a session starts before it stops, and it lets the planner start a scan of
        # the started_at index at the window instead of filtering every later session on the way
        # down to it (PostgreSQL, a month 200 days back at 10^5 sessions: 50 ms -> 0.3 ms for the
        # page). Part of the filter's meaning, in the page and the count alike: a session whose
        # station clock put its start after the window (and so after its stop) is left out.
        where.append(S.started_at <= c.stop_time)
    for column, values in ((S.charge_point_id, c.charger_ids), (S.driver_id, c.driver_ids),
                           (S.location_id, c.site_ids), (S.id_tag, c.rfid_tags)):
        if values:
            unique = sorted(set(values))
            where.append(column == unique[0] if len(unique) == 1 else column.in_(unique))
    return where


async def _rows(s, query: Select) -> list:
    """The rows of a query of columns, read on the session's connection: the ORM's processing of
    a result, there for entities these queries have none of, took a tenth of a 1,000-row page."""
    return (await (await s.connection()).execute(query)).all()


async def _skip_days(s, descending: bool, offset: int) -> tuple[int | None, datetime | None]:
    """A deep page of all sessions in started_at order, from the sessions per day: (rows still to
    skip, the started_at to start from); (None, None) past the last row.

    The day the offset falls in is found by adding up ``session_days`` (a row a day); the page
    then skips within that day's sessions instead of through half a million index entries. The
    bound is inclusive: the day's first microsecond going up, its last going down (timestamps
    have microseconds at most, so nothing of the next day is in).
    """
    order = SessionDay.day.desc() if descending else SessionDay.day.asc()
    before = 0
    days = select(SessionDay.day, func.sum(SessionDay.sessions)).group_by(SessionDay.day).order_by(order)
    for day, count in await s.execute(days):
        if before + count > offset:
            start = datetime.combine(day, time(), timezone.utc)
            return offset - before, start + timedelta(days=1, microseconds=-1) if descending else start
        before += count
    return None, None


def _stop_window(c: SessionCriteria) -> bool:
    return c.stop_time_search_begin is not None or c.stop_time is not None


def _earliest_start_of_last_stopped(c: SessionCriteria, n: int) -> ColumnElement:
    """The earliest start among the ``n`` matching sessions that stopped last: a lower bound of
    started_at that keeps a stop-filtered page in newest-first order exactly as it is.

    Those n sessions all started at or after it, so the n that started last did too. Bounded
    so, the page is read from the started_at index between the window's end and the bound;
    otherwise SQLite (no histograms) reads the whole window from the stopped_at index and sorts
    it: 82,000 sessions for a month at 10^6 sessions, 30 ms. The bound itself is read from the
    stopped_at index: n entries.
    """
    t = _LAST
    last = select(t.started_at).where(*_where(c, t)).order_by(t.stopped_at.desc()).limit(n).subquery("last")
    return select(func.min(last.c.started_at)).scalar_subquery()


def _by_duration(c: SessionCriteria, now: datetime, offset: int, limit: int) -> Select:
    """The ids of a page in duration order: finished sessions by stop − start from
    ``ix_sessions_duration``, active ones by now − start (still growing: not indexable)."""
    return _merged(c, offset, limit, lambda p, finished: elapsed(
        p.stopped_at if finished else literal(now, UTCDateTime()), p.started_at))


def _by_energy(c: SessionCriteria, offset: int, limit: int) -> Select:
    """The ids of a page in energy order: finished sessions from ``ix_sessions_finished_energy``
    (their readings, equal to ``energy_wh``), active ones by their live ``energy_wh``."""
    return _merged(c, offset, limit, lambda p, finished: (
        finished_energy(p.meter_stop, p.meter_start) if finished else p.energy_wh))


def _merged(c: SessionCriteria, offset: int, limit: int, key) -> Select:
    """The ids of a page in the order of ``key(alias, finished)``, ties broken by id.

    Finished sessions come in order from an index on their key; active ones (whose key still
    moves) are few and sorted apart. Each part is cut at offset + limit and the two are merged by
    the same key, so the page is the one a sort of every session would give, without that sort.
    """
    parts = []
    for finished, p in ((True, _FINISHED), (False, _ACTIVE)):
        value = key(p, finished)
        state = p.stopped_at.is_not(None) if finished else p.stopped_at.is_(None)
        part = (select(p.id, value.label("key")).where(*_where(c, p), state)
                .order_by(_direction(value, c), _direction(p.id, c)).limit(offset + limit).subquery())
        parts.append(select(part))
    merged = union_all(*parts).subquery("merged")
    return (select(merged.c.id).order_by(_direction(merged.c.key, c), _direction(merged.c.id, c))
            .offset(offset).limit(limit))


def _direction(column, c: SessionCriteria):
    return column.desc() if c.sort_descending else column.asc()


def _ordered(query: Select, c: SessionCriteria, now: datetime, dialect: str, S=Session) -> Select:
    """``query`` in the order asked for, ties broken by id so that pages never overlap."""

    def direction(column):
        return _direction(column, c)

    query = _sort_joined(query, c, S)
    if c.sort_key in _NULLABLE_KEYS:
        # A session without the value (not stopped yet, no driver, no final price, …) sorts after
        # every one with it. PostgreSQL orders NULLs that way by itself (and can read an index
        # so); SQLite must be told.
        column = direction(_NULLABLE_KEYS[c.sort_key](S))
        if dialect == "sqlite":
            column = column.nulls_first() if c.sort_descending else column.nulls_last()
        keys = [column]
    elif c.sort_key == "duration":
        keys = [direction(elapsed(func.coalesce(S.stopped_at, literal(now, UTCDateTime())), S.started_at))]
    elif c.sort_key == "charge_point_id":
        keys = [direction(S.charge_point_id), direction(S.started_at)]
    elif c.sort_key == "id":
        keys = []
    else:
        keys = [direction({"started_at": S.started_at, "energy_wh": S.energy_wh}[c.sort_key])]
    return query.order_by(*keys, direction(S.id))


#: For the sort by name: drivers and locations joined under names of their own (the page's outer
#: query joins them once more for the item), one pair for each ``sessions`` the query sorts.
_NAMED = {S: (aliased(Driver, name=f"{prefix}_driver"), aliased(Location, name=f"{prefix}_location"))
          for S, prefix in ((Session, "named"), (_PAGE, "page_named"))}


def _sort_joined(query: Select, c: SessionCriteria, S) -> Select:
    """``query`` joined to what a sort by name reads: a join, not a look-up per row (a correlated
    look-up per session took PostgreSQL 1.3 s over 200,000 sessions, the join a tenth of it)."""
    if c.sort_key not in ("user_name", "site_name"):
        return query
    driver, location = _NAMED[S]
    if c.sort_key == "user_name":
        return query.outerjoin(driver, driver.id == S.driver_id)
    return query.outerjoin(location, location.id == S.location_id)


def _final_cost(S) -> ColumnElement:
    """The final price incl. VAT kept on a settled session (``PricedSession.to_json``: a decimal as
    text), as a number; NULL while it runs or when no tariff applied."""
    return cast(S.cost["total_incl_vat"].as_string(), Numeric(18, 6))


#: Sort keys that may be missing, and their value for a session (``S``: ``sessions`` or an alias).
#: The names come from the driver or location joined by ``_sort_joined``; none of these keys
#: has an index, so a sort by them reads every matching session: a filter keeps that small.
_NULLABLE_KEYS = {
    "stopped_at": lambda S: S.stopped_at,
    "user_name": lambda S: _NAMED[S][0].name,
    "site_name": lambda S: _NAMED[S][1].name,
    "total_cost_incl_vat": _final_cost,
    "id_tag": lambda S: S.id_tag,
    "driver_id": lambda S: S.driver_id,
    "location_id": lambda S: S.location_id,
}


def _item_values(row, now: datetime, costs: dict[int, PricedSession],
                 energy: dict[int, tuple[Decimal, str]] | None = None) -> tuple:
    """An item's values in ``ITEM_FIELDS`` order."""
    return (*_values(row, now), *price_fields(costs.get(row[0]), (energy or {}).get(row[0])))


def _values(row, now: datetime) -> tuple:
    """An item's values in ``BASE_FIELDS`` order."""
    (id_, started_at, stopped_at, charge_point_id, evse, id_tag, driver_id, driver_name, location_id,
     location_name, group_id, group_name, energy_wh, transaction_id, updated_at, status, _, _) = row
    end = stopped_at if stopped_at is not None or status != ACTIVE else now
    minutes = max(0.0, (end - started_at).total_seconds() / 60) if end is not None else 0.0
    return (id_, started_at, stopped_at, charge_point_id, evse, id_tag, driver_id, driver_name, location_id,
            location_name, group_id, group_name, energy_wh, energy_wh / 1000, round(minutes, 2), transaction_id,
            updated_at, ORIGIN, status)


_NO_PRICES = (None,) * len(PRICE_FIELDS)


async def _costs(s, rows, now: datetime) -> dict[int, PricedSession]:
    """The price of each row's session: the final one of a finished session; for an active one
    its energy and time so far priced as one charging period (the session's own resource,
    ``GET /sessions/{id}``, prices its real periods)."""
    costs, active = {}, []
    for id_, *_, status, cost, tariffed in rows:
        if cost is not None:
            costs[id_] = PricedSession.from_json(cost)
        if status == ACTIVE and tariffed:
            active.append(id_)
    if active:
        live = await s.execute(select(Session.id, Session.tariff_snapshot, Session.time_zone, Session.started_at,
                                      Session.meter_last_at, Session.energy_wh)
                               .where(Session.id.in_(active), Session.tariff_snapshot.is_not(None)))
        for id_, tariff, zone, started_at, last_at, energy_wh in live:
            end = max(last_at or started_at, started_at)
            energy = Decimal(energy_wh) if end > started_at else Decimal(0)  # energy needs time to flow in
            costs[id_] = price_session(tariff, [Interval(started_at, end, energy, True)], zone or "UTC")
    return costs


async def _energy_costs(s, rows, costs: dict[int, PricedSession], now: datetime) -> dict[int, tuple[Decimal, str]]:
    """What the energy of each priced row's session cost the operator (``electricity/``: the
    rates as they are now, its energy spread from start to stop, or to now while it runs)."""
    return await session_energy_costs(s, ((row[0], row[8], row[1], row[2] or now, row[12])
                                          for row in rows if row[0] in costs))


def price_fields(priced: PricedSession | None, energy_cost: tuple[Decimal, str] | None = None) -> tuple:
    """Seed 004's price fields of a session, in ``PRICE_FIELDS`` order. ``unit_power_cost`` is
    the energy price per kWh billed, excl. VAT; ``vat_percent`` the one VAT rate of the price (null
    when its lines carry different rates); ``reduction_amount`` what min_price/max_price took off
    (excl. VAT); ``total_margin_amount`` the price excl. VAT less ``energy_cost`` (what the energy
    cost the operator by the electricity rates), null without one or in another currency."""
    if priced is None:
        return _NO_PRICES
    energy = priced.energy
    unit = round(energy.excl_vat / energy.billed_volume, 4) if energy.billed_volume else None
    rates = {percent for percent, _, _ in priced.vat_lines}
    vat_percent = next(iter(rates)) if len(rates) == 1 else None
    margin = (round(priced.total_excl_vat - energy_cost[0], 4)
              if energy_cost is not None and energy_cost[1] == priced.currency else None)
    values = (unit, priced.currency, vat_percent,
              energy.incl_vat, energy.excl_vat, priced.time.incl_vat, priced.time.excl_vat, priced.parking.incl_vat,
              priced.parking.excl_vat, priced.flat.incl_vat, priced.flat.excl_vat, margin, priced.reduction,
              priced.total_incl_vat, priced.total_excl_vat, priced.total_vat)
    return tuple(float(v) if isinstance(v, Decimal) else v for v in values)
