"""Charge point registry, boot, presence, status and station events."""

import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from wattson.catalogue.models import ChargePointModel
from wattson.db import Database, utcnow
from wattson.db.errors import unavailable
from wattson.db.lookup import get_or_404
from wattson.errors import Conflict, Invalid, NotFound
from wattson.loadmgmt.models import Circuit
from wattson.loadmgmt.rules import PHASE_ROTATIONS
from wattson.locations.models import Location
from wattson.security_events.service import record_security_changes
from wattson.sessions.models import ACTIVE as ACTIVE_SESSION, MeterValue, Session
from wattson.stations.identifiers import evse_id_problem, normalise_evse_id
from wattson.stations.models import ChargePoint, Connector, Evse, StationEvent, StatusEvent
from wattson.stations.password_check import Derivations, VerifiedPasswords
from wattson.stations.passwords import hash_password, needs_rehash, password_problem, verify_password
from wattson.stations.status import OFFLINE, ONLINE, REGISTRATION_STATUSES
from wattson.stations.writer import Boot, Connect, Disconnect, Heartbeat, Status, StationWriter
from wattson.webhooks import producers
from wattson.webhooks.outbox import emit
from wattson.tariffs.groups import check_tariff_group
from wattson.zones.service import check_placement

log = logging.getLogger("wattson.stations")
ADMIN_STATUSES = ("enabled", "disabled", "out_of_order")
SECURITY_PROFILES = (0, 1, 2, 3)
STATION_FIELDS = {"name", "location_id", "circuit_id", "model_id", "registration_status", "admin_status"}
EVSE_FIELDS = {"evse_id", "physical_reference", "label", "current_type", "max_power_w", "max_voltage_v",
               "max_amperage_a", "phases", "circuit_id", "phase_rotation", "admin_status", "allows_reservation",
               "zone_id", "parking_space_id", "lifecycle", "external_id", "tariff_group_id",
               "mid_meter_certification_end_year"}
LIFECYCLES = ("planned", "commissioned", "retired")
CONNECTOR_FIELDS = {"standard", "format", "power_type"}
EVSE_RACE = "a change saved at the same time took this EVSE number or EVSE ID, or deleted the charge point"


