"""Malformed frames and oversized input, over real WebSockets and real HTTP (docs/ocpp.md).

One server with small limits, so that "too big" is cheap to send: every refusal is a clear answer
(a CALLERROR, a close code, an HTTP 413), one log line, and the station or client can go on.
"""

import asyncio
import socket
from contextlib import asynccontextmanager

import orjson
import pytest

from conftest import start_server
from fixture_failures import started_once
from ocpp_client import station

MAX_FRAME = 64 * 1024
MAX_BODY = 32 * 1024
BOOT_201 = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}


@pytest.fixture(scope="module")
def limited(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("limits"), "sqlite",
                                                  ocpp_max_frame_bytes=str(MAX_FRAME),
                                                  http_max_body_bytes=str(MAX_BODY)))


def nested(depth: int, leaf) -> str:
    """``depth`` arrays around ``leaf``, as JSON text (built flat: no recursion here either)."""
    return "[" * depth + orjson.dumps(leaf).decode() + "]" * depth


def log_lines(server, *needles: str) -> list[str]:
    return [line for line in server.log.read_text().splitlines() if all(n in line for n in needles)]


async def logged_once(server, *needles: str) -> None:
    """Exactly one log line holds all ``needles`` (waiting for it: a close is logged after it is sent)."""
    for _ in range(600):
        if log_lines(server, *needles):
            break
        await asyncio.sleep(0.1)
    assert len(log_lines(server, *needles)) == 1, server.log.read_text()[-3000:]


@asynccontextmanager
async def booted(server, subprotocol: str = "ocpp1.6"):
    """A registered station, connected and accepted: (its id, the raw station)."""
    cp = await server.add_station()
    async with station(server.ws_url, cp, (subprotocol,)) as client:
        if subprotocol == "ocpp1.6":
            await client.boot()
        else:
            await client.ok("BootNotification", BOOT_201)
        yield cp, client


@pytest.mark.parametrize("subprotocol, code", [("ocpp1.6", "FormationViolation"), ("ocpp2.0.1", "FormatViolation")])
async def test_deep_nesting_with_nul_is_a_format_violation(limited, subprotocol, code):
    async with booted(limited, subprotocol) as (cp, client):
        deep = nested(900, "a\x00b")  # the NUL arrives as the JSON escape \u0000
        frame = f'[2, "deep1", "Heartbeat", {{"x": {deep}}}]'
        reply = await client.send_raw(frame)
        assert reply[:3] == [4, "deep1", code], reply
        assert "nest" in reply[3]
        assert (await client.call("Heartbeat", {}))[0] == 3  # the connection is still usable
    await logged_once(limited, cp, "nest")
    assert "RecursionError" not in limited.log.read_text()


async def test_deep_data_transfer_data_is_a_format_violation(limited):
    async with booted(limited, "ocpp2.0.1") as (cp, client):
        frame = f'[2, "deep2", "DataTransfer", {{"vendorId": "Acme", "data": {nested(500, 1)}}}]'
        reply = await client.send_raw(frame)
        assert reply[:3] == [4, "deep2", "FormatViolation"], reply
        assert (await client.call("Heartbeat", {}))[0] == 3
    await logged_once(limited, cp, "nest")


async def test_nesting_as_deep_as_real_messages_is_fine(limited):
    # vendor data nested 30 deep (the deepest standard 2.0.1 payload is 13): accepted, answered
    async with booted(limited, "ocpp2.0.1") as (cp, client):
        data = orjson.loads(nested(30, {"k": "v"}))
        reply = await client.call("DataTransfer", {"vendorId": "Acme", "data": data})
        assert reply[0] == 3, reply


@pytest.mark.parametrize("subprotocol, code", [("ocpp1.6", "ProtocolError"), ("ocpp2.0.1", "MessageTypeNotSupported")])
async def test_message_type_ids_must_be_integers(limited, subprotocol, code):
    async with booted(limited, subprotocol) as (cp, client):
        for n, type_id in enumerate(("2.0", "true", '"2"', "3.0")):
            reply = await client.send_raw(f'[{type_id}, "type{n}", "Heartbeat", {{}}]')
            assert reply[:3] == [4, f"type{n}", code], (type_id, reply)
        assert (await client.call("Heartbeat", {}))[0] == 3


