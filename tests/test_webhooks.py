"""Outgoing webhooks against a real server: a loopback receiver in the test process (a small HTTP
server on asyncio streams) that records every request and answers as each test tells it (a
status to give, or holding the request open). Deliveries are at-least-once: receivers
de-duplicate on the event id, and the crash test checks that only the one in flight repeats."""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from conftest import READY_BOUND_S, STARTUP_BOUND_S, run_cli, start_server, until
from fixture_failures import started_once
from ocpp_client import now, station
from wattson.webhooks import rules

FAST = {"webhook_allow_private": "true", "webhook_retry_base_s": "0.2", "webhook_retry_max_s": "0.5",
        "webhook_poll_s": "0.1", "webhook_pause_after": "4", "webhook_timeout_s": "60",
        "webhook_session_update_s": "0"}


class Receiver:
    """An HTTP/1.1 endpoint on 127.0.0.1 recording (path, headers, body) of every request."""

    def __init__(self):
        self.got: list[tuple[str, dict, bytes]] = []
        self.answers: dict[str, list[int]] = {}  # path → statuses to give first (then 200)
        self.hold: dict[str, asyncio.Event] = {}  # path → requests wait for this before the answer
        self.per_event: dict[str, int] = {}  # event id → the status every delivery of it gets
        self.waiting = self.most_waiting = 0  # requests held open now, and at most
        self.server = None

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_):
        for gate in self.hold.values():
            gate.set()
        self.server.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, path: str) -> list[dict]:
        return [json.loads(body) for p, _, body in self.got if p == path]

    async def _handle(self, reader, writer):
        try:
            line = (await reader.readline()).decode()
            headers = {}
            while (header := (await reader.readline()).decode().strip()):
                name, _, value = header.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            path = line.split(" ")[1]
            self.got.append((path, headers, body))
            if path in self.hold:
                self.waiting += 1
                self.most_waiting = max(self.most_waiting, self.waiting)
                try:
                    await self.hold[path].wait()
                finally:
                    self.waiting -= 1
            queued = self.answers.get(path)
            status = queued.pop(0) if queued else 200
            status = self.per_event.get(json.loads(body).get("id") if body else None, status)
            moved = f"Location: {self.url('/followed')}\r\n" if 300 <= status < 400 else ""
            writer.write(f"HTTP/1.1 {status} X\r\n{moved}Content-Length: 2\r\nConnection: close\r\n\r\nok".encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hooks(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp(f"webhooks-{request.param}"),
                                                  request.param, **FAST))


@pytest.fixture
async def receiver():
    async with Receiver() as r:
        yield r


async def subscribe(api, url, **body) -> dict:
    r = await api.post("/api/v1/webhooks", json={"url": url, **body})
    assert r.status_code == 201, r.text
    return r.json()


