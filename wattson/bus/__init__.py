"""How a command reaches the process that holds a station's connection, and how what stations
say reaches the other processes.

``CommandBus`` is the seam the command service sends through. In the embedded default the gateway
lives in the API's own process and is the bus itself (``wattson.ocpp.gateway.Gateway``); with
``WATTSON_BUS_URL`` it is ``wattson.bus.nats.NatsBus``, which asks whichever gateway process holds
the station. ``StationLink`` is what a gateway tells the bus (docs/architecture.md, "The bus").
"""

from typing import Protocol

from pydantic import BaseModel

from wattson.stations.commands import Outcome


class CommandBus(Protocol):
    async def is_online(self, charge_point_id: str) -> bool: ...

    async def prepare(self, charge_point_id: str, name: str, params: BaseModel) -> tuple[str, dict]:
        """The protocol call for a command; raises StationOffline, CommandNotSupported, Invalid."""

    async def prepare_raw(self, charge_point_id: str, action: str, payload: dict) -> tuple[str, dict]:
        """A call in the station's own protocol, checked; raises as ``prepare`` does."""

    async def send(self, charge_point_id: str, action: str, payload: dict, timeout: float) -> Outcome: ...


class StationLink(Protocol):
    """What a gateway tells the rest of the cluster."""

    async def held(self, charge_point_id: str) -> None:
        """This process now holds the station's connection (commands for it come here)."""

    async def released(self, charge_point_id: str) -> None: ...

    async def said(self, charge_point_id: str, version: str, action: str, payload: dict, response: dict) -> None:
        """The station sent ``action`` and was answered ``response``."""
