"""The WebSocket protocol uvicorn runs for Wattson: its websockets-sansio implementation (with the
ASGI TLS extension of ``wattson.tls``), minus a cost on every message.

uvicorn pauses reading the socket after each received message and resumes it when the app takes
the message: two system calls per message. An OCPP station has one call outstanding at a time, so
a connection's queue rarely holds more than one message; reading pauses only when ``MAX_QUEUED``
are waiting, which still bounds the memory a flooding peer can take.

It also lets go of the handshake's request and response once the handshake is done: uvicorn keeps
them for the life of the connection, a few KiB each, times every station connected.
"""

from wattson.tls import TlsWebSocketProtocol

MAX_QUEUED = 16


class OcppWebSocketProtocol(TlsWebSocketProtocol):
    async def send(self, message) -> None:
        await super().send(message)
        if self.handshake_complete and getattr(self, "response", None) is not None:
            self.request = self.response = None

    def send_receive_event_to_app(self) -> None:
        paused = self.read_paused
        self.read_paused = True  # the parent pauses unless it believes reading is paused already
        try:
            super().send_receive_event_to_app()
        finally:
            self.read_paused = paused
        if not paused and self.queue.qsize() >= MAX_QUEUED:
            self.read_paused = True
            self.transport.pause_reading()
