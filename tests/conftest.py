"""Test fixtures: real `wattson serve` processes on SQLite files and PostgreSQL databases.

Tests talk to them as users do: OCPP over WebSocket, the API over HTTP.
"""

import asyncio
import inspect
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from fixture_failures import pytest_runtest_setup, started_once  # noqa: F401 - the hook, registered from here

PG_URL = os.environ.get("WATTSON_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("WATTSON_TEST_REQUIRE_POSTGRES") == "1"
#: How long a server may take to start: generous, for a loaded 2-core machine (polled, not slept).
STARTUP_BOUND_S = 180
#: How long a test waits for something that should happen (an answer, a state, a push): polled, so
#: only a broken server makes a test wait this long; generous, for a loaded 2-core machine.
READY_BOUND_S = 120


async def until(check, what: str, interval: float = 0.1):
    """Poll ``check`` (a function, or a coroutine function) until it returns a true value, at
    most READY_BOUND_S; that value. ``what`` names the wait in the failure."""
    deadline = time.monotonic() + READY_BOUND_S
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        assert time.monotonic() < deadline, f"not within {READY_BOUND_S} s: {what}"
        await asyncio.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str = "CP") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def run_cli(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "wattson", *args], env=env, capture_output=True, text=True,
                            timeout=STARTUP_BOUND_S)  # e.g. migrating a new database first
    assert result.returncode == 0, f"wattson {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass
class Server:
    backend: str
    port: int
    env: dict
    api_key: str
    log: Path
    pid: int | None = None  # of the first `wattson serve` (a crash test kills it)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    @property
    def wss_url(self) -> str:
        """The TLS listener's OCPP URL (servers started with tls_cert and tls_key)."""
        return f"wss://127.0.0.1:{self.env['WATTSON_TLS_PORT']}/ocpp"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, key: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.http_url, timeout=READY_BOUND_S,
                                 headers={"Authorization": f"Bearer {key or self.api_key}"})

    async def add_station(self, charge_point_id: str | None = None, **body) -> str:
        charge_point_id = charge_point_id or unique()
        async with self.api() as client:
            r = await client.post("/api/v1/charge-points", json={"id": charge_point_id, **body})
            assert r.status_code == 201, r.text
        return charge_point_id

    async def add_tag(self, uid: str | None = None, **body) -> str:
        uid = uid or unique("TAG")
        async with self.api() as client:
            r = await client.post("/api/v1/id-tokens", json={"uid": uid, **body})
            assert r.status_code == 201, r.text
        return uid


def _postgres_admin(statement: str) -> None:
    import asyncpg

    async def run():
        conn = await asyncpg.connect(PG_URL, timeout=60)  # refused at once if nobody listens; slow if busy
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def _postgres_database(name: str) -> str:
    """Create database ``name`` on the test server; its URL, or a skip/fail with the reason."""
    try:
        _postgres_admin(f'CREATE DATABASE "{name}"')
    except Exception as error:  # noqa: BLE001 - any failure means: no usable PostgreSQL here
        reason = f"PostgreSQL at {PG_URL} not usable ({type(error).__name__}: {error})"
        if REQUIRE_PG:
            pytest.fail(reason + " and WATTSON_TEST_REQUIRE_POSTGRES=1")
        pytest.skip(reason)
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


def start_server(tmp: Path, backend: str, db_port: int | None = None, **settings: str):
    """Start `wattson serve`; yields a Server and stops it afterwards. ``db_port``: reach
    PostgreSQL at this port of the same host instead (a proxy in between)."""
    name = f"wattson_test_{uuid.uuid4().hex[:8]}"
    db_url = _postgres_database(name) if backend == "postgresql" else f"sqlite:///{tmp / 'wattson.db'}"
    if db_port is not None:
        db_url = db_url.replace(f":{urlsplit(db_url).port}/", f":{db_port}/")
    port = free_port()
    if "tls_cert" in settings:
        settings.setdefault("tls_port", str(free_port()))
    env = {**os.environ, "WATTSON_DATABASE_URL": db_url, "WATTSON_LOG_LEVEL": "info",
           **{f"WATTSON_{k.upper()}": v for k, v in settings.items()}}
    key = run_cli(env, "api-keys", "create", "--name", "tests", "--role", "admin").strip().splitlines()[-1]
    log = tmp / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "wattson", "serve", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_BOUND_S
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, f"server exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"server did not start:\n{log.read_text()}"
            time.sleep(0.1)
        yield Server(backend, port, env, key, log, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if backend == "postgresql":
            _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    # Bad input must be answered, never crash a handler: no traceback may reach the log.
    text = log.read_text()
    assert "Traceback" not in text, f"the server logged an unhandled error:\n{text[-5000:]}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """A running server, once on SQLite and once on PostgreSQL."""
    yield from started_once(request, start_server(tmp_path_factory.mktemp(request.param), request.param,
                                                  command_timeout="3", heartbeat_interval="120"))


@pytest.fixture(scope="session")
def sqlite_server(request, tmp_path_factory):
    """A running server on SQLite only, for tests whose subject does not depend on the database."""
    yield from started_once(request, start_server(tmp_path_factory.mktemp("sqlite-only"), "sqlite",
                                                  command_timeout="2"))


@pytest.fixture(scope="session")
def auto_register_server(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("auto"), "sqlite", auto_register="true"))
