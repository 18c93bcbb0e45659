"""One simulated charging station: connection, boot, heartbeats and charging sessions.

Plain OCPP-J over a websocket, one call in flight at a time. The station is the same in every
OCPP version; its protocol object (``v16``, ``v201``) writes that version's messages and answers
the CSMS's calls. How its own messages survive a lost connection lives in ``outbox``.
"""

import asyncio
import inspect
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import quote

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from wattson.sim.authlist import LocalAuthList
from wattson.sim.configuration import Configuration, number_text
from wattson.sim.connector import Connector, Reservation, SessionRequest, Transaction
from wattson.sim.meter import Ev, phases_for
from wattson.sim.operations import Progress
from wattson.sim.outbox import Outbox
from wattson.sim.profiles import ChargingProfiles, usable_w
from wattson.sim.versions import PROTOCOLS, SUPPORTED_OCPP
from wattson.sim.wire import (CALL, CALLERROR, CALLRESULT, CallError, Offline, call_frame, error_frame, result_frame,
                              utc_now)

log = logging.getLogger("wattson.sim")

FIRMWARE_VERSION = "1.0.0"
DEFAULT_HEARTBEAT = 300.0  # until the CSMS says otherwise at boot
BOOT_RETRY = 10.0  # when the CSMS gives no interval to wait before booting again
FINISHING = 0.5  # seconds between the end of a transaction and the cable being unplugged
SETTLE_TIMEOUT = 5.0  # how long a reset or a graceful stop waits for the last transaction messages