@dataclass(slots=True)
class BootInfo:
    vendor: str | None
    model: str | None
    serial_number: str | None = None
    firmware_version: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a station proved at its handshake; the gateway reads them off the connection."""
    password: str | None = None  # HTTP Basic, its identity as the user
    tls: bool = False  # connected over TLS (wss://)
    certificate: bool = False  # presented a client certificate, verified against our CA, naming itself
    verified_against: str | None = None  # the stored hash ``password`` matched (``StationService.connect``)


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
    def __init__(self, db: Database, auto_register: bool = False, *, tls: bool = False, client_ca: bool = False):
        """``tls``: this system terminates TLS (profile 2 possible); ``client_ca``: it also verifies
        client certificates (profile 3 possible)."""
        self.db = db
        self.auto_register = auto_register
        self.tls, self.client_ca = tls, client_ca
        #: in a cluster, what the live gateways terminate (cluster/nodes.py): (tls, client_ca)
        self.gateways_tls: Callable[[], Awaitable[tuple[bool, bool]]] | None = None
        self.writer = StationWriter(db)  # presence, boot and status: written in batches (writer.py)
        self.passwords, self.derivations = VerifiedPasswords(), Derivations()  # password_check.py
        #: told the id of each station answered Pending at boot (Provisioning.booted_pending)
        self.pending_boot: Callable[[str], None] | None = None

    # --- registry ---------------------------------------------------------------------------
    async def create(self, id: str, name: str | None = None, registration_status: str = "Accepted", *,
                     location_id: int | None = None, admin_status: str = "enabled", security_profile: int = 0,
                     password: str | None = None) -> ChargePoint:
        fields = {"name": name, "location_id": location_id, "registration_status": registration_status,
                  "admin_status": admin_status, "security_profile": security_profile}
        _check_station_fields(fields)
        hashed = await self._hashed(password)
        async with self._lost_race(f"charge point {id!r} already exists, or its location was just deleted"):
            async with self.db.session() as s:
                if await s.get(ChargePoint, id) is not None:
                    raise Conflict(f"charge point {id!r} already exists")
                await _check_location(s, location_id)
                cp = ChargePoint(id=id, **fields)
                self._apply_security(cp, {"security_profile": security_profile,
                                     **({"password": password} if password is not None else {})}, hashed,
                                     await self._tls() if (security_profile or 0) >= 2 else (True, True))
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

    async def find(self, limit: int, after_id: str | None = None, *, location_id: int | None = None,
                   network_status: str | None = None, admin_status: str | None = None) -> list[ChargePoint]:
        query = (select(ChargePoint).order_by(ChargePoint.id).limit(limit)
                 .options(selectinload(ChargePoint.evses).selectinload(Evse.connectors)))
        if after_id is not None:
            query = query.where(ChargePoint.id > after_id)
        if location_id is not None:
            query = query.where(ChargePoint.location_id == location_id)
        if network_status is not None:
            query = query.where(ChargePoint.network_status == network_status)
        if admin_status is not None:
            query = query.where(ChargePoint.admin_status == admin_status)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def update(self, id: str, **changes) -> ChargePoint:
        """Apply ``changes`` (only the fields given; None clears a nullable one). A ``password`` is
        stored as a salted hash; security profiles 0 and 3 forget it."""
        security = {k: changes.pop(k) for k in ("security_profile", "password") if k in changes}
        _check_station_fields(changes)
        hashed = await self._hashed(security.get("password"))
        tls = await self._tls() if (security.get("security_profile") or 0) >= 2 else (True, True)
        lost = " or ".join(f"{what} {changes[field]}" for what, field in (("location", "location_id"),
                                                                        ("circuit", "circuit_id")) if changes.get(field))
        async with self._lost_race(f"{lost or 'what it refers to'} was deleted at the same time"):
            async with self.db.session() as s:
                cp = await get_or_404(s, ChargePoint, id, "charge point")
                if changes.get("location_id") is not None:
                    await _check_location(s, changes["location_id"])
                await _check_circuit(s, changes.get("circuit_id"))
                await _check_model(s, changes.get("model_id"))
                if "location_id" in changes and changes["location_id"] != cp.location_id:
                    # its zones and bays were at the old location (zones/)
                    await s.execute(update(Evse).where(Evse.charge_point_id == id, (Evse.zone_id.is_not(None)) | (
                        Evse.parking_space_id.is_not(None))).values(zone_id=None, parking_space_id=None))
                for name, value in changes.items():
                    setattr(cp, name, value)
                old_profile, had_password = cp.security_profile, cp.password_hash is not None
                self._apply_security(cp, security, hashed, tls)
                # security events (docs/security.md), kept exactly when the change is
                record_security_changes(s, id, old_profile, cp.security_profile,
                                        security.get("password") is not None, had_password)
        return await self.get(id)

    async def _tls(self) -> tuple[bool, bool]:
        """Whether stations can reach a gateway that terminates TLS, and verifies client
        certificates: this process's own listener, or in a cluster a live gateway's."""
        if self.gateways_tls is None:
            return self.tls, self.client_ca
        tls, client_ca = await self.gateways_tls()
        return self.tls or tls, self.client_ca or client_ca

    async def profile_unavailable(self, profile: int) -> str | None:
        """Why this system cannot serve security ``profile`` as configured (which variables to
        set), or None when it can."""
        return _profile_unavailable(profile, *await self._tls())

    async def _hashed(self, password: str | None) -> str | None:
        """The hash of an acceptable ``password``, derived in a worker thread before any
        transaction opens (argon2id takes tens of milliseconds: docs/security.md)."""
        if password is None or password_problem(password):
            return None  # none given, or refused with its reason by ``_apply_security``
        return await self.derivations.run(hash_password, password)

    async def delete(self, id: str, online: bool) -> None:
        """Delete a station with its EVSEs, connectors, status history, events, commands and
        the meter values it sent outside any session.

        Refused while it is connected (``online``: the gateway knows), and when it has sessions:
        they would go with it, and session data is never lost (disable it with admin_status).
        """
        async with self.db.session() as s:
            await get_or_404(s, ChargePoint, id, "charge point")
            if online:
                raise Conflict(f"charge point {id!r} is connected; it can be deleted once it is offline")
            sessions = await s.scalar(select(func.count()).select_from(Session).where(Session.charge_point_id == id))
            if sessions:
                raise Conflict(f"charge point {id!r} has {sessions} session{'s' if sessions != 1 else ''}; "
                               f"set admin_status instead", {"sessions": sessions})
            # Its readings outside sessions: no foreign key takes them (sessions/models.py).
            await s.execute(delete(MeterValue).where(MeterValue.charge_point_id == id, MeterValue.session_id.is_(None)))
            await s.execute(delete(ChargePoint).where(ChargePoint.id == id))
        self.writer.forget()

    def _apply_security(self, cp: ChargePoint, changes: dict, hashed: str | None, tls: tuple[bool, bool]) -> None:
        """Set security profile and password (``hashed``: its hash, from ``_hashed``): 1 and 2 need
        a password (given now or kept from before), 0 and 3 forget it; 2 and 3 only when this
        system terminates TLS as they need (``tls``: from ``_tls``)."""
        profile = changes.get("security_profile", cp.security_profile)
        if profile is None:
            raise _invalid("security_profile", "security_profile cannot be null")
        if profile not in SECURITY_PROFILES:
            raise _invalid("security_profile", "security_profile must be 0, 1, 2 or 3")
        unavailable = "security_profile" in changes and _profile_unavailable(profile, *tls)
        if unavailable:
            raise _invalid("security_profile", unavailable)
        password = changes.get("password")
        if password is not None:
            if profile not in (1, 2):
                raise _invalid("password", "a password is used with security profiles 1 and 2 only")
            problem = password_problem(password)
            if problem:
                raise _invalid("password", problem)
            cp.password_hash = hashed or hash_password(password)
            self.passwords.forget(cp.id)
        elif profile in (1, 2) and ("password" in changes or cp.password_hash is None):
            raise _invalid("password", f"security profile {profile} needs a password (HTTP Basic authentication)")
        if profile in (0, 3):
            cp.password_hash = None
        if "security_profile" in changes and cp.security_upgrade in ("sending", "pending"):
            # set by hand: an upgrade under way no longer decides (security_upgrade.py)
            cp.pending_security_profile, cp.security_upgrade = None, "cancelled"
            cp.security_upgrade_reason, cp.security_upgrade_at = "security profile set through the API", utcnow()
        cp.security_profile = profile

    # --- EVSEs and connectors ---------------------------------------------------------------
    async def create_evse(self, charge_point_id: str, number: int, connectors: list[dict] = (), **fields) -> Evse:
        """An EVSE with its connectors. ``evse_id`` must be a valid eMI3 EVSE ID, unique network-wide."""
        _check_evse_fields(fields)
        connector_numbers = [c["number"] for c in connectors]
        if len(connector_numbers) != len(set(connector_numbers)):
            raise Invalid("connector numbers must be distinct",
                          [{"field": "body.connectors", "message": "connector numbers must be distinct"}])
        async with self._lost_race(EVSE_RACE):
            async with self.db.session() as s:
                cp = await get_or_404(s, ChargePoint, charge_point_id, "charge point")
                existing = await s.scalar(select(Evse.id).where(Evse.charge_point_id == charge_point_id,
                                                                Evse.number == number))
                if existing is not None:
                    raise Conflict(f"charge point {charge_point_id!r} already has EVSE number {number} "
                                   f"(EVSE {existing})", {"evse": existing})
                await _check_circuit(s, fields.get("circuit_id"))
                await check_tariff_group(s, fields.get("tariff_group_id"))
                await check_placement(s, None, cp.location_id, fields)
                evse = Evse(charge_point_id=charge_point_id, number=number,
                            **{k: v for k, v in fields.items() if v is not None})
                await _set_evse_id(s, evse, fields.get("evse_id"))
                evse.connectors = [Connector(**_connector_fields(c)) for c in connectors]
                s.add(evse)
                await s.flush()
                evse_id = evse.id
        return await self.get_evse(evse_id)

    async def get_evse(self, id: int) -> Evse:
        async with self.db.session() as s:
            evse = await s.scalar(select(Evse).where(Evse.id == id).options(selectinload(Evse.connectors)))
        if evse is None:
            raise NotFound(f"EVSE {id} not found")
        return evse

    async def find_evses(self, limit: int, after_id: int | None = None, *, charge_point_id: str | None = None,
                         location_id: int | None = None) -> list[Evse]:
        query = select(Evse).order_by(Evse.id).limit(limit).options(selectinload(Evse.connectors))
        if after_id is not None:
            query = query.where(Evse.id > after_id)
        if charge_point_id is not None:
            query = query.where(Evse.charge_point_id == charge_point_id)
        if location_id is not None:
            query = query.join(ChargePoint, ChargePoint.id == Evse.charge_point_id).where(
                ChargePoint.location_id == location_id)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def update_evse(self, id: int, **changes) -> Evse:
        """Apply ``changes`` (only the fields given; None clears a nullable one)."""
        _check_evse_fields(changes, partial=True)
        async with self._lost_race(EVSE_RACE):
            async with self.db.session() as s:
                evse = await get_or_404(s, Evse, id, "EVSE")
                await _check_circuit(s, changes.get("circuit_id"))
                await check_tariff_group(s, changes.get("tariff_group_id"))
                await check_placement(s, evse, await s.scalar(select(ChargePoint.location_id).where(
                    ChargePoint.id == evse.charge_point_id)), changes)
                if "evse_id" in changes:
                    await _set_evse_id(s, evse, changes.pop("evse_id"))
                for name, value in changes.items():
                    setattr(evse, name, value)
        return await self.get_evse(id)

    async def delete_evse(self, id: int) -> None:
        """Delete an EVSE and its connectors; refused while a session is active on it. Past
        sessions keep their EVSE number. A station that reports on it again recreates it."""
        async with self.db.session() as s:
            evse = await get_or_404(s, Evse, id, "EVSE")
            active = await s.scalar(select(Session.id).where(Session.charge_point_id == evse.charge_point_id,
                                                             Session.evse == evse.number,
                                                             Session.status == ACTIVE_SESSION).limit(1))
            if active is not None:
                raise Conflict(f"EVSE {id} has an active session ({active}); stop it first", {"session": active})
            await s.execute(delete(Evse).where(Evse.id == id))
        self.writer.forget()

    async def create_connector(self, evse_id: int, number: int, **fields) -> Connector:
        _check_connector_fields(fields)
        async with self._lost_race(f"EVSE {evse_id} already has connector number {number}, or was just deleted"):
            async with self.db.session() as s:
                await get_or_404(s, Evse, evse_id, "EVSE")
                existing = await s.scalar(select(Connector.id).where(Connector.evse_id == evse_id,
                                                                     Connector.number == number))
                if existing is not None:
                    raise Conflict(f"EVSE {evse_id} already has connector number {number} (connector {existing})",
                                   {"connector": existing})
                connector = Connector(evse_id=evse_id, **_connector_fields({"number": number, **fields}))
                s.add(connector)
        return connector

    async def update_connector(self, id: int, **changes) -> Connector:
        _check_connector_fields(changes)
        async with self.db.session() as s:
            connector = await get_or_404(s, Connector, id, "connector")
            for name, value in changes.items():
                setattr(connector, name, value)
        return connector

    async def delete_connector(self, id: int) -> None:
        async with self.db.session() as s:
            await get_or_404(s, Connector, id, "connector")
            await s.execute(delete(Connector).where(Connector.id == id))
        self.writer.forget()

    @staticmethod
    @asynccontextmanager
    async def _lost_race(message: str):
        """A write that passed its checks but lost a race with another (the database's unique or
        foreign key constraint refused it) is a conflict, not an error."""
        try:
            yield
        except IntegrityError:
            raise Conflict(message) from None

    # --- presence ---------------------------------------------------------------------------
    async def connect(self, id: str, ocpp_version: str, credentials: Credentials = Credentials()) -> str | None:
        """Admit a station and mark it online: its registration status, or None when it is
        unknown (and auto-registration is off). Unauthenticated, with the reason, when its
        ``credentials`` fall short of its security profile (see ``credentials_problem``)."""
        if credentials.password is not None:
            credentials = await self._check_password(id, credentials)
        return await self.writer.submit(Connect(id, ocpp_version, credentials, self.auto_register))

    async def _check_password(self, id: str, credentials: Credentials) -> Credentials:
        """Verify the password before the batch that admits the station (a slow hash must not hold
        a group commit), unless this password was verified before against the hash still stored
        (the batch compares). A PBKDF2 hash that verifies is replaced with argon2id."""
        stored = self.passwords.verified(id, credentials.password)
        if stored is None:
            async with self.db.session() as s:
                stored = await s.scalar(select(ChargePoint.password_hash).where(ChargePoint.id == id))
            if stored is None or not await self.derivations.run(verify_password, credentials.password, stored):
                return credentials  # the batch refuses it, or ignores it (profile 0 or 3, unknown)
            if needs_rehash(stored):
                stored = await self._rehash(id, credentials.password, stored)
            self.passwords.remember(id, credentials.password, stored)
        return replace(credentials, verified_against=stored)

    async def _rehash(self, id: str, password: str, old: str) -> str:
        """Store ``password`` as argon2id in place of ``old``, unless it changed meanwhile."""
        new = await self.derivations.run(hash_password, password)
        async with self.db.session() as s:
            result = await s.execute(update(ChargePoint).where(ChargePoint.id == id, ChargePoint.password_hash == old)
                                     .values(password_hash=new))
        if result.rowcount:
            log.info("%s: password hash upgraded to argon2id", id)
            return new
        return old

    async def disconnect(self, id: str) -> None:
        """Nobody can retry a disconnection: with the database gone it is logged, not raised."""
        try:
            await self.writer.submit(Disconnect(id))  # with other stations' messages: a storm's drops are many
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("%s disconnected while the database was unavailable (%s); still shown online",
                        id, type(error).__name__)

    async def mark_all_offline(self) -> None:
        """At start-up of a single gateway: no station can be connected yet."""
        async with self.db.session() as s:
            await _disconnected(s, list(await s.scalars(
                update(ChargePoint).where(ChargePoint.network_status == ONLINE)
                .values(network_status=OFFLINE).returning(ChargePoint.id))))

    async def release_nodes(self, gone: list[str]) -> int:
        """Show offline the stations held by these processes, found gone (killed, or cut off
        beyond their lease): how many. Presence is per node (cluster/nodes.py); by index."""
        async with self.db.session() as s:
            ids = list(await s.scalars(update(ChargePoint).where(ChargePoint.node_id.in_(gone),
                                                                 ChargePoint.network_status == ONLINE)
                                       .values(network_status=OFFLINE).returning(ChargePoint.id)))
            await _disconnected(s, ids)
        return len(ids)

    async def release_orphans(self, live_nodes) -> int:
        """Show offline the stations held by no live process (``live_nodes``: their ids, or a
        query of them), whichever: once, at start-up of a process in a cluster (a scan of the
        stations online)."""
        async with self.db.session() as s:
            ids = list(await s.scalars(
                update(ChargePoint).where(ChargePoint.network_status == ONLINE,
                                          ChargePoint.node_id.is_(None) | ChargePoint.node_id.not_in(live_nodes))
                .values(network_status=OFFLINE).returning(ChargePoint.id)))
            await _disconnected(s, ids)
        return len(ids)

    async def reclaim(self, ids: list[str]) -> None:
        """Show online again the stations this process holds, after others took it for dead (its
        lease ran out while it was cut off from the database). Those shown offline meanwhile
        (with charge_point.disconnected) are told connected again."""
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            async with self.db.session() as s:
                await s.execute(update(ChargePoint).where(ChargePoint.id.in_(chunk),
                                                          ChargePoint.network_status == ONLINE)
                                .values(node_id=self.writer.node_id))
                back = list(await s.scalars(update(ChargePoint).where(
                    ChargePoint.id.in_(chunk), ChargePoint.network_status != ONLINE)
                    .values(network_status=ONLINE, node_id=self.writer.node_id).returning(ChargePoint.id)))
                stations = await producers.charge_points(s, back)
                await producers.insert_events(s, [producers.event_row("charge_point.connected", cp, data, cp)
                                                  for cp, data in stations.items()])

    async def heartbeat(self, id: str) -> None:
        """Records that the station was seen; a station whose heartbeat could not be recorded
        (database gone) still gets its answer: a missed last-seen time is harmless."""
        try:
            await self.writer.submit(Heartbeat(id))
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("%s heartbeat not recorded: database unavailable (%s)", id, type(error).__name__)

    # --- station-reported facts -------------------------------------------------------------
    async def boot(self, id: str, info: BootInfo) -> str:
        """Store what the station says about itself; answer with its registration status. A
        Pending one is told to the provisioning (``pending_boot``: stations/provisioning.py)."""
        status = await self.writer.submit(Boot(id, info))
        if status == "Pending" and self.pending_boot is not None:
            self.pending_boot(id)
        return status

    async def report_status(self, id: str, report: StatusReport) -> None:
        """Keep the report in the status history; show it on the station or connector (created
        the first time it is reported on) unless an earlier-dated report is already shown."""
        await self.writer.submit(Status(id, report))

    async def record_event(self, id: str, kind: str, data: dict, timestamp: datetime | None = None,
                           **station_fields) -> None:
        """Keep a station event; ``station_fields`` also update the station (e.g. firmware_status).
        A firmware status and a security event are webhook events too, in the same transaction."""
        async with self.db.session() as s:
            s.add(StationEvent(charge_point_id=id, kind=kind, data=data, timestamp=timestamp))
            if station_fields:
                await s.execute(update(ChargePoint).where(ChargePoint.id == id).values(**station_fields))
            if "firmware_status" in station_fields:
                station = (await producers.charge_points(s, [id])).get(id)
                if station is not None:
                    emit(s, "firmware.status_changed", id, station, id)
            if kind == "security_event":
                emit(s, "security_event.received", id, producers.security_event_data(id, data, utcnow()), id)

    async def record_events(self, id: str, kind: str, entries: list[tuple[dict, datetime | None]]) -> None:
        """Keep several events of one kind at once (e.g. the entries of one OCPP 2.x NotifyEvent)."""
        async with self.db.session() as s:
            s.add_all(StationEvent(charge_point_id=id, kind=kind, data=data, timestamp=timestamp)
                      for data, timestamp in entries)

    async def events(self, id: str, limit: int, before_id: int | None = None) -> list[StationEvent]:
        """Newest first; ``before_id`` is the last id of the previous page."""
        return await self._newest(StationEvent, id, limit, before_id)

    async def status_history(self, id: str, limit: int, before_id: int | None = None) -> list[StatusEvent]:
        """Newest first; ``before_id`` is the last id of the previous page."""
        return await self._newest(StatusEvent, id, limit, before_id)

    async def _newest(self, model, charge_point_id: str, limit: int, before_id: int | None) -> list:
        query = select(model).where(model.charge_point_id == charge_point_id).order_by(model.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(model.id < before_id)
        async with self.db.session() as s:
            return list(await s.scalars(query))

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


async def _disconnected(s: AsyncSession, ids: list[str]) -> None:
    """charge_point.disconnected for each station just shown offline, in ``s``'s transaction (the
    stations of a process found gone too: to the systems around they went offline then)."""
    for start in range(0, len(ids), 500):
        stations = await producers.charge_points(s, ids[start:start + 500])
        await producers.insert_events(s, [producers.event_row("charge_point.disconnected", cp, data, cp)
                                          for cp, data in stations.items()])


# --- checks shared by create and update (the API validates first; these guard other callers) ----
def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": f"body.{field}", "message": message}])


def _check_station_fields(fields: dict) -> None:
    unknown = set(fields) - STATION_FIELDS - {"security_profile"}
    if unknown:
        raise Invalid(f"unknown charge point fields: {', '.join(sorted(unknown))}")
    if "registration_status" in fields and fields["registration_status"] not in REGISTRATION_STATUSES:
        raise _invalid("registration_status", f"registration_status must be one of {', '.join(REGISTRATION_STATUSES)}")
    if "admin_status" in fields and fields["admin_status"] not in ADMIN_STATUSES:
        raise _invalid("admin_status", f"admin_status must be one of {', '.join(ADMIN_STATUSES)}")


async def _check_location(s: AsyncSession, location_id: int | None) -> None:
    if location_id is not None and await s.get(Location, location_id) is None:
        raise _invalid("location_id", f"location {location_id} does not exist")


async def _check_circuit(s: AsyncSession, circuit_id: int | None) -> None:
    if circuit_id is not None and await s.get(Circuit, circuit_id) is None:
        raise _invalid("circuit_id", f"circuit {circuit_id} does not exist")


async def _check_model(s: AsyncSession, model_id: int | None) -> None:
    if model_id is not None and await s.get(ChargePointModel, model_id) is None:
        raise _invalid("model_id", f"charge point model {model_id} does not exist")


def credentials_problem(profile: int, password_hash: str | None, given: Credentials) -> str | None:
    """Why ``given`` falls short of security ``profile``, or None when it does not. The stored
    profile alone decides, so a station cannot connect below it (no downgrade): 1 needs the
    password, 2 TLS and the password, 3 TLS and a client certificate naming the station."""
    if profile >= 2 and not given.tls:
        return "it connected without TLS (ws:// instead of wss://)"
    if profile == 3:
        return None if given.certificate else "it presented no client certificate"
    if profile >= 1 and given.password is None:
        return "it sent no password (HTTP Basic, its identity as the user)"
    if profile >= 1 and (given.verified_against is None or given.verified_against != password_hash):
        return "wrong password"  # not verified, or against a hash since replaced (StationService.connect)
    return None


def admitted_profile(profile: int, pending: int | None, password_hash: str | None,
                     given: Credentials) -> tuple[int | None, str | None]:
    """The security profile a connection is admitted on, or None with the reason it falls short.

    While an upgrade is pending (``pending`` above ``profile``) the station may connect on either
    profile: it falls back to the old one when the new one fails (OCPP 2.0.1 A05, 1.6 security
    whitepaper). The pending profile is tried first: a connection that meets it completes the
    upgrade, and from then on the stored profile alone decides again (no downgrade)."""
    if pending is not None and pending > profile and credentials_problem(
            pending, password_hash if pending in (1, 2) else None, given) is None:
        return pending, None
    problem = credentials_problem(profile, password_hash, given)
    return (None, problem) if problem else (profile, None)


def _profile_unavailable(profile: int, tls: bool, client_ca: bool) -> str | None:
    """Why this system cannot serve ``profile`` as configured, naming the variables to set."""
    if profile == 2 and not tls:
        return "security profile 2 needs TLS: set WATTSON_TLS_CERT and WATTSON_TLS_KEY"
    if profile == 3 and not tls:
        return ("security profile 3 needs TLS with client certificates: set WATTSON_TLS_CERT, WATTSON_TLS_KEY "
                "and WATTSON_TLS_CLIENT_CA")
    if profile == 3 and not client_ca:
        return "security profile 3 needs client certificates: set WATTSON_TLS_CLIENT_CA"
    return None


def _check_evse_fields(fields: dict, partial: bool = False) -> None:
    unknown = set(fields) - EVSE_FIELDS
    if unknown:
        raise Invalid(f"unknown EVSE fields: {', '.join(sorted(unknown))}")
    if fields.get("evse_id") is not None:
        problem = evse_id_problem(fields["evse_id"])
        if problem:
            raise _invalid("evse_id", problem)
    for required in ("admin_status", "allows_reservation", "lifecycle"):
        if partial and required in fields and fields[required] is None:
            raise _invalid(required, f"{required} cannot be null")
    if fields.get("admin_status") is not None and fields["admin_status"] not in ADMIN_STATUSES:
        raise _invalid("admin_status", f"admin_status must be one of {', '.join(ADMIN_STATUSES)}")
    if fields.get("lifecycle") is not None and fields["lifecycle"] not in LIFECYCLES:
        raise _invalid("lifecycle", f"lifecycle must be one of {', '.join(LIFECYCLES)}")
    if fields.get("phase_rotation") is not None and fields["phase_rotation"] not in PHASE_ROTATIONS:
        raise _invalid("phase_rotation", f"phase_rotation must be one of {', '.join(PHASE_ROTATIONS)}")


async def _set_evse_id(s: AsyncSession, evse: Evse, evse_id: str | None) -> None:
    """Set the EVSE ID and its look-up code; another EVSE with the same code is a conflict."""
    if evse_id is None:
        evse.evse_id = evse.evse_code = None
        return
    code = normalise_evse_id(evse_id)
    query = select(Evse).where(Evse.evse_code == code)
    if evse.id is not None:  # not itself
        query = query.where(Evse.id != evse.id)
    other = await s.scalar(query)
    if other is not None:
        raise Conflict(f"EVSE ID {evse_id} is already used by EVSE {other.id} (charge point {other.charge_point_id!r}, "
                       f"number {other.number})", {"evse": other.id, "charge_point_id": other.charge_point_id,
                                                   "number": other.number, "evse_id": other.evse_id})
    evse.evse_id, evse.evse_code = evse_id.upper(), code


def _check_connector_fields(fields: dict) -> None:
    unknown = set(fields) - CONNECTOR_FIELDS
    if unknown:
        raise Invalid(f"unknown connector fields: {', '.join(sorted(unknown))}")


def _connector_fields(connector: dict) -> dict:
    unknown = set(connector) - CONNECTOR_FIELDS - {"number"}
    if unknown:
        raise Invalid(f"unknown connector fields: {', '.join(sorted(unknown))}")
    return {k: v for k, v in connector.items() if v is not None}
