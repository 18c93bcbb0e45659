"""OCPP-J framing: parse frames into calls/results/errors and build frames to send.

Pure functions over text; orjson on both sides because JSON is on every message's path.
Error codes are named the OCPP 2.x way; ``ErrorCodes`` of each version renames the few
that 1.6 spells differently.

Nesting is bounded (``MAX_DEPTH``) and checked without recursion right after decoding, so that
nothing walking a payload later (the NUL check, schema validation, storing it as JSON) meets a
structure deep enough to exhaust Python's stack or a serializer's own limit.
"""

from dataclasses import dataclass
from typing import Any

import orjson

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_UNIQUE_ID = 36
#: Arrays and objects inside one another, the frame's own array counting as the first. The
#: deepest standard payload (2.0.1 ReportChargingProfiles) nests 13 levels, 14 in its frame;
#: vendor data (DataTransfer) gets the rest.
MAX_DEPTH = 64
TOO_DEEP = f"frame nested deeper than {MAX_DEPTH} levels of arrays and objects"


class RpcError(Exception):
    """A failure to answer with a CALLERROR; ``code`` is the OCPP 2.x name."""

    def __init__(self, code: str, description: str, details: dict | None = None, unique_id: str = "-1",
                 is_reply: bool = False):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details or {}
        self.unique_id = unique_id
        self.is_reply = is_reply  # a broken CALLRESULT/CALLERROR: OCPP-J answers only calls


@dataclass(slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict


@dataclass(slots=True)
class CallResult:
    unique_id: str
    payload: dict


@dataclass(slots=True)
class CallError:
    unique_id: str
    code: str
    description: str
    details: dict


Frame = Call | CallResult | CallError


def parse(text: str | bytes) -> Frame:
    """Parse one frame or raise RpcError with the unique id when it can be recovered."""
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        if str(error).startswith("depth limit"):  # orjson's own bound (1024), far above ours
            raise RpcError("FormatViolation", TOO_DEEP) from None
        raise RpcError("FormatViolation", "Frame is not valid JSON") from None
    if not isinstance(msg, list) or not msg:
        raise RpcError("RpcFrameworkError", "Frame is not a JSON array [MessageTypeId, UniqueId, ...]")
    # bool and float are not integers here, though True == 1 and 2.0 == 2 in Python.
    type_id = msg[0] if type(msg[0]) is int else None
    unique_id = msg[1] if len(msg) > 1 and isinstance(msg[1], str) else "-1"
    is_reply = type_id in (CALLRESULT, CALLERROR)
    if _brackets(text) > MAX_DEPTH and too_deep(msg):  # before anything else walks the frame
        raise RpcError("FormatViolation", TOO_DEEP, unique_id=unique_id, is_reply=is_reply)
    if len(msg) < 2 or not isinstance(msg[1], str) or not 0 < len(msg[1]) <= MAX_UNIQUE_ID:
        # A string id is echoed even when invalid, so the station can match the error.
        raise RpcError("RpcFrameworkError", "UniqueId must be a string of 1 to 36 characters", unique_id=unique_id,
                       is_reply=is_reply)
    if type_id == CALL:
        if len(msg) != 4 or not isinstance(msg[2], str):
            raise RpcError("RpcFrameworkError", "CALL must be [2, UniqueId, Action, Payload]", unique_id=unique_id)
        if not isinstance(msg[3], dict):
            raise RpcError("FormatViolation", "CALL payload must be a JSON object", unique_id=unique_id)
        if (b"\\u0000" if isinstance(text, bytes) else "\\u0000") in text and _has_nul(msg[3]):
            # No database stores NUL in text, and no OCPP string may hold one.
            raise RpcError("PropertyConstraintViolation", "strings must not contain NUL characters",
                           unique_id=unique_id)
        return Call(unique_id, msg[2], msg[3])
    if type_id == CALLRESULT:
        if len(msg) != 3 or not isinstance(msg[2], dict):
            raise RpcError("FormatViolation", "CALLRESULT must be [3, UniqueId, Payload]", unique_id=unique_id,
                           is_reply=True)
        return CallResult(unique_id, msg[2])
    if type_id == CALLERROR:
        if len(msg) < 4 or not isinstance(msg[2], str):
            raise RpcError("FormatViolation", "CALLERROR must be [4, UniqueId, Code, Description, Details]",
                           unique_id=unique_id, is_reply=True)
        details = msg[4] if len(msg) > 4 and isinstance(msg[4], dict) else {}
        return CallError(unique_id, msg[2], str(msg[3]), details)
    raise RpcError("MessageTypeNotSupported", f"MessageTypeId {orjson.dumps(msg[0]).decode()[:40]} is not supported",
                   unique_id=unique_id)


def _brackets(text: str | bytes) -> int:
    """An upper bound of the nesting depth, counted in C: most frames need no walk at all."""
    if isinstance(text, bytes):
        return text.count(b"[") + text.count(b"{")
    return text.count("[") + text.count("{")


def too_deep(value, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels (``value`` itself is level 1).
    Level by level, not recursive: any depth the decoder returns is safe to check, and a list
    comprehension per level keeps a 2 MB frame's walk to a fraction of its decoding."""
    level = [value]
    for _ in range(limit):
        level = [child for node in level for child in (node.values() if type(node) is dict else node)
                 if type(child) is dict or type(child) is list]  # orjson builds plain dicts and lists
        if not level:
            return False
    return True


def _has_nul(value) -> bool:
    """Whether any string or key holds NUL; iterative, like ``too_deep``."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def call_frame(unique_id: str, action: str, payload: dict) -> str:
    return orjson.dumps([CALL, unique_id, action, payload]).decode()


def result_frame(unique_id: str, payload: dict) -> str:
    return orjson.dumps([CALLRESULT, unique_id, payload]).decode()


def error_frame(unique_id: str, code: str, description: str, details: Any = None) -> str:
    return orjson.dumps([CALLERROR, unique_id, code, description[:255], details or {}]).decode()
