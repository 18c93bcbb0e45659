"""Group commit of what stations say on (re)connecting: presence, boot, heartbeat and status.

After an outage thousands of stations connect, boot and report their status at once, each a
handful of small writes. One transaction per message made SQLite's single connection the
bottleneck of the reconnect storm, so these go through ``db/group_commit.py`` like meter values:
a batch reads the stations it needs in one query and writes each kind of row with one
executemany. The ids of connectors are remembered, so that a status notification finds its
connector without a query; EVSEs and connectors a station reports on are created the first time,
a batch's at once. A station has one call outstanding at a time (OCPP-J), so a batch holds at
most one message of a station's connection. What OCPI partners hear of (a station online, a
status shown, an EVSE created) is told to the push as the ORM's changes are. A boot's vendor and
model name are matched to the catalogue's model (``catalogue/matching.py``), the batch's at once.

Webhook events (``webhooks/producers.py``) go into the batch's transaction with one insert:
``charge_point.connected`` and ``charge_point.booted``, and ``evse.status_changed`` for a
connector whose shown status or error code a report actually changes. What each connector
shows is remembered with its id (learnt with it, forgotten when its station connects again, as
another process may have written it meanwhile), so a repeated status costs no query and emits
nothing. Heartbeats emit nothing.
"""

from dataclasses import dataclass

from sqlalchemy import bindparam, case, func, insert, or_, select, update

from wattson.catalogue.matching import model_ids, reported_keys
from wattson.db import Database, utcnow
from wattson.db.group_commit import GroupCommit
from wattson.errors import NotFound, Unauthenticated
from wattson.stations.models import ChargePoint, Connector, Evse, StationEvent, StatusEvent
from wattson.stations.status import OFFLINE, ONLINE
from wattson.webhooks import producers

#: Connector ids remembered by (station, EVSE number, connector number) at most.
CACHED_CONNECTORS = 100_000

_cps, _evses, _connectors = ChargePoint.__table__, Evse.__table__, Connector.__table__
_READ = select(_cps.c.id, _cps.c.security_profile, _cps.c.password_hash, _cps.c.registration_status,
               _cps.c.pending_security_profile)
_now = bindparam("now", type_=_cps.c.last_seen.type)
_ONLINE = update(_cps).where(_cps.c.id == bindparam("cp")).values(
    network_status=ONLINE, ocpp_version=bindparam("version"), connected_at=_now, last_seen=_now,
    node_id=bindparam("node"))
_BOOT = update(_cps).where(_cps.c.id == bindparam("cp")).values(
    vendor=bindparam("b_vendor"), model=bindparam("b_model"), serial_number=bindparam("serial"),
    model_id=func.coalesce(bindparam("model_id", type_=_cps.c.model_id.type), _cps.c.model_id),
    firmware_version=bindparam("firmware"), boot_info=bindparam("extra", type_=_cps.c.boot_info.type),
    booted_at=_now, last_seen=_now)
_SEEN = update(_cps).where(_cps.c.id == bindparam("cp")).values(last_seen=_now)
#: A connection met the pending security profile: it is the station's now (profile 3 keeps no password).
_profile = bindparam("profile", type_=_cps.c.security_profile.type)
_UPGRADED = update(_cps).where(_cps.c.id == bindparam("cp"), _cps.c.pending_security_profile == _profile).values(
    security_profile=_profile, pending_security_profile=None, security_upgrade="completed",
    security_upgrade_reason=None, security_upgrade_at=_now,
    password_hash=case((_profile == 3, None), else_=_cps.c.password_hash))
_LAYOUT = (select(_evses.c.charge_point_id, _evses.c.number, _evses.c.id, _connectors.c.number, _connectors.c.id,
                  _connectors.c.hardware_status, _connectors.c.error_code, _connectors.c.status_at)
           .outerjoin(_connectors, _connectors.c.evse_id == _evses.c.id))


def _status_update(table):
    """A status moves the shown one only when it is not older (``status.is_newer``)."""
    at = bindparam("at", type_=table.c.status_at.type)
    return update(table).where(table.c.id == bindparam("target"), or_(table.c.status_at.is_(None),
                                                                      table.c.status_at <= at)).values(
        hardware_status=bindparam("status"), error_code=bindparam("error"), status_at=at)


_CP_STATUS, _CONNECTOR_STATUS = _status_update(_cps), _status_update(_connectors)


@dataclass(slots=True)
class Connect:
    id: str
    ocpp_version: str
    credentials: object  # service.Credentials
    auto_register: bool


@dataclass(slots=True)
class Boot:
    id: str
    info: object  # service.BootInfo


@dataclass(slots=True)
class Heartbeat:
    id: str


