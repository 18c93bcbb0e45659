"""PostgreSQL gone and back, behind a TCP proxy that is cut and restored: a station gets a
prompt InternalError for what it sends meanwhile (and retries), the API a 503 with Retry-After,
nothing hangs or answers 500, the log has no traceback, and both recover by themselves."""

import asyncio
import socket
import threading
import time

import pytest

from conftest import PG_URL, free_port, start_server, unique
from ocpp_client import now, station
from urllib.parse import urlsplit

#: Generous bounds for a loaded machine: the server must answer well within them.
ANSWER_WITHIN = 60
RECOVER_WITHIN = 120


class CuttableProxy:
    """Forwards TCP connections to PostgreSQL on its own thread and event loop (the test's loop
    blocks while it runs the CLI); ``cut`` drops every connection and refuses new ones until
    ``restore``."""

    def __init__(self, target_port: int):
        self.target_port, self.port = target_port, free_port()
        self.open = True
        self._pipes: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(30), "the proxy did not start"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader, writer) -> None:
        if not self.open:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._pipes.update((writer, up_writer))

        async def pump(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._pipes.difference_update((writer, up_writer))

    def _call(self, fn) -> None:
        done = threading.Event()
        self._loop.call_soon_threadsafe(lambda: (fn(), done.set()))
        assert done.wait(30)

    def cut(self) -> None:
        def cut_all():
            self.open = False
            for pipe in list(self._pipes):
                pipe.transport.abort()
        self._call(cut_all)

    def restore(self) -> None:
        self._call(lambda: setattr(self, "open", True))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


@pytest.fixture
def proxied_server(tmp_path):
    proxy = CuttableProxy(urlsplit(PG_URL).port or 5432)
    try:
        yield from ((server, proxy) for server in start_server(tmp_path, "postgresql", db_port=proxy.port,
                                                                 db_pool_timeout="3"))
    finally:
        proxy.restore()
        proxy.close()


async def _until(check, within: float):
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.5)


async def test_database_gone_and_back(proxied_server):
    server, proxy = proxied_server
    cp, tag = await server.add_station(), await server.add_tag()
    start = {"connectorId": 1, "idTag": tag, "meterStart": 100, "timestamp": now()}
    async with station(server.ws_url, cp) as st:
        await st.boot()
        proxy.cut()
        reply = await st.call("StartTransaction", start, timeout=ANSWER_WITHIN)
        assert reply[0] == 4 and reply[2] == "InternalError", reply  # the station keeps it and retries
        await st.ok("Heartbeat", {})  # the connection lives on
        async with server.api() as api:
            r = await api.get("/api/v1/sessions", timeout=ANSWER_WITHIN)
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"].isdigit() and r.json()["error"]["code"] == "database_unavailable"

        proxy.restore()

        async def api_back():
            async with server.api() as api:
                return (await api.get("/api/v1/sessions", params={"charge_point_id": cp},
                                      timeout=ANSWER_WITHIN)).status_code == 200
        await _until(api_back, RECOVER_WITHIN)

        async def started():
            reply = await st.call("StartTransaction", start, timeout=ANSWER_WITHIN)
            return reply if reply[0] == 3 else None
        reply = await _until(started, RECOVER_WITHIN)
        assert reply[2]["idTagInfo"]["status"] == "Accepted"
    async with server.api() as api:
        sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]
    assert [s["transaction_id"] for s in sessions] == [str(reply[2]["transactionId"])]  # stored once
