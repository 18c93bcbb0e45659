"""The state of one connector: its status, availability, reservation and running transaction.

Plain data: the station decides what happens, handlers and tests read it here.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from wattson.sim.meter import Ev
from wattson.sim.profiles import Profile

TOKEN_TYPE = "ISO14443"  # an RFID card: how a driver's tag identifies itself in OCPP 2.x


@dataclass(eq=False)
class SessionRequest:
    """Someone wants to charge on a connector: a driver with a tag, or the CSMS remotely."""

    id_tag: str
    remote: bool = False
    profile: Profile | None = None  # a TxProfile sent along with the remote start
    token_type: str = TOKEN_TYPE  # 2.x: the kind of token the CSMS started the session for
    remote_start_id: int | None = None  # 2.x: RequestStartTransaction's id, repeated in the Started event


@dataclass(eq=False)
class Reservation:
    id: int
    id_tag: str
    expiry: datetime
    parent_id_tag: str | None = None
    expiry_task: asyncio.Task | None = None

    def cancel(self) -> None:
        if self.expiry_task is not None:
            self.expiry_task.cancel()


@dataclass(eq=False)
class Transaction:
    connector_id: int
    id_tag: str
    meter_start: int
    started_at: datetime
    reservation_id: int | None = None
    ev: Ev | None = None  # the car being charged
    token_type: str = TOKEN_TYPE
    remote_start_id: int | None = None
    id: int | str | None = None  # 1.6: known once the CSMS answered StartTransaction; 2.x: the station's UUID
    seq_no: int = 0  # 2.x: the seqNo of the next TransactionEvent
    charging_state: str | None = None  # 2.x: the chargingState last reported
    iso15118: bool = False  # 2.x: the EV told its charging needs (NotifyEVChargingNeeds) and negotiates schedules
    stop_reason: str | None = None  # in the station's words; each version's message layer translates it
    stopped: asyncio.Event = field(default_factory=asyncio.Event)  # asked to stop
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # StopTransaction is queued

    def request_stop(self, reason: str) -> None:
        """Ask the session to end; the first reason given wins."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stopped.set()


@dataclass(eq=False)
class Connector:
    id: int
    register_wh: float = 0.0  # the energy meter, never goes back
    status: str = "Available"
    operative: bool = True
    pending_operative: bool | None = None  # ChangeAvailability to apply after the transaction
    transaction: Transaction | None = None
    reservation: Reservation | None = None
    busy: bool = False  # a session is being prepared, running or finishing
    claimed: bool = False  # a remote start was accepted and is about to begin
    request: SessionRequest | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def idle_status(self) -> str:
        """The status to show when nothing is charging."""
        if not self.operative:
            return "Unavailable"
        return "Reserved" if self.reservation else "Available"

    def is_free_for(self, id_tag: str) -> bool:
        """Could a session for this tag begin here right now?"""
        if not self.operative or self.busy or self.claimed:
            return False
        return self.reservation is None or self.reservation.id_tag == id_tag

    def begin(self, request: SessionRequest) -> None:
        """Hand the connector's loop a session to run now."""
        self.request = request
        self.wake.set()
