"""The station's side of one OCPP version: its own calls, and its answers to the CSMS's calls.

The station (``station.py``) is the same in every version: connection, boot, heartbeats,
sessions, meter and outbox. It tells its protocol object *what happened* (a status changed, a
transaction started, a sample is due) and the protocol object writes that version's messages.
One object per station, so a version can keep state of its own (2.x: the statuses last shown,
installed certificates).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from wattson.sim.connector import Connector, Transaction
from wattson.sim.wire import CallError

if TYPE_CHECKING:
    from wattson.sim.connector import Reservation
    from wattson.sim.station import SimStation

log = logging.getLogger("wattson.sim")

Handler = Callable[["SimStation", dict], dict]


class StationProtocol(ABC):
    version: ClassVar[str]
    subprotocol: ClassVar[str]
    handlers: ClassVar[dict[str, Handler]]  # CSMS action -> the station's handler
    error_names: ClassVar[dict[str, str]] = {}  # 2.x error code -> this version's spelling

    def __init__(self, station: SimStation):
        self.station = station

    # --- the CSMS's calls ------------------------------------------------------------------------
    def answer(self, action, payload) -> dict:
        """The CALLRESULT payload for a CSMS call; raises CallError for the CALLERROR to send instead."""
        if not isinstance(action, str):
            raise self.error("FormatViolation", "the action must be a string")
        handler = self.handlers.get(action)
        if handler is None:
            raise self.error("NotImplemented", f"{action} is not implemented by this station")
        if not isinstance(payload, dict):
            raise self.error("FormatViolation", "the payload must be a JSON object")
        try:
            return handler(self.station, payload)
        except KeyError as error:
            raise self.error("OccurrenceConstraintViolation", f"{error.args[0]} is required") from error
        except (TypeError, ValueError, AttributeError) as error:
            raise self.error("TypeConstraintViolation", str(error)) from error
        except Exception as error:  # noqa: BLE001 - a bug here must not take the connection down
            log.exception("%s: %s failed", self.station.station_id, action)
            raise self.error("InternalError", f"{action} failed") from error

    def error(self, code: str, description: str) -> CallError:
        return CallError(self.error_names.get(code, code), description)

    # --- the station's own calls -----------------------------------------------------------------
    @abstractmethod
    def boot_notification(self, reason: str) -> dict:
        """BootNotification's payload; ``reason`` is 2.x's BootReason (PowerUp, RemoteReset, Triggered)."""

    @abstractmethod
    def send_status(self, connector_id: int) -> None:
        """Notify a connector's status (0: the station as a whole), whether it changed or not."""

    @abstractmethod
    def status_changed(self, connector_id: int) -> None:
        """The station set a connector's status: notify it if this version shows the change."""

    @abstractmethod
    def authorize(self, id_tag: str, token_type: str) -> dict:
        """Authorize's payload."""

    @abstractmethod
    def authorized(self, reply: dict) -> bool:
        """Whether Authorize's reply accepts the token."""

    @abstractmethod
    def transaction_started(self, connector: Connector, tx: Transaction) -> asyncio.Future:
        """Report a new transaction; the future gets the CSMS's reply. A refused token stops it."""

    @abstractmethod
    def transaction_sampled(self, connector: Connector, tx: Transaction) -> None:
        """A periodic meter reading of a running transaction is due."""

    @abstractmethod
    def transaction_ended(self, connector: Connector, tx: Transaction, stopped_at: datetime, meter_stop: int) -> None:
        """Report the end of a transaction (``tx.stop_reason`` says why)."""

    def charging_state_changed(self, connector: Connector, tx: Transaction) -> None:
        """The car started or stopped drawing power. Only versions with a message of their own
        for it (2.x) say anything; in 1.6 the connector's StatusNotification already did."""

    def reservation_expired(self, reservation: Reservation) -> None:
        """A reservation lapsed unused. Only versions with a message for it (2.x) say anything."""
