"""Circuit rules without I/O: the tree's shape, an EVSE's phases on its circuit, the currents a
meter reading shows, and the unmanaged load a circuit carries at a given moment
(docs/smart-charging.md, "Circuits")."""

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

CURRENT_IMPORT = "Current.Import"
#: OCPP PhaseRotation: the letters name, for the EVSE's L1, L2 and L3 in turn, the circuit phase it
#: is wired to (R, S, T: the circuit's L1, L2, L3). Null means RST, wired straight.
PHASE_ROTATIONS = ("RST", "RTS", "SRT", "STR", "TRS", "TSR")
_CIRCUIT_PHASE = {"R": 0, "S": 1, "T": 2}
#: A sample's phase as OCPP spells it (1.6 and 2.x) → the meter's phase index, for currents.
_METER_PHASE = {"L1": 0, "L2": 1, "L3": 2, "L1-N": 0, "L2-N": 1, "L3-N": 2}
MAX_CURRENT_A = 10_000.0


def cycle_through(circuit_id: int, new_parent_id: int | None, parents: Mapping[int, int | None]) -> list[int] | None:
    """The chain of parents from ``new_parent_id`` back to ``circuit_id`` when making it the
    parent would close a loop (a circuit under itself); None when the tree stays a tree.
    ``parents``: every circuit's current parent id."""
    chain, at, seen = [], new_parent_id, set()
    while at is not None and at not in seen:
        chain.append(at)
        if at == circuit_id:
            return chain
        seen.add(at)
        at = parents.get(at)
    return None


def top_of(circuit_id: int, parents: Mapping[int, int | None]) -> int:
    """The grid connection (the circuit without a parent) above ``circuit_id``, or itself."""
    at, seen = circuit_id, set()
    while parents.get(at) is not None and at not in seen:
        seen.add(at)
        at = parents[at]
    return at


def subtree(root_id: int, parents: Mapping[int, int | None]) -> set[int]:
    """``root_id`` and every circuit below it."""
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found, todo = set(), [root_id]
    while todo:
        at = todo.pop()
        if at not in found:
            found.add(at)
            todo.extend(children.get(at, ()))
    return found


def evse_phases(evse_phases: int | None, rotation: str | None, circuit_phases: int) -> tuple[int, ...]:
    """The circuit phases an EVSE draws on: its first phase only (1-phase) or all three, wired as
    ``rotation`` says. An EVSE whose phases are not known counts on all three: the safe side. On a
    single-phase circuit everything is on its one phase."""
    if circuit_phases == 1:
        return (0,)
    wiring = rotation if rotation in PHASE_ROTATIONS else "RST"
    used = wiring[:1] if evse_phases == 1 else wiring
    return tuple(sorted(_CIRCUIT_PHASE[letter] for letter in used))


def to_circuit_phases(meter_a: tuple[float, float, float], rotation: str | None,
                      circuit_phases: int) -> tuple[float, float, float]:
    """Currents on the EVSE's L1, L2, L3 as currents on the circuit's phases."""
    if circuit_phases == 1:
        return (sum(meter_a), 0.0, 0.0)
    wiring = rotation if rotation in PHASE_ROTATIONS else "RST"
    out = [0.0, 0.0, 0.0]
    for index, letter in enumerate(wiring):
        out[_CIRCUIT_PHASE[letter]] += meter_a[index]
    return (out[0], out[1], out[2])


def phase_currents(samples: Iterable[Mapping], phases: int = 3) -> tuple[float, float, float] | None:
    """The import current per phase (A) in one stored meter reading (``meter.pack``'s samples), or
    None when it has none. A current without a phase is on every phase the EVSE uses (``phases``:
    1 puts it on L1). Only the outlet's current counts (no location, or Outlet); readings of
    the EV's side (Inlet/EV) and signed data are left out."""
    per_phase: list[float | None] = [None, None, None]
    overall = None
    for sample in samples:
        if sample.get("measurand") != CURRENT_IMPORT or sample.get("format") == "SignedData":
            continue
        if sample.get("location") not in (None, "Outlet"):
            continue
        value = _amperes(sample.get("value"), sample.get("unit"))
        if value is None:
            continue
        phase = sample.get("phase")
        if phase is None:
            overall = value
        elif phase in _METER_PHASE:
            index = _METER_PHASE[phase]
            per_phase[index] = (per_phase[index] or 0.0) + value
    if any(v is not None for v in per_phase):
        return (per_phase[0] or 0.0, per_phase[1] or 0.0, per_phase[2] or 0.0)
    if overall is None:
        return None
    return (overall, 0.0, 0.0) if phases == 1 else (overall, overall, overall)


def _amperes(value, unit) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number if unit in (None, "A") else None


def schedule_problem(entries: list[Mapping]) -> str | None:
    """Why a daily schedule of unmanaged load cannot be used, or None. Entries: ``from`` and ``to``
    as HH:MM (``to`` may be 24:00; an entry whose ``to`` is earlier than its ``from`` runs past
    midnight), ``current_a`` per phase."""
    for number, entry in enumerate(entries, 1):
        start, end = _minutes(entry.get("from")), _minutes(entry.get("to"))
        if start is None or start == 24 * 60:
            return f"entry {number}: from must be HH:MM, 00:00 to 23:59"
        if end is None:
            return f"entry {number}: to must be HH:MM, 00:00 to 24:00"
        if start == end:
            return f"entry {number}: from and to must differ"
        current = entry.get("current_a")
        if isinstance(current, bool) or not isinstance(current, (int, float)) or not 0 <= current <= MAX_CURRENT_A:
            return f"entry {number}: current_a must be a number from 0 to {MAX_CURRENT_A:g}"
    return None


def _minutes(text) -> int | None:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        return None
    hours, minutes = int(text[:2]), int(text[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def scheduled_a(entries: list[Mapping] | None, time_zone: str, now: datetime) -> float:
    """The unmanaged current per phase a daily schedule gives at ``now`` (aware), read in the
    circuit's ``time_zone``: the sum of the entries running then (from inclusive, to exclusive)."""
    if not entries:
        return 0.0
    local = now.astimezone(ZoneInfo(time_zone))
    minute = local.hour * 60 + local.minute
    total = 0.0
    for entry in entries:
        start, end = _minutes(entry["from"]), _minutes(entry["to"])
        if (start <= minute < end) if start < end else (minute >= start or minute < end):
            total += float(entry["current_a"])
    return total


def fresh(at: datetime | None, valid_s: float | None, now: datetime) -> bool:
    """Whether a reading taken ``at`` still counts at ``now``: for ``valid_s`` seconds."""
    return at is not None and valid_s is not None and at <= now + timedelta(seconds=5) \
        and now - at <= timedelta(seconds=valid_s)


def unmanaged_a(fixed_a: float, schedule: list[Mapping] | None, time_zone: str,
                readings: Iterable[tuple[datetime, tuple[float, float, float]]], now: datetime,
                phases: int = 3) -> tuple[float, float, float]:
    """A circuit's unmanaged current per phase at ``now``: the fixed value and the schedule's on
    each phase, plus the newest of its fresh ``readings`` (already filtered by ``fresh``: a meter's,
    a posted one), each (taken at, per-phase currents). A single-phase circuit has phase 0 only."""
    base = fixed_a + scheduled_a(schedule, time_zone, now)
    newest = max(readings, key=lambda reading: reading[0], default=None)
    measured = newest[1] if newest is not None else (0.0, 0.0, 0.0)
    if phases == 1:
        return (base + measured[0], 0.0, 0.0)
    return (base + measured[0], base + measured[1], base + measured[2])
