"""``python -m bench <benchmark> [options]``: run one benchmark and print its figures."""

import argparse
import sys

from bench import all as all_, cluster, fleet, load_management, sessions_query, stages, statistics, throughput


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Wattson benchmarks.")
    sub = parser.add_subparsers(title="benchmarks")
    throughput.add_parser(sub)
    fleet.add_parsers(sub)
    cluster.add_parser(sub)
    all_.add_parser(sub)
    sessions_query.add_parser(sub)
    stages.add_parser(sub)
    load_management.add_parser(sub)
    statistics.add_parser(sub)
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        sys.exit(2)
    args.run(args)


if __name__ == "__main__":
    main()
