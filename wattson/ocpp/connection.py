"""One station's OCPP-J connection: answers its calls in order, sends ours one at a time.

The connection knows nothing about the transport: it is fed text frames and given a
coroutine to send them, so any WebSocket server (or a test) can drive it. Each frame, both
ways, is appended to the station's message log (``frame_log.py``) when it has one.
"""

import asyncio
import logging
import uuid
from sys import intern
from collections import deque
from time import perf_counter, time
from typing import Awaitable, Callable

from wattson.db.errors import unavailable
from wattson.observability.logging import MESSAGE_ID
from wattson.observability.metrics import UNSCRAPED, Metrics
from wattson.ocpp import rpc
from wattson.ocpp.protocol import Protocol
from wattson.ocpp.rpc import RpcError

log = logging.getLogger("wattson.ocpp")


class StationCallError(Exception):
    """The station answered our call with a CALLERROR."""

    def __init__(self, code: str, description: str, details: dict):
        super().__init__(f"{code}: {description}")
        self.code, self.description, self.details = code, description, details


class ConnectionClosed(Exception):
    pass


class Connection:
    __slots__ = ("charge_point_id", "protocol", "registration", "_send", "_close", "_call_lock", "_pending",
                 "_open", "invited", "_calls", "_heard", "_log")

    def __init__(self, charge_point_id: str, protocol: Protocol, registration: str,
                 send: Callable[[str], Awaitable[None]], close: Callable[[int, str], Awaitable[None]],
                 metrics: Metrics | None = None, heard: Callable[..., Awaitable[None]] | None = None,
                 log: deque | None = None):
        self.charge_point_id = charge_point_id
        self.protocol = protocol
        self.registration = registration
        self._send = send
        self._close = close
        self._call_lock = asyncio.Lock()
        self._pending: tuple[str, asyncio.Future, str] | None = None  # unique id, its reply, action
        self._open = True
        self.invited: set[str] = set()  # messages our calls asked for (allowed while Pending)
        self._calls = (metrics or UNSCRAPED).calls(protocol.version, protocol.handlers)
        #: told of every call answered without error: (station, version, action, payload, response)
        self._heard = heard
        #: the station's message log: (time, sent by us, action a reply answers, text); None: not kept
        self._log = log

    # --- inbound --------------------------------------------------------------------------
    async def receive(self, text: str | bytes) -> None:
        try:
            frame = rpc.parse(text)
        except RpcError as error:
            if self._log is not None:
                self._log.append((time(), False, self._answers(error.unique_id) if error.is_reply else None, text))
            log.warning("%s sent a malformed frame: %s", self.charge_point_id, error.description)
            if error.is_reply:
                self._fail_pending(error)
            else:
                await self._send_error(error)
            return
        if self._log is not None:
            self._log.append((time(), False, None if type(frame) is rpc.Call else self._answers(frame.unique_id), text))
        if isinstance(frame, rpc.Call):
            await self._answer(frame)
        else:
            self._resolve(frame)

    def _answers(self, unique_id: str) -> str | None:
        """The action of our outstanding call a reply with this id answers."""
        pending = self._pending
        return pending[2] if pending is not None and pending[0] == unique_id else None

    async def _answer(self, call: rpc.Call) -> None:
        protocol = self.protocol
        metrics = self._calls[call.action]
        token = MESSAGE_ID.set(call.unique_id)  # logged with every line about this call
        started = perf_counter()
        answered = None  # the response, once the call was answered without error
        try:
            handler = protocol.handlers.get(call.action)
            if handler is None:
                if protocol.schemas.knows(call.action):
                    raise RpcError("NotSupported", f"{call.action} is not supported by this central system")
                raise RpcError("NotImplemented", f"Unknown action {call.action!r}")
            if not protocol.allows(self.registration, call.action, self.invited):
                raise RpcError("SecurityError", f"{call.action} is not allowed while registration is "
                                                f"{self.registration}; send BootNotification")
            protocol.schemas.validate_request(call.action, call.payload)
            response = await handler(self, call.payload)
            protocol.schemas.validate_response(call.action, response)
            frame = rpc.result_frame(call.unique_id, response)
            answered = response
        except RpcError as error:
            error.unique_id = call.unique_id
            log.info("%s %s answered with %s: %s", self.charge_point_id, call.action, error.code, error.description)
            metrics.error(error.code)
            frame = self._error_frame(error)
        except Exception as error:
            if unavailable(error):  # the station retries; one line, not a traceback per message
                log.warning("%s %s: database unavailable (%s)", self.charge_point_id, call.action,
                            type(error).__name__)
            else:
                log.exception("%s %s failed", self.charge_point_id, call.action)
            metrics.error("InternalError")
            frame = self._error_frame(RpcError("InternalError", f"{call.action} could not be processed",
                                               unique_id=call.unique_id))
        finally:
            MESSAGE_ID.reset(token)
        metrics.answered(perf_counter() - started)
        if self._log is not None:
            # a known action's name is the handler table's own string: no copy kept per frame
            self._log.append((time(), True, intern(call.action) if handler is not None else call.action, frame))
        await self._send(frame)
        if answered is not None and self._heard is not None:
            await self._heard(self.charge_point_id, protocol.version, call.action, call.payload, answered)

    def _resolve(self, frame: rpc.CallResult | rpc.CallError) -> None:
        future = self._waiting_for(frame.unique_id)
        if future is None:
            return
        if isinstance(frame, rpc.CallResult):
            future.set_result(frame.payload)
        else:
            future.set_exception(StationCallError(frame.code, frame.description, frame.details))

    def _fail_pending(self, error: RpcError) -> None:
        """A reply we cannot read still ends the call it answers, rather than a timeout later."""
        future = self._waiting_for(error.unique_id)
        if future is not None:
            future.set_exception(StationCallError(error.code, f"unreadable reply: {error.description}", {}))

    def _waiting_for(self, unique_id: str) -> asyncio.Future | None:
        pending = self._pending
        if pending is None or pending[0] != unique_id or pending[1].done():
            log.warning("%s sent a reply to no outstanding call (id %s); dropped", self.charge_point_id, unique_id)
            return None
        return pending[1]

    async def _send_error(self, error: RpcError) -> None:
        frame = self._error_frame(error)
        if self._log is not None:
            self._log.append((time(), True, None, frame))
        await self._send(frame)

    def _error_frame(self, error: RpcError) -> str:
        return rpc.error_frame(error.unique_id, self.protocol.error_code(error.code), error.description,
                               error.details)

    # --- outbound -------------------------------------------------------------------------
    async def call(self, action: str, payload: dict, timeout: float) -> dict:
        """Send a CALL and wait for its reply. OCPP-J allows one outstanding call per
        direction, so later calls queue here; the timeout covers the wait in the queue."""
        async with asyncio.timeout(timeout):
            async with self._call_lock:
                if not self._open:  # gone while this call queued behind another
                    raise ConnectionClosed("the station disconnected")
                unique_id = str(uuid.uuid4())
                self.invited |= self.protocol.invited_by(action, payload)  # before its answer can arrive
                future = asyncio.get_running_loop().create_future()
                self._pending = (unique_id, future, action)
                frame = rpc.call_frame(unique_id, action, payload)
                if self._log is not None:
                    self._log.append((time(), True, None, frame))
                try:
                    await self._send(frame)
                    return await future
                finally:
                    self._pending = None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._close(code, reason)

    def closed(self) -> None:
        """The transport is gone: fail the outstanding call instead of letting it time out."""
        self._open = False
        pending = self._pending
        if pending is not None and not pending[1].done():
            pending[1].set_exception(ConnectionClosed("the station disconnected"))
