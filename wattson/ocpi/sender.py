"""The CPO's sender modules: locations, tariffs, sessions and CDRs as OCPI objects, listed page by
page (oldest ``last_updated`` first) or one at a time, for partners' GETs and for our pushes.

Sessions and CDRs are a partner's own only: those of its drivers' tokens (an OcpiAuthorization
links them). Locations and tariffs are the same for every partner.
"""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from wattson.db import Database, utcnow
from wattson.locations.models import Location
from wattson.ocpi import objects as o
from wattson.ocpi.models import OcpiAuthorization
from wattson.ocpi.transport import PageRequest
from wattson.sessions.billing import BillingService
from wattson.sessions.models import ACTIVE, Cdr, Session
from wattson.stations.meters import meter_id_of
from wattson.stations.models import ChargePoint, Evse
from wattson.tariffs.models import AD_HOC, REGULAR, Tariff
from wattson.tariffs.service import Place, TariffService
from wattson.zones.models import ChargingZone, ParkingSpace


class SenderService:
    def __init__(self, db: Database, tariffs: TariffService, billing: BillingService, party: o.Party,
                 operator: str, currency: str):
        self.db = db
        self.tariffs = tariffs
        self.billing = billing
        self.party = party
        self.operator = operator
        self.currency = currency

    # --- locations -------------------------------------------------------------------------------
    async def locations(self, page: PageRequest) -> tuple[list[dict], int]:
        """Published locations with at least one publishable EVSE, filtered and paged in memory: a
        location's last_updated is the latest of its own, its EVSEs' and its connectors'."""
        items = [x for x in await self._locations() if x.get("evses") and _in_window(x["last_updated"], page)]
        items.sort(key=lambda x: (_parse(x["last_updated"]), int(x["id"])))
        return items[page.offset:page.offset + page.limit], len(items)

    async def location(self, location_id: str) -> dict | None:
        if not location_id.isdigit() or int(location_id) > 2**31 - 1:
            return None
        found = await self._locations([int(location_id)])
        return found[0] if found else None

    async def _locations(self, ids: list[int] | None = None) -> list[dict]:
        async with self.db.session() as s:
            query = select(Location).order_by(Location.id)
            if ids is not None:
                query = query.where(Location.id.in_(ids))
            locations = [x for x in await s.scalars(query) if o.publishable(x)]
            if not locations:
                return []
            stations = list(await s.scalars(
                select(ChargePoint).where(ChargePoint.location_id.in_([x.id for x in locations]))
                .order_by(ChargePoint.id).options(selectinload(ChargePoint.evses).selectinload(Evse.connectors))))
            charging = set((await s.execute(select(Session.charge_point_id, Session.evse).where(
                Session.status == ACTIVE, Session.charge_point_id.in_([c.id for c in stations])))).all())
            places = [x.id for x in locations]
            zones = {z.id: z for z in await s.scalars(select(ChargingZone).where(ChargingZone.location_id.in_(places)))}
            spaces = {x.id: x for x in await s.scalars(select(ParkingSpace).where(ParkingSpace.location_id.in_(places)))}
            evses = defaultdict(list)
            now = utcnow()
            for station in stations:
                for evse in station.evses:
                    tariff_ids = {c.number: await self._tariff_ids(s, station, evse, c.number, now)
                                  for c in evse.connectors}
                    item = o.evse_object(station, evse, (station.id, evse.number) in charging, tariff_ids,
                                         zones.get(evse.zone_id), spaces.get(evse.parking_space_id))
                    if item is not None:
                        evses[station.location_id].append(item)
        return [o.location_object(self.party, x, evses[x.id], self.operator) for x in locations]

    async def _tariff_ids(self, s, station, evse, connector: int, now: datetime) -> list[str]:
        """The tariffs a driver without a group would get here now: the regular one and the ad hoc
        one (direct payment), as the session would choose them (docs/tariffs.md)."""
        place = Place(charge_point_id=station.id, evse_id=evse.id, connector=connector, location_id=station.location_id)
        ids = []
        for kind in (REGULAR, AD_HOC):
            tariff = await self.tariffs.resolve(s, place, now, kind)
            if tariff is not None and tariff.id not in ids:
                ids.append(tariff.id)
        return ids

    # --- tariffs ---------------------------------------------------------------------------------
    async def tariff_list(self, page: PageRequest) -> tuple[list[dict], int]:
        where = _window(Tariff.updated_at, page)
        async with self.db.session() as s:
            total = await s.scalar(select(func.count()).select_from(Tariff).where(*where))
            rows = await s.scalars(select(Tariff).where(*where).order_by(Tariff.updated_at, Tariff.id)
                                   .offset(page.offset).limit(page.limit))
            return [o.tariff_object(self.party, t) for t in rows], total

    async def tariff(self, tariff_id: str) -> dict | None:
        async with self.db.session() as s:
            tariff = await s.get(Tariff, tariff_id)
        return o.tariff_object(self.party, tariff) if tariff is not None else None

    # --- sessions --------------------------------------------------------------------------------
    async def sessions(self, partner_id: str, page: PageRequest) -> tuple[list[dict], int]:
        where = (OcpiAuthorization.partner_id == partner_id, *_window(Session.updated_at, page))
        joined = select(Session, OcpiAuthorization).join(OcpiAuthorization, OcpiAuthorization.session_id == Session.id)
        async with self.db.session() as s:
            total = await s.scalar(select(func.count()).select_from(Session).join(
                OcpiAuthorization, OcpiAuthorization.session_id == Session.id).where(*where))
            rows = (await s.execute(joined.where(*where).order_by(Session.updated_at, Session.id)
                                    .offset(page.offset).limit(page.limit))).all()
        return [await self._session(session, link) for session, link in rows], total

    async def session(self, session_id: int) -> tuple[dict, OcpiAuthorization] | None:
        """A roaming session as OCPI object, with the authorisation that makes it one."""
        async with self.db.session() as s:
            row = (await s.execute(select(Session, OcpiAuthorization).join(
                OcpiAuthorization, OcpiAuthorization.session_id == Session.id).where(Session.id == session_id))).first()
        if row is None:
            return None
        return await self._session(*row), row[1]

    async def _session(self, session: Session, link: OcpiAuthorization) -> dict:
        priced = await self.billing.price(session)
        async with self.db.session() as s:
            meter = await meter_id_of(s, session.charge_point_id, session.evse)
        return o.session_object(self.party, session, link, priced, self.currency, meter)

    # --- CDRs ------------------------------------------------------------------------------------
    async def cdrs(self, partner_id: str, page: PageRequest) -> tuple[list[dict], int]:
        where = (OcpiAuthorization.partner_id == partner_id, *_window(Cdr.created_at, page))
        async with self.db.session() as s:
            total = await s.scalar(select(func.count()).select_from(Cdr).join(
                OcpiAuthorization, OcpiAuthorization.session_id == Cdr.session_id).where(*where))
            rows = (await s.execute(select(Cdr, OcpiAuthorization).join(
                OcpiAuthorization, OcpiAuthorization.session_id == Cdr.session_id).where(*where)
                .order_by(Cdr.created_at, Cdr.id).offset(page.offset).limit(page.limit))).all()
        return [o.cdr_object(self.party, cdr, link) for cdr, link in rows], total

    async def cdr(self, cdr_id: int) -> tuple[dict, OcpiAuthorization] | None:
        async with self.db.session() as s:
            row = (await s.execute(select(Cdr, OcpiAuthorization).join(
                OcpiAuthorization, OcpiAuthorization.session_id == Cdr.session_id).where(Cdr.id == cdr_id))).first()
        return None if row is None else (o.cdr_object(self.party, *row), row[1])


def _window(column, page: PageRequest) -> list:
    where = []
    if page.date_from is not None:
        where.append(column >= page.date_from)
    if page.date_to is not None:
        where.append(column < page.date_to)
    return where


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _in_window(last_updated: str, page: PageRequest) -> bool:
    at = _parse(last_updated)
    return (page.date_from is None or at >= page.date_from) and (page.date_to is None or at < page.date_to)
