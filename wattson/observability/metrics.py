"""The Prometheus metrics of one Wattson process, for ``GET /metrics``.

One process is one node: each ``Metrics`` has a registry of its own, and every series carries a
``node`` label (``WATTSON_NODE_ID``), so processes with different roles, or several gateways,
are scraped one by one and stay apart when their series are added up.

Every OCPP call passes through ``CallMetrics.answered``, thousands of times a second: it adds to
plain numbers of its (version, action), which the registry reads when scraped. prometheus_client's
own Counter and Histogram, with their locks, cost 1 to 3 µs a call (up to 5 % of a message); these
~0.3 µs. Only the event loop writes and reads them (the route is async), so no lock is needed.
Only actions a version has a handler for get a label of their own; any other name a station
sends is counted as ``other``, so stations cannot mint series.
"""

import os
import socket
from bisect import bisect_left
from typing import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

#: The action label of calls no handler of their version knows.
OTHER = "other"
#: Seconds to answer a station's call: from memory ~0.1 ms, a durable write a few ms, a database
#: under strain seconds (a unit of work gives up after WATTSON_DB_POOL_TIMEOUT, 10 s).
HANDLER_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Seconds from a command sent to the station's answer: tens of ms on a good link, seconds on a
#: poor one; WATTSON_COMMAND_TIMEOUT (30 s) ends the wait.
ROUND_TRIP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def default_node_id() -> str:
    """hostname-pid: unique among the processes of a host, and says where to look."""
    return f"{socket.gethostname()}-{os.getpid()}"


class CallMetrics:
    """Counts and latency buckets of one (version, action); ``buckets[i]`` counts the answers that
    took at most ``HANDLER_BUCKETS[i]`` and more than the bound before, the last one the rest."""

    __slots__ = ("count", "seconds", "buckets", "errors")

    def __init__(self):
        self.count, self.seconds = 0, 0.0
        self.buckets = [0] * (len(HANDLER_BUCKETS) + 1)
        self.errors: dict[str, int] = {}  # CALLERROR code (one of ours: a bounded set) -> count

    def answered(self, seconds: float) -> None:
        self.count += 1
        self.seconds += seconds
        self.buckets[bisect_left(HANDLER_BUCKETS, seconds)] += 1

    def error(self, code: str) -> None:
        """The call was answered with a CALLERROR ``code``."""
        self.errors[code] = self.errors.get(code, 0) + 1


class _ByAction(dict):
    """action -> CallMetrics of one version, made on first use; unknown names share ``OTHER``."""

    def __init__(self, known):
        super().__init__()
        self._known = frozenset(known)

    def __missing__(self, action: str) -> CallMetrics:
        if action in self._known:
            return self.setdefault(action, CallMetrics())
        return self.setdefault(OTHER, CallMetrics())  # not stored under the station's name: it may be anything


class Metrics:
    def __init__(self, node: str | None = None):
        self.node = node or default_node_id()
        self.registry = CollectorRegistry()
        r = self.registry
        self._stations = Gauge("wattson_stations_connected", "Stations with an open OCPP connection to this node.",
                               ["node"], registry=r).labels(self.node)
        self._round_trip = Histogram("wattson_bus_round_trip_seconds", "Seconds from a command handed to the bus "
                                     "to the station's answer, or its failure or timeout.",
                                     ["node", "action", "outcome"], buckets=ROUND_TRIP_BUCKETS, registry=r)
        self._versions: dict[str, _ByAction] = {}
        r.register(_CallCollector(self.node, self._versions))

    # --- OCPP ------------------------------------------------------------------------------
    def calls(self, version: str, known_actions) -> _ByAction:
        """The per-action metrics of one OCPP version (the first connection's actions name them)."""
        by_action = self._versions.get(version)
        if by_action is None:
            by_action = self._versions[version] = _ByAction(known_actions)
        return by_action

    def watch_connections(self, count: Callable[[], int]) -> None:
        """Read the number of connected stations when scraped: exact, and free per connection."""
        self._stations.set_function(count)

    # --- the bus -----------------------------------------------------------------------------
    def round_trip(self, action: str, outcome: str, seconds: float) -> None:
        self._round_trip.labels(self.node, action, outcome).observe(seconds)

    # --- the database --------------------------------------------------------------------------
    def watch_pool(self, engine) -> None:
        """Report the SQLAlchemy pool of ``engine`` (an AsyncEngine) when scraped."""
        self.registry.register(_PoolCollector(self.node, engine))

    # --- exposition --------------------------------------------------------------------------
    def render(self) -> bytes:
        """Everything, in the Prometheus text format (``CONTENT_TYPE``)."""
        return generate_latest(self.registry)


class _CallCollector:
    """The stations' calls, as counters and a histogram, from the CallMetrics at scrape time."""

    def __init__(self, node: str, versions: dict[str, _ByAction]):
        self.node, self.versions = node, versions

    def describe(self):
        return self._families()

    def _families(self):
        return (CounterMetricFamily("wattson_ocpp_messages", "OCPP calls received from stations and answered "
                                    "(CALLRESULT or CALLERROR).", labels=["node", "version", "action"]),
                CounterMetricFamily("wattson_ocpp_errors", "OCPP calls of stations answered with a CALLERROR, by "
                                    "error code.", labels=["node", "version", "action", "code"]),
                HistogramMetricFamily("wattson_ocpp_handler_seconds", "Seconds from a station's call read to its "
                                      "answer ready (validation, handler, storage).",
                                      labels=["node", "version", "action"]))

    def collect(self):
        messages, errors, handling = families = self._families()
        bounds = [*map(str, HANDLER_BUCKETS), "+Inf"]
        for version, by_action in list(self.versions.items()):
            for action, m in list(by_action.items()):
                labels = [self.node, version, action]
                messages.add_metric(labels, m.count)
                for code, count in m.errors.items():
                    errors.add_metric([*labels, code], count)
                cumulative, total = [], 0
                for bound, count in zip(bounds, m.buckets):
                    total += count
                    cumulative.append((bound, total))
                handling.add_metric(labels, cumulative, m.seconds)
        return families


class _PoolCollector:
    """Connections of the database pool, read from SQLAlchemy at scrape time. SQLite has a pool
    of one (its writes are queued in the process, wattson/db/engine.py), PostgreSQL
    WATTSON_DB_POOL_SIZE plus up to WATTSON_DB_POOL_OVERFLOW more under load."""

    GAUGES = (("wattson_db_pool_checked_out", "Database connections in use by a unit of work now."),
              ("wattson_db_pool_open", "Database connections open now, in use or idle."),
              ("wattson_db_pool_size", "Database connections the pool keeps (more may open under load)."))

    def __init__(self, node: str, engine):
        self.node, self.engine = node, engine

    def describe(self):
        return [GaugeMetricFamily(name, text, labels=["node"]) for name, text in self.GAUGES]

    def collect(self):
        pool = self.engine.pool
        if not hasattr(pool, "checkedout"):  # a pool without counts (NullPool, StaticPool)
            return []
        checked_out = pool.checkedout()
        values = (checked_out, checked_out + pool.checkedin(), pool.size())
        families = self.describe()
        for family, value in zip(families, values):
            family.add_metric([self.node], value)
        return families


#: For connections made without a ``Metrics`` (bench/stages.py drives them directly): counted
#: into a registry nobody scrapes.
UNSCRAPED = Metrics("unscraped")
