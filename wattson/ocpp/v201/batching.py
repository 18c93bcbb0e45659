"""Device-model calls cut to the station's limits, and the answers put back together (no I/O).

An OCPP 2.x station says in its device model how many entries and how many bytes it takes in one
GetVariables, SetVariables or GetReport (DeviceDataCtrlr.ItemsPerMessage and BytesPerMessage,
instance = the action) and in one SetVariableMonitoring or ClearVariableMonitoring (the same
variables of MonitoringCtrlr); the CSMS must stay within them (B06.FR.05; for monitors N04 and
N06.FR.04; a station may answer a longer one with CALLERROR: B05.FR.11, B06.FR.16/17,
B08.FR.17). An operator's request for more becomes
several calls, sent one after another, and one answer (docs/ocpp.md, "Batching to the station's
limits").

Bytes are those of the whole CALL frame as the connection sends it: ``[2,"<id>","GetVariables",{…}]``,
compact JSON by orjson, UTF-8; the id counted at 36 characters, the most OCPP-J allows (ours
are UUIDs, exactly 36).
"""

from dataclasses import dataclass, field

import orjson

from wattson.stations import commands as c

#: action -> (the request's list, the response's list of results; None: no results per entry)
LISTS = {"GetVariables": ("getVariableData", "getVariableResult"),
         "SetVariables": ("setVariableData", "setVariableResult"),
         "GetReport": ("componentVariable", None),
         "SetVariableMonitoring": ("setMonitoringData", "setMonitoringResult"),
         "ClearVariableMonitoring": ("id", "clearMonitoringResult")}
CALL_ID = "0" * 36  # the longest unique id OCPP-J allows, standing in for the real one
MAX_REQUEST_ID = 2**31 - 1
#: attributeStatusInfo.reasonCode of an entry the station never answered (at most 20 characters)
TOO_LARGE, NOT_ANSWERED, NOT_SENT = "TooLarge", "NotAnswered", "NotSent"
_INFO_LENGTH = 512  # StatusInfoType.additionalInfo's maxLength


@dataclass(frozen=True, slots=True)
class Limits:
    """What one message to the station may hold; None: not known, no limit."""

    items: int | None = None
    bytes: int | None = None


@dataclass(slots=True)
class Chunk:
    payload: dict
    first: int  # index of its first entry in the whole request
    count: int
    #: a single entry whose message alone is over the byte limit: never sent, failed as such
    too_large: bool = False
    size: int = 0  # bytes of its CALL frame


@dataclass(slots=True)
class Plan:
    action: str
    payload: dict
    chunks: list[Chunk] = field(default_factory=list)
    limits: Limits = Limits()

    @property
    def needed(self) -> bool:
        """Whether this differs from sending the request as it is."""
        return len(self.chunks) > 1 or any(chunk.too_large for chunk in self.chunks)


def limits_of(items: str | None, size: str | None, default: Limits = Limits()) -> Limits:
    """The limits from the values a station reported (text, as the device model keeps them); a
    value missing or not a positive integer leaves the default."""
    return Limits(_positive(items, default.items), _positive(size, default.bytes))


def _positive(value: str | None, default: int | None) -> int | None:
    try:
        number = int(value.strip()) if value is not None else 0
    except ValueError:
        return default
    return number if number > 0 else default


def frame_size(action: str, payload: dict) -> int:
    """Bytes of the CALL frame carrying ``payload``."""
    return len(orjson.dumps([2, CALL_ID, action, payload]))


def split(action: str, payload: dict, limits: Limits) -> Plan:
    """``payload`` cut into calls within ``limits``, entries in order, each entry in exactly one.
    An entry too large for a message of its own is alone in its chunk, marked ``too_large``."""
    plan = Plan(action, payload, limits=limits)
    name = LISTS[action][0]
    entries = payload.get(name)
    if not entries:
        plan.chunks.append(Chunk(payload, 0, 0, size=frame_size(action, payload)))
        return plan
    sizing = {**payload, name: []}
    if "requestId" in sizing:  # later chunks get other request ids: count the longest
        sizing["requestId"] = MAX_REQUEST_ID
    base = frame_size(action, sizing)
    sizes = [len(orjson.dumps(entry)) for entry in entries]
    start, size = 0, base
    for i, entry_size in enumerate(sizes):
        grown = size + entry_size + (1 if i > start else 0)  # a comma between entries
        over = (limits.items is not None and i - start >= limits.items) or \
               (limits.bytes is not None and grown > limits.bytes and i > start)
        if over:
            plan.chunks.append(_chunk(plan, start, i, size))
            start, grown = i, base + entry_size
        size = grown
    plan.chunks.append(_chunk(plan, start, len(entries), size))
    return plan


def _chunk(plan: Plan, start: int, end: int, size: int) -> Chunk:
    action, payload, limits = plan.action, plan.payload, plan.limits
    name = LISTS[action][0]
    part = {**payload, name: payload[name][start:end]}
    if "requestId" in part and plan.chunks:  # one GetReport, one requestId (B08): the next ones
        part["requestId"] = (payload["requestId"] + len(plan.chunks)) % (MAX_REQUEST_ID + 1)
    too_large = limits.bytes is not None and size > limits.bytes
    return Chunk(part, start, end - start, too_large, size)


