"""Simulated OCPP 1.6J, 2.0.1 and 2.1 charging stations, many in one asyncio process, for the demo,
tests and benchmarks."""

from wattson.sim.runner import run_stations
from wattson.sim.station import SimStation, StationConfig, default_id_tags
from wattson.sim.versions import SUPPORTED_OCPP

__all__ = ["SimStation", "StationConfig", "run_stations", "default_id_tags", "SUPPORTED_OCPP"]
