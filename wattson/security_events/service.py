"""Security events: recorded (Wattson's own, in the caller's transaction or one of their own) and
listed from three places at once, newest first: the stations' reports (station events), the
refused handshakes (connection diagnostics) and Wattson's own (``security_events``)."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.db import Database, utcnow
from wattson.diagnostics.models import ConnectionEvent
from wattson.diagnostics.rules import REFUSED
from wattson.security_events import rules
from wattson.security_events.models import SECURITY_EVENT_KIND, SecurityEvent
from wattson.stations.models import StationEvent


@dataclass(slots=True)
class SecurityEventItem:
    """One listed event, whichever its source. ``timestamp``: when it happened, as its reporter
    says (a station's own clock); ``recorded_at``: when Wattson recorded it, the listing's order
    (for a refused handshake, the last of its counted repeats)."""
    source: str
    row_id: int
    charge_point_id: str | None
    type: str
    severity: str
    timestamp: datetime
    recorded_at: datetime
    tech_info: str | None
    data: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.source}:{self.row_id}"

    @property
    def key(self) -> tuple[datetime, int, int]:
        return self.recorded_at, rules.RANK[self.source], self.row_id


@dataclass(slots=True, frozen=True)
class Filters:
    charge_point_id: str | None = None
    type: str | None = None
    source: str | None = None
    severity: str | None = None
    since: datetime | None = None  # recorded at or after
    until: datetime | None = None  # recorded before


def record_security_event(s: AsyncSession, type: str, *, charge_point_id: str | None = None,
                          severity: str = rules.INFO, detail: str | None = None, data: dict | None = None,
                          at: datetime | None = None) -> None:
    """Add one of Wattson's own security events to the caller's transaction ``s``, so that it is
    kept exactly when the change it reports is (a password set, a certificate signed or revoked).
    ``type`` is CamelCase like OCPP's (``CertificateSigned``); ``data`` JSON for machines,
    ``detail`` one line for people."""
    if not type or len(type) > 50:
        raise ValueError(f"a security event type has 1 to 50 characters: {type!r}")
    if severity not in rules.SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(rules.SEVERITIES)}: {severity!r}")
    s.add(SecurityEvent(charge_point_id=charge_point_id, type=type, severity=severity, detail=detail,
                        data=data or {}, recorded_at=at or utcnow()))


def record_security_changes(s: AsyncSession, charge_point_id: str, old_profile: int, new_profile: int,
                            password_set: bool, had_password: bool) -> None:
    """The events of one change of a station's security profile or password (``rules.security_changes``)."""
    for type, severity, detail, data in rules.security_changes(old_profile, new_profile, password_set,
                                                               had_password):
        record_security_event(s, type, charge_point_id=charge_point_id, severity=severity, detail=detail,
                              data=data)


class SecurityEventService:
    def __init__(self, db: Database):
        self.db = db

    async def record(self, type: str, **fields) -> None:
        """``record_security_event`` in a transaction of its own, for a caller without one."""
        async with self.db.session() as s:
            record_security_event(s, type, **fields)

    async def find(self, limit: int, after: tuple[datetime, str, int] | None = None,
                   filters: Filters = Filters()) -> list[SecurityEventItem]:
        """Up to ``limit`` events, newest recorded first, after the cursor key ``after`` (recorded_at,
        source, id). Each source answers ``limit`` rows by its own index; the newest of them win."""
        queries = [(source, build(filters, after)) for source, build in
                   ((rules.STATION, _station_query), (rules.CONNECTION, _connection_query), (rules.CSMS, _own_query))
                   if filters.source in (None, source)]
        pages = []
        async with self.db.session() as s:
            for source, query in queries:
                if query is not None:
                    rows = await s.scalars(query.limit(limit))
                    pages.append([_ITEM[source](row) for row in rows])
        return rules.merge(pages, limit, lambda item: item.key)


def _window(query: Select, time_column, id_column, source: str, filters: Filters,
            after: tuple[datetime, str, int] | None) -> Select:
    """The time filters, the cursor and the order, for one source's table."""
    if filters.since is not None:
        query = query.where(time_column >= filters.since)
    if filters.until is not None:
        query = query.where(time_column < filters.until)
    if after is not None:
        at, _, row_id = after
        how = rules.after(after, source)
        if how == "at_or_before":
            query = query.where(time_column <= at)
        elif how == "before":
            query = query.where(time_column < at)
        else:
            query = query.where((time_column < at) | ((time_column == at) & (id_column < row_id)))
    return query.order_by(time_column.desc(), id_column.desc())


def _station_query(filters: Filters, after) -> Select | None:
    if filters.severity == rules.INFO:
        return None  # a station's report is a warning at least
    query = select(StationEvent).where(StationEvent.kind == SECURITY_EVENT_KIND)
    reported_type = StationEvent.data["type"].as_string()
    if filters.charge_point_id is not None:
        query = query.where(StationEvent.charge_point_id == filters.charge_point_id)
    if filters.type is not None:
        query = query.where(reported_type == filters.type)
    if filters.severity == rules.CRITICAL:
        query = query.where(reported_type.in_(sorted(rules.CRITICAL_STATION_TYPES)))
    elif filters.severity == rules.WARNING:
        query = query.where(reported_type.not_in(sorted(rules.CRITICAL_STATION_TYPES)))
    return _window(query, StationEvent.received_at, StationEvent.id, rules.STATION, filters, after)


def _connection_query(filters: Filters, after) -> Select | None:
    if filters.type not in (None, rules.HANDSHAKE_REFUSED) or filters.severity == rules.CRITICAL:
        return None
    query = select(ConnectionEvent).where(ConnectionEvent.kind == REFUSED)
    if filters.charge_point_id is not None:
        query = query.where(ConnectionEvent.charge_point_id == filters.charge_point_id)
    if filters.severity == rules.INFO:
        query = query.where(ConnectionEvent.reason.in_(sorted(rules.CONFIGURATION_REFUSALS)))
    elif filters.severity == rules.WARNING:
        query = query.where(ConnectionEvent.reason.not_in(sorted(rules.CONFIGURATION_REFUSALS)))
    return _window(query, ConnectionEvent.last_at, ConnectionEvent.id, rules.CONNECTION, filters, after)


def _own_query(filters: Filters, after) -> Select | None:
    query = select(SecurityEvent)
    for name in ("charge_point_id", "type", "severity"):
        value = getattr(filters, name)
        if value is not None:
            query = query.where(getattr(SecurityEvent, name) == value)
    return _window(query, SecurityEvent.recorded_at, SecurityEvent.id, rules.CSMS, filters, after)


def _reported(row: StationEvent) -> SecurityEventItem:
    type = str(row.data.get("type", ""))
    return SecurityEventItem(rules.STATION, row.id, row.charge_point_id, type, rules.station_severity(type),
                             row.timestamp or row.received_at, row.received_at, row.data.get("techInfo"), row.data)


def _refused(row: ConnectionEvent) -> SecurityEventItem:
    data = {"reason": row.reason, "explanation": row.explanation, "known": row.known,
            "remote_address": row.remote_address, "tls": row.tls, "subprotocols": row.subprotocols,
            "count": row.count, "first_at": row.first_at.isoformat(), "node_id": row.node_id}
    return SecurityEventItem(rules.CONNECTION, row.id, row.charge_point_id, rules.HANDSHAKE_REFUSED,
                             rules.refusal_severity(row.reason), row.last_at, row.last_at, row.detail, data)


def _own(row: SecurityEvent) -> SecurityEventItem:
    return SecurityEventItem(rules.CSMS, row.id, row.charge_point_id, row.type, row.severity, row.recorded_at,
                             row.recorded_at, row.detail, row.data)


_ITEM = {rules.STATION: _reported, rules.CONNECTION: _refused, rules.CSMS: _own}
