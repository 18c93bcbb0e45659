"""The session query of seed 004: filters, sorting, page numbers and totals, and CSV export.

A page is one SELECT and, unless the page itself tells, one COUNT over ``sessions`` alone. The
SELECT is a deferred join: a subquery finds the page's ids on ``sessions`` (filtered, sorted,
offset, limited), and only those ids are joined to drivers, driver groups and locations for the
names. Every filter is a column of ``sessions`` with an index ((charge_point_id, started_at),
(driver_id, started_at), (location_id, started_at), (id_tag, status), started_at, stopped_at), and
the default order (started_at, id) is read from the started_at index; on SQLite, where every index
holds the row id, the subquery and the count mostly never touch the table. Sorting by
``energy_wh`` or ``duration`` has no index: it reads the matching rows and keeps the top N.

Page numbers are offsets: page 1,000 reads and skips 999 pages of index entries. That is what the
seed's API asks for; the cursor-paged ``GET /sessions`` stays the way to walk a long history.
"""

from array import array
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import AsyncIterator

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from wattson.access.models import Driver, DriverGroup
from wattson.db import Database, UTCDateTime, utcnow
from wattson.locations.models import Location
from wattson.sessions.models import ACTIVE, Session
from wattson.tariffs.pricing import Interval, PricedSession, price_session

EXPORT_MAX_ROWS = 1_000_000
EXPORT_CHUNK = 2000
DEEP_OFFSET = 5000  # from this offset on, PostgreSQL skips on the started_at index alone
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

_COLUMNS = (Session.id, Session.started_at, Session.stopped_at, Session.charge_point_id, Session.evse,
            Session.id_tag, Session.driver_id, Driver.name, Session.location_id, Location.name,
            Driver.home_group_id, DriverGroup.name, Session.energy_wh, Session.transaction_id, Session.updated_at,
            Session.status, Session.cost)


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
            if offset >= DEEP_OFFSET and criteria.sort_key == "started_at" and self.db.dialect == "postgresql":
                skip, bound = await self._skip_in_index(s, criteria, offset)
            rows_query, count_query = self.statements(criteria, skip, limit, now, bound)
            rows = [] if skip is None else (await s.execute(rows_query)).all()
            if 0 < len(rows) < limit or (offset == 0 and not rows):
                total = offset + len(rows)  # the last page tells the total: no count needed
            else:
                total = await s.scalar(count_query)
            costs = await _costs(s, rows, now)
        return QueryPage(page, limit, total, [dict(zip(ITEM_FIELDS, (*_values(row, now), *price_fields(costs.get(row.id)))))
                                              for row in rows])

    def statements(self, criteria: SessionCriteria, offset: int, limit: int, now: datetime,
                   start_bound: datetime | None = None) -> tuple[Select, Select]:
        """The SELECT of one page and the COUNT of all matching sessions.

        The page is a deferred join: its ids are found on ``sessions`` alone (from an index where
        one serves), and only those ids are joined for names. Joining before sorting would join
        every matching row, and skipping to page N would join every skipped row. ``start_bound``
        (from ``_skip_in_index``) starts the page's search at that started_at.
        """
        m = aliased(Session, name="m")
        where = _where(criteria, m)
        if start_bound is not None:
            where.append(m.started_at <= start_bound if criteria.sort_descending else m.started_at >= start_bound)
        page_ids = (_ordered(select(m.id).where(*where), criteria, now, self.db.dialect, m)
                    .offset(offset).limit(limit).subquery("page"))
        rows = _ordered(self._joined().join(page_ids, page_ids.c.id == Session.id), criteria, now, self.db.dialect)
        return rows, select(func.count()).select_from(Session).where(*_where(criteria))

    async def _skip_in_index(self, s, criteria: SessionCriteria, offset: int) -> tuple[int | None, datetime | None]:
        """A deep page in started_at order, skipped on the index alone: (rows still to skip, the
        started_at to start from); (None, None) past the last row.

        PostgreSQL's started_at index has no id, so skipping N rows in (started_at, id) order visits
        N table rows for their ids (~50 ms for page 1,000 at 10^5 sessions). Skipping in started_at
        order alone reads only the index (with the visibility map set): ``b`` is the started_at
        at the offset, ``before`` the number of rows strictly before ``b``; the page is then the
        rows from ``b`` on, in (started_at, id) order, skipping ``offset - before`` of them.
        """
        m = aliased(Session, name="m")
        where = _where(criteria, m)
        order = m.started_at.desc() if criteria.sort_descending else m.started_at.asc()
        b = await s.scalar(select(m.started_at).where(*where).order_by(order).offset(offset).limit(1))
        if b is None:
            return None, None
        ahead = m.started_at > b if criteria.sort_descending else m.started_at < b
        before = await s.scalar(select(func.count()).select_from(m).where(*where, ahead))
        return offset - before, b

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
                rows = {row.id: row for row in (await s.execute(self._joined().where(Session.id.in_(chunk.tolist()))))}
                costs = await _costs(s, list(rows.values()), now)
            # a session deleted meanwhile is left out
            yield [(*_values(rows[i], now), *price_fields(costs.get(i))) for i in chunk if i in rows]

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


