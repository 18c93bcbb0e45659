"""One row per certificate a station asked to have signed."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow

# requested: the CSR passed the rules, signing under way; rejected: the CSR or the set-up was refused
# (reason says why); signed: the chain exists, CertificateSigned not yet sent; sent: CertificateSigned
# is on its way; accepted_by_station / refused_by_station: the station's answer; failed: the signer
# or the delivery failed (reason).
STATES = ("requested", "rejected", "signed", "sent", "accepted_by_station", "refused_by_station", "failed")


class StationCertificate(Base):
    """A SignCertificate request and what became of it; ``renewal_triggered_at`` is set once, when
    the expiry sweep (or an operator) asked the station for a new one to replace this one."""

    __tablename__ = "station_certificates"
    __table_args__ = (Index("ix_station_certificates_cp", "charge_point_id", "id"),
                      Index("ix_station_certificates_expiry", "state", "not_after"),
                      Index("ix_station_certificates_command", "command_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    # ChargingStationCertificate | V2GCertificate as the station named it; None: not named (a 2.x
    # station means both uses; 1.6 knows only the charge point certificate)
    certificate_type: Mapped[str | None] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(500))  # the CSR's subject (RFC 4514); None: unreadable
    csr: Mapped[str | None] = mapped_column(Text)  # kept while signing; None once rejected
    state: Mapped[str] = mapped_column(String(24))  # one of STATES
    reason: Mapped[str | None] = mapped_column(Text)
    serial: Mapped[str | None] = mapped_column(String(64))  # hex, of the signed certificate
    not_before: Mapped[datetime | None]
    not_after: Mapped[datetime | None]
    chain: Mapped[str | None] = mapped_column(Text)  # PEM: the certificate, then its issuers
    command_id: Mapped[str | None] = mapped_column(String(36))  # the certificate-signed command
    renewal_triggered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