async def test_binary_frames_are_refused_with_1003(limited):
    async with booted(limited, "ocpp1.6") as (cp, client):
        await client.ws.send(b'[2, "bin1", "Heartbeat", {}]')
        await asyncio.wait_for(client.ws.wait_closed(), 60)
        assert client.ws.close_code == 1003
        assert client.replies.empty()  # not answered as if it were a text frame
    await logged_once(limited, cp, "binary")


async def test_frames_above_the_limit_are_refused_unread_with_1009(limited):
    async with booted(limited, "ocpp1.6") as (cp, client):
        # Not even JSON: refused for its size alone, before any parsing (no CALLERROR).
        await client.ws.send("x" * (MAX_FRAME + 1))
        await asyncio.wait_for(client.ws.wait_closed(), 60)
        assert client.ws.close_code == 1009
        assert client.replies.empty()
    await logged_once(limited, cp, "1009")
    async with station(limited.ws_url, cp) as again:  # the station reconnects and carries on
        await again.boot()
        big = "y" * (MAX_FRAME - 200)  # just under the limit: answered as usual
        reply = await again.call("DataTransfer", {"vendorId": "Acme", "data": big})
        assert reply[0] == 3, reply


async def test_text_frames_that_are_not_utf8_are_refused_with_1007(limited):
    async with booted(limited, "ocpp1.6") as (cp, client):
        await client.ws.send(b'[2, "u1", "Heartbeat", {"x": "\xff"}]', text=True)
        await asyncio.wait_for(client.ws.wait_closed(), 60)
        assert client.ws.close_code == 1007
        assert client.replies.empty()
    await logged_once(limited, cp, "UTF-8")


# --- REST bodies ------------------------------------------------------------------------------

def http_exchange(server, head: str, body_parts: list[bytes] = ()) -> tuple[int, dict, bytes]:
    """Send a request over a plain socket (headers, then ``body_parts``) and read the answer;
    a peer that stops reading is visible here, unlike with a client library."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head.encode())
        for part in body_parts:
            sock.sendall(part)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed before an answer: {data!r}"
            data += chunk
        header, _, rest = data.partition(b"\r\n\r\n")
        status_line, *lines = header.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", 0))
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed inside the answer"
            rest += chunk
        return int(status_line.split()[1]), headers, rest[:length]


def request_head(server, path: str, extra: str) -> str:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server.api_key}\r\n"
            f"Content-Type: application/json\r\n{extra}\r\n")


async def test_declared_oversized_body_is_answered_413_before_it_is_sent(limited):
    # Content-Length says 50 MB and not one body byte follows: the answer comes anyway.
    status, headers, body = await asyncio.to_thread(
        http_exchange, limited, request_head(limited, "/api/v1/charge-points", "Content-Length: 50000000\r\n"))
    assert status == 413
    error = orjson.loads(body)["error"]
    assert error["code"] == "payload_too_large" and str(MAX_BODY) in error["message"], error
    assert headers.get("connection") == "close"


async def test_streamed_oversized_body_is_answered_413_at_the_limit(limited):
    # Chunked, no length: refused once the bytes received pass the limit; the rest is never sent.
    chunk = b"[" * 4096
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (MAX_BODY // len(chunk) + 1)
    status, _, body = await asyncio.to_thread(
        http_exchange, limited, request_head(limited, "/api/v1/charge-points", "Transfer-Encoding: chunked\r\n"),
        parts)
    assert status == 413
    assert orjson.loads(body)["error"]["code"] == "payload_too_large"


async def test_bodies_within_the_limit_are_handled_as_before(limited):
    async with limited.api() as api:
        r = await api.post("/api/v1/charge-points", content=b"{" + b" " * (MAX_BODY - 100) + b"}",
                           headers={"Content-Type": "application/json"})
        assert r.status_code == 422, r.text  # read whole and validated, as before
        chunks = [b'{"id": "', b"CP-STREAMED", b'"}']

        async def stream():
            for c in chunks:
                yield c
        r = await api.post("/api/v1/charge-points", content=stream(), headers={"Content-Type": "application/json"})
        assert r.status_code == 201, r.text

