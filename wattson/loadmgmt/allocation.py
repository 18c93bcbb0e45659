"""How much current each charging EVSE may take on a tree of circuits. A pure function, no I/O.

``allocate`` turns the circuits (limits per phase, safety margins, unmanaged load, optional power
caps) and the demands of the EVSEs with an active session into a limit per EVSE, in A per phase:

1. **Capacity.** A circuit's phase ``p`` may carry ``max_current_a - safety_margin_a`` (0 for a
   phase a single-phase circuit lacks), less the unmanaged load of the circuit *and of every circuit
   below it*, less every unmanaged demand (``managed=False``, counted at its ``max_a``) below it.
   Phase ``p`` of a circuit is phase ``p`` of its parent. ``max_power_w`` caps the circuit's summed
   power (``voltage_v`` times the sum of its phase currents); the safety margin is a current rule only.
2. **Usage.** A demand drawing clearly less than it was offered is offered its draw plus
   ``HEADROOM_A`` (``usage_cap``); what it does not use goes to the others.
3. **Pausing.** Demands are admitted at ``min_a`` in the order highest priority, oldest ``since``
   (unknown last), key; one that does not fit at ``min_a`` on every circuit and phase of its path
   after those before it is paused (0). So when not all can charge, the lowest priority and newest
   sessions wait, and nobody is ever given less than ``min_a``.
4. **Filling** (max-min fairness): the admitted demands' limits rise together from ``min_a``; a
   demand stops at its ceiling (``max_a`` or usage cap) or when any circuit on its path saturates on
   any of its phases (or its power cap). ``"priority"`` fills one priority class after the other,
   highest first; ``"departure"`` first fills up to each demand's required current (energy needed over
   the time to departure), then fills equally.

docs/smart-charging.md ("Allocation") explains the rules and why.
"""

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import groupby

PHASES = 3  # circuit phases are indexed 0, 1, 2 (L1, L2, L3)
STRATEGIES = ("equal", "priority", "departure")
#: a demand drawing clearly less than offered is offered what it draws plus this
HEADROOM_A = 2.0
#: a demand drawing within this of what it was offered wants more: its ceiling is lifted again
REGROW_A = 1.0
#: slack below this counts as none (float sums of limits)
EPSILON = 1e-9

_SATURATE, _STOP, _RISE = 0, 1, 2  # event order at one level: a saturation freezes a demand at its floor


@dataclass(frozen=True, slots=True)
class CircuitNode:
    id: int
    parent_id: int | None
    max_current_a: float                 # per phase
    phases: int = 3                      # 1: only phase 0 exists
    max_power_w: float | None = None     # optional extra cap on the sum of power
    safety_margin_a: float = 0.0         # subtracted from max_current_a on every phase
    unmanaged_a: tuple[float, float, float] = (0.0, 0.0, 0.0)  # resolved for "now" by the service
    voltage_v: float = 230.0             # phase-to-neutral, for W <-> A


@dataclass(frozen=True, slots=True)
class Demand:
    key: tuple[str, int]                 # (charge_point_id, evse number)
    circuit_id: int                      # the circuit it hangs on (EVSE override, else its charge point's)
    phases: tuple[int, ...] = (0, 1, 2)  # circuit phases its EV draws on, after the EVSE's phase rotation
    min_a: float = 6.0                   # below this the EV cannot charge: pause (0) instead
    max_a: float = 32.0                  # EVSE (and EV, where known) maximum per phase
    drawn_a: float | None = None         # what the EV actually draws now (max over its phases); None unknown
    priority: int = 0                    # higher first (session override, else driver group, else 0)
    departure: datetime | None = None    # ISO 15118 / 2.x EV charging needs
    energy_needed_wh: float | None = None
    since: datetime | None = None        # session start: older sessions keep charging first when pausing
    managed: bool = True                 # False: refused profiles: counted at max_a and not limited
    offered_a: float | None = None       # the limit in force now (last allocation sent); None unknown


@dataclass(frozen=True, slots=True)
class Allocation:
    key: tuple[str, int]
    limit_a: float                       # per phase; 0.0 = paused
    phases: int                          # number of phases the limit applies to (len(demand.phases))