def _ordered(query: Select, c: SessionCriteria, now: datetime, dialect: str, S=Session) -> Select:
    """``query`` in the order asked for, ties broken by id so that pages never overlap."""

    def direction(column):
        return column.desc() if c.sort_descending else column.asc()

    if c.sort_key == "stopped_at":
        # An active session has not stopped yet: it sorts after every stopped one. PostgreSQL
        # orders NULLs that way by itself (and can read its index so); SQLite must be told.
        column = direction(S.stopped_at)
        if dialect == "sqlite":
            column = column.nulls_first() if c.sort_descending else column.nulls_last()
        keys = [column]
    elif c.sort_key == "duration":
        keys = [direction(_duration(now, dialect, S))]
    elif c.sort_key == "charge_point_id":
        keys = [direction(S.charge_point_id), direction(S.started_at)]
    elif c.sort_key == "id":
        keys = []
    else:
        keys = [direction({"started_at": S.started_at, "energy_wh": S.energy_wh}[c.sort_key])]
    return query.order_by(*keys, direction(S.id))


def _duration(now: datetime, dialect: str, S=Session) -> ColumnElement:
    """Stop − start; now − start for an active session."""
    end = func.coalesce(S.stopped_at, literal(now, UTCDateTime()))
    if dialect == "sqlite":
        return func.julianday(end) - func.julianday(S.started_at)
    return end - S.started_at


def _values(row, now: datetime) -> tuple:
    """An item's values in ``BASE_FIELDS`` order."""
    (id_, started_at, stopped_at, charge_point_id, evse, id_tag, driver_id, driver_name, location_id,
     location_name, group_id, group_name, energy_wh, transaction_id, updated_at, status, _) = row
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
    costs = {row.id: PricedSession.from_json(row.cost) for row in rows if row.cost is not None}
    active = [row.id for row in rows if row.status == ACTIVE]
    if active:
        live = await s.execute(select(Session.id, Session.tariff_snapshot, Session.time_zone, Session.started_at,
                                      Session.meter_last_at, Session.energy_wh)
                               .where(Session.id.in_(active), Session.tariff_snapshot.is_not(None)))
        for id_, tariff, zone, started_at, last_at, energy_wh in live:
            end = max(last_at or started_at, started_at)
            energy = Decimal(energy_wh) if end > started_at else Decimal(0)  # energy needs time to flow in
            costs[id_] = price_session(tariff, [Interval(started_at, end, energy, True)], zone or "UTC")
    return costs


def price_fields(priced: PricedSession | None) -> tuple:
    """Seed 004's price fields of a session, in ``PRICE_FIELDS`` order. ``unit_power_cost`` is
    the energy price per kWh billed, excl. VAT; ``vat_percent`` the one VAT rate of the price (null
    when its lines carry different rates); ``reduction_amount`` what min_price/max_price took off
    (excl. VAT); Wattson has no margin model, so ``total_margin_amount`` is null."""
    if priced is None:
        return _NO_PRICES
    energy = priced.energy
    unit = round(energy.excl_vat / energy.billed_volume, 4) if energy.billed_volume else None
    rates = {percent for percent, _, _ in priced.vat_lines}
    vat_percent = next(iter(rates)) if len(rates) == 1 else None
    values = (unit, priced.currency, vat_percent,
              energy.incl_vat, energy.excl_vat, priced.time.incl_vat, priced.time.excl_vat, priced.parking.incl_vat,
              priced.parking.excl_vat, priced.flat.incl_vat, priced.flat.excl_vat, None, priced.reduction,
              priced.total_incl_vat, priced.total_excl_vat, priced.total_vat)
    return tuple(float(v) if isinstance(v, Decimal) else v for v in values)
