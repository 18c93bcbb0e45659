"""OCPP-J frames and timestamps as the simulator puts them on the wire.

Kept apart from the server's framing on purpose: the simulator plays the other side of the
protocol and must not share the server's mistakes.
"""

from datetime import datetime, timezone

import orjson

CALL, CALLRESULT, CALLERROR = 2, 3, 4


class Offline(ConnectionError):
    """The station has no usable connection to the CSMS right now."""


class CallError(Exception):
    """The CSMS answered a call with a CALLERROR."""

    def __init__(self, code: str, description: str = "", details: dict | None = None):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details or {}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a 'Z', the form every CSMS accepts."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def call_frame(unique_id: str, action: str, payload: dict) -> str:
    return orjson.dumps([CALL, unique_id, action, payload]).decode()


def result_frame(unique_id: str, payload: dict) -> str:
    return orjson.dumps([CALLRESULT, unique_id, payload]).decode()


def error_frame(unique_id: str, code: str, description: str, details: dict | None = None) -> str:
    return orjson.dumps([CALLERROR, unique_id, code, description, details or {}]).decode()
