"""Station passwords at the handshake: stored as argon2id, PBKDF2 hashes of earlier versions upgraded
at the next successful connection, and a remembered (verified) password no longer accepted once the
stored hash changed, whoever changed it (the API, or another process writing the database)."""

import base64
import hashlib

import pytest
import websockets
from sqlalchemy import select, update
from websockets.exceptions import InvalidStatus

from wattson.db import Database
from wattson.settings import async_database_url
from wattson.stations.models import ChargePoint
from wattson.stations.passwords import hash_password, verify_password

PASSWORD = "s3cret-Station-Pa55"
NEW_PASSWORD = "an0ther-Station-Pa55"


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def pbkdf2(password: str, iterations: int = 1000, salt: bytes = b"fedcba9876543210") -> str:
    """The hash earlier versions stored."""
    b64 = lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")  # noqa: E731
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${b64(salt)}${b64(derived)}"


async def handshake(server, cp: str, password: str) -> int:
    try:
        async with websockets.connect(f"{server.ws_url}/{cp}", subprotocols=["ocpp1.6"], open_timeout=60,
                                      additional_headers=basic(cp, password)):
            return 101
    except InvalidStatus as error:
        return error.response.status_code


class StoredHash:
    """Reads and writes a station's stored hash as another process would."""

    def __init__(self, server):
        self.db = Database(async_database_url(server.env["WATTSON_DATABASE_URL"]))

    async def get(self, cp: str) -> str:
        async with self.db.session() as s:
            return await s.scalar(select(ChargePoint.password_hash).where(ChargePoint.id == cp))

    async def set(self, cp: str, value: str) -> None:
        async with self.db.session() as s:
            await s.execute(update(ChargePoint).where(ChargePoint.id == cp).values(password_hash=value))


@pytest.fixture
async def stored(server):
    hashes = StoredHash(server)
    yield hashes
    await hashes.db.dispose()


async def test_passwords_are_stored_as_argon2id(server, stored):
    cp = await server.add_station(security_profile=1, password=PASSWORD)
    value = await stored.get(cp)
    assert value.startswith("$argon2id$") and verify_password(PASSWORD, value)
    assert await handshake(server, cp, PASSWORD) == 101
    assert await handshake(server, cp, PASSWORD) == 101  # remembered: the same answer
    assert await handshake(server, cp, PASSWORD + "!") == 401


async def test_a_pbkdf2_hash_is_upgraded_at_the_next_successful_connection(server, stored):
    cp = await server.add_station(security_profile=1, password=PASSWORD)
    await stored.set(cp, pbkdf2(PASSWORD))
    assert await handshake(server, cp, "not-the-Pa55word!") == 401
    assert (await stored.get(cp)).startswith("pbkdf2_sha256$")  # a refusal changes nothing
    assert await handshake(server, cp, PASSWORD) == 101
    value = await stored.get(cp)
    assert value.startswith("$argon2id$") and verify_password(PASSWORD, value)
    assert await handshake(server, cp, PASSWORD) == 101
    assert await stored.get(cp) == value  # upgraded once


async def test_a_remembered_password_stops_working_when_the_stored_hash_changes(server, stored):
    cp = await server.add_station(security_profile=1, password=PASSWORD)
    assert await handshake(server, cp, PASSWORD) == 101  # verified and remembered
    async with server.api() as api:  # through the API
        r = await api.patch(f"/api/v1/charge-points/{cp}", json={"password": NEW_PASSWORD})
        assert r.status_code == 200, r.text
    assert await handshake(server, cp, PASSWORD) == 401
    assert await handshake(server, cp, NEW_PASSWORD) == 101
    await stored.set(cp, hash_password(PASSWORD))  # behind the server's back (e.g. another process)
    assert await handshake(server, cp, NEW_PASSWORD) == 401
    assert await handshake(server, cp, PASSWORD) == 101
