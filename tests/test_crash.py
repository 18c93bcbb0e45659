"""kill -9 while stations charge: stations that resend every transaction message until it is
answered (as OCPP requires of them) lose nothing and double nothing. 100 OCPP 1.6 stations each
start a session, send meter values and stop, while the server is killed twice with SIGKILL and
started again on the same database; afterwards every station has exactly one session, finished,
with every answered meter value stored once. On SQLite and PostgreSQL."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx
import orjson
import pytest
import websockets

from conftest import start_server

STATIONS = 100
READINGS = 10  # meter values per session
KILLS = 2
BOUND_S = 600  # the whole run, generously: it ends by itself


def _at(base: datetime, seconds: int) -> str:
    return (base + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ResendingStation:
    """A 1.6 station with a transaction queue: every message is resent until answered, over a
    new connection when the old one is gone."""

    def __init__(self, url: str, cp: str, tag: str):
        self.url, self.cp, self.tag = url, cp, tag
        self.ws = None
        self.ids = iter(range(1, 10**9))
        self.answered_values = 0

    async def _connect(self) -> None:
        while True:
            try:
                self.ws = await websockets.connect(f"{self.url}/{self.cp}", subprotocols=["ocpp1.6"],
                                                   open_timeout=10, compression=None)
                await self._send("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}, boot=True)
                return
            except (OSError, websockets.WebSocketException, asyncio.TimeoutError):
                await asyncio.sleep(0.2)

    async def _send(self, action: str, payload: dict, boot: bool = False) -> dict:
        unique_id = str(next(self.ids))
        await self.ws.send(orjson.dumps([2, unique_id, action, payload]).decode())
        while True:
            reply = orjson.loads(await asyncio.wait_for(self.ws.recv(), 60))
            if reply[0] == 2:  # a call of the server's: not expected here
                continue
            if reply[1] != unique_id:
                continue
            if reply[0] == 3:
                return reply[2]
            raise ConnectionError(f"{action} answered {reply}")  # resent as after a lost answer

    async def send(self, action: str, payload: dict) -> dict:
        """Until answered with a CALLRESULT."""
        while True:
            if self.ws is None:
                await self._connect()
            try:
                return await self._send(action, payload)
            except (OSError, websockets.WebSocketException, asyncio.TimeoutError, ConnectionError):
                await self._drop()
                await asyncio.sleep(0.2)

    async def _drop(self) -> None:
        if self.ws is not None:
            try:
                await self.ws.close()
            except Exception:  # noqa: BLE001 - it is gone either way
                pass
        self.ws = None

    async def charge(self, base: datetime) -> None:
        start = await self.send("StartTransaction", {"connectorId": 1, "idTag": self.tag, "meterStart": 0,
                                                     "timestamp": _at(base, 0)})
        tx = start["transactionId"]
        for i in range(1, READINGS + 1):
            await self.send("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
                {"timestamp": _at(base, i), "sampledValue": [{"value": str(i * 100)}]}]})
            self.answered_values += 1
            await asyncio.sleep(0.05)
        await self.send("StopTransaction", {"transactionId": tx, "meterStop": READINGS * 100,
                                            "timestamp": _at(base, READINGS + 1)})
        await self._drop()


def _serve(server, log_path) -> subprocess.Popen:
    with open(log_path, "a") as out:
        return subprocess.Popen([sys.executable, "-m", "wattson", "serve", "--port", str(server.port)],
                                env=server.env, stdout=out, stderr=subprocess.STDOUT)


def _wait_healthy(server, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{server.http_url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc is None or proc.poll() is None, "the restarted server exited"
        assert time.monotonic() < deadline, "the server did not come back"
        time.sleep(0.2)


@pytest.fixture(params=["sqlite", "postgresql"])
def own_server(request, tmp_path):
    """A server of this test's own: it is killed (the shared one must live on)."""
    yield from start_server(tmp_path, request.param)


async def test_kill_9_loses_and_doubles_nothing(own_server, tmp_path):
    server = own_server
    cps = [await server.add_station() for _ in range(STATIONS)]
    tags = [await server.add_tag() for _ in range(STATIONS)]
    base = datetime.now(timezone.utc) - timedelta(hours=1)
    stations = [ResendingStation(server.ws_url, cp, tag) for cp, tag in zip(cps, tags)]
    charging = asyncio.gather(*(st.charge(base) for st in stations))
    pid, restarted = server.pid, []
    try:
        for kill in range(1, KILLS + 1):
            goal = STATIONS * READINGS * kill // (KILLS + 1)
            deadline = time.monotonic() + BOUND_S
            while sum(st.answered_values for st in stations) < goal and not charging.done():
                assert time.monotonic() < deadline, "the stations made no progress"
                await asyncio.sleep(0.05)
            os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.5)
            proc = _serve(server, tmp_path / f"restart-{kill}.log")
            restarted.append(proc)
            await asyncio.to_thread(_wait_healthy, server, proc)
            pid = proc.pid
        await asyncio.wait_for(charging, BOUND_S)
        async with server.api() as api:
            for cp in cps:
                sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]
                assert len(sessions) == 1, (cp, sessions)
                detail = (await api.get(f"/api/v1/sessions/{sessions[0]['id']}")).json()
                assert detail["status"] == "finished" and detail["energy_wh"] == READINGS * 100, detail
                values = sorted(int(v["value"]) for v in detail["meter_values"])
                assert values == [i * 100 for i in range(1, READINGS + 1)], (cp, values)
    finally:
        if not charging.done():
            charging.cancel()
        for proc in restarted:
            proc.kill()
            proc.wait(30)