def allocate(circuits: Sequence[CircuitNode], demands: Sequence[Demand], strategy: str = "equal",
             now: datetime | None = None) -> dict[tuple[str, int], Allocation]:
    """The limit of every demand (rules in the module docstring). Bad input raises ValueError.
    ``now`` matters to the departure strategy only; without it the clock is read."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: one of {', '.join(STRATEGIES)}")
    ordered = sorted(demands, key=lambda demand: demand.key)  # the input's order must not matter
    for demand in ordered:
        _check_demand(demand)
    for first, second in zip(ordered, ordered[1:]):
        if first.key == second.key:
            raise ValueError(f"EVSE {first.key} has two demands")
    nodes = {node.id: node for node in circuits}
    paths = circuit_paths(circuits)
    for demand in ordered:
        if demand.circuit_id not in nodes:
            raise ValueError(f"EVSE {demand.key} hangs on circuit {demand.circuit_id}, which is not given")

    index, capacity = _constraints(circuits, paths)
    uses = [_uses(demand, nodes, paths[demand.circuit_id], index) for demand in ordered]
    for demand, used in zip(ordered, uses):
        if not demand.managed:
            for k, weight in used:
                capacity[k] -= weight * demand.max_a

    managed = [i for i, demand in enumerate(ordered) if demand.managed]
    ceiling = [usage_cap(demand) for demand in ordered]
    limit = [0.0] * len(ordered)
    can_charge = (i for i in managed if ordered[i].max_a >= ordered[i].min_a)
    admitted = _admit(sorted(can_charge, key=lambda i: keep_order(ordered[i])), ordered, uses, capacity)
    for i in admitted:
        limit[i] = ordered[i].min_a
    if strategy == "equal":
        _fill(admitted, limit, ceiling, capacity, uses)
    elif strategy == "priority":
        by_class = sorted(admitted, key=lambda i: -ordered[i].priority)
        for _, members in groupby(by_class, key=lambda i: ordered[i].priority):
            _fill(list(members), limit, ceiling, capacity, uses)
    else:
        moment = _aware(now) if now is not None else datetime.now(timezone.utc)
        required = [min(ceiling[i], max(limit[i], required_current(demand, nodes[demand.circuit_id].voltage_v, moment)))
                    for i, demand in enumerate(ordered)]  # served first, then the rest shared equally
        _fill(admitted, limit, required, capacity, uses)
        _fill(admitted, limit, ceiling, capacity, uses)

    return {demand.key: Allocation(demand.key, limit[i] if demand.managed else float(demand.max_a),
                                   len(demand.phases))
            for i, demand in enumerate(ordered)}


def usage_cap(demand: Demand) -> float:
    """The most a demand is offered: ``max_a``, lowered to its draw plus ``HEADROOM_A`` when it
    draws clearly (more than ``HEADROOM_A``) less than it was offered, never below ``min_a``. One
    drawing within ``REGROW_A`` of its offer is lifted back to ``max_a``; in between, the offer holds
    (so a demand does not swing between capped and uncapped). With ``offered_a`` unknown, a known
    draw caps it at draw plus headroom. 0 when it cannot charge at all (``max_a < min_a``)."""
    if demand.max_a < demand.min_a:
        return 0.0
    if demand.drawn_a is None:
        return float(demand.max_a)
    drawn = max(0.0, demand.drawn_a)
    offered = demand.offered_a
    if offered is not None and drawn >= offered - REGROW_A:
        cap = demand.max_a
    elif offered is None or drawn < offered - HEADROOM_A:
        cap = drawn + HEADROOM_A
    else:
        cap = offered
    return float(min(demand.max_a, max(demand.min_a, cap)))


def required_current(demand: Demand, voltage_v: float, now: datetime) -> float:
    """The current per phase that delivers ``energy_needed_wh`` by ``departure``: the departure
    strategy serves it before sharing the rest. Unbounded (``inf``) when departure is due; 0 when
    nothing is known or needed."""
    if demand.departure is None or not demand.energy_needed_wh or demand.energy_needed_wh <= 0:
        return 0.0
    hours = (_aware(demand.departure) - _aware(now)).total_seconds() / 3600
    if hours <= 0:
        return math.inf
    return demand.energy_needed_wh / (hours * voltage_v * len(demand.phases))


def circuit_paths(circuits: Sequence[CircuitNode]) -> dict[int, tuple[int, ...]]:
    """Each circuit's path to its root, itself first. A circuit given twice, a parent not given
    and a cycle raise ValueError."""
    nodes: dict[int, CircuitNode] = {}
    for node in circuits:
        if node.id in nodes:
            raise ValueError(f"circuit {node.id} is given twice")
        if node.phases not in (1, PHASES):
            raise ValueError(f"circuit {node.id} has {node.phases} phases: 1 or {PHASES}")
        nodes[node.id] = node
    paths: dict[int, tuple[int, ...]] = {}
    for node in circuits:
        chain: list[int] = []
        seen: set[int] = set()
        current: int | None = node.id
        while current is not None and current not in paths:
            if current in seen:
                raise ValueError(f"circuits {sorted(seen)} form a cycle")
            if current not in nodes:
                raise ValueError(f"circuit {chain[-1]}'s parent {current} is not given")
            chain.append(current)
            seen.add(current)
            current = nodes[current].parent_id
        tail = paths[current] if current is not None else ()
        for circuit_id in reversed(chain):
            tail = (circuit_id,) + tail
            paths[circuit_id] = tail
    return paths


def _check_demand(demand: Demand) -> None:
    numbers = (demand.min_a, demand.max_a) + ((demand.drawn_a,) if demand.drawn_a is not None else ()) + (
        (demand.offered_a,) if demand.offered_a is not None else ())
    if not all(math.isfinite(number) for number in numbers) or demand.min_a < 0 or demand.max_a < 0:
        raise ValueError(f"EVSE {demand.key}: currents must be finite and min_a, max_a not negative")
    if not demand.phases or len(set(demand.phases)) != len(demand.phases) or any(
            phase not in range(PHASES) for phase in demand.phases):
        raise ValueError(f"EVSE {demand.key}: phases {demand.phases} must be distinct numbers from 0 to {PHASES - 1}")


def _constraints(circuits: Sequence[CircuitNode], paths: dict[int, tuple[int, ...]]
                 ) -> tuple[dict[tuple[int, int | None], int], list[float]]:
    """One constraint per circuit and phase (phase ``None``: its power cap), numbered, with the
    capacity left after the unmanaged load of its subtree."""
    below = {node.id: [0.0] * PHASES for node in circuits}
    for node in sorted(circuits, key=lambda node: node.id):  # the same sums whatever the input's order
        for circuit_id in paths[node.id]:
            for phase in range(PHASES):
                below[circuit_id][phase] += node.unmanaged_a[phase]
    index: dict[tuple[int, int | None], int] = {}
    capacity: list[float] = []
    for node in sorted(circuits, key=lambda node: node.id):
        for phase in range(PHASES):
            index[node.id, phase] = len(capacity)
            rated = node.max_current_a - node.safety_margin_a if phase < node.phases else 0.0
            capacity.append(rated - below[node.id][phase])
        if node.max_power_w is not None:
            index[node.id, None] = len(capacity)
            capacity.append(node.max_power_w - node.voltage_v * sum(below[node.id]))
    return index, capacity


def _uses(demand: Demand, nodes: dict[int, CircuitNode], path: tuple[int, ...],
          index: dict[tuple[int, int | None], int]) -> list[tuple[int, float]]:
    """The constraints a demand loads, with how much per ampere of its limit."""
    used = []
    for circuit_id in path:
        used.extend((index[circuit_id, phase], 1.0) for phase in demand.phases)
        power = index.get((circuit_id, None))
        if power is not None:
            used.append((power, nodes[circuit_id].voltage_v * len(demand.phases)))
    return used


def keep_order(demand: Demand) -> tuple:
    """Who keeps charging first when not all can: highest priority, oldest session, key."""
    since = _aware(demand.since) if demand.since is not None else None
    return -demand.priority, since is None, since or datetime.min.replace(tzinfo=timezone.utc), demand.key


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _admit(candidates: list[int], demands: list[Demand], uses: list[list[tuple[int, float]]],
           capacity: list[float]) -> list[int]:
    """Admits the candidates, in order, that fit at ``min_a``; their share is taken from capacity."""
    admitted = []
    for i in candidates:
        floor = demands[i].min_a
        if all(capacity[k] - weight * floor >= -EPSILON for k, weight in uses[i]):
            for k, weight in uses[i]:
                capacity[k] -= weight * floor
            admitted.append(i)
    return admitted


def _fill(members: list[int], limit: list[float], ceiling: list[float], slack: list[float],
          uses: list[list[tuple[int, float]]]) -> None:
    """Progressive filling: a level rises; each member's limit follows it from the limit it has
    (its floor) up to its ceiling, and freezes when a constraint it loads runs out of slack.
    Event-driven (floors, ceilings, saturations on a heap): O(n log n) in the demands' path
    lengths. ``limit`` and ``slack`` are updated in place."""
    rate: dict[int, float] = {}        # constraint → amperes (or watts) it gains per unit of level
    mark: dict[int, float] = {}        # the level at which its slack was last brought up to date
    version: dict[int, int] = {}
    members_of: dict[int, list[int]] = {}
    rising: set[int] = set()
    done: set[int] = set()
    events: list[tuple[float, int, int, int]] = []
    for i in members:
        for k, _ in uses[i]:
            members_of.setdefault(k, []).append(i)
        if limit[i] < ceiling[i] - EPSILON:
            events.append((limit[i], _RISE, i, 0))
        else:
            done.add(i)
    heapq.heapify(events)

    def advance(k: int, level: float) -> None:
        slack[k] -= rate.get(k, 0.0) * (level - mark.get(k, level))
        mark[k] = level

    def schedule(k: int) -> None:
        version[k] = version.get(k, 0) + 1
        if rate.get(k, 0.0) > EPSILON:
            heapq.heappush(events, (mark[k] + max(slack[k], 0.0) / rate[k], _SATURATE, k, version[k]))

    def stop(i: int, level: float, touched: set[int]) -> None:
        done.add(i)
        if i in rising:
            rising.discard(i)
            limit[i] = min(level, ceiling[i])
            for k, weight in uses[i]:
                advance(k, level)
                rate[k] -= weight
                touched.add(k)

    while events:
        level, kind, x, stamp = heapq.heappop(events)
        touched: set[int] = set()
        if kind == _SATURATE:
            if stamp != version.get(x):
                continue
            for i in members_of[x]:
                if i not in done:
                    stop(i, level, touched)
        elif x in done:
            continue
        elif kind == _RISE:
            rising.add(x)
            for k, weight in uses[x]:
                advance(k, level)
                rate[k] = rate.get(k, 0.0) + weight
                touched.add(k)
            heapq.heappush(events, (ceiling[x], _STOP, x, 0))
        else:
            stop(x, level, touched)
        for k in sorted(touched):
            schedule(k)
