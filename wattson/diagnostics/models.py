"""One row per run of the same handshake outcome (station, kind, reason, address, close code)."""

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base
from wattson.diagnostics.rules import explain


class ConnectionEvent(Base):
    """A refused handshake, an accepted connection or a disconnect; repeats within
    ``rules.WINDOW`` of the last one are counted on the same row. No foreign key: refused
    identities are mostly unknown ones, and the record outlives a deleted station."""

    __tablename__ = "connection_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    charge_point_id: Mapped[str | None] = mapped_column(String(100))  # as given; None: many ids (a flood)
    known: Mapped[bool]  # a registered charge point's id when recorded
    kind: Mapped[str] = mapped_column(String(16))  # refused, connected, disconnected
    reason: Mapped[str] = mapped_column(String(40))
    remote_address: Mapped[str] = mapped_column(String(64))
    tls: Mapped[bool]
    subprotocols: Mapped[list] = mapped_column(JSON)
    close_code: Mapped[int | None]
    detail: Mapped[str] = mapped_column(Text)
    node_id: Mapped[str | None] = mapped_column(String(80))  # the process that saw it
    count: Mapped[int]
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]

    __table_args__ = (Index("ix_connection_events_cp_last", "charge_point_id", "last_at"),
                      Index("ix_connection_events_last_at", "last_at"))

    @property
    def explanation(self) -> str:
        """What the reason means and what to do (``rules.REASONS``), worded now, not stored."""
        return explain(self.reason, self.detail, self.close_code)