async def _wait(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait for ``event`` at most ``timeout`` seconds; whether it is set. (Not ``asyncio.wait_for``:
    on Python 3.11 it can swallow a cancellation, and then ``stop()`` would never return.)"""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        pass
    return event.is_set()


def default_id_tags(count: int) -> list[str]:
    """Tags SIM-TAG-0001 ... the simulator charges with when none are given."""
    return [f"SIM-TAG-{i:04d}" for i in range(1, count + 1)]


@dataclass
class StationConfig:
    station_id: str
    url: str  # the CSMS endpoint, e.g. ws://127.0.0.1:8180/ocpp; the station id is appended
    ocpp: str = "1.6"  # 1.6, 2.0.1 or 2.1
    connectors: int = 2  # 2.x: EVSEs, each with one connector
    id_tags: list[str] = field(default_factory=lambda: default_id_tags(5))  # empty: no sessions of its own
    meter_interval: float = 10.0  # seconds between meter samples (1.6 MeterValueSampleInterval, 2.x TxUpdatedInterval)
    heartbeat_interval: float | None = None  # None: the interval the CSMS gives at boot
    max_power_w: float = 11_000
    vendor: str = "Wattson"
    model: str = "SimCharger"
    session_gap: tuple[float, float] = (5.0, 20.0)  # idle seconds between sessions, min and max
    session_duration: tuple[float, float] = (60.0, 300.0)
    seed: int | None = None  # for reproducible sessions
    authorize_remote_tx: bool = False  # Authorize remote starts too (AuthorizeRemoteTxRequests, AuthorizeRemoteStart)
    call_timeout: float = 30.0
    reconnect_delay: tuple[float, float] = (0.5, 30.0)  # first and longest pause between connection attempts
    #: 2.x, ISO 15118-like: (departure in seconds after the start, energy in Wh) told the CSMS in a
    #: NotifyEVChargingNeeds once each transaction has started; None: the EV says nothing (basic charging)
    charging_needs: tuple[float, float] | None = None

    def __post_init__(self):
        if self.ocpp not in SUPPORTED_OCPP:
            raise ValueError(f"the simulator speaks OCPP {', '.join(SUPPORTED_OCPP)}, not {self.ocpp!r}")
        if self.connectors < 1:
            raise ValueError("a station needs at least one connector")
        for name in ("session_gap", "session_duration", "reconnect_delay"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be (min, max) with 0 <= min <= max, not {(low, high)}")
        if self.charging_needs is not None:
            if self.ocpp == "1.6":
                raise ValueError("charging needs (NotifyEVChargingNeeds) are OCPP 2.x: 1.6 has no such message")
            departure_s, energy_wh = self.charging_needs
            if departure_s <= 0 or energy_wh <= 0:
                raise ValueError(f"charging_needs must be (departure s > 0, energy Wh > 0), not {self.charging_needs}")


class SimStation:
    """A charging station: ``start()`` it, watch ``connected``, ``accepted``, ``connectors``,
    ``sessions_completed`` and ``received``, and ``await stop()`` when done."""

    def __init__(self, config: StationConfig):
        self.config = config
        self.rng = random.Random(config.seed)
        self.phases = phases_for(config.max_power_w)
        self.connectors = {
            i: Connector(i, register_wh=float(self.rng.randint(0, 2_000_000))) for i in range(1, config.connectors + 1)
        }
        self.operative = True  # connector 0, the station as a whole
        self.configuration = Configuration(
            connectors=config.connectors, heartbeat_interval=config.heartbeat_interval or DEFAULT_HEARTBEAT,
            meter_interval=config.meter_interval, authorize_remote_tx=config.authorize_remote_tx)
        self.profiles = ChargingProfiles(config.connectors, self.phases, config.max_power_w)
        self.local_list = LocalAuthList()
        self.firmware_version = FIRMWARE_VERSION
        self.firmware = Progress()  # a firmware update under way
        self.log_upload = Progress()  # a diagnostics (1.6) or log (2.x) upload under way
        self.protocol = PROTOCOLS[config.ocpp](self)
        self.connected = asyncio.Event()
        self.accepted = asyncio.Event()  # set while the CSMS has accepted our boot on this connection
        self.received: list[tuple[str, dict]] = []  # every call the CSMS made, in order
        self.sessions_completed = 0
        self.outbox = Outbox(
            self._call, self.accepted,
            attempts=lambda: max(1, int(self.configuration.number("TransactionMessageAttempts"))),
            retry_interval=lambda: self.configuration.number("TransactionMessageRetryInterval"))
        self._ws: ClientConnection | None = None
        self._lock = asyncio.Lock()  # OCPP-J: one call of ours in flight at a time
        self._pending: tuple[str, asyncio.Future] | None = None
        self._tasks: set[asyncio.Task] = set()
        self._followups: list[Callable[[], object]] | None = None
        self._heartbeat_changed = asyncio.Event()
        self._changed = asyncio.Event()
        self._rebooting = False
        self._boot_reason = "PowerUp"
        self._draining = False  # a reset waits for the sessions to end: begin no new ones

    # --- what tests and the runner use ---------------------------------------------------------
    @property
    def station_id(self) -> str:
        return self.config.station_id

    def status(self, connector_id: int) -> str:
        """A connector's status in 1.6's detail (Preparing, Charging, ...; 0: the station); 2.x shows it coarser."""
        if connector_id == 0:
            return "Available" if self.operative else "Unavailable"
        return self.connectors[connector_id].status

    def transaction_id(self, connector_id: int) -> int | str | None:
        tx = self.connectors[connector_id].transaction
        return tx.id if tx else None

    def start(self) -> None:
        """Connect and keep connected, and run each connector's sessions, in the background."""
        if self._tasks:
            return
        self.spawn(self._run())
        self.spawn(self.outbox.run())
        for connector in self.connectors.values():
            self.spawn(self._connector_loop(connector))

    async def stop(self, *, end_sessions: bool = False) -> None:
        """Stop every task and close the connection; with ``end_sessions``, first stop running
        transactions (reason Local) and give their last messages a moment to go out."""
        if end_sessions and self.accepted.is_set():
            await self._end_transactions("Local")
        if self._ws is not None:
            await self._ws.close()  # a normal close (1000) rather than the error cancelling would send
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> "SimStation":
        self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None = 10.0) -> None:
        """Wait until ``predicate()`` holds, checked whenever the station's state changes."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._changed.wait()

    def notify(self) -> None:
        """Wake ``wait_until`` callers: something observable changed."""
        self._changed.set()
        self._changed = asyncio.Event()

    # --- what command handlers use -------------------------------------------------------------
    def after_reply(self, action: Callable, *args, **kwargs) -> None:
        """Run ``action(*args, **kwargs)`` once the answer to the current CSMS call is sent (a coroutine: as a task)."""
        assert self._followups is not None, "after_reply outside a command handler"
        self._followups.append(partial(action, *args, **kwargs))

    def spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def send(self, action: str, payload: dict, **options) -> asyncio.Future:
        """Queue a message to the CSMS (see ``Outbox.put``); the future gets its reply."""
        self.notify()
        return self.outbox.put(action, payload, **options)

    def set_status(self, connector_id: int, status: str) -> None:
        """A connector's status, in 1.6's detail (Preparing, Charging, ...); the protocol shows it."""
        self.connectors[connector_id].status = status
        self.protocol.status_changed(connector_id)

    def show_idle(self, connector: Connector) -> None:
        """Notify the status of a connector with no session, unless one has begun meanwhile."""
        if not connector.busy and not connector.claimed:
            self.set_status(connector.id, connector.idle_status)

    def free_connector(self, connector_id: int | None, id_tag: str) -> Connector | None:
        """The connector a session for ``id_tag`` could begin on: the one asked for, or the first free."""
        if self._draining:
            return None
        if connector_id is not None:
            connector = self.connectors.get(connector_id)
            return connector if connector and connector.is_free_for(id_tag) else None
        return next((c for c in self.connectors.values() if c.is_free_for(id_tag)), None)

    def in_use(self) -> bool:
        """Whether any connector has a session (or one about to begin)."""
        return any(c.busy or c.claimed for c in self.connectors.values())

    def connector_with_transaction(self, transaction_id: int | str) -> Connector | None:
        return next((c for c in self.connectors.values()
                     if c.transaction is not None and c.transaction.id == transaction_id), None)

    def hold_reservation(self, connector: Connector, reservation: Reservation) -> None:
        """Show a new reservation and let it lapse at its expiry date."""
        reservation.expiry_task = self.spawn(self._expire(connector, reservation))
        self.show_idle(connector)

    def configuration_changed(self, key: str) -> None:
        if key.lower() == "heartbeatinterval":
            self._heartbeat_changed.set()

    async def boot(self, reason: str) -> tuple[str, float]:
        """One BootNotification: the CSMS's status and interval; Accepted puts the station online."""
        try:
            reply = await self._call("BootNotification", self.protocol.boot_notification(reason))
        except (Offline, CallError, TimeoutError) as error:
            log.info("%s: BootNotification failed: %r", self.station_id, error)
            return "Rejected", BOOT_RETRY
        status, interval = reply.get("status"), reply.get("interval", 0)
        if status == "Accepted":
            if self.config.heartbeat_interval is None and interval > 0:
                self.configuration.set("HeartbeatInterval", number_text(interval))
                self._heartbeat_changed.set()
            self._boot_reason = "PowerUp"
            self.accepted.set()
            self.notify()
        return status, interval

    async def reboot(self, stop_reason: str) -> None:
        """Reset: end transactions (with the reason the version gives), let them out, reconnect and boot."""
        await self._end_transactions(stop_reason)
        self._boot_reason = "RemoteReset"
        if self._ws is not None:
            self._rebooting = True
            await self._ws.close()

    async def reboot_when_idle(self, stop_reason: str) -> None:
        """A reset once the sessions running now are over; none begins meanwhile."""
        if self._draining:  # one is already waiting
            return
        self._draining = True
        try:
            await self.wait_until(lambda: not self.in_use(), timeout=None)
            await self.reboot(stop_reason)
        finally:
            self._draining = False

    # --- connection ----------------------------------------------------------------------------
    async def _run(self) -> None:
        """Stay connected: reconnect with backoff whenever the connection drops or fails."""
        first, longest = self.config.reconnect_delay
        delay = first
        url = f"{self.config.url.rstrip('/')}/{quote(self.station_id, safe='')}"
        subprotocol = self.protocol.subprotocol
        while True:
            booted = False
            try:
                async with connect(url, subprotocols=[subprotocol], compression=None,
                                   open_timeout=self.config.call_timeout, close_timeout=5) as ws:
                    if ws.subprotocol != subprotocol:
                        log.warning("%s: the CSMS did not agree to %s", self.station_id, subprotocol)
                        await ws.close(1002, f"{subprotocol} required")
                    else:
                        booted = await self._serve(ws)
            except (OSError, TimeoutError, WebSocketException) as error:
                log.info("%s: cannot connect to %s: %r", self.station_id, url, error)
            if self._rebooting:
                self._rebooting = False
                continue
            delay = first if booted else delay  # back off only while the CSMS keeps failing us
            await asyncio.sleep(delay * self.rng.uniform(0.8, 1.2))
            delay = min(delay * 2, longest)

    async def _serve(self, ws: ClientConnection) -> bool:
        """One connection: read what comes in while booting and heartbeating, until it closes.
        Whether the CSMS accepted the station on it."""
        self._ws = ws
        self.connected.set()
        self.notify()
        reader = asyncio.create_task(self._read(ws))
        online = asyncio.create_task(self._online())
        try:
            done, _ = await asyncio.wait((reader, online), return_when=asyncio.FIRST_COMPLETED)
            if online in done and not isinstance(online.exception(), Offline):
                log.error("%s: connection handling failed", self.station_id, exc_info=online.exception())
        finally:
            for task in (reader, online):
                task.cancel()
            await asyncio.gather(reader, online, return_exceptions=True)
            self._ws = None
            booted = self.accepted.is_set()
            self.accepted.clear()
            self.connected.clear()
            if self._pending is not None and not self._pending[1].done():
                self._pending[1].set_exception(Offline("connection closed"))
            self.notify()
        return booted

    async def _online(self) -> None:
        """Boot until accepted, tell the CSMS every connector's status, then heartbeat."""
        while True:
            status, interval = await self.boot(self._boot_reason)
            if status == "Accepted":
                break
            # Pending or Rejected: boot again after the interval, unless a triggered boot got in first
            if await _wait(self.accepted, interval or BOOT_RETRY):
                break
        self.outbox.purge_volatile()
        for connector_id in range(self.config.connectors + 1):
            self.protocol.send_status(connector_id)
        await self._heartbeats()

    async def _heartbeats(self) -> None:
        while True:
            self._heartbeat_changed.clear()
            interval = self.configuration.number("HeartbeatInterval")
            if not await _wait(self._heartbeat_changed, interval if interval > 0 else None):
                self.send("Heartbeat", {})

    async def _call(self, action: str, payload: dict) -> dict:
        """Send one CALL and wait for its reply; raises Offline, CallError or TimeoutError."""
        async with self._lock:
            ws = self._ws
            if ws is None:
                raise Offline("not connected")
            unique_id = str(uuid.uuid4())
            reply = asyncio.get_running_loop().create_future()
            self._pending = (unique_id, reply)
            try:
                await ws.send(call_frame(unique_id, action, payload))
                async with asyncio.timeout(self.config.call_timeout):
                    return await reply
            except ConnectionClosed as error:
                raise Offline(str(error)) from error
            finally:
                self._pending = None

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                await self._on_frame(ws, text)
        except ConnectionClosed:
            pass

    async def _on_frame(self, ws: ClientConnection, text: str | bytes) -> None:
        try:
            frame = orjson.loads(text)
        except orjson.JSONDecodeError:
            log.warning("%s: not JSON: %.200r", self.station_id, text)
            return
        if not isinstance(frame, list) or len(frame) < 3 or frame[0] not in (CALL, CALLRESULT, CALLERROR):
            log.warning("%s: not an OCPP-J frame: %.200r", self.station_id, text)
        elif frame[0] == CALL:
            await self._answer(ws, str(frame[1]), frame[2], frame[3] if len(frame) > 3 else None)
        else:
            self._resolve(frame)

    def _resolve(self, frame: list) -> None:
        """A CALLRESULT or CALLERROR: the reply to our call in flight, if its id matches."""
        if self._pending is None or self._pending[0] != frame[1] or self._pending[1].done():
            log.warning("%s: reply to no call of ours: %.200r", self.station_id, frame)
        elif frame[0] == CALLRESULT:
            self._pending[1].set_result(frame[2] if isinstance(frame[2], dict) else {})
        else:
            self._pending[1].set_exception(CallError(*frame[2:5]))

    async def _answer(self, ws: ClientConnection, unique_id: str, action: str, payload) -> None:
        self.received.append((action, payload))
        self.notify()
        try:
            reply, followups = self.answer(action, payload)
            frame = result_frame(unique_id, reply)
        except CallError as error:
            frame, followups = error_frame(unique_id, error.code, error.description, error.details), []
        await ws.send(frame)
        self.follow_up(action, followups)

    def answer(self, action, payload) -> tuple[dict, list[Callable[[], object]]]:
        """The answer to a CSMS call, and what is to follow once it is sent (``follow_up``);
        raises CallError for a CALLERROR."""
        self._followups = followups = []
        try:
            return self.protocol.answer(action, payload), followups
        finally:
            self._followups = None

    def follow_up(self, action: str, followups: list[Callable[[], object]]) -> None:
        """Run what a handler left for after its answer (a coroutine as a task)."""
        for followup in followups:
            try:
                outcome = followup()
            except Exception:  # noqa: BLE001 - the reader must go on
                log.exception("%s: what follows %s failed", self.station_id, action)
                continue
            if inspect.iscoroutine(outcome):
                self.spawn(outcome)

    # --- charging ------------------------------------------------------------------------------
    async def _connector_loop(self, connector: Connector) -> None:
        while True:
            await self.accepted.wait()
            request = await self._next_request(connector)
            if request is not None:
                await self._session(connector, request)

    async def _next_request(self, connector: Connector) -> SessionRequest | None:
        """Wait for a remote start, or after a random gap make up a driver with one of our tags."""
        await _wait(connector.wake, self.rng.uniform(*self.config.session_gap))
        connector.wake.clear()
        if connector.request is not None:
            request, connector.request, connector.claimed = connector.request, None, False
            return request
        if not self.config.id_tags or not self.accepted.is_set() or connector.reservation is not None \
                or self._draining:
            return None
        id_tag = self.rng.choice(self.config.id_tags)
        return SessionRequest(id_tag) if connector.is_free_for(id_tag) else None

    async def _session(self, connector: Connector, request: SessionRequest) -> None:
        """Plug in, authorise (unless started remotely), charge, unplug."""
        connector.busy = True
        try:
            self.set_status(connector.id, "Preparing")
            needs_authorize = not request.remote or self.configuration.flag("AuthorizeRemoteTxRequests")
            if not needs_authorize or await self._authorize(request):
                await self._charge(connector, request)
                await asyncio.sleep(FINISHING)
        finally:
            connector.busy = False
        if connector.pending_operative is not None:
            connector.operative, connector.pending_operative = connector.pending_operative, None
        self.show_idle(connector)

    async def _authorize(self, request: SessionRequest) -> bool:
        try:
            reply = await self.send("Authorize", self.protocol.authorize(request.id_tag, request.token_type))
        except (Offline, CallError, TimeoutError):
            return False
        return self.protocol.authorized(reply)

    async def _charge(self, connector: Connector, request: SessionRequest) -> None:
        reservation = connector.reservation
        if reservation is not None and reservation.id_tag == request.id_tag:
            reservation.cancel()
            connector.reservation = None
        else:
            reservation = None
        tx = Transaction(connector.id, request.id_tag, round(connector.register_wh), utc_now(),
                         reservation_id=reservation.id if reservation else None, ev=Ev(self.rng, self.phases),
                         token_type=request.token_type, remote_start_id=request.remote_start_id)
        connector.transaction = tx
        started = self.protocol.transaction_started(connector, tx)
        started.add_done_callback(partial(self._start_failed, tx))
        if request.profile is not None:
            self.profiles.set(connector.id, request.profile, None, in_transaction=True)
        self.set_status(connector.id, "Charging")
        await self._meter(connector, tx)
        self._end(connector, tx)

    def _start_failed(self, tx: Transaction, started: asyncio.Future) -> None:
        if not started.cancelled() and started.exception() is not None:
            tx.request_stop("Other")  # the CSMS never took the transaction: nothing to continue

    async def _meter(self, connector: Connector, tx: Transaction) -> None:
        """Charge until asked to stop, the time is up or the battery is full, sampling as configured."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.rng.uniform(*self.config.session_duration)
        last = loop.time()
        next_sample = last + self.configuration.number("MeterValueSampleInterval")
        while True:
            interval = self.configuration.number("MeterValueSampleInterval")
            wake_at = min(deadline, next_sample) if interval > 0 else deadline
            await _wait(tx.stopped, max(0.0, wake_at - loop.time()))
            now = loop.time()
            limit = usable_w(self.profiles.limit_w(connector.id, utc_now(), tx.started_at, in_transaction=True),
                             self.phases)
            connector.register_wh += tx.ev.advance(now - last, limit)
            last = now
            if tx.stopped.is_set():
                return
            if tx.ev.full or now >= deadline:
                tx.request_stop("EVDisconnected" if tx.ev.full else self.rng.choice(("EVDisconnected", "Local")))
                return
            wanted = "SuspendedEVSE" if limit <= 0 else "Charging"
            if connector.status != wanted:
                self.set_status(connector.id, wanted)
                self.protocol.charging_state_changed(connector, tx)
            if interval > 0 and now >= next_sample - 1e-3:
                self.protocol.transaction_sampled(connector, tx)
                next_sample = now + interval

    def _end(self, connector: Connector, tx: Transaction) -> None:
        """Report the end of the transaction; then Finishing."""
        self.protocol.transaction_ended(connector, tx, utc_now(), round(connector.register_wh))
        connector.transaction = None
        self.profiles.end_transaction(connector.id)
        self.sessions_completed += 1
        tx.ended.set()
        self.set_status(connector.id, "Finishing")

    async def _end_transactions(self, reason: str) -> None:
        """Stop every running transaction and wait (a little) for their last messages to go out."""
        running = [c.transaction for c in self.connectors.values() if c.transaction is not None]
        for tx in running:
            tx.request_stop(reason)
        try:
            async with asyncio.timeout(SETTLE_TIMEOUT):
                await asyncio.gather(*(tx.ended.wait() for tx in running))
                await self.outbox.drained(SETTLE_TIMEOUT)
        except TimeoutError:
            log.warning("%s: transactions did not settle before %s", self.station_id, reason)

    async def _expire(self, connector: Connector, reservation: Reservation) -> None:
        await asyncio.sleep(max(0.0, (reservation.expiry - utc_now()).total_seconds()))
        if connector.reservation is reservation:
            connector.reservation = None
            self.protocol.reservation_expired(reservation)
            self.show_idle(connector)

    # --- housekeeping --------------------------------------------------------------------------
    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: task failed", self.station_id, exc_info=task.exception())
