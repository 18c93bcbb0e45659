"""The OCPP message log: each station's last N frames, both directions, kept in memory.

On the path of every frame (~15,000 a second), so a frame costs one small tuple appended to a
``deque(maxlen=N)``: the time, the direction, the action of the call a reply answers (the
connection knows it; a reply's text does not say it), and a reference to the frame's text the
gateway holds anyway. The message type, unique id and a call's action are read from the text's
head only when someone asks (``entries``), never per frame. A station's log outlives its
connection, bounded (the last ``keep_closed`` stations to disconnect), so an installer sees the
frames before a drop; a reconnecting station continues its own log.
"""

import re
from collections import OrderedDict, deque
from datetime import datetime, timezone

import orjson

#: Stations whose log is kept after they disconnect, the least recently disconnected forgotten first.
KEEP_CLOSED = 1000
TYPES = {"2": "CALL", "3": "CALLRESULT", "4": "CALLERROR"}
#: A frame's head: [type, "unique id", "action" (CALL) or anything else. Only the first bytes are read.
_HEAD = re.compile(r'\s*\[\s*([234])\s*,\s*"((?:[^"\\]|\\.){0,64})"\s*,\s*(?:"((?:[^"\\]|\\.){0,100})")?')
_HEAD_BYTES = 300
INVALID = "INVALID"  # a frame too malformed to say what it is (the station was answered a CALLERROR)

#: One frame: (seconds since the epoch, sent by us, action of the call a reply answers or None, text).
Entry = tuple[float, bool, str | None, str]


class FrameLog:
    """Every station's log: the live ones by station, then those of disconnected stations."""

    def __init__(self, capacity: int, keep_closed: int = KEEP_CLOSED):
        self.capacity = capacity
        self.keep_closed = keep_closed
        self._open: dict[str, deque] = {}
        self._closed: OrderedDict[str, deque] = OrderedDict()  # least recently closed first

    def opened(self, charge_point_id: str) -> deque | None:
        """The deque a new connection appends to (None: logging is off); a station connected twice
        (the old connection not yet closed) shares one, a returning station gets its old one back."""
        if not self.capacity:
            return None
        log = self._open.get(charge_point_id) or self._closed.pop(charge_point_id, None)
        if log is None:
            log = deque(maxlen=self.capacity)
        self._open[charge_point_id] = log
        return log

    def closed(self, charge_point_id: str) -> None:
        """The station's last connection is gone: keep its log among the disconnected ones."""
        log = self._open.pop(charge_point_id, None)
        if log is None:
            return
        self._closed[charge_point_id] = log
        while len(self._closed) > self.keep_closed:
            self._closed.popitem(last=False)

    def has(self, charge_point_id: str) -> bool:
        return charge_point_id in self._open or charge_point_id in self._closed

    def entries(self, charge_point_id: str, action: str | None = None, limit: int = 100) -> list[dict]:
        """The station's frames, newest first, those of ``action`` only when given (replies count
        as their call's action); at most ``limit``."""
        log = self._open.get(charge_point_id)
        if log is None:
            log = self._closed.get(charge_point_id)
        if log is None or limit <= 0:
            return []
        found = []
        for entry in reversed(log.copy()):  # a copy: the connection may append meanwhile
            item = describe(entry)
            if action is None or item["action"] == action:
                found.append(item)
                if len(found) == limit:
                    break
        return found

    def answer(self, charge_point_id: str, action: str | None = None, limit: int = 100,
               note: str | None = None) -> dict:
        """The API's shape (docs/operations.md): the frames, the capacity, and a note when the
        log is not the whole story."""
        if not self.capacity:
            note = note or "the OCPP message log is off (WATTSON_OCPP_LOG_FRAMES=0)"
        elif not self.has(charge_point_id):
            note = note or "no frames kept: the station has not connected since this gateway started"
        return {"frames": self.entries(charge_point_id, action, limit), "capacity": self.capacity, "note": note}


def describe(entry: Entry) -> dict:
    """One frame as the API shows it, its type, unique id and a call's action read from its head."""
    at, sent, action, text = entry
    head = _HEAD.match(text if isinstance(text, str) else text.decode(errors="replace"), 0, _HEAD_BYTES)
    if head is None:
        kind, unique_id = INVALID, None
    else:
        kind, unique_id = TYPES[head.group(1)], _unescape(head.group(2))
        if kind == "CALL":
            action = _unescape(head.group(3)) if head.group(3) is not None else None
    return {"at": datetime.fromtimestamp(at, timezone.utc).isoformat().replace("+00:00", "Z"),
            "direction": "out" if sent else "in", "type": kind, "action": action, "unique_id": unique_id,
            "frame": text if isinstance(text, str) else text.decode(errors="replace")}


def _unescape(quoted: str) -> str:
    if "\\" not in quoted:
        return quoted
    try:
        return orjson.loads(f'"{quoted}"')
    except orjson.JSONDecodeError:
        return quoted
