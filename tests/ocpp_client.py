"""A raw OCPP-J station for tests: sends exact frames, sees exact answers, answers our calls.

Deliberately not Wattson's simulator nor the ocpp library, so tests see the wire as it is.
"""

import asyncio
import itertools
from contextlib import asynccontextmanager
from datetime import datetime, timezone

import orjson
import websockets

from conftest import READY_BOUND_S

_ids = itertools.count(1)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RawStation:
    def __init__(self, ws):
        self.ws = ws
        self.replies: asyncio.Queue = asyncio.Queue()  # CALLRESULT / CALLERROR frames for us
        self.calls: asyncio.Queue = asyncio.Queue()  # CALL frames from the central system
        self._reader = asyncio.create_task(self._read())

    async def _read(self):
        try:
            async for text in self.ws:
                frame = orjson.loads(text)
                (self.calls if frame[0] == 2 else self.replies).put_nowait(frame)
        except websockets.ConnectionClosed:
            pass

    async def call(self, action: str, payload: dict, timeout: float = READY_BOUND_S) -> list:
        """Send a CALL; the whole reply frame ([3, id, payload] or [4, id, code, desc, details])."""
        unique_id = f"t{next(_ids)}"
        await self.ws.send(orjson.dumps([2, unique_id, action, payload]).decode())
        reply = await self._reply(timeout)
        assert reply[1] == unique_id, f"reply {reply} does not answer {unique_id}"
        return reply

    async def ok(self, action: str, payload: dict) -> dict:
        """Send a CALL that must succeed; its response payload."""
        reply = await self.call(action, payload)
        assert reply[0] == 3, f"{action} failed: {reply}"
        return reply[2]

    async def send_raw(self, text: str | bytes) -> list:
        await self.ws.send(text)
        return await self._reply(READY_BOUND_S)

    async def _reply(self, timeout: float) -> list:
        """The next reply frame; fails at once if the connection closes first, not after the bound."""
        reply = asyncio.ensure_future(self.replies.get())
        await asyncio.wait({reply, self._reader}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if reply.done():
            return reply.result()
        reply.cancel()
        if self._reader.done():
            raise AssertionError(f"the connection closed without a reply (close code {self.ws.close_code})")
        raise TimeoutError(f"no reply within {timeout} s")

    async def next_call(self, timeout: float = READY_BOUND_S) -> list:
        """The next CALL from the central system; pass a short ``timeout`` to check that none comes."""
        return await asyncio.wait_for(self.calls.get(), timeout)

    async def answer(self, frame: list, payload: dict) -> None:
        await self.ws.send(orjson.dumps([3, frame[1], payload]).decode())

    async def boot(self, **extra) -> dict:
        return await self.ok("BootNotification", {"chargePointVendor": "TestVendor", "chargePointModel": "T1", **extra})

    async def close(self):
        await self.ws.close()
        self._reader.cancel()


@asynccontextmanager
async def station(ws_url: str, charge_point_id: str, subprotocols=("ocpp1.6",)):
    async with websockets.connect(f"{ws_url}/{charge_point_id}", subprotocols=list(subprotocols),
                                  compression=None, open_timeout=READY_BOUND_S) as ws:
        client = RawStation(ws)
        try:
            yield client
        finally:
            client._reader.cancel()
