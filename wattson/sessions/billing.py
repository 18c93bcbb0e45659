"""Pricing sessions and issuing their CDRs.

At a session's start the tariff that applies is chosen and copied onto it (``choose_tariff``).
While it runs, its live cost is priced from what the station reported so far; when it finishes,
``settle`` prices it once more, keeps the price on the session and issues its CDR. A CDR is never
changed: a session whose facts change after its CDR (a late 2.x Ended, an operator's correction)
gets a credit CDR for the old one and a new CDR.
"""

import logging
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.access.models import Driver
from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.db.one_of import one_of
from wattson.db.paging import newest_first
from wattson.errors import Conflict, Invalid
from wattson.locations.models import Location
from wattson.sessions.models import FINISHED, Cdr, MeterValue, Session, TransactionEvent
from wattson.sessions.periods import billing_periods, charging_periods, current_peaks
from wattson.sessions.receipts import Receipt
from wattson.stations.meters import meter_id_of
from wattson.stations.models import Connector, Evse, StatusEvent
from wattson.tariffs.models import Tariff
from wattson.tariffs.pricing import Interval, PricedSession, price_session
from wattson.tariffs.schemas import plain
from wattson.tariffs.service import Place, TariffService
from wattson.tariffs.snapshots import snapshot_ids
from wattson.webhooks.outbox import emit
from wattson.webhooks.producers import cdr_data

log = logging.getLogger("wattson.billing")


def tariff_snapshot(tariff: Tariff) -> dict:
    """The OCPI tariff object as a session keeps it."""
    return {**tariff.body, "id": tariff.id, "last_updated": _iso(tariff.updated_at)}


