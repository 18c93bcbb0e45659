"""What the dashboard reads that no feature's service answers: figures across features for the
overview, and the station list with the dashboard's filters. One round trip per widget."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import Numeric, String, and_, cast, func, or_, select
from sqlalchemy.orm import selectinload

from wattson.db import Database
from wattson.diagnostics.models import ConnectionEvent
from wattson.sessions.models import Cdr, Session
from wattson.stations.models import ChargePoint, Connector, Evse, StatusEvent

FAULT = "Faulted"
CHARGING = ("Charging", "SuspendedEV", "SuspendedEVSE")


@dataclass
class Overview:
    online: int
    offline: int
    never_connected: int
    faulted: int
    evses_charging: int
    evses_available: int
    evses_total: int
    active_sessions: int
    energy_today_wh: int
    energy_month_wh: int
    revenue_today: dict[str, Decimal]  # currency -> incl. VAT
    revenue_month: dict[str, Decimal]


def _month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


class DashboardQueries:
    def __init__(self, db: Database):
        self.db = db

    @classmethod
    def of(cls, request) -> "DashboardQueries":
        """The app's one instance, made on first use."""
        state = request.app.state
        if not hasattr(state, "dashboard_queries"):
            state.dashboard_queries = cls(state.services.db)
        return state.dashboard_queries

    async def overview(self, now: datetime | None = None) -> Overview:
        now = now or datetime.now(timezone.utc)
        today, month = _day_start(now), _month_start(now)
        stations = select(
            func.count().filter(ChargePoint.network_status == "online"),
            func.count().filter(ChargePoint.network_status == "offline"),
            func.count().filter(ChargePoint.network_status == "never_connected"),
            func.count().filter(ChargePoint.hardware_status == FAULT),
        )
        evses = select(
            func.count(func.distinct(Evse.id)).filter(Connector.hardware_status.in_(CHARGING)),
            func.count(func.distinct(Evse.id)).filter(Connector.hardware_status == "Available"),
            func.count(func.distinct(Evse.id)),
        ).select_from(Evse).outerjoin(Connector, Connector.evse_id == Evse.id)
        energy = select(
            func.count().filter(Session.stopped_at.is_(None)),
            func.coalesce(func.sum(Session.energy_wh).filter(Session.started_at >= today), 0),
            func.coalesce(func.sum(Session.energy_wh), 0),
        ).where(Session.started_at >= min(today, month))
        money = (select(Cdr.currency, func.sum(cast(Cdr.total_incl_vat, Numeric(18, 4))).filter(
                     Cdr.created_at >= today), func.sum(cast(Cdr.total_incl_vat, Numeric(18, 4))))
                 .where(Cdr.created_at >= min(today, month)).group_by(Cdr.currency))
        async with self.db.session() as s:
            online, offline, never, faulted = (await s.execute(stations)).one()
            charging, available, total = (await s.execute(evses)).one()
            active, energy_today, energy_month = (await s.execute(energy)).one()
            revenue = (await s.execute(money)).all()
        return Overview(online, offline, never, faulted, charging, available, total, active,
                        int(energy_today), int(energy_month),
                        {c: Decimal(str(t or 0)) for c, t, _ in revenue if t},
                        {c: Decimal(str(m or 0)) for c, _, m in revenue})

    async def energy_per_day(self, days: int = 30, now: datetime | None = None) -> list[tuple[date, int]]:
        """Energy of the sessions started on each of the last ``days`` days (UTC), zeros included."""
        now = now or datetime.now(timezone.utc)
        first = _day_start(now) - timedelta(days=days - 1)
        day = func.substr(cast(Session.started_at, String), 1, 10)  # 'YYYY-MM-DD' on both databases
        query = (select(day, func.sum(Session.energy_wh)).where(Session.started_at >= first)
                 .group_by(day))
        async with self.db.session() as s:
            found = {str(d): int(e or 0) for d, e in (await s.execute(query)).all()}
        return [(d, found.get(d.isoformat(), 0)) for d in (first.date() + timedelta(days=i) for i in range(days))]

    async def recent_faults(self, limit: int = 8) -> list[StatusEvent]:
        query = (select(StatusEvent).where(or_(StatusEvent.status == FAULT,
                                               and_(StatusEvent.error_code.is_not(None),
                                                    StatusEvent.error_code != "NoError")))
                 .order_by(StatusEvent.id.desc()).limit(limit))
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def stations(self, limit: int, after_id: str | None = None, *, location_id: int | None = None,
                       status: str | None = None, ocpp_version: str | None = None,
                       text: str | None = None) -> list[ChargePoint]:
        """A page of stations by id; ``status``: online, offline, never_connected or faulted."""
        query = (select(ChargePoint).order_by(ChargePoint.id).limit(limit)
                 .options(selectinload(ChargePoint.evses).selectinload(Evse.connectors)))
        if after_id:
            query = query.where(ChargePoint.id > after_id)
        if location_id is not None:
            query = query.where(ChargePoint.location_id == location_id)
        if status == "faulted":
            query = query.where(ChargePoint.hardware_status == FAULT)
        elif status:
            query = query.where(ChargePoint.network_status == status)
        if ocpp_version:
            query = query.where(ChargePoint.ocpp_version == ocpp_version)
        if text:
            like = f"%{text.lower()}%"
            query = query.where(or_(*(func.lower(column).like(like) for column in (
                ChargePoint.id, ChargePoint.name, ChargePoint.vendor, ChargePoint.model, ChargePoint.serial_number))))
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def station_sessions(self, charge_point_id: str, limit: int = 20) -> list[Session]:
        query = (select(Session).where(Session.charge_point_id == charge_point_id)
                 .order_by(Session.started_at.desc(), Session.id.desc()).limit(limit))
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def connection_summary(self, since: datetime) -> list[tuple[str, str, int, int]]:
        """(kind, reason, rows, attempts) of the connection events seen since ``since``, most first."""
        attempts = func.sum(ConnectionEvent.count)
        query = (select(ConnectionEvent.kind, ConnectionEvent.reason, func.count(), attempts)
                 .where(ConnectionEvent.last_at >= since)
                 .group_by(ConnectionEvent.kind, ConnectionEvent.reason).order_by(attempts.desc()))
        async with self.db.session() as s:
            return [tuple(row) for row in (await s.execute(query)).all()]

    async def unknown_identities(self, since: datetime, limit: int = 10) -> list[tuple[str, int, datetime, str]]:
        """(identity, attempts, last seen, last address) of unregistered ids refused since ``since``:
        stations an installer set up before they were registered (or a typo in their URL)."""
        last = func.max(ConnectionEvent.last_at)
        query = (select(ConnectionEvent.charge_point_id, func.sum(ConnectionEvent.count), last,
                        func.max(ConnectionEvent.remote_address))
                 .where(ConnectionEvent.reason == "unknown_station", ConnectionEvent.last_at >= since,
                        ConnectionEvent.charge_point_id.is_not(None),
                        ConnectionEvent.charge_point_id.not_in(select(ChargePoint.id)))
                 .group_by(ConnectionEvent.charge_point_id).order_by(last.desc()).limit(limit))
        async with self.db.session() as s:
            return [tuple(row) for row in (await s.execute(query)).all()]
