"""Charge point registry, boot, presence, status and station events."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from wattson.db import Database, utcnow
from wattson.errors import Conflict, Invalid, NotFound
from wattson.stations.models import ChargePoint, Connector, Evse, StationEvent, StatusEvent
from wattson.stations.status import OFFLINE, ONLINE, REGISTRATION_STATUSES, is_newer


@dataclass(slots=True)
class BootInfo:
    vendor: str | None
    model: str | None
    serial_number: str | None = None
    firmware_version: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass(slots=True)
class StatusReport:
    evse: int | None  # None: the station itself
    connector: int | None
    status: str
    timestamp: datetime
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


class StationService:
    def __init__(self, db: Database, auto_register: bool = False):
        self.db = db
        self.auto_register = auto_register

    # --- registry ---------------------------------------------------------------------------
    async def create(self, id: str, name: str | None = None, registration_status: str = "Accepted") -> ChargePoint:
        if registration_status not in REGISTRATION_STATUSES:
            raise Invalid(f"registration_status must be one of {', '.join(REGISTRATION_STATUSES)}")
        async with self.db.session() as s:
            if await s.get(ChargePoint, id) is not None:
                raise Conflict(f"charge point {id!r} already exists")
            cp = ChargePoint(id=id, name=name, registration_status=registration_status)
            s.add(cp)
        return await self.get(id)

    async def get(self, id: str) -> ChargePoint:
        async with self.db.session() as s:
            cp = await s.scalar(
                select(ChargePoint).where(ChargePoint.id == id)
                .options(selectinload(ChargePoint.evses).selectinload(Evse.connectors))
            )
        if cp is None:
            raise NotFound(f"charge point {id!r} not found")
        return cp

    async def find(self, limit: int, after_id: str | None = None) -> list[ChargePoint]:
        query = (select(ChargePoint).order_by(ChargePoint.id).limit(limit)
                 .options(selectinload(ChargePoint.evses).selectinload(Evse.connectors)))
        if after_id is not None:
            query = query.where(ChargePoint.id > after_id)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    # --- presence ---------------------------------------------------------------------------
    async def connect(self, id: str, ocpp_version: str) -> str | None:
        """Mark a station online; its registration status, or None when it is unknown
        (and auto-registration is off)."""
        now = utcnow()
        async with self.db.session() as s:
            cp = await s.get(ChargePoint, id)
            if cp is None:
                if not self.auto_register:
                    return None
                cp = ChargePoint(id=id, registration_status="Accepted")
                s.add(cp)
            cp.network_status, cp.ocpp_version, cp.connected_at, cp.last_seen = ONLINE, ocpp_version, now, now
            return cp.registration_status

    async def disconnect(self, id: str) -> None:
        async with self.db.session() as s:
            await s.execute(update(ChargePoint).where(ChargePoint.id == id)
                            .values(network_status=OFFLINE, last_seen=utcnow()))

    async def mark_all_offline(self) -> None:
        """At start-up of a single gateway: no station can be connected yet."""
        async with self.db.session() as s:
            await s.execute(update(ChargePoint).where(ChargePoint.network_status == ONLINE)
                            .values(network_status=OFFLINE))

    async def heartbeat(self, id: str) -> None:
        async with self.db.session() as s:
            await s.execute(update(ChargePoint).where(ChargePoint.id == id).values(last_seen=utcnow()))

    # --- station-reported facts -------------------------------------------------------------
    async def boot(self, id: str, info: BootInfo) -> str:
        """Store what the station says about itself; answer with its registration status."""
        now = utcnow()
        async with self.db.session() as s:
            cp = await s.get(ChargePoint, id)
            if cp is None:
                raise NotFound(f"charge point {id!r} not found")
            cp.vendor, cp.model = info.vendor, info.model
            cp.serial_number, cp.firmware_version = info.serial_number, info.firmware_version
            cp.boot_info = info.extra or None
            cp.booted_at = cp.last_seen = now
            s.add(StationEvent(charge_point_id=id, kind="boot", data={"registration_status": cp.registration_status,
                                                                       "vendor": info.vendor, "model": info.model},
                               timestamp=now))
            return cp.registration_status

    async def report_status(self, id: str, report: StatusReport) -> None:
        async with self.db.session() as s:
            s.add(StatusEvent(charge_point_id=id, evse=report.evse, connector=report.connector,
                              status=report.status, error_code=report.error_code, info=report.info,
                              vendor_id=report.vendor_id, vendor_error_code=report.vendor_error_code,
                              timestamp=report.timestamp))
            if report.evse is None:
                target = await s.get(ChargePoint, id)
            else:
                target = await self.ensure_connector(s, id, report.evse, report.connector or 1)
            if target is not None and is_newer(report.timestamp, target.status_at):
                target.hardware_status, target.error_code, target.status_at = report.status, report.error_code, report.timestamp

    async def record_event(self, id: str, kind: str, data: dict, timestamp: datetime | None = None,
                           **station_fields) -> None:
        """Keep a station event; ``station_fields`` also update the station (e.g. firmware_status)."""
        async with self.db.session() as s:
            s.add(StationEvent(charge_point_id=id, kind=kind, data=data, timestamp=timestamp))
            if station_fields:
                await s.execute(update(ChargePoint).where(ChargePoint.id == id).values(**station_fields))

    async def events(self, id: str, limit: int = 100) -> list[StationEvent]:
        async with self.db.session() as s:
            return list(await s.scalars(select(StationEvent).where(StationEvent.charge_point_id == id)
                                        .order_by(StationEvent.id.desc()).limit(limit)))

    async def status_history(self, id: str, limit: int = 100) -> list[StatusEvent]:
        async with self.db.session() as s:
            return list(await s.scalars(select(StatusEvent).where(StatusEvent.charge_point_id == id)
                                        .order_by(StatusEvent.id.desc()).limit(limit)))

    @staticmethod
    async def ensure_evse(s: AsyncSession, charge_point_id: str, number: int) -> Evse:
        """The EVSE a station reports on, created the first time it is mentioned."""
        evse = await s.scalar(select(Evse).where(Evse.charge_point_id == charge_point_id, Evse.number == number))
        if evse is None:
            evse = Evse(charge_point_id=charge_point_id, number=number)
            s.add(evse)
            await s.flush()
        return evse

    @classmethod
    async def ensure_connector(cls, s: AsyncSession, charge_point_id: str, evse: int, connector: int) -> Connector:
        evse_row = await cls.ensure_evse(s, charge_point_id, evse)
        row = await s.scalar(select(Connector).where(Connector.evse_id == evse_row.id, Connector.number == connector))
        if row is None:
            row = Connector(evse_id=evse_row.id, number=connector)
            s.add(row)
            await s.flush()
        return row
