"""NATS subjects of the bus, and what each OCPP message tells the rest of the cluster. No I/O.

Every subject starts with the cluster's prefix (``WATTSON_BUS_PREFIX``), so that several
deployments can share one NATS. A charge point identity may hold ``.``, ``*``, ``>`` and ``%``
(printable ASCII but "/"), which NATS reads as token separators and wildcards: they are
percent-encoded, so that every station has a single-token subject of its own.
"""

import re
from dataclasses import dataclass

PREFIX_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
_SPECIAL = {c: f"%{ord(c):02X}" for c in ".*>% "}


def token(charge_point_id: str) -> str:
    return "".join(_SPECIAL.get(c, c) for c in charge_point_id)


@dataclass(frozen=True)
class Subjects:
    prefix: str = "wattson"

    def __post_init__(self):
        if not re.match(PREFIX_PATTERN, self.prefix):
            raise ValueError(f"bus prefix {self.prefix!r} must match {PREFIX_PATTERN}")

    def command(self, charge_point_id: str) -> str:
        """Request/reply (core NATS), answered by the gateway holding the station."""
        return f"{self.prefix}.cmd.{token(charge_point_id)}"

    def log(self, charge_point_id: str) -> str:
        """Request/reply: a disconnected station's OCPP message log, answered by a gateway that kept it."""
        return f"{self.prefix}.log.{token(charge_point_id)}"

    def logs(self) -> str:
        """Every station's log question (each gateway listens once, not per station)."""
        return f"{self.prefix}.log.*"

    def event(self, kind: str, charge_point_id: str) -> str:
        return f"{self.prefix}.evt.{kind}.{token(charge_point_id)}"

    def events(self, kind: str = ">") -> str:
        """Every event (of one kind)."""
        return f"{self.prefix}.evt.>" if kind == ">" else f"{self.prefix}.evt.{kind}.*"

    @property
    def stream(self) -> str:
        """The JetStream stream keeping the events (a name holds no dots)."""
        return f"{self.prefix.upper()}_EVENTS"


#: OCPP actions whose handling is news for others (API live views, workers, webhooks).
_BY_ACTION = {"BootNotification": "boot", "StatusNotification": "status", "StartTransaction": "session.started",
              "StopTransaction": "session.ended", "MeterValues": "meter"}
_BY_EVENT_TYPE = {"Started": "session.started", "Updated": "session.updated", "Ended": "session.ended"}


def event_kind(action: str, payload: dict) -> str | None:
    """The event an answered station message makes, or None when it makes none."""
    if action == "TransactionEvent":
        return _BY_EVENT_TYPE.get(payload.get("eventType"))
    return _BY_ACTION.get(action)