class BillingService:
    def __init__(self, db: Database, tariffs: TariffService):
        self.db = db
        self.tariffs = tariffs
        # Features that follow sessions (payments/): called with (db session, session) at the end of
        # choose_tariff, in its transaction, and with the session id after each settle().
        self.tariff_listeners: list = []
        self.settled_listeners: list = []

    async def choose_tariff(self, s: AsyncSession, session: Session) -> None:
        """Decide the session's tariff at its start and keep a copy; called in the transaction
        that opens the session (and again when a 2.x transaction learns its driver later)."""
        await self.choose_tariffs(s, [session])

    async def choose_tariffs(self, s: AsyncSession, sessions: list[Session]) -> None:
        """``choose_tariff`` for many sessions opened together (``start_writer``), in a few queries."""
        drivers = {x.driver_id for x in sessions} - {None}
        groups = dict((await s.execute(select(Driver.id, Driver.home_group_id).where(one_of(s, Driver.id, drivers)))).all()) \
            if drivers else {}
        locations = {x.location_id for x in sessions} - {None}
        zones = dict((await s.execute(select(Location.id, Location.time_zone).where(one_of(s, Location.id, locations)))).all()) \
            if locations else {}
        places = [(Place(charge_point_id=x.charge_point_id, evse_id=x.evse_id, connector=x.connector,
                         location_id=x.location_id, driver_group_id=groups.get(x.driver_id)), x.started_at)
                  for x in sessions]
        for session, tariff in zip(sessions, await self.tariffs.resolve_many(s, places)):
            session.tariff_id = tariff.id if tariff else None
            session.tariff_snapshot = tariff_snapshot(tariff) if tariff else None
            session.time_zone = zones.get(session.location_id) or "UTC"
            for listener in self.tariff_listeners:
                await listener(s, session)
        # the copies as the listeners left them (payments/ may take the ad hoc tariff), stored once
        for session, snapshot_id in zip(sessions, await snapshot_ids(s, [x.tariff_snapshot for x in sessions])):
            session.tariff_snapshot_id = snapshot_id

    async def price(self, session: Session) -> PricedSession | None:
        """The session's cost: final once settled, else live up to its latest reading. None
        without a tariff."""
        if session.tariff_snapshot is None:
            return None
        if session.status == FINISHED and session.cost is not None:
            return PricedSession.from_json(session.cost)
        async with self.db.session() as s:
            return await self._price(s, session)

    async def settle(self, session_id: int) -> Cdr | None:
        """Price a finished session and issue its CDR; when its facts changed since its last CDR,
        credit that one and issue a new one. Nothing for a session without a tariff. Then tell
        the settled listeners."""
        cdr = await self._settle(session_id)
        for listener in self.settled_listeners:
            await listener(session_id)
        return cdr

    async def _settle(self, session_id: int) -> Cdr | None:
        async with self.db.session() as s:
            session = await s.get(Session, session_id)
            if session is None or session.status != FINISHED or session.tariff_snapshot is None:
                return None
            priced = await self._price(s, session)
            session.cost = priced.to_json()
            last = await self._last_cdr(s, session_id)
            if last is not None and not last.credit:
                if last.pricing == session.cost and last.end_date_time == session.stopped_at:
                    return last  # settled already, nothing changed
                await self._issue_credit(s, last, "the session changed after its CDR was issued")
            cdr = await self._issue(s, session, priced)
        log.info("CDR %s for session %s: %s %s incl. VAT", cdr.id, session_id, cdr.total_incl_vat, cdr.currency)
        return cdr

    async def credit(self, cdr_id: int, reason: str, reissue_with: str | None = None) -> tuple[Cdr, Cdr | None]:
        """An operator's correction: a credit CDR cancelling ``cdr_id``, and, with
        ``reissue_with`` (a tariff id), a new CDR for the same session priced at that tariff."""
        async with self.db.session() as s:
            original = await get_or_404(s, Cdr, cdr_id, "CDR")
            if original.credit:
                raise Conflict(f"CDR {cdr_id} is a credit CDR; credit the CDR it cancels instead")
            if await s.scalar(select(Cdr.id).where(Cdr.credit_of_id == cdr_id)) is not None:
                raise Conflict(f"CDR {cdr_id} has been credited already")
            tariff = None
            if reissue_with is not None:
                tariff = await s.get(Tariff, reissue_with)
                if tariff is None:
                    raise Invalid(f"tariff {reissue_with!r} not found",
                                  [{"field": "body.reissue_with_tariff_id", "message": "not found"}])
            credit = await self._issue_credit(s, original, reason)
            reissued = None
            if tariff is not None:
                session = await s.get(Session, original.session_id)
                session.tariff_id, session.tariff_snapshot = tariff.id, tariff_snapshot(tariff)
                (session.tariff_snapshot_id,) = await snapshot_ids(s, [session.tariff_snapshot])
                priced = await self._price(s, session)
                session.cost = priced.to_json()
                reissued = await self._issue(s, session, priced)
        return credit, reissued

    async def get_cdr(self, cdr_id: int) -> Cdr:
        async with self.db.session() as s:
            return await get_or_404(s, Cdr, cdr_id, "CDR")

    async def find_cdrs(self, limit: int, before: tuple[datetime, int] | None = None, **filters) -> list[Cdr]:
        """Newest first; filters: session_id, charge_point_id, location_id, driver_id, credit,
        issued_after (inclusive), issued_before (exclusive)."""
        query = newest_first(select(Cdr), Cdr.created_at, Cdr.id, limit, before)
        after, until = filters.pop("issued_after", None), filters.pop("issued_before", None)
        for name, value in filters.items():
            if value is not None:
                query = query.where(getattr(Cdr, name) == value)
        if after is not None:
            query = query.where(Cdr.created_at >= after)
        if until is not None:
            query = query.where(Cdr.created_at < until)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def receipt(self, session_id: int) -> Receipt:
        """The driver's receipt, from the session's CDR in force; Conflict while the session runs
        or when no tariff applied to it."""
        async with self.db.session() as s:
            session = await get_or_404(s, Session, session_id, "session")
            cdr = await self._last_cdr(s, session_id)
            if cdr is None or cdr.credit:
                raise Conflict(f"session {session_id} has no receipt: it is still running or no tariff applied")
            location = await s.get(Location, cdr.location_id) if cdr.location_id else None
            evse = await s.get(Evse, session.evse_id) if session.evse_id else None
        place = None
        if location is not None:
            street = " ".join(x for x in (location.street, location.house_number) if x)
            town = " ".join(x for x in (location.postal_code, location.city) if x)
            place = ", ".join(x for x in (location.name, street, town) if x)
        return Receipt(number=str(cdr.id), session_id=session_id, issued_at=cdr.created_at,
                       started_at=cdr.start_date_time, stopped_at=cdr.end_date_time,
                       time_zone=session.time_zone or "UTC", charge_point_id=cdr.charge_point_id,
                       evse_id=evse.evse_id if evse else None, location=place, id_tag=cdr.id_tag,
                       energy_kwh=Decimal(cdr.total_energy_wh) / 1000, priced=PricedSession.from_json(cdr.pricing),
                       tariff=cdr.body["tariffs"][0])

    # --- inside ---------------------------------------------------------------------------
    async def _price(self, s: AsyncSession, session: Session) -> PricedSession:
        samples = [x for row in await s.scalars(MeterValue.of_session(session.id)) for x in row.unpacked()]
        periods = charging_periods(session.started_at, session.meter_start, samples, session.stopped_at,
                                   session.meter_stop, merge=False)
        billed = billing_periods(periods, await self._states(s, session))
        intervals = [Interval(start=p.start_at, end=p.end_at, energy_wh=Decimal(p.energy_wh), charging=p.charging,
                              current_a=None if amps is None else Decimal(str(amps)))
                     for p, amps in zip(billed, current_peaks(samples, billed))]
        return price_session(session.tariff_snapshot, intervals, session.time_zone or "UTC")

    @staticmethod
    async def _states(s: AsyncSession, session: Session) -> list[tuple[datetime, str]]:
        """The connector's reported states during the session (and the last one before it): 1.6
        StatusNotifications and 2.x chargingState."""
        end = session.stopped_at or utcnow()
        where = (StatusEvent.charge_point_id == session.charge_point_id, StatusEvent.evse == session.evse,
                 or_(StatusEvent.connector == session.connector, StatusEvent.connector.is_(None)))
        before = await s.execute(select(StatusEvent.timestamp, StatusEvent.status).where(
            *where, StatusEvent.timestamp <= session.started_at).order_by(StatusEvent.timestamp.desc()).limit(1))
        during = await s.execute(select(StatusEvent.timestamp, StatusEvent.status).where(
            *where, StatusEvent.timestamp > session.started_at, StatusEvent.timestamp <= end))
        charging = await s.execute(select(TransactionEvent.timestamp, TransactionEvent.charging_state).where(
            TransactionEvent.session_id == session.id, TransactionEvent.charging_state.is_not(None)))
        return [tuple(row) for rows in (before, during, charging) for row in rows.all()]

    @staticmethod
    async def _last_cdr(s: AsyncSession, session_id: int) -> Cdr | None:
        return await s.scalar(select(Cdr).where(Cdr.session_id == session_id).order_by(Cdr.sequence.desc()).limit(1))

    async def _issue(self, s: AsyncSession, session: Session, priced: PricedSession) -> Cdr:
        last = await self._last_cdr(s, session.id)
        cdr = Cdr(session_id=session.id, sequence=0 if last is None else last.sequence + 1, credit=False,
                  charge_point_id=session.charge_point_id, location_id=session.location_id,
                  driver_id=session.driver_id, id_tag=session.id_tag, start_date_time=session.started_at,
                  end_date_time=session.stopped_at, currency=priced.currency, tariff_id=session.tariff_id,
                  total_energy_wh=session.energy_wh, total_excl_vat=str(priced.total_excl_vat),
                  total_incl_vat=str(priced.total_incl_vat), pricing=priced.to_json(), body={},
                  created_at=utcnow())
        s.add(cdr)
        await s.flush()
        cdr.body = await self._ocpi_cdr(s, cdr, session, priced)
        _emit_cdr(s, cdr)
        return cdr

    @staticmethod
    async def _issue_credit(s: AsyncSession, original: Cdr, reason: str) -> Cdr:
        """A CDR with the original's amounts negated, naming it (OCPI ``credit_reference_id``)."""
        last = await BillingService._last_cdr(s, original.session_id)
        now = utcnow()
        body = _negated(original.body)
        credit = Cdr(session_id=original.session_id, sequence=last.sequence + 1, credit=True,
                     credit_of_id=original.id, reason=reason, charge_point_id=original.charge_point_id,
                     location_id=original.location_id, driver_id=original.driver_id, id_tag=original.id_tag,
                     start_date_time=original.start_date_time, end_date_time=original.end_date_time,
                     currency=original.currency, tariff_id=original.tariff_id,
                     total_energy_wh=original.total_energy_wh, total_excl_vat=str(-Decimal(original.total_excl_vat)),
                     total_incl_vat=str(-Decimal(original.total_incl_vat)), pricing=original.pricing, body={},
                     created_at=now)
        s.add(credit)
        await s.flush()
        credit.body = {**body, "id": str(credit.id), "credit": True, "credit_reference_id": original.body["id"],
                       "remark": reason, "last_updated": _iso(now)}
        log.info("CDR %s credits CDR %s: %s", credit.id, original.id, reason)
        _emit_cdr(s, credit)
        return credit

    @staticmethod
    async def _ocpi_cdr(s: AsyncSession, cdr: Cdr, session: Session, priced: PricedSession) -> dict:
        """The OCPI 2.2.1 CDR object (the party's country code and id are added by the OCPI
        adapter, which knows them)."""
        location = await s.get(Location, session.location_id) if session.location_id else None
        evse = await s.get(Evse, session.evse_id) if session.evse_id else None
        connector = None
        if evse is not None:
            connector = await s.scalar(select(Connector).where(Connector.evse_id == evse.id,
                                                               Connector.number == session.connector))
        totals = {k: plain(v) for k, v in priced.ocpi_totals().items()}
        return {
            "id": str(cdr.id),
            "start_date_time": _iso(session.started_at),
            "end_date_time": _iso(session.stopped_at),
            "session_id": str(session.id),
            "cdr_token": {"uid": session.id_tag or "", "type": "RFID", "contract_id": session.id_tag or ""},
            "auth_method": "COMMAND" if session.remote_start_id is not None else "WHITELIST",
            "cdr_location": {
                "id": str(session.location_id) if session.location_id else "",
                "name": location.name if location else None,
                "address": " ".join(p for p in (location.street, location.house_number) if p) if location else "",
                "city": location.city if location else "",
                "postal_code": location.postal_code if location else None,
                "country": location.country if location else "",
                "coordinates": ({"latitude": f"{location.latitude:.6f}", "longitude": f"{location.longitude:.6f}"}
                                if location and location.latitude is not None else None),
                "evse_uid": str(session.evse_id or ""),
                "evse_id": (evse.evse_id if evse and evse.evse_id else f"{session.charge_point_id}*{session.evse}"),
                "connector_id": str(session.connector),
                "connector_standard": connector.standard if connector else None,
                "connector_format": connector.format if connector else None,
                "connector_power_type": connector.power_type if connector else None,
            },
            "meter_id": await meter_id_of(s, session.charge_point_id, session.evse),  # the meter's, if reported
            "currency": priced.currency,
            "tariffs": [session.tariff_snapshot],
            "charging_periods": plain(priced.charging_periods),
            **totals,
            "credit": False,
            "last_updated": _iso(cdr.created_at),
        }


def _emit_cdr(s: AsyncSession, cdr: Cdr) -> None:
    """cdr.created, in the transaction that issues it (its OCPI body set)."""
    emit(s, "cdr.created", cdr.id, cdr_data(cdr), cdr.charge_point_id)


def _negated(body: dict) -> dict:
    """An OCPI CDR with every price negated (a credit CDR's amounts)."""
    result = dict(body)
    for key, value in body.items():
        if key.startswith("total_") and key.endswith("_cost") and isinstance(value, dict):
            result[key] = {k: -v if isinstance(v, (int, float)) else v for k, v in value.items()}
    return result


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")
