"""Many stations on one server: idle connections (memory), a reconnect storm (boots), and
command round trips from the API to a station and back.

``connections``: N idle stations connect (handshake only); the server's resident memory before and
after, per connection. The raw ``websockets`` echo server holds the same connections as the
reference.

``storm``: N registered stations connect, send BootNotification and StatusNotification (connector 0
and 1) all at once, each worker opening up to 256 handshakes at a time; errors, p99 of the boot
call, and the time until every boot was Accepted.

``starts``: N registered stations, half on OCPP 1.6 and half on 2.0.1, each with its own accepted
tag, come up at random moments within 5 s (a depot whose power came back): each connects, boots
and opens a transaction (StartTransaction, TransactionEvent Started); on SQLite and PostgreSQL,
errors, p50 and p99 of the start call, and the time until every start was answered.

``commands``: N stations connected and booted, answering every call at once; one operator sends
Reset over the API to a random station at a time (``POST /api/v1/charge-points/{id}/commands/reset``,
waiting for the station's answer); p50 and p99 of the whole HTTP request.
"""

import argparse
import asyncio
import random
import time
from dataclasses import dataclass, field

import httpx

from bench import loadgen, messages, profile, servers
from bench.stats import median, percentile


@dataclass
class Result:
    scenario: str
    target: str
    stations: int
    runs: list[dict] = field(default_factory=list)

    def median(self, name: str) -> float:
        return median([r[name] for r in self.runs])


def add_parsers(sub) -> None:
    names = ["connections", "storm", "starts", "commands"]
    for name, fn, default in (("connections", connections, 10_000), ("storm", storm, 10_000),
                              ("starts", starts, 1_000), ("commands", commands, 1_000)):
        p = sub.add_parser(name, help=__doc__.split("\n\n")[names.index(name) + 1]
                           .split(":")[0].strip("`"), description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        add_options(p, default)
        p.set_defaults(run=lambda args, fn=fn: print(*fn(args), sep="\n"))


def add_options(p, stations: int) -> None:
    p.add_argument("--stations", type=int, default=stations)
    p.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    p.add_argument("--workers", type=int, default=2, help="load generator processes (default 2)")
    p.add_argument("--requests", type=int, default=300, help="commands: commands timed per run (default 300)")
    p.add_argument("--profile", metavar="DIR", help="storm, starts, commands: record the server with py-spy during the "
                                                    "first run (DIR/<scenario>.txt and .summary.txt)")
    p.add_argument("--ws", default="", help="connections: uvicorn WebSocket implementation to measure instead of "
                                            "Wattson's (websockets-sansio, websockets, wsproto)")


def _jobs(kind: str, port: int, ids: list[str], workers: int, timeout: float = 120,
          **options) -> list[loadgen.Job]:
    return [loadgen.Job(kind, "127.0.0.1", port, part, timeout=timeout, cpus=servers.generator_cpus(), **options)
            for part in loadgen.split(ids, workers)]


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:05d}" for i in range(1, n + 1)]


def _run(jobs: list[loadgen.Job], proc: servers.Proc, profile_dir: str | None, name: str,
         seconds: float) -> list[loadgen.Report]:
    """The jobs' timed phase; with ``profile_dir``, its first ``seconds`` recorded by py-spy."""
    with loadgen.Generator(jobs) as gen:
        gen.prepare()
        spy = profile.Recording(proc.pid, profile_dir, name, seconds) if profile_dir else None
        if spy:
            spy.start()
        reports = gen.run()
        if spy:
            spy.finish()
        gen.close()
    return reports


# --- connections --------------------------------------------------------------------------------

def connections(args) -> list[Result]:
    """A fresh server per run: memory freed by closed connections stays with the process."""
    ids = _ids("IDLE", args.stations)
    settings = {"ws_protocol": args.ws} if args.ws else {}
    wattson = Result("connections", f"wattson{' (' + args.ws + ')' if args.ws else ''}", len(ids))
    echo = Result("connections", "echo-uvloop", len(ids))
    with servers.database("sqlite") as url:
        asyncio.run(servers.register_stations(url, ids))
        for _ in range(args.runs):
            with servers.wattson(url, **settings) as proc:
                _hold(wattson, proc, ids, args)
    for _ in range(args.runs):
        with servers.baseline("echo", uvloop=True) as proc:
            _hold(echo, proc, ids, args)
    return [wattson, echo]


def _hold(result: Result, proc: servers.Proc, ids: list[str], args) -> None:
    target = result.target
    with loadgen.Generator(_jobs("idle", proc.port, ids[:10], 1)) as gen:  # lazy imports, first allocations
        gen.prepare()
        gen.close()
    time.sleep(0.5)
    before = proc.rss_kib()
    t = time.monotonic()
    with loadgen.Generator(_jobs("idle", proc.port, ids, args.workers)) as gen:
        connected, errors = gen.prepare()
        took = time.monotonic() - t
        time.sleep(2)  # let the server settle (handshake buffers freed)
        after = proc.rss_kib()
        gen.run()
        gen.close()
    run = {"connected": connected, "errors": len(errors), "rss_before_mib": before / 1024,
           "rss_after_mib": after / 1024, "kib_per_connection": (after - before) / max(1, connected),
           "connect_s": took}
    print(f"# connections {target:24} {connected} connected in {took:.1f} s, RSS {before / 1024:.0f} -> "
          f"{after / 1024:.0f} MiB: {run['kib_per_connection']:.1f} KiB per connection, errors {len(errors)} "
          f"{errors[:2]}", flush=True)
    result.runs.append(run)


