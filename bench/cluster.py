"""Cluster mode (issue 15): several ``wattson serve --role …`` processes on one PostgreSQL database,
linked by NATS (``WATTSON_BUS_URL``), measured in three phases, each against its own fresh
database and its own bus prefix (``bench<random hex>``: subjects and the events stream are per
prefix, so runs never mix; the stream is deleted afterwards).

``commands``: 1,000 stations, 500 on each of two gateways, one api process; one operator sends
Reset to a random station at a time through the api (``POST /api/v1/charge-points/{id}/commands/reset``),
which reaches the holding gateway by NATS request/reply; p50 and p99 of the whole HTTP request.
The same against one process (role all, no bus) in the same run, as the baseline.

``throughput``: MeterValues (1.6) of 100 stations as fast as answered, against one gateway and
against two (the stations split across them); messages/s and the ratio two/one.

``failover``: 200 stations on gateway A, a second gateway B, one api, ``WATTSON_NODE_LEASE_S=3``;
A is killed (SIGKILL) and every station reconnects to B at once (and boots); the time from the kill
until the api shows all of them online again with a connection made after the kill. Then B is
killed and no station reconnects: the time until the api shows all of them offline (the lease).

On this machine every process shares its cores: nothing is pinned in this scenario (gateways,
api, the load generator, PostgreSQL and NATS go where the OS puts them), unlike the one-process
scenarios, which pin the server to a core of its own. See bench/README.md (## cluster).
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path

import httpx

from bench import loadgen, messages, servers, wsclient
from bench.fleet import Result, time_commands
from bench.stats import percentile

DEFAULT_BUS = os.environ.get("WATTSON_BENCH_BUS_URL", "nats://127.0.0.1:4222")
#: The presence lease of the failover phase (the setting's minimum).
FAILOVER_LEASE_S = 3
#: The bound of every phase, in seconds (each run of it; processes stop and the database goes
#: when it is over).
PHASE_DEADLINE_S = 300
SHARED_CORES = ("nothing pinned: the gateways, the api, the load generator, PostgreSQL and NATS share the "
                "machine's {cores} cores")


class PhaseTimeout(Exception):
    pass


class Deadline:
    def __init__(self, seconds: float, what: str):
        self.end, self.what, self.seconds = time.monotonic() + seconds, what, seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise PhaseTimeout(f"{self.what}: not over after {self.seconds:g} s")

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())


def add_parser(sub) -> None:
    p = sub.add_parser("cluster", help="several wattson processes on PostgreSQL and NATS: commands across "
                                       "processes, throughput with 1 and 2 gateways, failover",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes and one run each (a smoke test)")
    p.add_argument("--stations", type=int, default=1000, help="commands: stations, half on each gateway (1,000)")
    p.add_argument("--requests", type=int, default=300, help="commands: timed commands per run (300)")
    p.add_argument("--tp-stations", type=int, default=100, help="throughput: stations (100)")
    p.add_argument("--duration", type=float, default=5.0, help="throughput: seconds per run (5)")
    p.add_argument("--failover-stations", type=int, default=200, help="failover: stations (200)")
    p.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (3)")
    p.add_argument("--phases", default="commands,throughput,failover")
    p.add_argument("--postgres-url", default=servers.DEFAULT_PG)
    p.add_argument("--bus-url", default=DEFAULT_BUS)
    p.set_defaults(run=lambda args: print_results(measure(args)))


def quick_args(args) -> None:
    args.stations, args.requests, args.tp_stations = 100, 50, 20
    args.duration, args.failover_stations, args.runs = 1.0, 50, 1


def measure(args) -> list[Result]:
    if getattr(args, "quick", False):
        quick_args(args)
    print(f"# cluster: {SHARED_CORES.format(cores=servers.cores())}; bus {args.bus_url}", flush=True)
    results = []
    phases = args.phases.split(",")
    for name, fn in (("commands", commands), ("throughput", throughput), ("failover", failover)):
        if name in phases:
            try:
                results += fn(args)
            except (PhaseTimeout, SystemExit, TimeoutError, RuntimeError, OSError, httpx.HTTPError) as error:
                print(f"# cluster {name}: FAILED: {type(error).__name__}: {str(error)[:2000]}", flush=True)
                lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()] or [""]
                said = lines[0] if len(lines) == 1 else f"{lines[0]} … {lines[-1]}"
                results.append(Result(f"cluster-{name}", "failed", 0,
                                      [{"failed": f"{type(error).__name__}: {said[:400]}"}]))
    return results


# --- processes ------------------------------------------------------------------------------------

def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _stop(proc: servers.Proc) -> None:
    if proc.popen.poll() is None:
        proc.popen.terminate()
        try:
            proc.popen.wait(15)
        except subprocess.TimeoutExpired:
            proc.popen.kill()
            proc.popen.wait()
    proc.log.unlink(missing_ok=True)


def start(stack: ExitStack, url: str, roles: list[str], bus: str | None, prefix: str | None,
          **settings) -> list[servers.Proc]:
    """``wattson serve --role R`` for each of ``roles``, started together, unpinned, stopped when
    ``stack`` closes (also those killed meanwhile); returned once every one answers /health/ready."""
    procs = []
    for n, role in enumerate(roles):
        extra = dict(settings, node_id=f"bench-{role}-{n}")
        if bus:
            extra.update(bus_url=bus, bus_prefix=prefix)
        env = servers.wattson_env(url, **extra)
        port = servers.free_port()
        log = Path(tempfile.mkstemp(prefix=f"wattson-bench-{role}-", suffix=".log")[1])
        with open(log, "w") as out:
            popen = subprocess.Popen([sys.executable, "-m", "wattson", "serve", "--role", role, "--port", str(port)],
                                     env=env, stdout=out, stderr=subprocess.STDOUT,
                                     preexec_fn=loadgen.raise_fd_limit)
        proc = servers.Proc(popen, port, log)
        stack.callback(_stop, proc)
        procs.append(proc)
    deadline = time.monotonic() + 60
    for proc, role in zip(procs, roles):
        while not _ready(proc.port):
            if proc.popen.poll() is not None or time.monotonic() > deadline:
                text = proc.log.read_text()
                kept = Path(tempfile.mkstemp(prefix=f"wattson-bench-failed-{role}-", suffix=".log")[1])
                kept.write_text(text)  # the whole log, kept for reading: _stop removes the original
                errors = [line for line in text.splitlines() if "Error" in line and not line.startswith(" ")]
                raise SystemExit(f"wattson --role {role} did not become ready (its log: {kept}):\n"
                                 f"{text[-3000:]}\n{errors[-1] if errors else ''}")
            time.sleep(0.1)
    return procs


@contextmanager
def bus_prefix(bus: str):
    """A prefix of its own; its JetStream stream (the events the run published) deleted afterwards."""
    prefix = f"bench{secrets.token_hex(4)}"
    try:
        yield prefix
    finally:
        try:
            asyncio.run(_delete_stream(bus, f"{prefix.upper()}_EVENTS"))
        except Exception as error:  # noqa: BLE001 - reported; the stream expires by itself in a day
            print(f"#   could not delete stream {prefix.upper()}_EVENTS: {error}")


async def _delete_stream(bus: str, name: str) -> None:
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(bus, connect_timeout=5, max_reconnect_attempts=0)
    try:
        try:
            await nc.jetstream().delete_stream(name)
        except NotFoundError:
            pass
    finally:
        await nc.close()


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:05d}" for i in range(1, n + 1)]


def _answer_jobs(ids_by_port: dict[int, list[str]], workers_per_port: int) -> list[loadgen.Job]:
    return [loadgen.Job("answer", "127.0.0.1", port, part, timeout=120)
            for port, ids in ids_by_port.items() for part in loadgen.split(ids, workers_per_port)]


# --- 1. commands across processes -----------------------------------------------------------------

def commands(args) -> list[Result]:
    ids = _ids("CLCMD", args.stations)
    half = len(ids) // 2
    cluster = Result("cluster-commands", "cluster: 2 gateways + api (NATS)", len(ids))
    single = Result("cluster-commands", "one process (role all, no bus)", len(ids))
    for result, roles in ((cluster, ["api", "gateway", "gateway"]), (single, ["all"])):
        with ExitStack() as stack:
            url = stack.enter_context(servers.database("postgresql", args.postgres_url))
            prefix = stack.enter_context(bus_prefix(args.bus_url)) if len(roles) > 1 else None
            key = asyncio.run(servers.register_stations(url, ids, api_key_role="admin"))
            procs = start(stack, url, roles, args.bus_url if prefix else None, prefix)
            api = procs[0]
            if len(procs) > 1:
                jobs = _answer_jobs({procs[1].port: ids[:half], procs[2].port: ids[half:]}, 1)
            else:
                jobs = _answer_jobs({api.port: ids}, 2)
            deadline = Deadline(PHASE_DEADLINE_S, f"cluster commands ({result.target})")
            with loadgen.Generator(jobs) as gen:
                connected, errors = gen.prepare()
                if connected < len(ids):
                    raise SystemExit(f"only {connected} of {len(ids)} stations connected: {errors[:5]}")
                rnd = random.Random(1)
                with httpx.Client(base_url=f"http://127.0.0.1:{api.port}", timeout=30,
                                  headers={"Authorization": f"Bearer {key}"}) as client:
                    for _ in range(args.runs):
                        times, failures, first_failure = time_commands(client, ids, args.requests, rnd,
                                                                       deadline.check)
                        row = {"p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99), "errors": failures,
                               "connected": connected}
                        print(f"# cluster commands {result.target}: {connected} stations, p50 {row['p50_ms']:.1f} ms "
                              f"p99 {row['p99_ms']:.1f} ms, {failures} failed {first_failure or ''}", flush=True)
                        result.runs.append(row)
                gen.run()
                gen.close()
    return [cluster, single]


# --- 2. MeterValues throughput with one and two gateways ------------------------------------------

def throughput(args) -> list[Result]:
    ids = _ids("CLTP", args.tp_stations)
    results = []
    for gateways in (1, 2):
        result = Result("cluster-throughput", f"{gateways} gateway{'s' if gateways > 1 else ''}", len(ids))
        with ExitStack() as stack:
            url = stack.enter_context(servers.database("postgresql", args.postgres_url))
            prefix = stack.enter_context(bus_prefix(args.bus_url))
            asyncio.run(servers.register_stations(url, ids))
            procs = start(stack, url, ["gateway"] * gateways, args.bus_url, prefix)
            _load(procs, ids, min(1.0, args.duration))  # warm-up
            for _ in range(args.runs):
                run = _load(procs, ids, args.duration)
                print(f"# cluster throughput {result.target}: {run['rate']:.0f} msg/s, p50 {run['p50']:.2f} ms "
                      f"p99 {run['p99']:.2f} ms, gateways {run['server_cpu']:.2f} cores, generator "
                      f"{run['generator_cpu']:.2f} cores, PostgreSQL {run['database_cpu']:.2f} cores, "
                      f"errors {run['errors']} ({SHARED_CORES.format(cores=servers.cores())})", flush=True)
                result.runs.append(run)
        results.append(result)
    return results


def _load(procs: list[servers.Proc], ids: list[str], duration: float) -> dict:
    """One run: two generator processes, each sending to one gateway (both to the one there is)."""
    parts = loadgen.split(ids, 2)
    jobs = [loadgen.Job("load", "127.0.0.1", procs[n % len(procs)].port, part, duration=duration, timeout=60)
            for n, part in enumerate(parts)]
    with loadgen.Generator(jobs) as gen:
        connected, errors = gen.prepare()
        if connected < len(ids):
            raise SystemExit(f"only {connected} of {len(ids)} stations connected: {errors[:5]}")
        cpu = sum(p.cpu_seconds() for p in procs)
        db_cpu, t = servers.postgres_cpu_seconds(), time.monotonic()
        reports = gen.run()
        elapsed_s = time.monotonic() - t
        server_cpu = (sum(p.cpu_seconds() for p in procs) - cpu) / elapsed_s
        database_cpu = (servers.postgres_cpu_seconds() - db_cpu) / elapsed_s
        gen.close()
    latencies = [x for r in reports for x in r.latencies_ms]
    elapsed = max(r.elapsed for r in reports)
    errors = [e for r in reports for e in r.errors]
    if errors:
        print(f"#   {len(errors)} errors, e.g. {errors[:3]}")
    return {"rate": len(latencies) / elapsed, "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "errors": len(errors), "generator_cpu": sum(r.cpu for r in reports) / elapsed, "server_cpu": server_cpu,
            "database_cpu": database_cpu}


# --- 3. failover --------------------------------------------------------------------------------

class _Station(wsclient.Station):
    """A station that knows when its connection went."""

    __slots__ = ("lost",)

    def __init__(self, path: str, subprotocol: str):
        super().__init__(path, subprotocol)
        self.lost: asyncio.Future = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc) -> None:
        super().connection_lost(exc)
        if not self.lost.done():
            self.lost.set_result(time.monotonic())


async def _connect(port: int, name: str, subprotocol: str, timeout: float) -> _Station:
    loop = asyncio.get_running_loop()
    _, st = await asyncio.wait_for(loop.create_connection(lambda: _Station(f"/ocpp/{name}", subprotocol),
                                                          "127.0.0.1", port), timeout)
    try:
        await asyncio.wait_for(st.opened, timeout)
    except BaseException:
        st.close()
        raise
    return st


def _failover_worker(pipe, ids: list[str], ports: list[int]) -> None:
    loadgen.raise_fd_limit()
    import uvloop

    uvloop.install()
    asyncio.run(_failover_stations(pipe, ids, ports))


async def _failover_stations(pipe, ids: list[str], ports: list[int]) -> None:
    """Each station connects to ``ports[0]`` and boots; when its connection goes it connects to the
    next port at once (retrying for 30 s) and boots again; after the last port it stays away."""
    proto = messages.VERSIONS["1.6"]
    up = {n: asyncio.Event() for n in range(len(ports))}
    counts = [0] * len(ports)
    back_at: list[list[float]] = [[] for _ in ports]  # monotonic time each station was booted on port n
    errors: list[str] = []
    stations: dict[str, _Station] = {}

    async def keep(name: str) -> None:
        for n, port in enumerate(ports):
            give_up = time.monotonic() + 30
            while True:
                try:
                    st = await _connect(port, name, proto.subprotocol, 10)
                    reply = await asyncio.wait_for(st.call(proto.boot(1)), 10)
                    if b'"Accepted"' not in reply:
                        raise ConnectionError(f"boot answered {reply[:100]!r}")
                    break
                except (OSError, asyncio.TimeoutError, wsclient.HandshakeFailed) as error:
                    if time.monotonic() > give_up:
                        errors.append(f"{name} on port {port}: {type(error).__name__} {error}")
                        return
                    await asyncio.sleep(0.1)
            stations[name] = st
            back_at[n].append(time.monotonic())
            counts[n] += 1
            if counts[n] == len(ids):
                up[n].set()
            await st.lost

    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(keep(name)) for name in ids]
    try:
        while True:
            message = await loop.run_in_executor(None, pipe.recv)
            if message[0] == "wait":  # until every station is booted on port n (or the timeout)
                n, timeout = message[1], message[2]
                try:
                    await asyncio.wait_for(up[n].wait(), timeout)
                except asyncio.TimeoutError:
                    pass
                pipe.send(("up", counts[n], max(back_at[n], default=float("nan")), errors[:10]))
            elif message[0] == "close":
                break
    finally:
        for task in tasks:
            task.cancel()
        for st in stations.values():
            st.close()
        await asyncio.sleep(0.1)
        pipe.send(("closed",))


class FailoverClients:
    """The failover stations in a process of their own."""

    def __init__(self, ids: list[str], ports: list[int]):
        ctx = multiprocessing.get_context("spawn")
        self.pipe, theirs = ctx.Pipe()
        self.proc = ctx.Process(target=_failover_worker, args=(theirs, ids, ports), daemon=True)
        self.proc.start()

    def wait(self, n: int, timeout: float) -> tuple[int, float, list[str]]:
        self.pipe.send(("wait", n, timeout))
        if not self.pipe.poll(timeout + 30):
            raise TimeoutError("the failover stations did not answer")
        _, count, last, errors = self.pipe.recv()
        return count, last, errors

    def close(self) -> None:
        try:
            self.pipe.send(("close",))
            self.pipe.poll(10)
        finally:
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()


def _online(client: httpx.Client, since: datetime) -> tuple[int, int]:
    """(stations the api shows online, of them those connected at or after ``since``), paging."""
    online = fresh = 0
    cursor = None
    while True:
        params = {"network_status": "online", "limit": 500, **({"cursor": cursor} if cursor else {})}
        r = client.get("/api/v1/charge-points", params=params)
        r.raise_for_status()
        page = r.json()
        for cp in page["data"]:
            online += 1
            at = cp.get("connected_at")
            if at and datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(timezone.utc) >= since:
                fresh += 1
        cursor = page.get("next_cursor")
        if not cursor:
            return online, fresh


def _poll(client: httpx.Client, since: datetime, done, deadline: Deadline, every: float = 0.05) -> float:
    """Poll the api until ``done(online, fresh)``; the monotonic time of the first answer that
    said so (taken when the answer arrived)."""
    while True:
        deadline.check()
        counts = _online(client, since)
        if done(*counts):
            return time.monotonic()
        time.sleep(every)


def failover(args) -> list[Result]:
    ids = _ids("CLFO", args.failover_stations)
    result = Result("cluster-failover", f"lease {FAILOVER_LEASE_S} s", len(ids))
    with ExitStack() as stack:
        url = stack.enter_context(servers.database("postgresql", args.postgres_url))
        prefix = stack.enter_context(bus_prefix(args.bus_url))
        key = asyncio.run(servers.register_stations(url, ids, api_key_role="viewer"))
        (api,) = start(stack, url, ["api"], args.bus_url, prefix, node_lease_s=FAILOVER_LEASE_S)
        client = stack.enter_context(httpx.Client(base_url=f"http://127.0.0.1:{api.port}", timeout=10,
                                                  headers={"Authorization": f"Bearer {key}"}))
        for _ in range(args.runs):
            deadline = Deadline(PHASE_DEADLINE_S, "cluster failover")
            with ExitStack() as run_stack:
                a, b = start(run_stack, url, ["gateway", "gateway"], args.bus_url, prefix,
                             node_lease_s=FAILOVER_LEASE_S)
                stations = FailoverClients(ids, [a.port, b.port])
                run_stack.callback(stations.close)
                count, _, errors = stations.wait(0, 60)
                if count < len(ids):
                    raise SystemExit(f"only {count} of {len(ids)} stations booted on gateway A: {errors[:5]}")
                _poll(client, datetime.now(timezone.utc), lambda online, fresh: online == len(ids), deadline)
                time.sleep(0.5)
                # kill -9 A: its stations reconnect to B at once
                since, killed = datetime.now(timezone.utc), time.monotonic()
                a.popen.kill()
                all_online = _poll(client, since, lambda online, fresh: fresh == len(ids), deadline)
                count, last_boot, errors = stations.wait(1, deadline.left())
                # kill -9 B: nobody reconnects; until the api shows every station offline
                time.sleep(0.5)
                killed_b = time.monotonic()
                b.popen.kill()
                all_offline = _poll(client, since, lambda online, fresh: online == 0, deadline)
            run = {"online_s": all_online - killed, "reconnected_s": last_boot - killed,
                   "offline_s": all_offline - killed_b, "errors": len(errors)}
            print(f"# cluster failover {len(ids)} stations, lease {FAILOVER_LEASE_S} s: all reconnected and booted "
                  f"on B {run['reconnected_s']:.2f} s after the kill of A, all shown online again after "
                  f"{run['online_s']:.2f} s; after the kill of B all shown offline after {run['offline_s']:.2f} s; "
                  f"errors {len(errors)} {errors[:2]}", flush=True)
            result.runs.append(run)
    return [result]


# --- output --------------------------------------------------------------------------------------

def print_results(results: list[Result]) -> None:
    for r in results:
        if r.target == "failed":
            print(f"{r.scenario}: FAILED {r.runs[0]['failed']}")
        elif r.scenario == "cluster-commands":
            print(f"{r.scenario} {r.target:40} {r.stations} stations  p50 {r.median('p50_ms'):6.1f} ms  "
                  f"p99 {r.median('p99_ms'):6.1f} ms  failed {sum(x['errors'] for x in r.runs)}")
        elif r.scenario == "cluster-throughput":
            print(f"{r.scenario} {r.target:12} {r.stations} stations  {r.median('rate'):7.0f} msg/s  "
                  f"p50 {r.median('p50'):6.2f} ms  p99 {r.median('p99'):6.2f} ms  gateways "
                  f"{r.median('server_cpu'):.2f} cores  generator {r.median('generator_cpu'):.2f} cores  "
                  f"errors {sum(x['errors'] for x in r.runs)}")
        elif r.scenario == "cluster-failover":
            print(f"{r.scenario} {r.target} {r.stations} stations  online again {r.median('online_s'):.2f} s  "
                  f"(reconnected {r.median('reconnected_s'):.2f} s)  offline {r.median('offline_s'):.2f} s  "
                  f"errors {sum(x['errors'] for x in r.runs)}")
    by = {(r.scenario, r.target): r for r in results}
    one, two = by.get(("cluster-throughput", "1 gateway")), by.get(("cluster-throughput", "2 gateways"))
    if one and two:
        print(f"throughput two gateways / one: {two.median('rate') / one.median('rate'):.2f} "
              f"({SHARED_CORES.format(cores=servers.cores())})")
    cl = by.get(("cluster-commands", "cluster: 2 gateways + api (NATS)"))
    single = by.get(("cluster-commands", "one process (role all, no bus)"))
    if cl and single:
        print(f"command p99 cluster / one process: {cl.median('p99_ms') / single.median('p99_ms'):.2f}; "
              f"target p99 <= 20 ms: {'holds' if cl.median('p99_ms') <= 20 else 'missed'}")
