from wattson.ocpp.v201.protocol import Ocpp21, Ocpp201

__all__ = ["Ocpp201", "Ocpp21"]
