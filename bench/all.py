"""``python -m bench all`` (what ``make bench`` runs): every scenario at its full size, then
bench/RESULTS.md with the machine, the figures and the targets, and the same tables quoted in the
README between its ``bench:results`` markers. See bench/README.md."""

import tempfile
import time
from argparse import Namespace
from pathlib import Path

from bench import (cluster, fleet, load_management, report, servers, sessions_query, stages, statistics,
                   throughput)

RESULTS = Path(__file__).with_name("RESULTS.md")
README = Path(__file__).parent.parent / "README.md"
#: Timed requests per session query case: its p95 is the 19th of 20 (of 10 it was the slowest one).
QUERY_REPEAT = 20
START, END = "<!-- bench:results start (make bench writes this part) -->", "<!-- bench:results end -->"


def add_parser(sub) -> None:
    p = sub.add_parser("all", help="every benchmark at full size; writes bench/RESULTS.md", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes and one run each: a smoke test of the "
                                                        "benchmarks, not figures to quote (written to --output)")
    p.add_argument("--output", type=Path, default=RESULTS)
    p.add_argument("--postgres-url", default=servers.DEFAULT_PG)
    p.set_defaults(run=run)


def run(args) -> None:
    quick = args.quick
    started = time.monotonic()
    machine = report.machine()
    profiles = Path(tempfile.mkdtemp(prefix="wattson-bench-profiles-"))
    runs = 1 if quick else 3
    tp = throughput.measure(Namespace(stations=20 if quick else 100, duration=1.0 if quick else 3.0, runs=runs,
                                      workers=2, targets=",".join(throughput.TARGETS), versions="1.6,2.0.1",
                                      postgres_url=args.postgres_url, profile=str(profiles)))
    split = stages.measure(Namespace(duration=1.0 if quick else 3.0, versions="1.6,2.0.1"))
    fleet_args = dict(runs=runs, workers=2, requests=50 if quick else 300, ws="", profile=str(profiles))
    connections = fleet.connections(Namespace(stations=500 if quick else 10_000, **fleet_args))
    storm = fleet.storm(Namespace(stations=500 if quick else 10_000, **fleet_args))
    starts = fleet.starts(Namespace(stations=100 if quick else 1_000, **fleet_args))
    commands = fleet.commands(Namespace(stations=100 if quick else 1_000, **fleet_args))
    clustered = cluster.measure(Namespace(quick=quick, stations=1_000, requests=300, tp_stations=100, duration=3.0,
                                          failover_stations=200, runs=runs, phases="commands,throughput,failover",
                                          postgres_url=args.postgres_url, bus_url=cluster.DEFAULT_BUS))
    queries, repeat = {}, 3 if quick else QUERY_REPEAT
    for backend in ("sqlite", "postgresql"):
        queries[backend] = sessions_query.run(Namespace(sessions=10_000 if quick else 1_000_000, backend=backend,
                                                        repeat=repeat, postgres_url=args.postgres_url, seed=1))
    load = load_management.measure(Namespace(starts=3 if quick else 10, repeat=10 if quick else 50))
    figures = [statistics.run(Namespace(sessions=10_000 if quick else 1_000_000, reports=20 if quick else 1000,
                                        backend=backend, repeat=3 if quick else 20, postgres_url=args.postgres_url,
                                        seed=1)) for backend in ("sqlite", "postgresql")]
    text = report.render(machine, tp, split, connections, storm, starts, commands, queries, repeat, profiles,
                         minutes=(time.monotonic() - started) / 60, quick=quick, cluster=clustered, load=load)
    # the statistics stage's tables go before the profiles, into the part the README quotes
    head, profiles_heading, tail = text.partition("\n## Where Wattson's time goes")
    text = f"{head.rstrip()}\n\n{statistics.render(figures)}{profiles_heading}{tail}"
    args.output.write_text(text)
    print(f"# wrote {args.output} after {(time.monotonic() - started) / 60:.1f} min")
    if args.output == RESULTS:
        quote(text, README)
        print(f"# quoted its tables in {README}")


def quote(results: str, readme: Path) -> None:
    """Put the results' machine, tables and targets (not the profiles) into the README between
    the markers, headings made bold: the README quotes the very run RESULTS.md holds."""
    body = results.split("\n## Where Wattson's time goes", 1)[0].split("\n", 2)[2].strip()  # no title
    body = "\n".join(f"**{line[3:]}**" if line.startswith("## ") else line for line in body.splitlines())
    body = body.replace("](README.md)", "](bench/README.md)")  # links relative to bench/
    text = readme.read_text()
    head, found, rest = text.partition(START)
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise SystemExit(f"{readme} has no {START} … {END} section to quote the results in")
    readme.write_text(f"{head}{START}\n{body}\n{END}{tail}")
