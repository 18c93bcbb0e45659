"""DataTransfer from stations: which vendor extensions Wattson understands, and their answers.

OCPP answers a DataTransfer whose vendorId the central system does not know with
``UnknownVendorId``, and one of a known vendor whose messageId it does not know with
``UnknownMessageId``; only a registered handler may answer ``Accepted`` (or ``Rejected``). Every
DataTransfer is also kept as a ``data_transfer`` station event, whatever the answer.

Registering a vendor extension (docs/ocpp.md, "DataTransfer"): in-process, call
``register(vendor_id, message_id, handler)`` (``message_id`` None: every messageId of that
vendor); from a separate package, declare an entry point in the group ``wattson.datatransfer``
naming a function that takes the registry and registers its handlers::

    [project.entry-points."wattson.datatransfer"]
    acme = "acme_wattson:setup"          # def setup(registry): registry.register("com.acme", "ping", ping)

Entry points are loaded once, the first time a station sends a DataTransfer. Wattson itself
answers no vendor's messages yet, so the registry starts empty.
"""

import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Awaitable, Callable

if TYPE_CHECKING:
    from wattson.runtime import Services

log = logging.getLogger("wattson.ocpp")
ENTRY_POINT_GROUP = "wattson.datatransfer"
UNKNOWN_VENDOR, UNKNOWN_MESSAGE = "UnknownVendorId", "UnknownMessageId"


@dataclass(frozen=True, slots=True)
class Transfer:
    """One DataTransfer a station sent. ``data`` is a string in 1.6 and any JSON value in 2.x."""
    services: "Services"
    charge_point_id: str
    ocpp_version: str
    vendor_id: str
    message_id: str | None
    data: Any


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer: ``Accepted`` or ``Rejected``, with optional data (a string for 1.6)."""
    status: str = "Accepted"
    data: Any = None


Handler = Callable[[Transfer], Awaitable[Reply]]


class Registry:
    def __init__(self):
        self._handlers: dict[tuple[str, str | None], Handler] = {}
        self._vendors: set[str] = set()

    def register(self, vendor_id: str, message_id: str | None, handler: Handler) -> None:
        """Answer ``vendor_id``'s ``message_id`` (None: any of its messages) with ``handler``."""
        key = (vendor_id, message_id)
        if key in self._handlers:
            raise ValueError(f"a DataTransfer handler for {vendor_id!r} / {message_id!r} is already registered")
        self._handlers[key] = handler
        self._vendors.add(vendor_id)

    def handler(self, vendor_id: str, message_id: str | None) -> Handler | str:
        """The handler for this message, or the status that says why there is none."""
        if vendor_id not in self._vendors:
            return UNKNOWN_VENDOR
        return self._handlers.get((vendor_id, message_id)) or self._handlers.get((vendor_id, None)) \
            or UNKNOWN_MESSAGE

    async def answer(self, transfer: Transfer) -> dict:
        """The DataTransfer response payload (without the version-specific checks of its data)."""
        found = self.handler(transfer.vendor_id, transfer.message_id)
        if isinstance(found, str):
            return {"status": found}
        reply = await found(transfer)
        return {"status": reply.status} if reply.data is None else {"status": reply.status, "data": reply.data}


#: The registry the OCPP adapters answer from.
REGISTRY = Registry()
register = REGISTRY.register
_plugins_loaded = False


def registry() -> Registry:
    """``REGISTRY``, with the installed packages' entry points loaded (once)."""
    global _plugins_loaded
    if not _plugins_loaded:
        _plugins_loaded = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                point.load()(REGISTRY)
            except Exception as error:  # noqa: BLE001 - a broken plugin must not stop the others
                log.error("DataTransfer plugin %s (%s) not loaded: %s: %s", point.name, point.value,
                          type(error).__name__, error)
            else:
                log.info("DataTransfer plugin %s loaded", point.name)
    return REGISTRY


async def answer_data_transfer(services: "Services", charge_point_id: str, version: str, p: dict) -> dict:
    """Keep the DataTransfer as a station event, then answer it from the registry (either version:
    the two messages have the same fields)."""
    await services.stations.record_event(charge_point_id, "data_transfer", p)
    transfer = Transfer(services, charge_point_id, version, p["vendorId"], p.get("messageId"), p.get("data"))
    return await registry().answer(transfer)