async def deliveries(api, webhook_id, **params) -> list[dict]:
    r = await api.get(f"/api/v1/webhooks/{webhook_id}/deliveries", params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def settled(api, webhook_id, count: int) -> list[dict]:
    """Its deliveries once ``count`` of them exist and none is pending."""
    async def done():
        rows = await deliveries(api, webhook_id)
        return rows if len(rows) >= count and all(d["status"] != "pending" for d in rows) else None
    return await until(done, f"{count} deliveries of webhook {webhook_id} settled")


def verifies(headers: dict, body: bytes, secret: str) -> bool:
    return rules.verify(headers["wattson-signature"], body, secret, time.time())


# --- subscriptions ----------------------------------------------------------------------------
async def test_crud_and_validation(hooks, receiver):
    async with hooks.api() as api:
        types = (await api.get("/api/v1/webhooks/event-types")).json()
        assert {"session.started", "session.ended", "ping"} <= {t["name"] for t in types}
        created = await subscribe(api, receiver.url("/crud"), events=["session.started", "session.ended"],
                                  description="billing")
        assert created["secret"].startswith("whsec_") and len(created["secret"]) > 30
        assert created["events"] == ["session.ended", "session.started"] and created["active"] is True
        got = (await api.get(f"/api/v1/webhooks/{created['id']}")).json()
        assert "secret" not in got and got["description"] == "billing"
        listed = (await api.get("/api/v1/webhooks", params={"limit": 500})).json()["data"]
        assert created["id"] in [w["id"] for w in listed] and all("secret" not in w for w in listed)

        r = await api.patch(f"/api/v1/webhooks/{created['id']}", json={"events": ["*"], "description": None})
        assert r.status_code == 200 and r.json()["events"] == ["*"] and r.json()["description"] is None
        for bad in ({"events": ["session.exploded"]}, {"events": []}, {"url": "ftp://x.example/"},
                    {"url": "not a url"}, {"url": "https://u:p@example.com/"}, {"secret": "short"},
                    {"nonsense": 1}, {"url": "http://127.0.0.1:1/\x00"}):
            r = await api.post("/api/v1/webhooks", json={"url": receiver.url("/crud"), **bad})
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["error"]["code"] == "validation_error"
        r = await api.patch(f"/api/v1/webhooks/{created['id']}", json={"url": None})
        assert r.status_code == 422
        r = await api.post("/api/v1/webhooks", json={"url": "https://nowhere.invalid/hook"})
        assert r.status_code == 422 and "resolve" in r.json()["error"]["message"]
        assert (await api.get("/api/v1/webhooks/999999")).status_code == 404
        assert (await api.get("/api/v1/webhooks/0")).status_code == 422
        assert (await api.get(f"/api/v1/webhooks/{created['id']}/deliveries", params={"cursor": "zz"})).status_code == 422

        assert (await api.delete(f"/api/v1/webhooks/{created['id']}")).status_code == 204
        assert (await api.get(f"/api/v1/webhooks/{created['id']}")).status_code == 404


async def test_roles(hooks, receiver):
    viewer = run_cli(hooks.env, "api-keys", "create", "--name", "v", "--role", "viewer").strip().splitlines()[-1]
    operator = run_cli(hooks.env, "api-keys", "create", "--name", "o", "--role", "operator").strip().splitlines()[-1]
    async with hooks.api(viewer) as api:
        assert (await api.get("/api/v1/webhooks")).status_code == 403
        assert (await api.get("/api/v1/webhooks/event-types")).status_code == 403
        assert (await api.post("/api/v1/webhooks", json={"url": receiver.url("/v")})).status_code == 403
    async with hooks.api(operator) as api:
        created = await subscribe(api, receiver.url("/o"))
        assert (await api.delete(f"/api/v1/webhooks/{created['id']}")).status_code == 204
    async with httpx.AsyncClient(base_url=hooks.http_url) as anonymous:
        assert (await anonymous.get("/api/v1/webhooks")).status_code == 401


def test_private_and_plain_http_targets_refused_without_the_setting(sqlite_server):
    with httpx.Client(base_url=sqlite_server.http_url, timeout=READY_BOUND_S,
                      headers={"Authorization": f"Bearer {sqlite_server.api_key}"}) as api:
        for url in ("http://127.0.0.1:9/hook", "https://10.0.0.7/hook", "https://169.254.169.254/latest",
                    "https://[::1]/hook", "https://[::ffff:192.168.1.1]/hook", "https://0.0.0.0/",
                    "https://localhost/hook"):
            r = api.post("/api/v1/webhooks", json={"url": url})
            assert r.status_code == 422, (url, r.text)
            assert "not public" in r.json()["error"]["message"], url
        r = api.post("/api/v1/webhooks", json={"url": "http://8.8.8.8/hook"})  # public, but not https
        assert r.status_code == 422 and "https" in r.json()["error"]["message"]


async def test_the_openapi_document_defines_one_webhook_per_event_type(hooks):
    async with hooks.api() as api:
        spec = (await api.get("/api/openapi.json")).json()
        types = [t["name"] for t in (await api.get("/api/v1/webhooks/event-types")).json()]
    assert set(spec["webhooks"]) == set(types)
    example = spec["webhooks"]["session.started"]["post"]["requestBody"]["content"]["application/json"]["example"]
    assert example["type"] == "session.started" and example["id"].startswith("evt_") and example["data"]


# --- delivery ---------------------------------------------------------------------------------
async def test_ping_is_delivered_signed(hooks, receiver):
    async with hooks.api() as api:
        sub = await subscribe(api, receiver.url("/ping"), events=["session.started"])
        other = await subscribe(api, receiver.url("/other"))  # all events: still no ping of the first's
        r = await api.post(f"/api/v1/webhooks/{sub['id']}/test")
        assert r.status_code == 202 and r.json()["event_type"] == "ping"
        [delivery] = await settled(api, sub["id"], 1)
        assert delivery["status"] == "delivered" and delivery["attempts"] == 1
        assert delivery["last_status_code"] == 200 and delivery["delivered_at"]
        [(path, headers, body)] = [g for g in receiver.got if g[0] == "/ping"]
        assert verifies(headers, body, sub["secret"]) and not verifies(headers, body, other["secret"])
        assert headers["wattson-event-type"] == "ping" and headers["content-type"] == "application/json"
        event = receiver.bodies("/ping")[0]
        assert event["id"] == headers["wattson-event-id"] == delivery["event_id"]
        assert event["type"] == "ping" and event["data"]["webhook_id"] == sub["id"] and event["created_at"]
        assert await deliveries(api, other["id"]) == []
        assert [g for g in receiver.got if g[0] == "/other"] == []


async def test_a_session_of_a_station_arrives_signed_and_in_order(hooks, receiver):
    async with hooks.api() as api:
        sub = await subscribe(api, receiver.url("/sessions"),
                              events=["session.started", "session.updated", "session.ended"])
        cp, tag = await hooks.add_station(), await hooks.add_tag()
        async with station(hooks.ws_url, cp) as st:
            await st.boot()
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"})
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000,
                                                   "timestamp": now()}))["transactionId"]
            for wh in (1500, 2200, 3100):
                await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [{
                    "timestamp": now(),
                    "sampledValue": [{"value": str(wh), "measurand": "Energy.Active.Import.Register"}]}]})
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 3500, "timestamp": now()})
        await until(lambda: any(b["type"] == "session.ended" for b in receiver.bodies("/sessions")),
                    "session.ended delivered")
        await settled(api, sub["id"], 5)
        session = (await api.get(f"/api/v1/sessions", params={"charge_point_id": cp})).json()["data"][0]
    got = [g for g in receiver.got if g[0] == "/sessions"]
    assert all(verifies(headers, body, sub["secret"]) for _, headers, body in got)
    bodies = receiver.bodies("/sessions")
    assert [b["type"] for b in bodies] == ["session.started"] + ["session.updated"] * 3 + ["session.ended"]
    assert len({b["id"] for b in bodies}) == 5 and {b["data"]["id"] for b in bodies} == {session["id"]}
    assert [b["data"]["energy_wh"] for b in bodies] == [0, 500, 1200, 2100, 2500]
    assert bodies[-1]["data"]["status"] == "finished" and bodies[0]["data"]["charge_point_id"] == cp


