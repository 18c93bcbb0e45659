"""Simulated OCPP 1.6J charging stations, many in one asyncio process, for the demo, tests and benchmarks."""

from wattson.sim.runner import run_stations
from wattson.sim.station import SimStation, StationConfig, default_id_tags

__all__ = ["SimStation", "StationConfig", "run_stations", "default_id_tags"]
