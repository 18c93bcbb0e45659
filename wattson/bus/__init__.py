"""How a command reaches the process that holds a station's connection.

``CommandBus`` is the seam. In the embedded default the gateway lives in the API's own
process and is the bus itself (``wattson.ocpp.gateway.Gateway`` has these methods); a
networked bus for several gateway processes implements the same methods.
"""

from typing import Protocol

from pydantic import BaseModel

from wattson.stations.commands import Outcome


class CommandBus(Protocol):
    def is_online(self, charge_point_id: str) -> bool: ...

    def prepare(self, charge_point_id: str, name: str, params: BaseModel) -> tuple[str, dict]:
        """The protocol call for a command; raises StationOffline, CommandNotSupported, Invalid."""

    def prepare_raw(self, charge_point_id: str, action: str, payload: dict) -> tuple[str, dict]:
        """A call in the station's own protocol, checked; raises as ``prepare`` does."""

    async def send(self, charge_point_id: str, action: str, payload: dict, timeout: float) -> Outcome: ...

