"""The simulator's OCPP 2.0.1 and 2.1 message layer."""

from wattson.sim.v201.protocol import Ocpp21, Ocpp201

__all__ = ["Ocpp201", "Ocpp21"]