# --- reconnect storm ------------------------------------------------------------------------------

def storm(args) -> list[Result]:
    ids = _ids("STORM", args.stations)
    result = Result("storm", "wattson-sqlite", len(ids))
    with servers.database("sqlite") as url:
        asyncio.run(servers.register_stations(url, ids))
        with servers.wattson(url) as proc:
            for _ in range(args.runs):
                reports = _run(_jobs("storm", proc.port, ids, args.workers, timeout=90), proc,
                               args.profile if not result.runs else None, "storm", 20)
                boots = [x for r in reports for x in r.latencies_ms]
                errors = [e for r in reports for e in r.errors]
                accepted = sum(r.accepted for r in reports)
                run = {"accepted": accepted, "errors": len(errors), "boot_p50_ms": percentile(boots, 50),
                       "boot_p99_ms": percentile(boots, 99),
                       "all_accepted_s": max(r.all_accepted for r in reports) if accepted == len(ids) else float("nan"),
                       "all_done_s": max(r.elapsed for r in reports),
                       "generator_cpu": sum(r.cpu for r in reports) / max(0.001, max(r.elapsed for r in reports))}
                print(f"# storm {len(ids)} stations: {accepted} Accepted, {len(errors)} errors {errors[:2]}, boot p50 "
                      f"{run['boot_p50_ms']:.0f} ms p99 {run['boot_p99_ms']:.0f} ms, all Accepted after "
                      f"{run['all_accepted_s']:.1f} s, all statuses after {run['all_done_s']:.1f} s", flush=True)
                result.runs.append(run)
                time.sleep(2)  # the server notices the disconnections
    return [result]


# --- start storm ---------------------------------------------------------------------------------

#: The window within which every station of the start storm comes up.
START_WINDOW_S = 5.0


def starts(args) -> list[Result]:
    """A fresh database per run, so that every run's starts are new sessions."""
    results = []
    for backend in ("sqlite", "postgresql"):
        result = Result("starts", f"wattson-{backend}", args.stations)
        for run_no in range(args.runs):
            ids = _ids(f"START{run_no}", args.stations)
            half = len(ids) // 2
            with servers.database(backend) as url:
                asyncio.run(servers.register_stations(url, ids, tags=[messages.tag(x) for x in ids]))
                with servers.wattson(url) as proc:
                    jobs = (_jobs("starts", proc.port, ids[:half], max(1, args.workers // 2), timeout=90,
                                  duration=START_WINDOW_S)
                            + _jobs("starts", proc.port, ids[half:], max(1, args.workers // 2), timeout=90,
                                    duration=START_WINDOW_S, version="2.0.1"))
                    reports = _run(jobs, proc, args.profile if not result.runs else None, f"starts-{backend}", 15)
            latencies = [x for r in reports for x in r.latencies_ms]
            errors = [e for r in reports for e in r.errors]
            answered = sum(r.accepted for r in reports)
            run = {"answered": answered, "errors": len(errors), "start_p50_ms": percentile(latencies, 50),
                   "start_p99_ms": percentile(latencies, 99),
                   "all_answered_s": max(r.all_accepted for r in reports) if answered == len(ids) else float("nan")}
            print(f"# starts {backend} {len(ids)} stations: {answered} answered, {len(errors)} errors {errors[:2]}, "
                  f"start p50 {run['start_p50_ms']:.0f} ms p99 {run['start_p99_ms']:.0f} ms, all answered after "
                  f"{run['all_answered_s']:.1f} s", flush=True)
            result.runs.append(run)
        results.append(result)
    return results


# --- command round trips -----------------------------------------------------------------------------

WARM_UP = 20  # commands sent before the timed ones


def time_commands(client, ids: list[str], requests: int, rnd: random.Random, check=lambda: None):
    """Reset one random station after the other over the API, waiting for each answer: the
    times in ms of the ``requests`` after the warm-up, the failures, and the first failure."""
    times, failures, first_failure = [], 0, None
    for n in range(requests + WARM_UP):
        check()
        cp = rnd.choice(ids)
        t = time.perf_counter()
        r = client.post(f"/api/v1/charge-points/{cp}/commands/reset", json={"type": "soft"})
        elapsed = (time.perf_counter() - t) * 1000
        if r.status_code != 200 or r.json().get("state") != "completed":
            failures += 1
            first_failure = first_failure or f"{r.status_code} {r.text[:200]}"
        if n >= WARM_UP:
            times.append(elapsed)
    return times, failures, first_failure


def commands(args) -> list[Result]:
    ids = _ids("CMD", args.stations)
    result = Result("commands", "wattson-sqlite", len(ids))
    with servers.database("sqlite") as url:
        key = asyncio.run(servers.register_stations(url, ids, api_key_role="admin"))
        with servers.wattson(url) as proc:
            with loadgen.Generator(_jobs("answer", proc.port, ids, args.workers)) as gen:
                connected, errors = gen.prepare()
                rnd = random.Random(1)
                with httpx.Client(base_url=f"http://127.0.0.1:{proc.port}", timeout=30,
                                  headers={"Authorization": f"Bearer {key}"}) as client:
                    for run in range(args.runs):
                        times, failures, _ = time_commands(client, ids, args.requests, rnd)
                        row = {"p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99), "errors": failures,
                               "connected": connected}
                        print(f"# commands at {connected} stations: p50 {row['p50_ms']:.1f} ms p99 "
                              f"{row['p99_ms']:.1f} ms, {failures} failed", flush=True)
                        result.runs.append(row)
                gen.run()
                gen.close()
    return [result]
