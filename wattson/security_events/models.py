"""Wattson's own security events, and the index that lists the stations' reported ones.

A station's SecurityEventNotification stays a station event (``station_events``, kind
``security_event``) and a refused handshake a connection diagnostics row: the listing reads them
where they are. Only what no other table holds is kept here: changes through the API and the
certificate authority's doings.
"""

from datetime import datetime

from sqlalchemy import Index, String, Text, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow
from wattson.stations.models import StationEvent

#: The kind of the station events the listing reads, as a literal: a partial index is used only
#: when the query's condition is its own, not a parameter.
SECURITY_EVENT_KIND = literal_column("'security_event'")


class SecurityEvent(Base):
    """One security event of Wattson's own. No foreign key: the record outlives a deleted station,
    and some events concern no station (the CA's own certificate)."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_point_id: Mapped[str | None] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(50))  # CamelCase, as OCPP names station events
    severity: Mapped[str] = mapped_column(String(16))  # rules.SEVERITIES
    detail: Mapped[str | None] = mapped_column(Text)  # one line for people
    data: Mapped[dict]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_security_events_recorded", "recorded_at", "id"),
                      Index("ix_security_events_cp_recorded", "charge_point_id", "recorded_at"))


#: The stations' security events of all stations, newest first, without reading their other events.
Index("ix_station_events_security", StationEvent.received_at, StationEvent.id,
      sqlite_where=StationEvent.kind == SECURITY_EVENT_KIND, postgresql_where=StationEvent.kind == SECURITY_EVENT_KIND)
