"""Run many simulated stations in one process: the demo, the tests and the benchmarks use this."""

import asyncio
from collections.abc import Sequence
from typing import TextIO

from wattson.sim.report import Reporter
from wattson.sim.station import SimStation, StationConfig, default_id_tags
from wattson.sim.versions import SUPPORTED_OCPP

__all__ = ["run_stations", "run_fleet", "default_id_tags", "SUPPORTED_OCPP"]

STAGGER = 0.05  # seconds between two stations connecting ...
STAGGER_TOTAL = 5.0  # ... but all of them connected within this


async def run_stations(url: str, count: int, *, prefix: str = "SIM-", ocpp: str | Sequence[str] = "1.6",
                       id_tags: Sequence[str] | None = None, meter_interval: float = 10.0, connectors: int = 2,
                       session_gap: tuple[float, float] = (5, 20), session_duration: tuple[float, float] = (60, 300),
                       charging_needs: tuple[float, float] | None = None,
                       stop_event: asyncio.Event | None = None, report: TextIO | None = None,
                       report_every: float = 10.0) -> None:
    """Run ``count`` stations ``{prefix}0001``... against ``url`` until ``stop_event`` is set or the
    task is cancelled, then stop them all. Several ``ocpp`` versions make a mixed fleet: station
    N speaks the ((N-1) mod len)-th, round-robin. Empty ``id_tags``: no sessions of their own (they
    charge when the CSMS starts one). With ``report``, what they do is written there
    (sim/report.py). ``charging_needs`` (departure s, energy Wh): the 2.x stations' EVs tell them
    at each start (NotifyEVChargingNeeds); 1.6 has no such message."""
    versions = [ocpp] if isinstance(ocpp, str) else list(ocpp)
    unknown = [v for v in versions if v not in SUPPORTED_OCPP]
    if not versions or unknown:
        raise ValueError(f"the simulator speaks OCPP {', '.join(SUPPORTED_OCPP)}, not {', '.join(unknown) or 'none'}")
    if count < 1:
        raise ValueError(f"the number of stations must be at least 1, not {count}")
    tags = list(id_tags) if id_tags is not None else default_id_tags(5)
    configs = [StationConfig(f"{prefix}{i:04d}", url, ocpp=versions[(i - 1) % len(versions)], connectors=connectors,
                             id_tags=tags, meter_interval=meter_interval, session_gap=tuple(session_gap),
                             session_duration=tuple(session_duration),
                             charging_needs=None if versions[(i - 1) % len(versions)] == "1.6" else charging_needs)
               for i in range(1, count + 1)]
    await run_fleet(configs, stop_event=stop_event, report=report, report_every=report_every)


async def run_fleet(configs: Sequence[StationConfig], *, stop_event: asyncio.Event | None = None,
                    report: TextIO | None = None, report_every: float = 10.0, end_sessions: bool = False) -> None:
    """Run a station for each config until ``stop_event`` is set or the task is cancelled; with
    ``end_sessions``, a set ``stop_event`` first ends their sessions (reason Local) and lets the
    stops reach the CSMS."""
    stations = [SimStation(config) for config in configs]
    stagger = min(STAGGER, STAGGER_TOTAL / max(1, len(stations)))
    reporter = asyncio.create_task(Reporter(stations, report, report_every).run()) if report is not None else None
    try:
        for station in stations:
            station.start()
            await asyncio.sleep(stagger)  # not all at once: a CSMS restart should not see a thundering herd
        await (stop_event.wait() if stop_event is not None else asyncio.Future())
        if end_sessions:
            await asyncio.gather(*(station.stop(end_sessions=True) for station in stations))
    finally:
        if reporter is not None:
            reporter.cancel()
            await asyncio.gather(reporter, return_exceptions=True)
        await asyncio.gather(*(station.stop() for station in stations))
