"""A minimal WebSocket client for the load generator: one asyncio protocol per station.

Why not a WebSocket library: the generator must cost far less CPU per message than the server it
measures. This client writes pre-built frames (text opcode, no compression, a zero masking key, so
the payload goes out as it is: RFC 6455 requires a mask, and servers cannot tell its entropy) and
reads the server's unmasked frames with a few slices. OCPP-J allows one outstanding call per
direction, so a station has at most one waiter. A CALL from the server (a command) is answered
at once with ``reply_to_calls``.
"""

import asyncio
import base64
import os

import orjson

MASK = b"\0\0\0\0"


def encode(payload: bytes) -> bytes:
    """One masked text frame carrying ``payload``."""
    n = len(payload)
    if n < 126:
        header = bytes((0x81, 0x80 | n))
    elif n < 65536:
        header = bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x81, 0xFF)) + n.to_bytes(8, "big")
    return header + MASK + payload


class HandshakeFailed(Exception):
    pass


class Station(asyncio.Protocol):
    """One station's connection. ``call`` sends a frame and returns the reply's payload bytes."""

    __slots__ = ("path", "subprotocol", "transport", "buffer", "opened", "waiter", "closed", "reply_to_calls",
                 "calls_answered")

    def __init__(self, path: str, subprotocol: str, reply_to_calls: bytes | None = None):
        self.path = path
        self.subprotocol = subprotocol
        self.transport = None
        self.buffer = b""
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.reply_to_calls = reply_to_calls  # the payload answered to every CALL from the server
        self.calls_answered = 0

    # --- asyncio.Protocol ----------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                         f"Sec-WebSocket-Protocol: {self.subprotocol}\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        if not self.opened.done():
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            head, buffer = buffer[:end], buffer[end + 4:]
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(HandshakeFailed(head.split(b"\r\n", 1)[0].decode(errors="replace")))
                self.transport.close()
                return
            self.opened.set_result(None)
        while len(buffer) >= 2:
            opcode, n = buffer[0] & 0x0F, buffer[1] & 0x7F
            start = 2
            if n == 126:
                if len(buffer) < 4:
                    break
                n, start = int.from_bytes(buffer[2:4], "big"), 4
            elif n == 127:
                if len(buffer) < 10:
                    break
                n, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + n:
                break
            payload, buffer = buffer[start:start + n], buffer[start + n:]
            self._frame(opcode, payload)
        self.buffer = buffer

    def connection_lost(self, exc) -> None:
        self.closed = True
        error = ConnectionError(f"connection lost: {exc}")
        if not self.opened.done():
            self.opened.set_exception(error)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    # --- frames ----------------------------------------------------------------------------
    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode in (0x1, 0x2):
            if payload.startswith(b"[2,"):  # a CALL from the server
                self._answer(payload)
            elif self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(payload)
        elif opcode == 0x9:  # ping
            self.transport.write(bytes((0x8A, 0x80 | len(payload))) + MASK + payload)
        elif opcode == 0x8:  # close: echo it, the server closes the TCP connection
            self.closed = True
            if not self.transport.is_closing():
                self.transport.write(bytes((0x88, 0x80 | len(payload))) + MASK + payload)

    def _answer(self, payload: bytes) -> None:
        unique_id = orjson.loads(payload)[1]
        self.calls_answered += 1
        self.transport.write(encode(b'[3,' + orjson.dumps(unique_id) + b',' + (self.reply_to_calls or b'{}') + b']'))

    # --- use ---------------------------------------------------------------------------------
    def call(self, frame: bytes) -> asyncio.Future:
        """Send an encoded frame; the future gets the payload of the next reply."""
        self.waiter = waiter = asyncio.get_running_loop().create_future()
        self.transport.write(frame)
        return waiter

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


async def connect(host: str, port: int, path: str, subprotocol: str, timeout: float = 30.0,
                  reply_to_calls: bytes | None = None) -> Station:
    loop = asyncio.get_running_loop()
    _, station = await asyncio.wait_for(
        loop.create_connection(lambda: Station(path, subprotocol, reply_to_calls), host, port), timeout)
    try:
        await asyncio.wait_for(station.opened, timeout)
    except BaseException:
        station.close()
        raise
    return station
