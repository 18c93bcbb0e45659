"""Circuits: create, read, update, delete, list; posted unmanaged load; and the snapshot of a tree
of circuits with the sessions charging on it, which the allocation and the live load view read.

A snapshot is a handful of statements whatever the number of EVSEs: the circuits with their unmanaged
meter's latest reading, the active sessions placed on them with each one's latest meter reading, the
EVSEs placed on them, and the limits in force (docs/smart-charging.md, "Circuits").
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import and_, func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.access.models import Driver, DriverGroup
from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.errors import Conflict, Invalid
from wattson.loadmgmt import rules
from wattson.loadmgmt.allocation import Allocation, CircuitNode, Demand, allocate
from wattson.loadmgmt.models import ACTIVE_STATUS, Circuit
from wattson.locations.models import Location
from wattson.sessions.models import MeterValue, Session
from wattson.stations.models import ChargePoint, Evse

FIELDS = {"name", "parent_id", "location_id", "max_current_a", "max_power_w", "phases", "voltage_v",
          "safety_margin_a", "strategy", "time_zone", "unmanaged_fixed_a", "unmanaged_schedule",
          "unmanaged_meter_charge_point_id", "unmanaged_meter_evse", "unmanaged_meter_valid_s"}
REQUIRED = {"name", "max_current_a", "phases", "voltage_v", "safety_margin_a", "strategy", "time_zone",
            "unmanaged_fixed_a", "unmanaged_meter_valid_s"}
STRATEGIES = ("equal", "priority", "departure")
AC_MIN_A = 6.0  # IEC 61851: below this an AC EV cannot charge; it is paused instead
DEFAULT_MAX_A = 32.0  # an EVSE whose maximum is not configured


@dataclass(slots=True)
class LoadSnapshot:
    """A tree of circuits as the allocation takes it, at one moment. ``placed``: circuit id → the
    EVSEs on it (charging or not), for fail-safe shares; ``versions``: each placed station's OCPP
    version. ``drawn``: per demand, its latest meter currents on the circuit's phases (L1, L2, L3);
    ``stale``: circuits whose configured meter or posted reading is too old to count."""
    circuits: list[CircuitNode]
    demands: list[Demand]
    placed: dict[int, list[tuple[str, int]]]
    versions: dict[str, str]
    drawn: dict[tuple[str, int], tuple[float, float, float]] = field(default_factory=dict)
    strategies: dict[int, str] = field(default_factory=dict)
    stale: set[int] = field(default_factory=set)
    sessions: dict[tuple[str, int], int] = field(default_factory=dict)  # demand key → session id


class LoadService:
    """Circuits come back with ``children`` (ids of the circuits directly below), ``charge_point_ids``
    and ``evse_ids`` (placed on it) and ``unmanaged_posted`` (the latest posted reading)."""

    def __init__(self, db: Database):
        self.db = db
        self._tables: dict[str, bool] = {}  # whether the controller's and EV needs' tables exist

    # --- circuits ---------------------------------------------------------------------------
    async def create(self, **fields) -> Circuit:
        _check_fields(fields, creating=True)
        circuit = Circuit(**{k: v for k, v in fields.items() if v is not None})
        async with _lost_race():
            async with self.db.session() as s:
                await _check_references(s, circuit, fields)
                s.add(circuit)
                await s.flush()
                await _attach(s, [circuit])
        return circuit

    async def get(self, id: int) -> Circuit:
        async with self.db.session() as s:
            circuit = await get_or_404(s, Circuit, id, "circuit")
            await _attach(s, [circuit])
        return circuit

    async def find(self, limit: int, after_id: int | None = None, *, parent_id: int | None = None,
                   location_id: int | None = None, roots: bool = False) -> list[Circuit]:
        """Circuits by id; ``roots``: only grid connections (no parent)."""
        query = select(Circuit).order_by(Circuit.id).limit(limit)
        if after_id is not None:
            query = query.where(Circuit.id > after_id)
        if parent_id is not None:
            query = query.where(Circuit.parent_id == parent_id)
        if location_id is not None:
            query = query.where(Circuit.location_id == location_id)
        if roots:
            query = query.where(Circuit.parent_id.is_(None))
        async with self.db.session() as s:
            rows = list(await s.scalars(query))
            await _attach(s, rows)
        return rows

    async def update(self, id: int, **changes) -> Circuit:
        """Apply ``changes`` (only the fields given; None clears a nullable one)."""
        _check_fields(changes)
        async with _lost_race():
            async with self.db.session() as s:
                circuit = await get_or_404(s, Circuit, id, "circuit")
                for name, value in changes.items():
                    setattr(circuit, name, value)
                await _check_references(s, circuit, changes)
                await s.flush()
                await _attach(s, [circuit])
        return circuit

    async def delete(self, id: int) -> None:
        """Delete a circuit without sub-circuits (with some: a conflict, naming them). Charge points
        and EVSEs placed on it are left unplaced (ON DELETE SET NULL)."""
        async with _lost_race():
            async with self.db.session() as s:
                circuit = await get_or_404(s, Circuit, id, "circuit")
                children = list(await s.scalars(select(Circuit.id).where(Circuit.parent_id == id).order_by(Circuit.id)))
                if children:
                    raise Conflict(f"circuit {id} has {len(children)} sub-circuit{'s' if len(children) != 1 else ''} "
                                   f"({', '.join(map(str, children))}); delete or move them first",
                                   {"children": children})
                await s.delete(circuit)

    async def post_unmanaged(self, id: int, current_a: list[float], valid_s: int,
                             now: datetime | None = None) -> Circuit:
        """Keep a reading of unmanaged load from another system: it counts for ``valid_s``
        seconds, then is stale and left out. One value means the same on every phase."""
        values = [float(v) for v in current_a]
        if len(values) not in (1, 3) or not all(0 <= v <= rules.MAX_CURRENT_A for v in values):
            raise _invalid("current_a", "give one value (every phase) or three (L1, L2, L3), each 0 to 10000 A")
        if not 1 <= valid_s <= 86_400:
            raise _invalid("valid_s", "valid_s must be 1 to 86400 seconds")
        async with self.db.session() as s:
            circuit = await get_or_404(s, Circuit, id, "circuit")
            circuit.unmanaged_posted_a = values * 3 if len(values) == 1 else values
            circuit.unmanaged_posted_at, circuit.unmanaged_posted_valid_s = now or utcnow(), valid_s
            await s.flush()
            await _attach(s, [circuit])
        return circuit

    async def circuit_of(self, charge_point_id: str) -> int | None:
        """The circuit a station is placed on (its own ``circuit_id``), or None."""
        async with self.db.session() as s:
            return await s.scalar(select(ChargePoint.circuit_id).where(ChargePoint.id == charge_point_id))

    async def set_session_priority(self, session_id: int, priority: int | None) -> Session:
        """A session's charging priority (higher first; None: its driver group's)."""
        async with self.db.session() as s:
            session = await get_or_404(s, Session, session_id, "session")
            session.charging_priority = priority
        return session

    # --- the snapshot -----------------------------------------------------------------------
    async def snapshot(self, circuit_root_id: int | None = None, now: datetime | None = None) -> LoadSnapshot:
        """Every circuit (or the whole tree ``circuit_root_id`` is part of: a sub-circuit's limits
        depend on those above it) with its unmanaged load resolved for ``now``, and the demand of
        every EVSE on them with an active session."""
        now = now or utcnow()
        async with self.db.session() as s:
            circuit_rows = (await s.execute(_circuits_query())).all()
            parents = {row.Circuit.id: row.Circuit.parent_id for row in circuit_rows}
            wanted = set(parents) if circuit_root_id is None else rules.subtree(
                rules.top_of(circuit_root_id, parents), parents)
            circuits = {row.Circuit.id: row.Circuit for row in circuit_rows if row.Circuit.id in wanted}
            effective = func.coalesce(Evse.circuit_id, ChargePoint.circuit_id)
            placed_rows = (await s.execute(
                select(ChargePoint.id, ChargePoint.ocpp_version, Evse.number, effective.label("circuit_id"))
                .select_from(ChargePoint).outerjoin(Evse, Evse.charge_point_id == ChargePoint.id)
                .where(or_(ChargePoint.circuit_id.is_not(None), Evse.circuit_id.is_not(None)))
                .order_by(ChargePoint.id, Evse.number))).all()
            session_rows = (await s.execute(_sessions_query(effective))).all() if circuits else []
        snapshot = LoadSnapshot(circuits=[], demands=[], placed={}, versions={})
        for row in circuit_rows:
            circuit = row.Circuit
            if circuit.id not in wanted:
                continue
            snapshot.circuits.append(_node(circuit, row.meter_samples, row.meter_received_at, now, snapshot.stale))
            snapshot.strategies[circuit.id] = circuit.strategy
        for cp_id, version, number, circuit_id in placed_rows:
            if circuit_id in circuits:
                snapshot.versions[cp_id] = version
                if number is not None:
                    snapshot.placed.setdefault(circuit_id, []).append((cp_id, number))
        keys, rotations = [], {}
        for row in session_rows:
            circuit = circuits.get(row.circuit_id)
            if circuit is None or (row.charge_point_id, row.evse) in snapshot.sessions:
                continue  # outside the tree asked for; a second active session on one EVSE: the newest counts
            key = (row.charge_point_id, row.evse)
            keys.append(key)
            snapshot.sessions[key], rotations[key] = row.id, (row.phase_rotation, circuit.phases)
            phases = rules.evse_phases(row.evse_phases, row.phase_rotation, circuit.phases)
            meter = rules.phase_currents(row.samples or (), row.evse_phases or 3)
            drawn = None
            if meter is not None:
                snapshot.drawn[key] = rules.to_circuit_phases(meter, row.phase_rotation, circuit.phases)
                drawn = max(snapshot.drawn[key][p] for p in phases)
            priority = row.charging_priority if row.charging_priority is not None else row.group_priority
            snapshot.demands.append(Demand(
                key=key, circuit_id=circuit.id, phases=phases, min_a=AC_MIN_A,
                max_a=_max_a(row.max_amperage_a, row.max_power_w, circuit.voltage_v, len(phases)),
                drawn_a=drawn, priority=priority or 0, since=row.started_at))
        await self._apply_needs(snapshot, rotations)
        await self._apply_limits(snapshot, keys)
        return snapshot

    async def _apply_needs(self, snapshot: LoadSnapshot, rotations: dict) -> None:
        """What ISO 15118 EVs said they need (NotifyEVChargingNeeds, ``charging_needs.py``): the
        departure and energy for the departure strategy, an AC EV's own current range and its phases
        (a single-phase EV on a three-phase EVSE draws on the EVSE's first phase only)."""
        if not snapshot.demands or not await self._has_table("ev_charging_needs"):
            return
        from wattson.loadmgmt import charging_needs  # the ISO 15118 record (migration 0026)
        needs = await charging_needs.latest_for_sessions(self.db, snapshot.sessions.values())
        demands = []
        for demand in snapshot.demands:
            need = needs.get(snapshot.sessions[demand.key])
            if need is not None:
                changes = {"departure": need.departure, "energy_needed_wh": need.energy_wh}
                if need.phases is not None:  # AC: its currents are per phase
                    rotation, circuit_phases = rotations[demand.key]
                    if need.phases == 1 and len(demand.phases) > 1:
                        changes["phases"] = rules.evse_phases(1, rotation, circuit_phases)
                    max_a = min(demand.max_a, need.max_current_a) if need.max_current_a else demand.max_a
                    min_a = max(demand.min_a, need.min_current_a or 0.0)
                    changes["max_a"], changes["min_a"] = max_a, min(min_a, max_a)
                demand = replace(demand, **changes)
            demands.append(demand)
        snapshot.demands = demands

    async def _apply_limits(self, snapshot: LoadSnapshot, keys: list[tuple[str, int]]) -> None:
        """The limits the controller has in force (``limits.py``, once its table exists): what was
        offered, and EVSEs whose station refused their session's profile are unmanaged."""
        if not keys or not await self._has_table("charging_limits"):
            return
        from wattson.loadmgmt import limits  # the controller's record (migration 0025)
        in_force = await limits.latest(self.db, keys)
        demands = []
        for demand in snapshot.demands:
            row = in_force.get(demand.key)
            if row is not None and row.session_id == snapshot.sessions.get(demand.key):
                if row.status == limits.REJECTED:
                    demand = replace(demand, managed=False)
                elif row.status == limits.ACCEPTED:
                    demand = replace(demand, offered_a=row.limit_a)
            demands.append(demand)
        snapshot.demands = demands

    async def _has_table(self, name: str) -> bool:
        """Whether another part's table exists (its migration ran): looked up once per process."""
        if name not in self._tables:
            async with self.db.engine.connect() as conn:
                self._tables[name] = await conn.run_sync(lambda c: inspect(c).has_table(name))
        return self._tables[name]

    async def load(self, id: int, now: datetime | None = None) -> dict:
        """The live view of a circuit: per phase its limit, unmanaged load, allocated and drawn
        current (the circuit and everything below it), and per EVSE its limit: the controller's
        latest accepted profile where it has one, else the allocation computed now."""
        now = now or utcnow()
        async with self.db.session() as s:
            circuit = await get_or_404(s, Circuit, id, "circuit")
        snapshot = await self.snapshot(id, now)
        parents = {node.id: node.parent_id for node in snapshot.circuits}
        strategy = snapshot.strategies.get(rules.top_of(id, parents), circuit.strategy)  # its tree's
        allocations = {}
        if snapshot.demands:  # computed on the whole tree, shown for the circuit and below it
            allocations = allocate(snapshot.circuits, snapshot.demands, strategy, now)
        in_force = await self._in_force(snapshot)
        allocations.update(in_force)
        below = rules.subtree(id, parents)
        nodes = [node for node in snapshot.circuits if node.id in below]
        demands = [d for d in snapshot.demands if d.circuit_id in below]
        stale = bool(snapshot.stale & below)
        phases = []
        for phase in range(circuit.phases):
            allocated = sum(allocations[d.key].limit_a if d.managed else d.max_a
                            for d in demands if phase in d.phases and d.key in allocations)
            drawn = sum(snapshot.drawn.get(d.key, (0.0, 0.0, 0.0))[phase] for d in demands)
            phases.append({"phase": phase + 1, "limit_a": circuit.max_current_a - circuit.safety_margin_a,
                           "unmanaged_a": round(sum(node.unmanaged_a[phase] for node in nodes), 3),
                           "allocated_a": round(allocated, 3), "drawn_a": round(drawn, 3)})
        evses = [{"charge_point_id": d.key[0], "evse": d.key[1], "circuit_id": d.circuit_id,
                  "phases": [p + 1 for p in d.phases],
                  "limit_a": round(allocations[d.key].limit_a, 3) if d.key in allocations else 0.0,
                  "drawn_a": d.drawn_a, "max_a": d.max_a, "priority": d.priority, "managed": d.managed,
                  "source": "controller" if d.key in in_force else "computed"}
                 for d in demands]
        return {"circuit_id": id, "at": now, "strategy": strategy, "unmanaged_stale": stale,
                "phases": phases, "evses": evses}

    async def _in_force(self, snapshot: LoadSnapshot) -> dict[tuple[str, int], Allocation]:
        """The controller's accepted limits of the snapshot's sessions, as allocations."""
        if not snapshot.demands or not await self._has_table("charging_limits"):
            return {}
        from wattson.loadmgmt import limits
        rows = await limits.latest(self.db, [d.key for d in snapshot.demands])
        return {key: Allocation(key, row.limit_a, row.phases or 3) for key, row in rows.items()
                if row.status == limits.ACCEPTED and row.session_id == snapshot.sessions.get(key)}


def _circuits_query():
    """Every circuit with the latest reading of its unmanaged meter (a station's readings outside
    transactions, found by the partial index on them), one statement."""
    latest = (select(MeterValue).where(MeterValue.charge_point_id == Circuit.unmanaged_meter_charge_point_id,
                                       MeterValue.session_id.is_(None),
                                       MeterValue.evse == func.coalesce(Circuit.unmanaged_meter_evse, 0))
              .order_by(MeterValue.timestamp.desc()).limit(1).correlate(Circuit))
    return (select(Circuit,
                   latest.with_only_columns(MeterValue.samples).scalar_subquery().label("meter_samples"),
                   latest.with_only_columns(MeterValue.received_at).scalar_subquery().label("meter_received_at"))
            .order_by(Circuit.id))


def _sessions_query(effective):
    """The active sessions on placed EVSEs, with what decides their demand and the samples of
    their latest meter reading (one index probe each), one statement."""
    latest = (select(MeterValue.samples).where(MeterValue.session_id == Session.id)
              .order_by(MeterValue.timestamp.desc()).limit(1).correlate(Session).scalar_subquery())
    return (select(Session.id, Session.charge_point_id, Session.evse, Session.started_at, Session.charging_priority,
                   DriverGroup.charging_priority.label("group_priority"), Evse.phases.label("evse_phases"),
                   Evse.phase_rotation, Evse.max_amperage_a, Evse.max_power_w, effective.label("circuit_id"),
                   latest.label("samples"))
            .select_from(Session)
            .join(ChargePoint, ChargePoint.id == Session.charge_point_id)
            .outerjoin(Evse, and_(Evse.charge_point_id == Session.charge_point_id, Evse.number == Session.evse))
            .outerjoin(Driver, Driver.id == Session.driver_id)
            .outerjoin(DriverGroup, DriverGroup.id == Driver.home_group_id)
            .where(Session.status == ACTIVE_STATUS, effective.is_not(None))
            .order_by(Session.started_at.desc(), Session.id.desc()))


def _node(circuit: Circuit, meter_samples, meter_at: datetime | None, now: datetime, stale: set[int]) -> CircuitNode:
    readings = []
    if circuit.unmanaged_meter_charge_point_id is not None:
        currents = rules.phase_currents(meter_samples or (), circuit.phases)
        if currents is not None and rules.fresh(meter_at, circuit.unmanaged_meter_valid_s, now):
            readings.append((meter_at, currents))
        else:
            stale.add(circuit.id)
    if circuit.unmanaged_posted_a is not None:
        if rules.fresh(circuit.unmanaged_posted_at, circuit.unmanaged_posted_valid_s, now):
            readings.append((circuit.unmanaged_posted_at, tuple(circuit.unmanaged_posted_a)))
        else:
            stale.add(circuit.id)
    unmanaged = rules.unmanaged_a(circuit.unmanaged_fixed_a, circuit.unmanaged_schedule, circuit.time_zone, readings,
                                  now, circuit.phases)
    return CircuitNode(id=circuit.id, parent_id=circuit.parent_id, max_current_a=circuit.max_current_a,
                       phases=circuit.phases, max_power_w=circuit.max_power_w,
                       safety_margin_a=circuit.safety_margin_a, unmanaged_a=unmanaged, voltage_v=circuit.voltage_v)


def _max_a(max_amperage_a: int | None, max_power_w: int | None, voltage_v: float, phases: int) -> float:
    """An EVSE's maximum per phase: as configured, else from its power, else 32 A."""
    if max_amperage_a:
        return float(max_amperage_a)
    if max_power_w:
        return round(max_power_w / (voltage_v * phases), 1)
    return DEFAULT_MAX_A


# --- checks (the API validates first; these guard other callers and what needs the database) ----
def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": f"body.{field}", "message": message}])


def _check_fields(fields: dict, creating: bool = False) -> None:
    unknown = set(fields) - FIELDS
    if unknown:
        raise Invalid(f"unknown circuit fields: {', '.join(sorted(unknown))}")
    for name in sorted(REQUIRED & set(fields) if not creating else {"name", "max_current_a"}):
        if fields.get(name) is None:
            raise _invalid(name, f"{name} is required" if creating else f"{name} cannot be null")
    limit = fields.get("max_current_a")
    if limit is not None and not 0 < limit <= rules.MAX_CURRENT_A:
        raise _invalid("max_current_a", "max_current_a must be more than 0 and at most 10000 A")
    if fields.get("phases") is not None and fields["phases"] not in (1, 3):
        raise _invalid("phases", "phases must be 1 or 3")
    if fields.get("strategy") is not None and fields["strategy"] not in STRATEGIES:
        raise _invalid("strategy", f"strategy must be one of {', '.join(STRATEGIES)}")
    if fields.get("unmanaged_schedule") is not None:
        problem = rules.schedule_problem(fields["unmanaged_schedule"])
        if problem:
            raise _invalid("unmanaged_schedule", problem)


async def _check_references(s: AsyncSession, circuit: Circuit, changes: dict) -> None:
    """What needs the database: the parent (no loops, phases that fit), the location, the meter's
    station, the sub-circuits' phases."""
    if circuit.safety_margin_a is not None and circuit.max_current_a is not None \
            and circuit.safety_margin_a >= circuit.max_current_a:
        raise _invalid("safety_margin_a", "safety_margin_a must be less than max_current_a")
    phases = circuit.phases or 3
    if circuit.parent_id is not None and ("parent_id" in changes or "phases" in changes):
        parent = await s.get(Circuit, circuit.parent_id)
        if parent is None:
            raise _invalid("parent_id", f"circuit {circuit.parent_id} does not exist")
        if circuit.id is not None:
            parents = dict((await s.execute(select(Circuit.id, Circuit.parent_id))).all())
            parents[circuit.id] = circuit.parent_id
            chain = rules.cycle_through(circuit.id, circuit.parent_id, parents)
            if chain is not None:
                raise _invalid("parent_id", f"circuit {circuit.parent_id} is below circuit {circuit.id} "
                                            f"(chain {' → '.join(map(str, chain))}): a circuit cannot be "
                                            f"under itself")
        if parent.phases == 1 and phases == 3:
            raise _invalid("phases", f"a three-phase circuit cannot be part of single-phase circuit {parent.id}")
    if circuit.id is not None and phases == 1 and "phases" in changes:
        three = await s.scalar(select(Circuit.id).where(Circuit.parent_id == circuit.id, Circuit.phases == 3).limit(1))
        if three is not None:
            raise _invalid("phases", f"sub-circuit {three} is three-phase: make it single-phase first")
    if changes.get("location_id") is not None and await s.get(Location, changes["location_id"]) is None:
        raise _invalid("location_id", f"location {changes['location_id']} does not exist")
    meter = circuit.unmanaged_meter_charge_point_id
    if meter is not None and "unmanaged_meter_charge_point_id" in changes \
            and await s.scalar(select(ChargePoint.id).where(ChargePoint.id == meter)) is None:
        raise _invalid("unmanaged_meter_charge_point_id", f"charge point {meter!r} does not exist")
    if meter is None and "unmanaged_meter_charge_point_id" in changes and "unmanaged_meter_evse" not in changes:
        circuit.unmanaged_meter_evse = None  # no meter: its EVSE goes with it
    elif meter is None and changes.get("unmanaged_meter_evse") is not None:
        raise _invalid("unmanaged_meter_evse", "unmanaged_meter_evse needs unmanaged_meter_charge_point_id")


class _lost_race:
    """A write that passed its checks but lost a race (a parent or location deleted at the same
    time, a child added to a circuit being deleted) is a conflict, not an error."""

    async def __aenter__(self):
        return self

    async def __aexit__(self, kind, error, traceback):
        if isinstance(error, IntegrityError):
            raise Conflict("a change saved at the same time deleted a circuit, location or station this one "
                           "refers to, or added a sub-circuit") from None
        return False


async def _attach(s: AsyncSession, circuits: list[Circuit]) -> None:
    """Set ``children``, ``charge_point_ids``, ``evse_ids`` and ``unmanaged_posted`` on each circuit
    (plain attributes, not columns): three statements for a page."""
    ids = [c.id for c in circuits]
    children, cps, evses = defaultdict(list), defaultdict(list), defaultdict(list)
    if ids:
        for parent_id, child in await s.execute(select(Circuit.parent_id, Circuit.id)
                                                .where(Circuit.parent_id.in_(ids)).order_by(Circuit.id)):
            children[parent_id].append(child)
        for circuit_id, cp in await s.execute(select(ChargePoint.circuit_id, ChargePoint.id)
                                              .where(ChargePoint.circuit_id.in_(ids)).order_by(ChargePoint.id)):
            cps[circuit_id].append(cp)
        for circuit_id, evse in await s.execute(select(Evse.circuit_id, Evse.id)
                                                .where(Evse.circuit_id.in_(ids)).order_by(Evse.id)):
            evses[circuit_id].append(evse)
    now = utcnow()
    for circuit in circuits:
        circuit.children, circuit.charge_point_ids, circuit.evse_ids = children[circuit.id], cps[circuit.id], \
            evses[circuit.id]
        circuit.unmanaged_posted = None if circuit.unmanaged_posted_a is None else {
            "current_a": circuit.unmanaged_posted_a, "valid_s": circuit.unmanaged_posted_valid_s,
            "posted_at": circuit.unmanaged_posted_at,
            "stale": not rules.fresh(circuit.unmanaged_posted_at, circuit.unmanaged_posted_valid_s, now)}
