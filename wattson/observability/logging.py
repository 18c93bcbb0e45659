"""Log lines as text (the default) or as JSON (``WATTSON_LOG_FORMAT=json``): one object a line,
for log collectors that index fields rather than grep text.

The station and the OCPP message a line is about are context, not arguments: the gateway sets
``STATION_ID`` for the task that serves a connection and the connection sets ``MESSAGE_ID``
while it answers a call, so every line logged meanwhile (services included) carries them,
without each log call having to pass them.
"""

import logging
from contextvars import ContextVar
from datetime import datetime, timezone

import orjson

#: The charge point id of the connection being served, in its task (and tasks it starts).
STATION_ID: ContextVar[str | None] = ContextVar("wattson_station_id", default=None)
#: The unique id of the station's call being answered.
MESSAGE_ID: ContextVar[str | None] = ContextVar("wattson_message_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """time (UTC, ISO 8601), level, logger, message, and station_id, message_id and exception
    where there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        station, message = STATION_ID.get(), MESSAGE_ID.get()
        if station is not None:
            line["station_id"] = station
        if message is not None:
            line["message_id"] = message
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


def configure(level: str, fmt: str = "text") -> None:
    """Set up the root logger for the CLI; in JSON every line is JSON, Python's warnings too."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    if fmt == "json":
        logging.captureWarnings(True)
