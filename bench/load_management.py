"""``loadmgmt``: what it takes to re-allocate a circuit of 500 EVSEs when a session starts.

500 registered stations (half OCPP 1.6, half 2.0.1, one EVSE each; the raw clients of
``wsclient.py``, answering every SetChargingProfile and GetCompositeSchedule Accepted at once) are
placed on one circuit of 10,000 A per phase before the server starts, then connect, boot and get
their fail-safe profiles. 312 of them start a session and are sent their limits (32 A each: 9,984
A). Then one station after the other starts a session (``--starts``, default 10): the circuit can
no longer give everyone 32 A, so each start lowers every running EVSE's limit by about 0.1 A (the
server runs with ``WATTSON_LOADMGMT_THRESHOLD_A=0.05``, so each of those changes is sent) and
gives the new one its share: the worst case, every profile changes. Timed per start, from the moment the station sends
its StartTransaction (1.6) or TransactionEvent Started (2.0.1): the new session's own TxProfile,
and the last changed profile answered, with the number of profiles sent. The controller looks
for new sessions once a second (``TICK_S``): on average half of that is in each figure. No timed
start begins after STAGE_S: the stage stays within a minute on a busy machine.

Beside it, in this process: the pure ``allocate()`` for 500 charging EVSEs on one circuit (half of
them drawing less than offered, so the usage caps work too), p50 and p95 of ``--repeat`` calls.

    python -m bench loadmgmt [--starts 10] [--repeat 50]
"""

import argparse
import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import orjson

from bench import messages, servers
from bench.stats import percentile
from bench.wsclient import Station, encode

EVSES = 500
CIRCUIT_A = 10_000.0  # the most a circuit may have
CHARGING = 312  # at 32 A each (9,984 A): the next start makes every share smaller
THRESHOLD_A = 0.05  # below the 0.1 A steps a start makes: every change is sent
QUIET_S = 0.5  # no call from the server for this long: the controller's round is over
WAIT_S = 30.0  # the longest any phase may take
STAGE_S = 50.0  # no timed start begins after this (the stage stays within a minute)
ACCEPTED = b'{"status":"Accepted"}'


@dataclass
class Result:
    evses: int
    starts: list[dict] = field(default_factory=list)  # per timed start: own_ms, last_ms, profiles
    allocate_ms: list[float] = field(default_factory=list)
    took_s: float = 0.0


