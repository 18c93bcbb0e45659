from wattson.ocpp.v16.protocol import Ocpp16

__all__ = ["Ocpp16"]