@dataclass(slots=True)
class Disconnect:
    """Its connection to this process closed. Within a batch it precedes any Connect of the
    same station (the gateway tells a connection's end only after its connect was written)."""
    id: str


@dataclass(slots=True)
class Status:
    id: str
    report: object  # service.StatusReport


class StationWriter(GroupCommit):
    what = "station message"

    def __init__(self, db: Database):
        super().__init__(db)
        self.node_id: str | None = None  # this process's node: recorded as holding what connects
        #: (station, EVSE number, connector number): (connector id, EVSE id)
        self._connector_ids: dict[tuple[str, int, int], tuple[int, int]] = {}
        #: station: {connector id: (status, error code, status time)} as shown, for evse.status_changed
        self._shown: dict[str, dict[int, tuple]] = {}

    def forget(self) -> None:
        """EVSEs or connectors were deleted: the ids remembered may be gone."""
        self._connector_ids.clear()
        self._shown.clear()

    _failed = forget

    async def _write(self, conn, items: list, changes: set) -> list:
        from wattson.stations.service import admitted_profile  # the service imports this module
        now = utcnow()
        results: list = [None] * len(items)
        asked = {op.id for op in items if isinstance(op, (Connect, Boot))}
        known = {row.id: row for row in await conn.execute(_READ.where(_cps.c.id.in_(asked)))} if asked else {}
        online, new, boots, events, seen, statuses, gone, upgraded = [], [], [], [], [], [], [], []
        for n, op in enumerate(items):
            row = known.get(op.id)
            if isinstance(op, Connect):
                if row is None:
                    if op.auto_register and op.id not in {cp["id"] for cp in new}:
                        new.append({"id": op.id, "registration_status": "Accepted", "security_profile": 0,
                                    "network_status": ONLINE, "ocpp_version": op.ocpp_version,
                                    "connected_at": now, "last_seen": now, "node_id": self.node_id})
                        results[n] = "Accepted"
                        changes.add(("station", op.id))
                    continue
                profile, problem = admitted_profile(row.security_profile, row.pending_security_profile,
                                                    row.password_hash, op.credentials)
                if problem:
                    results[n] = Unauthenticated(f"charge point {op.id!r} is on security profile "
                                                 f"{row.security_profile}: {problem}")
                    continue
                if profile != row.security_profile:  # the upgrade is done: the old profile is refused from now on
                    upgraded.append({"cp": op.id, "profile": profile, "now": now})
                    events.append({"charge_point_id": op.id, "kind": "security_upgrade", "timestamp": now, "data": {
                        "state": "completed", "security_profile": profile, "previous": row.security_profile}})
                online.append({"cp": op.id, "version": op.ocpp_version, "now": now, "node": self.node_id})
                self._shown.pop(op.id, None)  # written elsewhere while it was away, perhaps
                changes.add(("station", op.id))
                results[n] = row.registration_status
            elif isinstance(op, Boot):
                if row is None:
                    results[n] = NotFound(f"charge point {op.id!r} not found")
                    continue
                info = op.info
                boots.append({"cp": op.id, "b_vendor": info.vendor, "b_model": info.model, "serial": info.serial_number,
                              "firmware": info.firmware_version, "extra": info.extra or None, "now": now})
                events.append({"charge_point_id": op.id, "kind": "boot", "timestamp": now, "data": {
                    "registration_status": row.registration_status, "vendor": info.vendor, "model": info.model}})
                results[n] = row.registration_status
            elif isinstance(op, Heartbeat):
                seen.append({"cp": op.id, "now": now})
            elif isinstance(op, Disconnect):
                gone.append(op.id)
            else:
                statuses.append(op)
        offline = await self._offline(conn, gone, now, changes) if gone else []
        if boots:  # the catalogue's model of each (catalogue/matching.py): one query for the batch
            models = await model_ids(conn, [(row["b_vendor"], row["b_model"]) for row in boots])
            for row in boots:
                row["model_id"] = models.get(reported_keys(row["b_vendor"], row["b_model"]))
        if new:
            await conn.execute(insert(_cps), new)
        for statement, rows in ((_ONLINE, online), (_BOOT, boots), (_SEEN, seen), (_UPGRADED, upgraded)):
            if rows:
                await conn.execute(statement, rows)
        if events:
            await conn.execute(insert(StationEvent.__table__), events)
        events = []
        if statuses:
            changed = await self._statuses(conn, statuses, changes)
            events += [producers.event_row("evse.status_changed", evse_id, data, data["charge_point_id"], now)
                       for evse_id, data in (await producers.evses(conn, changed)).items()]
        connected = [row["cp"] for row in online] + [cp["id"] for cp in new]
        booted = [row["cp"] for row in boots]
        if connected or booted or offline:
            stations = await producers.charge_points(conn, offline + connected + booted)
            events += [producers.event_row(kind, cp, stations[cp], cp, now)
                       for kind, ids in (("charge_point.disconnected", offline), ("charge_point.connected", connected),
                                         ("charge_point.booted", booted))
                       for cp in ids if cp in stations]
        await producers.insert_events(conn, events)
        return results

    async def _offline(self, conn, ids: list[str], now, changes: set) -> list[str]:
        """Show these stations offline, unless another process holds them now: those shown so
        (OCPI partners hear of it: their EVSEs are UNKNOWN now)."""
        query = update(_cps).where(_cps.c.id.in_(ids)).values(network_status=OFFLINE, last_seen=now)
        if self.node_id is not None:
            query = query.where(_cps.c.node_id == self.node_id)
        offline = list(await conn.scalars(query.returning(_cps.c.id)))
        changes.update(("station", cp) for cp in offline)
        return offline

    async def _statuses(self, conn, statuses: list[Status], changes: set) -> list[int]:
        """History rows for all; then the station's or connector's shown status, in order. The
        ids of the EVSEs a connector of which now shows another status or error code."""
        await conn.execute(insert(StatusEvent.__table__), [
            {"charge_point_id": op.id, "evse": r.evse, "connector": r.connector, "status": r.status,
             "error_code": r.error_code, "info": r.info, "vendor_id": r.vendor_id,
             "vendor_error_code": r.vendor_error_code, "timestamp": r.timestamp}
            for op in statuses for r in (op.report,)])
        keys = [(op.id, op.report.evse, op.report.connector or 1) for op in statuses if op.report.evse is not None]
        if any(key not in self._connector_ids or key[0] not in self._shown for key in keys):
            await self._ensure_connectors(conn, keys, changes)
        station, connector, changed = [], [], {}
        for op in statuses:
            r = op.report
            values = {"status": r.status, "error": r.error_code, "at": r.timestamp}
            if r.evse is None:
                station.append({"target": op.id, **values})
                changes.add(("station", op.id))
            else:
                connector_id, evse_id = self._connector_ids[op.id, r.evse, r.connector or 1]
                connector.append({"target": connector_id, **values})
                changes.add(("evse", evse_id))
                if self._moves_shown(op.id, connector_id, r):
                    changed[evse_id] = None
        for statement, rows in ((_CP_STATUS, station), (_CONNECTOR_STATUS, connector)):
            if rows:
                await conn.execute(statement, rows)
        return list(changed)

    def _moves_shown(self, station: str, connector_id: int, report) -> bool:
        """Whether ``report`` changes what the connector shows (as ``_status_update`` applies it:
        not older than the shown one), remembering what it shows then."""
        shown = self._shown.setdefault(station, {})
        before = shown.get(connector_id)
        if before is not None and before[2] is not None and report.timestamp < before[2]:
            return False
        shown[connector_id] = (report.status, report.error_code, report.timestamp)
        return before is None or before[:2] != (report.status, report.error_code)

    async def _ensure_connectors(self, conn, keys: list[tuple[str, int, int]], changes: set) -> None:
        """Learn the batch's stations' connectors; create the EVSEs and connectors first reported."""
        if len(self._connector_ids) > CACHED_CONNECTORS:
            self.forget()
        stations = {cp for cp, _, _ in keys}
        evse_ids = await self._learn(conn, stations)
        missing_evses = {(cp, evse) for cp, evse, _ in keys if (cp, evse) not in evse_ids}
        if missing_evses:
            await conn.execute(insert(_evses), [{"charge_point_id": cp, "number": evse} for cp, evse in missing_evses])
            changes.update(("station", cp) for cp, _ in missing_evses)
            evse_ids = await self._learn(conn, stations)
        missing = {key for key in keys if key not in self._connector_ids}
        if missing:
            await conn.execute(insert(_connectors), [{"evse_id": evse_ids[cp, evse], "number": number}
                                                     for cp, evse, number in missing])
            await self._learn(conn, stations)

    async def _learn(self, conn, stations: set[str]) -> dict[tuple[str, int], int]:
        evse_ids = {}
        for cp in stations:
            self._shown[cp] = {}
        for cp, evse, evse_id, number, connector_id, status, error, at in await conn.execute(
                _LAYOUT.where(_evses.c.charge_point_id.in_(stations))):
            evse_ids[cp, evse] = evse_id
            if connector_id is not None:
                self._connector_ids[cp, evse, number] = connector_id, evse_id
                self._shown[cp][connector_id] = (status, error, at)
        return evse_ids
