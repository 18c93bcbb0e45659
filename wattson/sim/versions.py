"""The OCPP versions the simulator speaks, each by its message layer."""

from wattson.sim.protocol import StationProtocol
from wattson.sim.v16 import Ocpp16
from wattson.sim.v201 import Ocpp21, Ocpp201

PROTOCOLS: dict[str, type[StationProtocol]] = {cls.version: cls for cls in (Ocpp16, Ocpp201, Ocpp21)}
SUPPORTED_OCPP = tuple(PROTOCOLS)
