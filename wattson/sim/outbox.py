"""Messages from the station to the CSMS, delivered one at a time and in the order they were made.

OCPP requires transaction messages (1.6: StartTransaction, MeterValues of a transaction,
StopTransaction; 2.x: TransactionEvent) to reach the CSMS even across a lost connection, so those
are *durable*: they wait for the next connection and keep their original timestamps. Everything
else is *volatile*: dropped while offline, because the boot sequence resends the state that matters.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from wattson.sim.connector import Transaction
from wattson.sim.wire import CallError, Offline

log = logging.getLogger("wattson.sim")

OFFLINE_PAUSE = 0.2  # between noticing a lost connection and looking again


@dataclass(eq=False)
class Message:
    action: str
    payload: dict
    durable: bool
    future: asyncio.Future
    tx: Transaction | None = None  # 1.6: its transactionId, the CSMS's, is filled in when sent
    on_reply: Callable[[dict], None] | None = None
    attempts: int = 0


class Outbox:
    def __init__(self, deliver: Callable[[str, dict], Awaitable[dict]], online: asyncio.Event, *,
                 attempts: Callable[[], int] = lambda: 3, retry_interval: Callable[[], float] = lambda: 10.0):
        """``deliver`` makes one call and returns its reply; ``online`` is set while the CSMS has
        accepted the station; ``attempts`` and ``retry_interval`` say how often and how far apart
        a durable message is tried when the CSMS answers with an error or not at all."""
        self._deliver = deliver
        self._online = online
        self._attempts = attempts
        self._retry_interval = retry_interval
        self._queue: deque[Message] = deque()
        self._ready = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self._current: Message | None = None

    def put(self, action: str, payload: dict, *, durable: bool = False, tx: Transaction | None = None,
            on_reply: Callable[[dict], None] | None = None) -> asyncio.Future:
        """Queue a message; the future gets the reply payload, or the reason it was given up."""
        future = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consume)
        self._queue.append(Message(action, payload, durable, future, tx, on_reply))
        self._ready.set()
        self._empty.clear()
        return future

    def purge_volatile(self) -> None:
        """Forget volatile messages made while offline; they describe a past the boot replaces."""
        kept = deque()
        for message in self._queue:
            if message.durable or message is self._current:
                kept.append(message)
            else:
                _give_up(message, Offline("dropped while offline"))
        self._queue = kept
        self._settle()

    def holds(self, wanted: Callable[[str, dict], bool]) -> bool:
        """Whether a message not yet delivered has ``wanted(action, payload)`` (GetTransactionStatus)."""
        return any(wanted(message.action, message.payload) for message in self._queue)

    async def drained(self, timeout: float) -> bool:
        """Wait until everything queued is delivered or given up; False if time ran out."""
        try:
            async with asyncio.timeout(timeout):
                await self._empty.wait()
            return True
        except TimeoutError:
            return False

    async def run(self) -> None:
        """The sender: forever takes the oldest message and delivers it."""
        while True:
            await self._ready.wait()
            message = self._queue[0]
            if not self._online.is_set():
                if message.durable:
                    await self._online.wait()
                else:
                    self._finish(message, error=Offline("station is offline"))
                continue
            self._current = message
            try:
                await self._attempt(message)
            finally:
                self._current = None

    async def _attempt(self, message: Message) -> None:
        if message.tx is not None:
            if message.tx.id is None:  # its StartTransaction was given up: nothing to refer to
                self._finish(message, error=Offline("transaction was never started at the CSMS"))
                return
            message.payload["transactionId"] = message.tx.id
        try:
            reply = await self._deliver(message.action, message.payload)
        except Offline as error:
            if not message.durable:
                self._finish(message, error=error)
            else:
                await asyncio.sleep(OFFLINE_PAUSE)  # stays first in line for the next connection
        except (CallError, TimeoutError) as error:
            message.attempts += 1
            if not message.durable or message.attempts >= self._attempts():
                log.warning("giving up %s after %d attempt(s): %r", message.action, message.attempts, error)
                self._finish(message, error=error)
            else:
                await asyncio.sleep(self._retry_interval())
        else:
            if message.on_reply is not None:
                message.on_reply(reply)  # before the next message is sent, which may depend on it
            self._finish(message, reply=reply)

    def _finish(self, message: Message, *, reply: dict | None = None, error: Exception | None = None) -> None:
        if self._queue and self._queue[0] is message:
            self._queue.popleft()
        if error is not None:
            _give_up(message, error)
        elif not message.future.done():
            message.future.set_result(reply)
        self._settle()

    def _settle(self) -> None:
        if self._queue:
            self._ready.set()
        else:
            self._ready.clear()
            self._empty.set()


def _give_up(message: Message, error: Exception) -> None:
    if not message.future.done():
        message.future.set_exception(error)


def _consume(future: asyncio.Future) -> None:
    """Mark a failure as seen: most messages are sent without anyone waiting for the reply."""
    if not future.cancelled():
        future.exception()