def merge(plan: Plan, outcomes: list[c.Outcome]) -> c.Outcome:
    """One outcome for the whole request from each chunk's (same order). Completed when every
    chunk was; otherwise failed (timeout when only time ran out), with every entry of a chunk
    that was not answered given an error of its own in the response: nothing is lost silently."""
    action = plan.action
    failed = [(chunk, outcome) for chunk, outcome in zip(plan.chunks, outcomes) if outcome.state != c.COMPLETED]
    if action == "GetReport":
        response, status = _report(plan, outcomes)
    else:
        response, status = {LISTS[action][1]: _results(plan, outcomes)}, None
    if not failed:
        return c.Outcome(c.COMPLETED, action, plan.payload, response, status=status)
    first = failed[0][1]
    state = c.TIMEOUT if all(o.state == c.TIMEOUT or o.error_code == NOT_SENT for _, o in failed) else c.FAILED
    if state == c.FAILED:
        first = next(o for _, o in failed if o.state == c.FAILED and o.error_code != NOT_SENT)
    which = ", ".join(_entries(chunk) for chunk, _ in failed)
    description = (f"{len(failed)} of {len(plan.chunks)} messages to the station not answered (entries {which}); "
                   f"{first.error_code + ': ' if first.error_code else ''}{first.error_description or ''}")
    return c.Outcome(state, action, plan.payload, response, status=status, error_code=first.error_code,
                     error_description=description)


def not_sent(plan: Plan, chunk: Chunk, why: str) -> c.Outcome:
    """The outcome of a chunk that was never sent: too large, or nothing left to send it with."""
    if chunk.too_large:
        return c.Outcome(c.FAILED, plan.action, chunk.payload, error_code=TOO_LARGE,
                         error_description=f"entry {chunk.first + 1} alone makes a {chunk.size}-byte message, above "
                                           f"the station's BytesPerMessage[{plan.action}] of {plan.limits.bytes}")
    return c.Outcome(c.FAILED, plan.action, chunk.payload, error_code=NOT_SENT, error_description=why)


def _entries(chunk: Chunk) -> str:
    last = chunk.first + chunk.count
    return str(last) if chunk.count == 1 else f"{chunk.first + 1}-{last}"


def _results(plan: Plan, outcomes: list[c.Outcome]) -> list[dict]:
    """The station's results, chunk after chunk; an error entry for each entry it did not answer."""
    request, results = LISTS[plan.action]
    merged = []
    for chunk, outcome in zip(plan.chunks, outcomes):
        if outcome.state == c.COMPLETED:
            merged.extend(outcome.response[results])
            continue
        reason = TOO_LARGE if outcome.error_code == TOO_LARGE else (
            NOT_SENT if outcome.error_code == NOT_SENT else NOT_ANSWERED)
        info = {"reasonCode": reason, "additionalInfo": _info(outcome)}
        merged.extend(_unanswered(plan.action, entry, info) for entry in chunk.payload[request])
    return merged


def _unanswered(action: str, entry, info: dict) -> dict:
    """The result standing in for an entry the station did not answer: Rejected, saying why."""
    if action == "ClearVariableMonitoring":  # the entries are the monitors' ids
        return {"id": entry, "status": "Rejected", "statusInfo": info}
    if action == "SetVariableMonitoring":
        return {**({"id": entry["id"]} if "id" in entry else {}), "status": "Rejected", "type": entry["type"],
                "severity": entry["severity"], "component": entry["component"], "variable": entry["variable"],
                "statusInfo": info}
    return {"attributeStatus": "Rejected", "component": entry["component"], "variable": entry["variable"],
            **({"attributeType": entry["attributeType"]} if "attributeType" in entry else {}),
            "attributeStatusInfo": info}


def _report(plan: Plan, outcomes: list[c.Outcome]) -> tuple[dict, str | None]:
    """GetReport: the status of the whole (Accepted when any part was: its reports come), and each
    part's requestId with what became of it."""
    parts, statuses = [], []
    for chunk, outcome in zip(plan.chunks, outcomes):
        part = {"requestId": chunk.payload["requestId"], "entries": chunk.count}
        if outcome.state == c.COMPLETED:
            statuses.append(outcome.response["status"])
            parts.append({**part, **outcome.response})
        else:
            parts.append({**part, "status": None, "error": _info(outcome)})
    if "Accepted" in statuses:
        status = "Accepted"
    elif statuses and all(s == "EmptyResultSet" for s in statuses):
        status = "EmptyResultSet"
    else:
        status = next((s for s in statuses if s != "EmptyResultSet"), None)
    return {**({"status": status} if status is not None else {}), "requests": parts}, status


def _info(outcome: c.Outcome) -> str:
    if outcome.state == c.TIMEOUT:
        text = f"Wattson: no answer from the station: {outcome.error_description or 'timeout'}"
    elif outcome.error_code in (TOO_LARGE, NOT_SENT):
        text = f"Wattson: not sent: {outcome.error_description}"
    else:
        text = f"Wattson: the station answered CALLERROR {outcome.error_code}: {outcome.error_description or ''}"
    return text[:_INFO_LENGTH]