def add_parser(sub) -> None:
    p = sub.add_parser("loadmgmt", help="re-allocating a circuit of 500 EVSEs when a session starts",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--starts", type=int, default=10, help="timed session starts (default 10)")
    p.add_argument("--repeat", type=int, default=50, help="timed allocate() calls (default 50)")
    p.set_defaults(run=lambda args: print_result(measure(args)))


def measure(args) -> Result:
    started = time.monotonic()
    result = Result(EVSES)
    result.allocate_ms = time_allocate(args.repeat)
    ids = [f"LM-{i:04d}" for i in range(1, EVSES + 1)]
    with servers.database("sqlite") as url:
        asyncio.run(servers.register_stations(url, ids, tags=[messages.tag(cp) for cp in ids]))
        asyncio.run(_place(url))
        with servers.wattson(url, loadmgmt_interval_s=3600, loadmgmt_threshold_a=THRESHOLD_A,
                             command_timeout=10) as proc:
            print(f"# loadmgmt server up after {time.monotonic() - started:.1f} s", flush=True)
            result.starts = asyncio.run(_run(proc.port, ids, args.starts, started + STAGE_S))
    result.took_s = time.monotonic() - started
    return result


def print_result(result: Result) -> None:
    for line in lines(result):
        print(line)


def lines(result: Result) -> list[str]:
    own = [s["own_ms"] for s in result.starts]
    last = [s["last_ms"] for s in result.starts]
    sent = [s["profiles"] for s in result.starts]
    return [f"session start → last changed profile answered, {result.evses} EVSEs on one circuit: p50 "
            f"{percentile(last, 50):.0f} ms p95 {percentile(last, 95):.0f} ms ({min(sent, default=0)}-"
            f"{max(sent, default=0)} profiles per start; the new session's own profile p50 "
            f"{percentile(own, 50):.0f} ms p95 {percentile(own, 95):.0f} ms; {len(result.starts)} starts)",
            f"allocate() for {result.evses} charging EVSEs on one circuit: p50 "
            f"{percentile(result.allocate_ms, 50):.2f} ms p95 {percentile(result.allocate_ms, 95):.2f} ms "
            f"({len(result.allocate_ms)} calls)"]


# --- the pure allocation ------------------------------------------------------------------------
def time_allocate(repeat: int) -> list[float]:
    from wattson.loadmgmt.allocation import CircuitNode, Demand, allocate

    rnd = random.Random(1)
    since = datetime(2026, 1, 1, tzinfo=timezone.utc)
    # 5,000 A for 500 EVSEs of 32 A: not all get their maximum, so the filling has work to do
    circuit = CircuitNode(id=1, parent_id=None, max_current_a=5_000.0, unmanaged_a=(30.0, 30.0, 30.0))
    demands = [Demand(key=(f"LM-{i:04d}", 1), circuit_id=1, max_a=32.0, since=since + timedelta(seconds=i),
                      drawn_a=rnd.uniform(6.0, 12.0) if i % 2 else None, offered_a=16.0 if i % 2 else None)
               for i in range(EVSES)]
    times = []
    for _ in range(repeat + 3):
        t = time.perf_counter()
        allocate([circuit], demands)
        times.append((time.perf_counter() - t) * 1000)
    return times[3:]  # the first calls warm up


# --- the stations -------------------------------------------------------------------------------
async def _place(url: str) -> None:
    """The circuit, with every station on it, before the server starts (as ``POST /circuits`` and
    ``PATCH /charge-points/{id} {"circuit_id"}`` would place them: the set-up is not what is timed)."""
    from sqlalchemy import update

    from wattson.db import Database
    from wattson.loadmgmt.service import LoadService
    from wattson.settings import async_database_url
    from wattson.stations.models import ChargePoint

    db = Database(async_database_url(url))
    try:
        circuit = await LoadService(db).create(name="bench", max_current_a=CIRCUIT_A)
        async with db.engine.begin() as conn:
            await conn.execute(update(ChargePoint).values(circuit_id=circuit.id))
    finally:
        await db.dispose()


class Managed(Station):
    """A station that answers the load controller at once and notes when each profile came."""

    def __init__(self, path: str, subprotocol: str, name: str, calls: list):
        super().__init__(path, subprotocol)
        self.name = name
        self.calls = calls  # shared: (perf_counter, station, action, purpose)

    def _answer(self, payload: bytes) -> None:
        message = orjson.loads(payload)
        action = message[2]
        answer = ACCEPTED if action in ("SetChargingProfile", "GetCompositeSchedule") else b"{}"
        self.transport.write(encode(b"[3," + orjson.dumps(message[1]) + b"," + answer + b"]"))
        purpose = None
        if action == "SetChargingProfile":
            body = message[3]
            purpose = (body.get("csChargingProfiles") or body.get("chargingProfile"))["chargingProfilePurpose"]
        self.calls.append((time.perf_counter(), self.name, action, purpose))


async def _connect(port: int, name: str, version, calls: list) -> Managed:
    loop = asyncio.get_running_loop()
    _, station = await asyncio.wait_for(loop.create_connection(
        lambda: Managed(f"/ocpp/{name}", version.subprotocol, name, calls), "127.0.0.1", port), WAIT_S)
    await asyncio.wait_for(station.opened, WAIT_S)
    return station


async def _call(station: Managed, frame: bytes) -> bytes:
    reply = await asyncio.wait_for(station.call(frame), WAIT_S)
    if not reply.startswith(b"[3,"):
        raise SystemExit(f"{station.name} was answered {reply[:300]!r}")
    return reply


async def _until(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"loadmgmt: not within {WAIT_S:.0f} s: {what}")
        await asyncio.sleep(0.01)


async def _quiet(calls: list) -> None:
    """Until the server has sent nothing for QUIET_S."""
    await _until(lambda: not calls or time.perf_counter() - calls[-1][0] >= QUIET_S, "the controller falls quiet")


async def _run(port: int, ids: list[str], starts: int, stop_at: float) -> list[dict]:
    calls: list = []
    versions = [messages.V16 if i % 2 == 0 else messages.V201 for i in range(len(ids))]
    stations = await asyncio.gather(*(_connect(port, cp, v, calls) for cp, v in zip(ids, versions)))
    try:
        async def boot(station: Managed, version) -> None:
            await _call(station, version.boot(1))
            await _call(station, version.status(2, 1))

        await asyncio.gather(*(boot(s, v) for s, v in zip(stations, versions)))
        await _until(lambda: len({c[1] for c in calls if c[3] == "TxDefaultProfile"}) == len(ids),
                     "every station got its fail-safe TxDefaultProfile")

        def start(i: int):
            return _call(stations[i], versions[i].start(3, ids[i], messages.tag(ids[i])))

        await asyncio.gather(*(start(i) for i in range(CHARGING)))
        await _until(lambda: len({c[1] for c in calls if c[3] == "TxProfile"}) >= CHARGING,
                     f"{CHARGING} sessions got their TxProfiles")
        await _quiet(calls)
        print(f"# loadmgmt {CHARGING} charging, {len(calls)} calls from the server so far", flush=True)
        timed = []
        for n in range(starts):
            if time.monotonic() > stop_at:
                print(f"# loadmgmt: {STAGE_S:.0f} s are up after {n} timed starts", flush=True)
                break
            i = CHARGING + n
            mark = len(calls)
            t0 = time.perf_counter()
            await start(i)
            await _until(lambda: any(c[1] == ids[i] and c[3] == "TxProfile" for c in calls[mark:]),
                         f"{ids[i]}'s TxProfile")
            await _quiet(calls)
            profiles = [c for c in calls[mark:] if c[2] == "SetChargingProfile"]
            own = next(c[0] for c in profiles if c[1] == ids[i] and c[3] == "TxProfile")
            timed.append({"own_ms": (own - t0) * 1000, "last_ms": (profiles[-1][0] - t0) * 1000,
                          "profiles": len(profiles)})
            print(f"# loadmgmt start {n + 1}: {len(profiles)} profiles, own {timed[-1]['own_ms']:.0f} ms, last "
                  f"{timed[-1]['last_ms']:.0f} ms", flush=True)
        return timed
    finally:
        for station in stations:
            station.close()


if __name__ == "__main__":
    print_result(measure(argparse.Namespace(starts=10, repeat=50)))
