"""Sessions whose stop will not come: closed by a policy the operator sets (docs/ocpp.md).

A station that vanished for good never sends its StopTransaction / Ended; one that comes back and
reports the connector Available without it has lost it (or never meant to send it, as some do
after a ConcurrentTx answer). Left alone such sessions stay active for ever, hold their token
(ConcurrentTx) and are never priced. But a station keeps its transaction messages while offline
and sends them once connected again, so a session is closed only when its stop can no longer be
on its way: the station has been connected for a while and says the connector is free, or it
has been gone far longer than any outage it would keep its queue through. Either closing is
provisional, as for lost stops (``transactions.close_unended``): a stop that comes after all
still has the last word.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from wattson.background import Loop
from wattson.db import Database, utcnow
from wattson.sessions.models import ACTIVE, Session
from wattson.stations.models import ChargePoint, Connector, StationEvent

log = logging.getLogger("wattson.sessions")

#: stop reasons of sessions closed by the policy
AVAILABLE_WITHOUT_STOP = "AvailableWithoutStop"
STATION_VANISHED = "StationVanished"
POLICY_REASONS = frozenset({AVAILABLE_WITHOUT_STOP, STATION_VANISHED})
ONLINE, AVAILABLE = "online", "Available"


@dataclass(frozen=True, slots=True)
class StalePolicy:
    """``available_after``: how long a station must have been connected, and its connector
    reported Available, before a session there is closed. ``vanished_after``: how long a station
    must have been gone. None: never. ``every``: how often the policy looks."""

    available_after: timedelta | None
    vanished_after: timedelta | None
    every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rule looks at for one active session."""

    started_at: datetime
    last_reading_at: datetime | None
    network_status: str
    connected_at: datetime | None
    last_seen: datetime | None
    connector_status: str | None
    connector_status_at: datetime | None


def stale_reason(facts: Facts, policy: StalePolicy, now: datetime) -> str | None:
    """Why the session's stop will not come, or None while it may."""
    if facts.network_status == ONLINE:
        if policy.available_after is None or facts.connector_status != AVAILABLE:
            return None
        last_activity = max(facts.started_at, facts.last_reading_at or facts.started_at)
        since = now - policy.available_after
        if (facts.connector_status_at is not None and last_activity < facts.connector_status_at <= since
                and facts.connected_at is not None and facts.connected_at <= since):
            return AVAILABLE_WITHOUT_STOP
        return None
    if policy.vanished_after is None:
        return None
    gone_since = facts.last_seen or facts.started_at
    return STATION_VANISHED if gone_since <= now - policy.vanished_after else None


class StaleSessions:
    """Applies the policy every ``policy.every``; ``sweep`` applies it once."""

    def __init__(self, db: Database, sessions, policy: StalePolicy):
        self.db = db
        self.sessions = sessions  # SessionService: settles what is closed
        self.policy = policy
        self._loop = Loop("stale-sessions")

    def start(self) -> None:
        if self.policy.available_after is not None or self.policy.vanished_after is not None:
            self._loop.every(self.policy.every.total_seconds(), self.sweep, log, "stale session sweep failed")

    async def stop(self) -> None:
        await self._loop.stop()

    async def sweep(self, now: datetime | None = None) -> list[int]:
        """Close the active sessions the policy says are over; their ids."""
        from wattson.sessions.transactions import close_unended  # transactions imports the service
        from wattson.sessions.service import emit_session  # the service imports this module
        now = now or utcnow()
        closed = []
        async with self.db.session() as s:
            rows = await s.execute(
                select(Session, ChargePoint.network_status, ChargePoint.connected_at, ChargePoint.last_seen,
                       Connector.hardware_status, Connector.status_at)
                .join(ChargePoint, ChargePoint.id == Session.charge_point_id)
                .outerjoin(Connector, and_(Connector.evse_id == Session.evse_id,
                                           Connector.number == Session.connector))
                .where(Session.status == ACTIVE,
                       or_(ChargePoint.network_status != ONLINE, Connector.hardware_status == AVAILABLE)))
            for session, network_status, connected_at, last_seen, status, status_at in rows:
                reason = stale_reason(Facts(session.started_at, session.meter_last_at, network_status, connected_at,
                                            last_seen, status, status_at), self.policy, now)
                if reason is None:
                    continue
                close_unended(session, reason)
                emit_session(s, "session.ended", session)
                s.add(StationEvent(charge_point_id=session.charge_point_id, kind="session_closed_stale",
                                   data={"session_id": session.id, "transaction_id": session.transaction_id,
                                         "reason": reason}, timestamp=now))
                log.warning("session %s (transaction %s on %s) closed: %s", session.id, session.transaction_id,
                            session.charge_point_id, reason)
                closed.append(session.id)
        for session_id in closed:
            await self.sessions.settle(session_id)
        return closed
