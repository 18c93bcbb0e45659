"""What the worker last told a station about a session's cost, and which stations refused to hear it."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow


class CostUpdate(Base):
    """The latest running cost sent for one session (one row per session, overwritten: the history
    of every periodic update would only grow), and when its final cost went (OCPP 1.6 FinalCost)."""

    __tablename__ = "station_cost_updates"

    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    sent_at: Mapped[datetime | None]
    energy_wh: Mapped[int] = mapped_column(BigInteger, default=0)  # the session's energy when it was sent
    total: Mapped[str | None] = mapped_column(String(24))  # incl. VAT, exact decimal as text
    final_sent_at: Mapped[datetime | None]


class CostRefusal(Base):
    """A station that answered a cost message NotSupported or NotImplemented: it is sent no more."""

    __tablename__ = "station_cost_refusals"

    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"),
                                                 primary_key=True)
    action: Mapped[str] = mapped_column(String(40))
    error_code: Mapped[str] = mapped_column(String(40))
    refused_at: Mapped[datetime] = mapped_column(default=utcnow)