async def test_failing_three_times_then_delivered_once(hooks, receiver):
    receiver.answers["/flaky"] = [500, 503, 500]
    async with hooks.api() as api:
        sub = await subscribe(api, receiver.url("/flaky"))
        await api.post(f"/api/v1/webhooks/{sub['id']}/test")
        [delivery] = await settled(api, sub["id"], 1)
        assert delivery["status"] == "delivered" and delivery["attempts"] == 4
        assert delivery["last_status_code"] == 200 and delivery["last_error"] is None
        assert (await api.get(f"/api/v1/webhooks/{sub['id']}")).json()["failures_in_a_row"] == 0
    ids = [b["id"] for b in receiver.bodies("/flaky")]
    assert len(ids) == 4 and len(set(ids)) == 1  # the same event each time: one to keep


async def test_redeliver(hooks, receiver):
    async with hooks.api() as api:
        sub = await subscribe(api, receiver.url("/again"))
        await api.post(f"/api/v1/webhooks/{sub['id']}/test")
        [delivery] = await settled(api, sub["id"], 1)
        r = await api.post(f"/api/v1/webhooks/{sub['id']}/deliveries/{delivery['id']}/redeliver")
        assert r.status_code == 202 and r.json()["status"] == "pending"
        await until(lambda: len(receiver.bodies("/again")) == 2, "the redelivery")
        [again] = await settled(api, sub["id"], 1)
        assert again["attempts"] == 2 and again["status"] == "delivered"
        assert (await api.post(f"/api/v1/webhooks/{sub['id']}/deliveries/999999/redeliver")).status_code == 404
        other = await subscribe(api, receiver.url("/elsewhere"))
        r = await api.post(f"/api/v1/webhooks/{other['id']}/deliveries/{delivery['id']}/redeliver")
        assert r.status_code == 404
    first, second = receiver.bodies("/again")
    assert first == second


