"""Throughput: 100 stations send MeterValues (1.6) or TransactionEvent Updated (2.0.1) as fast as
the server answers, one outstanding call each (OCPP-J). Messages per second and p50/p99 latency,
against Wattson (schema validation and persistence on, SQLite and PostgreSQL) and, in the same
run, the two baselines of ``bench.baselines``.
"""

import argparse
import asyncio
import time
from contextlib import contextmanager
from dataclasses import dataclass

from bench import loadgen, profile, servers
from bench.stats import median, percentile

TARGETS = ("echo", "echo-uvloop", "echo-asgi", "ocpp-library", "wattson-sqlite", "wattson-postgresql")
VERSIONS = {"1.6": "MeterValues", "2.0.1": "TransactionEvent Updated"}


@dataclass
class Run:
    rate: float  # messages per second
    p50: float  # ms
    p99: float
    errors: int
    generator_cpu: float  # cores used by the generator
    server_cpu: float  # cores used by the server
    database_cpu: float  # cores used by PostgreSQL's processes (0 for SQLite, inside the server)


@dataclass
class Result:
    target: str
    version: str
    runs: list[Run]

    def median(self, name: str) -> float:
        return median([getattr(r, name) for r in self.runs])


def add_parser(sub) -> None:
    p = sub.add_parser("throughput", help="messages/s of 100 stations against Wattson and the baselines",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(p)
    p.set_defaults(run=lambda args: print_results(measure(args)))


def add_options(p) -> None:
    p.add_argument("--stations", type=int, default=100)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per run (default 5)")
    p.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    p.add_argument("--workers", type=int, default=2, help="load generator processes (default 2)")
    p.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated subset of {','.join(TARGETS)}")
    p.add_argument("--versions", default="1.6,2.0.1")
    p.add_argument("--postgres-url", default=servers.DEFAULT_PG)
    p.add_argument("--profile", metavar="DIR", help="record Wattson with py-spy in one extra run per figure: "
                                                    "DIR/<target>-<version>.txt (collapsed stacks) and .summary.txt")


def measure(args) -> list[Result]:
    results = []
    ids = [f"TP-{i:05d}" for i in range(1, args.stations + 1)]
    for target in args.targets.split(","):
        with _server(target, ids, args.postgres_url) as (proc, url):
            for version in args.versions.split(","):
                runs = []
                _run(proc, ids, version, min(1.0, args.duration), args.workers)  # warm-up
                for n in range(args.runs):
                    runs.append(_run(proc, ids, version, args.duration, args.workers, url=url))
                if args.profile and target.startswith("wattson"):  # one more run, profiled, not counted
                    _run(proc, ids, version, args.duration, args.workers,
                         profile.Recording(proc.pid, args.profile, f"{target}-{version}", args.duration))
                result = Result(target, version, runs)
                print(f"# throughput {target:20} {version:6} {result.median('rate'):8.0f} msg/s  "
                      f"p50 {result.median('p50'):6.2f} ms  p99 {result.median('p99'):6.2f} ms  "
                      f"server {result.median('server_cpu'):.2f} cores  generator {result.median('generator_cpu'):.2f}"
                      f" cores  postgres {result.median('database_cpu'):.2f} cores  errors {sum(r.errors for r in runs)}",
                      flush=True)
                results.append(result)
    return results


@contextmanager
def _server(target: str, ids: list[str], postgres_url: str):
    if target.startswith("echo") or target == "ocpp-library":
        with servers.baseline(target.removesuffix("-uvloop"), uvloop=target.endswith("uvloop")) as proc:
            yield proc, None
        return
    backend = target.split("-", 1)[1]
    with servers.database(backend, postgres_url) as url:
        asyncio.run(servers.register_stations(url, ids))
        with servers.wattson(url) as proc:
            yield proc, url


def _run(proc: servers.Proc, ids: list[str], version: str, duration: float, workers: int,
         spy: profile.Recording | None = None, url: str | None = None) -> Run:
    """One run; with ``url`` (Wattson's database) it checks that every message answered was stored:
    a message the server takes for a repeat is answered too, and stores nothing."""
    jobs = [loadgen.Job("load", "127.0.0.1", proc.port, part, version=version, duration=duration, timeout=60,
                        cpus=servers.generator_cpus())
            for part in loadgen.split(ids, workers)]
    with loadgen.Generator(jobs) as gen:
        connected, errors = gen.prepare()
        if connected < len(ids):
            raise SystemExit(f"only {connected} of {len(ids)} stations connected: {errors[:5]}")
        if spy:
            spy.start()
        stored = asyncio.run(servers.stored_meter_values(url)) if url else 0
        cpu, db_cpu, t = proc.cpu_seconds(), servers.postgres_cpu_seconds(), time.monotonic()
        reports = gen.run()
        elapsed_s = time.monotonic() - t
        server_cpu = (proc.cpu_seconds() - cpu) / elapsed_s
        database_cpu = (servers.postgres_cpu_seconds() - db_cpu) / elapsed_s
        if spy:
            spy.finish()
        gen.close()
    latencies = [x for r in reports for x in r.latencies_ms]
    elapsed = max(r.elapsed for r in reports)
    errors = [e for r in reports for e in r.errors]
    if url and (stored := asyncio.run(servers.stored_meter_values(url)) - stored) != len(latencies):
        errors.append(f"{len(latencies)} messages answered, {stored} meter values stored")
    if errors:
        print(f"#   {len(errors)} errors, e.g. {errors[:3]}")
    return Run(rate=len(latencies) / elapsed, p50=percentile(latencies, 50), p99=percentile(latencies, 99),
               errors=len(errors), generator_cpu=sum(r.cpu for r in reports) / elapsed, server_cpu=server_cpu,
               database_cpu=database_cpu)


def print_results(results: list[Result]) -> None:
    print(f"{'target':20} {'OCPP':6} {'msg/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'server':>7} {'pg':>6} {'gen':>6} errors")
    for r in results:
        print(f"{r.target:20} {r.version:6} {r.median('rate'):8.0f} {r.median('p50'):7.2f} {r.median('p99'):7.2f} "
              f"{r.median('server_cpu'):7.2f} {r.median('database_cpu'):6.2f} {r.median('generator_cpu'):6.2f} "
              f"{sum(x.errors for x in r.runs)}")
