"""Pushing changes to partners: what changed is noticed from the database session itself, queued
in a durable outbox (a table), and delivered by a background task with retries and backoff.

Noticing: ``ChangeTracker`` listens to the ORM (after a flush, what was added, changed or deleted;
after the commit, it is handed on), so no feature has to call OCPI. Queueing: each change becomes
an outbox row per partner that receives that module; a row without a body is built when it is
sent, so a queued update always carries the latest state and several changes of one object while
a partner is down coalesce into one push. Delivering: per partner, in order; a failure stops that
partner's queue and is tried again after 1, 2, 4, … seconds (at most ``retry_max``); an answer
that retrying cannot change (HTTP 4xx, OCPI 2xxx) is given up after 5 attempts.

The gap: a change committed right before the process dies, not yet queued, is not pushed; the
partner gets it with its next GET (OCPI receivers resynchronise by pulling).
"""

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import BinaryExpression

from wattson.db import Database, utcnow
from wattson.background import Loop
from wattson.db.errors import log_failure
from wattson.locations.models import Location
from wattson.ocpi.client import OcpiClient, PartnerError
from wattson.ocpi.models import REGISTERED, OcpiAuthorization, OcpiOutbox, OcpiPartner
from wattson.ocpi.objects import Party
from wattson.ocpi.partners import PartnerService, endpoint
from wattson.ocpi.sender import SenderService
from wattson.ocpi.tokens import link_session
from wattson.sessions.models import ACTIVE, Cdr, Session
from wattson.stations.models import ChargePoint, Connector, Evse
from wattson.tariffs.models import (NetworkSettings, Tariff, TariffAssignment, TariffGroup, TariffGroupAssignment,
                                    TariffGroupTariff)
from wattson.zones.models import ChargingZone, ParkingSpace

log = logging.getLogger("wattson.ocpi.push")
GIVE_UP_AFTER = 5  # attempts, for answers that retrying cannot change
STATION_FIELDS = ("network_status", "admin_status", "hardware_status", "location_id")
#: Seconds between push rounds at least: under load every commit tells of changes, and a round
#: per commit would take the database from the stations' writes; partners hear within this.
ROUND_GAP = 0.25


class ChangeTracker:
    """Collects (kind, key) of committed changes that partners may need to hear about."""

    def __init__(self, db: Database):
        self.pending: set[tuple[str, object]] = set()
        self.wake = asyncio.Event()
        tracked = type("TrackedSession", (OrmSession,), {})
        db.sessions.configure(sync_session_class=tracked)
        event.listen(tracked, "after_flush", self._after_flush)
        event.listen(tracked, "do_orm_execute", self._bulk_update)
        event.listen(tracked, "after_commit", self._after_commit)
        event.listen(tracked, "after_rollback", lambda s: s.info.pop("ocpi", None))
        db.change_observers.append(self.note)  # the group commits' writes (db/group_commit.py)

    def note(self, found: set) -> None:
        self.pending |= found
        self.wake.set()

    def _after_flush(self, session, _context) -> None:
        found = session.info.setdefault("ocpi", set())
        for obj in session.new:
            found.update(_changes(obj, created=True))
        for obj in session.dirty:
            if session.is_modified(obj):
                found.update(_changes(obj))
        for obj in session.deleted:
            found.update(_changes(obj, deleted=True))

    def _bulk_update(self, state) -> None:
        """``update(ChargePoint).where(ChargePoint.id == …).values(network_status=…)``: a station
        going offline (or all of them at start-up) is written without loading it."""
        if not state.is_update or state.bind_mapper is None or state.bind_mapper.class_ is not ChargePoint:
            return
        values = {getattr(k, "key", k) for k in getattr(state.statement, "_values", None) or {}}
        if "network_status" not in values:
            return
        where = state.statement.whereclause
        key = None
        if isinstance(where, BinaryExpression) and getattr(where.left, "key", None) == "id":
            key = getattr(where.right, "value", None)
        state.session.info.setdefault("ocpi", set()).add(("station", key) if key else ("all_locations", None))

    def _after_commit(self, session) -> None:
        found = session.info.pop("ocpi", None)
        if found:
            self.note(found)

    def take(self) -> set:
        taken, self.pending = self.pending, set()
        self.wake.clear()
        return taken


