"""The WebSocket protocol uvicorn runs for Wattson: its websockets-sansio implementation (with the
ASGI TLS extension of ``wattson.tls``), minus a cost on every message.

uvicorn pauses reading the socket after each received message and resumes it when the app takes
the message: two system calls per message. An OCPP station has one call outstanding at a time, so
a connection's queue rarely holds more than one message; reading pauses only when ``MAX_QUEUED``
are waiting, which still bounds the memory a flooding peer can take.

It also lets go of the handshake's request and response once the handshake is done: uvicorn keeps
them for the life of the connection, a few KiB each, times every station connected.

A text frame that is not UTF-8 is refused with 1007 (RFC 6455 7.4.1) and one log line; uvicorn does
the same but logs a traceback for it. Frames above ``ws_max_size`` (WATTSON_OCPP_MAX_FRAME_BYTES)
never get here: the frame parser refuses them from their header, unread, with 1009.
"""

import logging

from wattson.tls import TlsWebSocketProtocol

MAX_QUEUED = 16
log = logging.getLogger("wattson.ocpp")


class OcppWebSocketProtocol(TlsWebSocketProtocol):
    async def send(self, message) -> None:
        await super().send(message)
        if self.handshake_complete and getattr(self, "response", None) is not None:
            self.request = self.response = None

    def send_receive_event_to_app(self) -> None:
        if self.curr_msg_data_type == "text" and not _utf8(self.frames):
            log.warning("%s sent a text frame that is not UTF-8: closing with 1007",
                        self.scope["path"].rpartition("/")[2])
            self.frames = []
            self.conn.send_close(1007, "invalid UTF-8 in a text frame")
            self.handle_parser_exception()
            return
        paused = self.read_paused
        self.read_paused = True  # the parent pauses unless it believes reading is paused already
        try:
            super().send_receive_event_to_app()
        finally:
            self.read_paused = paused
        if not paused and self.queue.qsize() >= MAX_QUEUED:
            self.read_paused = True
            self.transport.pause_reading()


def _utf8(frames: list[bytes]) -> bool:
    """Whether a message's frames hold UTF-8 text; ASCII, nearly every OCPP message, is checked in C."""
    if all(frame.isascii() for frame in frames):
        return True
    try:
        b"".join(frames).decode()
    except UnicodeDecodeError:
        return False
    return True
