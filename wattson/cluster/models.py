"""The Wattson processes using a database, each known by the lease it renews."""

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base


class Node(Base):
    __tablename__ = "nodes"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # host-pid-random
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    bus: Mapped[bool]  # it shares stations with other processes through a bus (WATTSON_BUS_URL)
    role: Mapped[str] = mapped_column(String(16), default="all")  # all, gateway, api or worker
    tls: Mapped[bool] = mapped_column(default=False)  # it terminates TLS for stations (profile 2)
    client_ca: Mapped[bool] = mapped_column(default=False)  # ... and verifies client certificates (3)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
