"""Guessing station passwords and API keys: attempts are counted before they are checked, so
parallel guesses gain nothing, and a throttled attempt is answered 429 at once without being
evaluated. Each test guesses from its own loopback address, so the session's server stays usable."""

import asyncio
import base64

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from conftest import READY_BOUND_S

PASSWORD = "s3cret-Station-Pa55"
FREE_STATION_ATTEMPTS = 10  # Gateway's default per (station, client address)
FREE_API_ATTEMPTS = 20  # wattson/api/auth.py


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def handshake(server, cp: str, password: str, address: str) -> int:
    """The HTTP status of a handshake from ``address`` (101 when it was accepted)."""
    try:
        async with websockets.connect(f"{server.ws_url}/{cp}", subprotocols=["ocpp1.6"],
                                      open_timeout=READY_BOUND_S,
                                      additional_headers=basic(cp, password), local_addr=(address, 0)):
            return 101
    except InvalidStatus as error:
        if error.response.status_code == 429:
            assert int(error.response.headers["Retry-After"]) >= 1
            assert b"too_many_attempts" in error.response.body
        return error.response.status_code


async def test_parallel_wrong_passwords_gain_nothing_and_do_not_lock_out_the_station(sqlite_server):
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    statuses = await asyncio.gather(*(handshake(sqlite_server, cp, f"wrong-password-{n:04}", "127.0.0.11")
                                      for n in range(50)))
    # Only the free attempts were evaluated (401); the rest were refused unchecked.
    assert sorted(statuses) == [401] * FREE_STATION_ATTEMPTS + [429] * (50 - FREE_STATION_ATTEMPTS)
    # Unchecked: even the right password is refused from the guessing address for now.
    assert await handshake(sqlite_server, cp, PASSWORD, "127.0.0.11") == 429
    # The genuine station, connecting from its own address, is not locked out.
    assert await handshake(sqlite_server, cp, PASSWORD, "127.0.0.12") == 101


async def test_wrong_api_keys_are_throttled_per_address(sqlite_server):
    def client(address: str, key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=sqlite_server.http_url, timeout=READY_BOUND_S,
                                 transport=httpx.AsyncHTTPTransport(local_address=address),
                                 headers={"Authorization": f"Bearer {key}"})

    async with client("127.0.0.14", sqlite_server.api_key) as genuine:
        assert (await genuine.get("/api/v1/charge-points")).status_code == 200  # now known genuine
    async with client("127.0.0.13", "not-a-key") as guesser:
        replies = await asyncio.gather(*(guesser.get("/api/v1/charge-points") for _ in range(40)))
        assert sorted(r.status_code for r in replies) == [401] * FREE_API_ATTEMPTS + [429] * (40 - FREE_API_ATTEMPTS)
        throttled = next(r for r in replies if r.status_code == 429)
        assert int(throttled.headers["Retry-After"]) >= 1 and throttled.json()["error"]["code"] == "rate_limited"
    # A valid key is never throttled, even from the guessing address (it proved genuine before).
    async with client("127.0.0.13", sqlite_server.api_key) as genuine_here:
        assert (await genuine_here.get("/api/v1/charge-points")).status_code == 200
    async with client("127.0.0.14", sqlite_server.api_key) as genuine:
        assert (await genuine.get("/api/v1/charge-points")).status_code == 200
        # Genuine keys give their attempts back: many requests never get throttled.
        for _ in range(FREE_API_ATTEMPTS + 5):
            assert (await genuine.get("/api/v1/charge-points")).status_code == 200


async def test_the_spec_documents_the_429_of_every_operation(sqlite_server):
    async with sqlite_server.api() as api:
        spec = (await api.get("/api/openapi.json")).json()
    operations = [op for path, ops in spec["paths"].items() if path.startswith("/api/v1/") for op in ops.values()]
    assert len(operations) > 20
    for op in operations:
        assert "Retry-After" in op["responses"]["429"]["headers"], op["operationId"]