async def test_rotation_signs_with_both_secrets_during_the_grace(hooks, receiver):
    async with hooks.api() as api:
        sub = await subscribe(api, receiver.url("/rotate"), secret="my-own-secret-of-some-length")
        assert sub["secret"] == "my-own-secret-of-some-length"
        r = await api.post(f"/api/v1/webhooks/{sub['id']}/rotate-secret")
        assert r.status_code == 200
        new = r.json()["secret"]
        assert new.startswith("whsec_") and new != sub["secret"] and r.json()["previous_secret_until"]
        await api.post(f"/api/v1/webhooks/{sub['id']}/test")
        await settled(api, sub["id"], 1)
    [(_, headers, body)] = [g for g in receiver.got if g[0] == "/rotate"]
    assert headers["wattson-signature"].count("v1=") == 2
    assert verifies(headers, body, new) and verifies(headers, body, "my-own-secret-of-some-length")


async def test_pause_after_failures_and_resume(hooks, receiver):
    receiver.answers["/down"] = [500] * 4
    async with hooks.api() as api:
        sub = await subscribe(api, receiver.url("/down"))
        await api.post(f"/api/v1/webhooks/{sub['id']}/test")

        async def paused():
            got = (await api.get(f"/api/v1/webhooks/{sub['id']}")).json()
            return not got["active"] and got
        got = await until(paused, "the subscription paused")
        assert "4 failed attempts in a row" in got["paused_reason"] and "HTTP 500" in got["paused_reason"]
        assert (await api.post(f"/api/v1/webhooks/{sub['id']}/test")).status_code == 409
        [pending] = await deliveries(api, sub["id"])
        assert pending["status"] == "pending" and pending["attempts"] == 4
        r = await api.patch(f"/api/v1/webhooks/{sub['id']}", json={"active": True})
        assert r.json()["active"] and r.json()["paused_reason"] is None and r.json()["failures_in_a_row"] == 0
        [delivery] = await settled(api, sub["id"], 1)
        assert delivery["status"] == "delivered" and delivery["attempts"] == 5


async def test_in_order_per_resource(hooks, receiver):
    """Pings of one subscription are one resource: the second waits while the first is retried."""
    receiver.answers["/order"] = [500, 500]
    async with hooks.api() as api:
        sub = await subscribe(api, receiver.url("/order"))
        ids = [(await api.post(f"/api/v1/webhooks/{sub['id']}/test")).json()["event_id"] for _ in range(3)]
        await settled(api, sub["id"], 3)
    got = [b["id"] for b in receiver.bodies("/order")]
    assert got == [ids[0], ids[0], ids[0], ids[1], ids[2]]


async def test_concurrency_per_subscription_is_bounded(hooks, receiver):
    """Six stations connecting are six resources: four deliveries at a time (WATTSON_WEBHOOK_CONCURRENCY)."""
    receiver.hold["/busy"] = gate = asyncio.Event()
    async with hooks.api() as api, contextlib.AsyncExitStack() as stations:
        sub = await subscribe(api, receiver.url("/busy"), events=["charge_point.connected"])
        for _ in range(6):
            await stations.enter_async_context(station(hooks.ws_url, await hooks.add_station()))
        await until(lambda: receiver.waiting == 4, "four deliveries held open")
        gate.set()
        await settled(api, sub["id"], 6)
    assert receiver.most_waiting == 4 and len({b["id"] for b in receiver.bodies("/busy")}) == 6