def _changes(obj, created: bool = False, deleted: bool = False) -> list[tuple[str, object]]:
    if isinstance(obj, Session):
        return [] if deleted else [("session", obj.id)]
    if isinstance(obj, Cdr):
        return [("cdr", obj.id)] if created else []
    if isinstance(obj, Tariff):
        return [("tariff", obj.id)]
    if isinstance(obj, (TariffAssignment, NetworkSettings, TariffGroup, TariffGroupTariff, TariffGroupAssignment)):
        return [("all_locations", None)]
    if isinstance(obj, Location):
        return [("location", obj.id)]
    if isinstance(obj, (ChargingZone, ParkingSpace)):  # an EVSE's floor_level and parking_restrictions
        return [("location", obj.location_id)]
    if isinstance(obj, Evse):
        return [("station", obj.charge_point_id)]
    if isinstance(obj, Connector):
        return [("evse", obj.evse_id)]
    if isinstance(obj, ChargePoint):
        attrs = inspect(obj).attrs
        if created or deleted or any(attrs[name].history.has_changes() for name in STATION_FIELDS):
            old = attrs.location_id.history.deleted or []
            return [("station", obj.id), *[("location", x) for x in old if x]]
    return []


class Pusher:
    """The background task: turns tracked changes into outbox rows and delivers due rows."""

    def __init__(self, db: Database, tracker: ChangeTracker, partners: PartnerService, sender: SenderService,
                 client: OcpiClient, us: Party, retry_max: float, session_interval: float):
        self.db = db
        self.tracker = tracker
        self.partners = partners
        self.sender = sender
        self.client = client
        self.us = us
        self.retry_max = retry_max
        self.session_interval = session_interval
        self._loop = Loop("ocpi-push")

    def start(self) -> None:
        self._loop.start(self._rounds)

    async def stop(self) -> None:
        await self._loop.stop()

    async def _rounds(self) -> None:
        last_sessions = utcnow()
        while await self._loop.pause(1.0, self.tracker.wake):
            try:
                changes = self.tracker.take()
                if utcnow() - last_sessions >= timedelta(seconds=self.session_interval):
                    last_sessions = utcnow()
                    changes |= await self._running_sessions()
                if changes:
                    await self.queue(changes)
                await self.deliver()
            except Exception as error:  # noqa: BLE001 - the pusher must outlive any one bad round
                log_failure(log, "OCPI push round failed; trying again", error)
                await self._loop.pause(1.0)
            await self._loop.pause(ROUND_GAP)  # changes meanwhile gather for the next round

    async def _running_sessions(self) -> set:
        async with self.db.session() as s:
            ids = await s.scalars(select(Session.id).join(OcpiAuthorization, OcpiAuthorization.session_id == Session.id)
                                  .where(Session.status == ACTIVE))
            return {("session", x) for x in ids}

    # --- queueing --------------------------------------------------------------------------------
    async def queue(self, changes: set) -> None:
        partners = [p for p in await self.partners.registered()]
        if not partners:
            return
        location_ids = await self._locations_of(changes)
        prefix = f"{self.us.country_code}/{self.us.party_id}"
        rows = []
        for location_id in sorted(location_ids):
            rows += [(p.id, "locations", "PUT", f"{prefix}/{location_id}", f"location:{location_id}") for p in partners]
        for kind, key in changes:
            if kind == "tariff":
                rows += [(p.id, "tariffs", "PUT", f"{prefix}/{key}", f"tariff:{key}") for p in partners]
            elif kind in ("session", "cdr"):
                session_id = key if kind == "session" else await self._session_of(key)
                link = await link_session(self.db, session_id) if session_id else None
                if link is not None:
                    rows.append((link.partner_id, "sessions", "PUT", f"{prefix}/{session_id}", f"session:{session_id}")
                                if kind == "session" else (link.partner_id, "cdrs", "POST", "", f"cdr:{key}"))
        receivers = {p.id: p for p in partners}
        async with self.db.session() as s:
            for partner_id, module, method, target, key in rows:
                partner = receivers.get(partner_id)
                if partner is None or endpoint(partner, module, "RECEIVER") is None:
                    continue
                if await s.scalar(select(OcpiOutbox.id).where(
                        OcpiOutbox.partner_id == partner_id, OcpiOutbox.object_key == key,
                        OcpiOutbox.status == "pending", OcpiOutbox.attempts == 0).limit(1)) is not None:
                    continue  # a queued push of it will carry this change too
                s.add(OcpiOutbox(partner_id=partner_id, module=module, method=method, target=target,
                                 object_key=key, created_at=utcnow(), next_attempt_at=utcnow()))

    async def enqueue_command_result(self, partner_id: str, response_url: str, body: dict) -> None:
        async with self.db.session() as s:
            s.add(OcpiOutbox(partner_id=partner_id, module="commands", method="POST", target=response_url,
                             body=body, created_at=utcnow(), next_attempt_at=utcnow()))
        self.tracker.wake.set()

    async def _locations_of(self, changes: set) -> set[int]:
        async with self.db.session() as s:
            if ("all_locations", None) in changes:
                return set(await s.scalars(select(Location.id)))
            found = {key for kind, key in changes if kind == "location"}
            stations = {key for kind, key in changes if kind == "station"}
            evses = {key for kind, key in changes if kind == "evse"}
            if evses:
                stations |= set(await s.scalars(select(Evse.charge_point_id).where(Evse.id.in_(evses))))
            if stations:
                found |= set(await s.scalars(select(ChargePoint.location_id).where(
                    ChargePoint.id.in_(stations), ChargePoint.location_id.is_not(None))))
        return found

    async def _session_of(self, cdr_id: int) -> int | None:
        async with self.db.session() as s:
            return await s.scalar(select(Cdr.session_id).where(Cdr.id == cdr_id))

    # --- delivering ------------------------------------------------------------------------------
    async def deliver(self) -> None:
        async with self.db.session() as s:
            partner_ids = set(await s.scalars(select(OcpiOutbox.partner_id).join(
                OcpiPartner, OcpiPartner.id == OcpiOutbox.partner_id).where(
                OcpiOutbox.status == "pending", OcpiOutbox.next_attempt_at <= utcnow(),
                OcpiPartner.status == REGISTERED)))
        await asyncio.gather(*[self._deliver_partner(p) for p in sorted(partner_ids)])

    async def _deliver_partner(self, partner_id: str) -> None:
        """This partner's queue in order, until it is empty or a push fails."""
        partner = await self.partners.get(partner_id)
        async with self.db.session() as s:
            rows = list(await s.scalars(select(OcpiOutbox).where(
                OcpiOutbox.partner_id == partner_id, OcpiOutbox.status == "pending").order_by(OcpiOutbox.id).limit(100)))
        for row in rows:
            if row.next_attempt_at > utcnow():
                return
            if not await self._send(partner, row):
                return

    async def _send(self, partner: OcpiPartner, row: OcpiOutbox) -> bool:
        try:
            built = (row.method, row.body) if row.body is not None else await self._build(row.object_key)
            if built is not None:
                url = row.target if row.module == "commands" else self._url(partner, row)
                await self.client.call(built[0], url, partner.remote_token or "", body=built[1],
                                       encode=partner.encode_token, to=(partner.country_code, partner.party_id))
        except PartnerError as error:
            await self._failed(row, str(error), error.retry)
            return False
        async with self.db.session() as s:
            done = await s.get(OcpiOutbox, row.id)
            if done is not None:
                done.status, done.sent_at, done.attempts = "sent", utcnow(), row.attempts + 1
        return True

    def _url(self, partner: OcpiPartner, row: OcpiOutbox) -> str:
        base = endpoint(partner, row.module, "RECEIVER")
        if base is None:
            raise PartnerError(f"the partner lists no {row.module} receiver endpoint", retry=False)
        return f"{base.rstrip('/')}/{row.target}" if row.target else base

    async def _build(self, key: str) -> tuple[str, dict | None] | None:
        """(method, body) of the object's current state; None when there is nothing to send."""
        kind, _, ident = key.partition(":")
        if kind == "location":
            found = await self.sender.location(ident)
            return ("PUT", found) if found is not None else None
        if kind == "tariff":
            found = await self.sender.tariff(ident)
            return ("PUT", found) if found is not None else ("DELETE", None)
        if kind == "session":
            found = await self.sender.session(int(ident))
            return ("PUT", found[0]) if found is not None else None
        if kind == "cdr":
            found = await self.sender.cdr(int(ident))
            return ("POST", found[0]) if found is not None else None
        return None

    async def _failed(self, row: OcpiOutbox, error: str, retry: bool) -> None:
        attempts = row.attempts + 1
        give_up = not retry and attempts >= GIVE_UP_AFTER
        delay = min(self.retry_max, 2 ** min(attempts - 1, 20))
        async with self.db.session() as s:
            failed = await s.get(OcpiOutbox, row.id)
            if failed is None:
                return
            failed.attempts, failed.last_error = attempts, error[:255]
            failed.next_attempt_at = utcnow() + timedelta(seconds=delay)
            if give_up:
                failed.status = "failed"
        log.warning("OCPI push %s %s to partner %s failed (attempt %s%s): %s", row.method, row.object_key or row.target,
                    row.partner_id, attempts, ", given up" if give_up else f", next in {delay:.0f} s", error)
