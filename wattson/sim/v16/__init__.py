"""The simulator's OCPP 1.6J message layer."""

from wattson.sim.v16.protocol import Ocpp16

__all__ = ["Ocpp16"]