async def test_deliveries_page_and_filter(hooks, receiver):
    async with hooks.api() as api:
        sub = await subscribe(api, receiver.url("/pages"))
        for _ in range(3):
            await api.post(f"/api/v1/webhooks/{sub['id']}/test")
        await settled(api, sub["id"], 3)
        first = (await api.get(f"/api/v1/webhooks/{sub['id']}/deliveries", params={"limit": 2})).json()
        rest = (await api.get(f"/api/v1/webhooks/{sub['id']}/deliveries",
                              params={"limit": 2, "cursor": first["next_cursor"]})).json()
        assert len(first["data"]) == 2 and len(rest["data"]) == 1 and rest["next_cursor"] is None
        ids = [d["id"] for d in first["data"] + rest["data"]]
        assert ids == sorted(ids, reverse=True)
        assert await deliveries(api, sub["id"], status="failed") == []
        assert (await api.get(f"/api/v1/webhooks/{sub['id']}/deliveries", params={"status": "x"})).status_code == 422


@pytest.fixture
def short_lived(tmp_path):
    """A server giving deliveries up after 1 s of failures (never pausing) and keeping events 20 s."""
    yield from start_server(tmp_path, "sqlite", **{**FAST, "webhook_retry_horizon_s": "1", "webhook_pause_after": "0",
                                                   "webhook_retention_days": str(20 / 86400)})


async def test_given_up_after_the_horizon_then_later_events_go_ahead_and_old_ones_are_pruned(short_lived, receiver):
    async with short_lived.api() as api:
        sub = await subscribe(api, receiver.url("/gone"))
        receiver.hold["/gone"] = gate = asyncio.Event()  # until the test knows the event's id
        receiver.per_event[(await api.post(f"/api/v1/webhooks/{sub['id']}/test")).json()["event_id"]] = 302
        gate.set()
        await api.post(f"/api/v1/webhooks/{sub['id']}/test")  # the same resource: waits for the first
        rows = await settled(api, sub["id"], 2)
        second, first = rows
        assert first["status"] == "failed" and first["attempts"] >= 1 and first["last_status_code"] == 302
        assert first["last_error"] == "HTTP 302: redirects are not followed"
        assert second["status"] == "delivered"
        got = receiver.bodies("/gone")
        assert [b["id"] for b in got].index(second["event_id"]) == len(got) - 1  # after every try of the first
        assert receiver.bodies("/followed") == []
        # Pruned, but for the newest event (SQLite would hand its id out again otherwise).
        await until(lambda: _only(api, sub["id"], second["id"]), "the old events pruned")


async def _only(api, webhook_id, delivery_id) -> bool:
    return [d["id"] for d in await deliveries(api, webhook_id)] == [delivery_id]


# --- a worker killed mid-delivery -------------------------------------------------------------
def restart(server, log) -> subprocess.Popen:
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "wattson", "serve", "--port", str(server.port)],
                                env=server.env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_BOUND_S
    while True:
        try:
            if httpx.get(f"{server.http_url}/health", timeout=5).json().get("worker") == "active":
                return proc
        except (httpx.TransportError, ValueError):
            pass
        assert proc.poll() is None, f"the restarted server exited:\n{log.read_text()}"
        assert time.monotonic() < deadline, "the server did not come back"
        time.sleep(0.2)


@pytest.fixture(params=["sqlite", "postgresql"])
def crashing(request, tmp_path):
    """A server the test kills with SIGKILL (a short node lease, so its restart takes over soon)."""
    yield from start_server(tmp_path, request.param, node_lease_s="3", **FAST)


async def test_killed_mid_delivery_loses_nothing(crashing, tmp_path, receiver):
    server = crashing
    receiver.hold["/crash"] = gate = asyncio.Event()
    proc = None
    log = tmp_path / "restart.log"
    try:
        async with server.api() as api:
            sub = await subscribe(api, receiver.url("/crash"))
            ids = [(await api.post(f"/api/v1/webhooks/{sub['id']}/test")).json()["event_id"] for _ in range(3)]
            await until(lambda: receiver.bodies("/crash"), "the first delivery under way")
        os.kill(server.pid, signal.SIGKILL)
        del receiver.hold["/crash"]
        gate.set()  # the killed worker's request ends unanswered
        proc = await asyncio.to_thread(restart, server, log)
        async with server.api() as api:
            rows = await settled(api, sub["id"], 3)
        assert {d["status"] for d in rows} == {"delivered"}
        got = [b["id"] for b in receiver.bodies("/crash")]
        assert got == [ids[0], ids[0], ids[1], ids[2]]  # the one in flight twice, the others once, in order
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    assert "Traceback" not in log.read_text()
