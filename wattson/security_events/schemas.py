"""HTTP shapes of the security events."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from wattson.security_events.rules import SEVERITIES, SOURCES

Source = Literal[SOURCES]
Severity = Literal[SEVERITIES]

EXAMPLES = [
    {"id": "station:812", "source": "station", "charge_point_id": "CP-0001", "type": "TamperDetectionActivated",
     "severity": "critical", "timestamp": "2026-12-04T09:12:01Z", "recorded_at": "2026-12-04T09:12:01.420000Z",
     "tech_info": "enclosure opened", "data": {"type": "TamperDetectionActivated",
                                              "timestamp": "2026-12-04T09:12:01Z", "techInfo": "enclosure opened"}},
    {"id": "connection:42", "source": "connection", "charge_point_id": "CP-0001", "type": "HandshakeRefused",
     "severity": "warning", "timestamp": "2026-12-04T09:14:31.501000Z",
     "recorded_at": "2026-12-04T09:14:31.501000Z",
     "tech_info": "charge point 'CP-0001' is on security profile 1: wrong password",
     "data": {"reason": "password_wrong", "explanation": "The station's password is wrong. …", "known": True,
              "remote_address": "203.0.113.7", "tls": False, "subprotocols": ["ocpp1.6"], "count": 3,
              "first_at": "2026-12-04T09:12:01.120000+00:00", "node_id": "gw-1"}},
    {"id": "csms:7", "source": "csms", "charge_point_id": "CP-0001", "type": "SecurityProfileChanged",
     "severity": "warning", "timestamp": "2026-12-04T09:20:00Z", "recorded_at": "2026-12-04T09:20:00Z",
     "tech_info": "security profile 2 → 1", "data": {"from": 2, "to": 1, "password_removed": False}},
]


class SecurityEventOut(BaseModel):
    """A security event: reported by a station (``source`` station: its SecurityEventNotification,
    ``data`` the message), a refused handshake (connection: repeats within 10 minutes are one
    event with a ``count``) or Wattson's own (csms: changes through the API, certificates)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": EXAMPLES})
    id: str
    source: Source
    charge_point_id: str | None  # None: not about one station (or many ids from one address)
    type: str
    severity: Severity
    timestamp: datetime
    recorded_at: datetime
    tech_info: str | None
    data: dict
