"""Several Wattson processes on one PostgreSQL database and one NATS (issue 15): two gateways, an
API and workers, each a real `wattson serve --role ...` process; stations are raw OCPP clients.

Commands through the API reach a station on either gateway; a station moving to the other
gateway takes its connection along; a gateway killed with `kill -9` has its stations shown
offline within its lease while the others stay online, and they finish their sessions on the
other gateway; an extra API process changes no station's state; one worker at a time runs the
background jobs, and a standby takes over when it dies.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import (READY_BOUND_S, STARTUP_BOUND_S, _postgres_admin, _postgres_database, free_port, run_cli,
                      unique, until)
from fixture_failures import started_once
from ocpp_client import now, station
from test_database_outage import CuttableProxy
from wattson.bus.nats import unreachable

NATS_URL = os.environ.get("WATTSON_TEST_NATS_URL", "nats://127.0.0.1:4222")
REQUIRE_NATS = os.environ.get("WATTSON_TEST_REQUIRE_NATS") == "1"
LEASE_S = 3  # short, so that a killed gateway's stations go offline soon (polled, never timed)


def _require_nats() -> None:
    problem = asyncio.run(unreachable(NATS_URL))
    if problem:
        reason = f"NATS at {NATS_URL} not usable ({problem})"
        if REQUIRE_NATS:
            pytest.fail(reason + " and WATTSON_TEST_REQUIRE_NATS=1")
        pytest.skip(reason)


@dataclass
class Node:
    role: str
    port: int
    log: Path
    proc: subprocess.Popen

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def health(self) -> dict:
        return httpx.get(f"{self.http_url}/health", timeout=10).json()


@dataclass
class Cluster:
    env: dict
    tmp: Path
    api_key: str
    nodes: list[Node] = field(default_factory=list)

    def start(self, role: str, **env: str) -> Node:
        port = free_port()
        log = self.tmp / f"{role}-{port}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "wattson", "serve", "--role", role, "--port", str(port)],
                                    env={**self.env, "WATTSON_NODE_ID": f"{role}-{port}", **env}, stdout=out,
                                    stderr=subprocess.STDOUT)
        node = Node(role, port, log, proc)
        self.nodes.append(node)
        deadline = time.monotonic() + STARTUP_BOUND_S
        while True:
            try:
                if httpx.get(f"{node.http_url}/health/ready", timeout=10).status_code == 200:
                    return node
            except httpx.TransportError:
                pass
            assert proc.poll() is None, f"{role} exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"{role} did not become ready:\n{log.read_text()}"
            time.sleep(0.1)

    def stop(self, node: Node, sig: int = signal.SIGTERM) -> None:
        node.proc.send_signal(sig)
        try:
            node.proc.wait(30)
        except subprocess.TimeoutExpired:
            node.proc.kill()
            node.proc.wait()

    def api(self, node: Node) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=node.http_url, timeout=READY_BOUND_S,
                                 headers={"Authorization": f"Bearer {self.api_key}"})


def _cluster(tmp: Path, roles: tuple[str, ...] = ("gateway", "gateway", "api", "worker"), **settings: str):
    """The processes of ``roles`` on a fresh database; ``settings`` as WATTSON_* for all of them."""
    _require_nats()
    name = f"wattson_test_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "WATTSON_DATABASE_URL": _postgres_database(name), "WATTSON_BUS_URL": NATS_URL,
           "WATTSON_BUS_PREFIX": f"t{uuid.uuid4().hex[:10]}", "WATTSON_NODE_LEASE_S": str(LEASE_S),
           "WATTSON_COMMAND_TIMEOUT": "5", "WATTSON_LOG_LEVEL": "info",
           **{f"WATTSON_{k.upper()}": v for k, v in settings.items()}}
    cluster = None
    try:
        key = run_cli(env, "api-keys", "create", "--name", "tests", "--role", "admin").strip().splitlines()[-1]
        cluster = Cluster(env, tmp, key)
        for role in roles:
            cluster.start(role)
        yield cluster
    finally:
        for node in cluster.nodes if cluster else []:
            if node.proc.poll() is None:
                cluster.stop(node)
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for node in cluster.nodes:  # a killed node's log may end anywhere; none may hold a traceback
        text = node.log.read_text()
        assert "Traceback" not in text, f"{node.role} on {node.port} logged an unhandled error:\n{text[-5000:]}"


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory):
    yield from started_once(request, _cluster(tmp_path_factory.mktemp("cluster")))


def gateways(cluster: Cluster) -> list[Node]:
    return [n for n in cluster.nodes if n.role == "gateway" and n.proc.poll() is None]


def api_node(cluster: Cluster) -> Node:
    return next(n for n in cluster.nodes if n.role == "api" and n.proc.poll() is None)


async def add_station(cluster: Cluster) -> str:
    async with cluster.api(api_node(cluster)) as api:
        r = await api.post("/api/v1/charge-points", json={"id": unique("CL")})
        assert r.status_code == 201, r.text
        return r.json()["id"]


async def network_status(api: httpx.AsyncClient, cp: str) -> str:
    r = await api.get(f"/api/v1/charge-points/{cp}")
    assert r.status_code == 200, r.text
    return r.json()["network_status"]


async def shown(api, cp: str, status: str, why: str = "") -> None:
    """Wait until the API shows the station's network status as ``status``."""
    async def check():
        return await network_status(api, cp) == status
    await until(check, f"{cp} {status} {why}")


async def online(api, cp: str) -> None:
    await shown(api, cp, "online")


async def answer_next_call(st, reply: dict) -> list:
    frame = await st.next_call()
    await st.answer(frame, reply)
    return frame


# --- the tests -----------------------------------------------------------------------------------
async def test_commands_through_the_api_reach_stations_on_either_gateway(cluster):
    g1, g2 = gateways(cluster)
    cp1, cp2 = await add_station(cluster), await add_station(cluster)
    async with station(g1.ws_url, cp1) as st1, station(g2.ws_url, cp2) as st2, cluster.api(api_node(cluster)) as api:
        await st1.boot()
        await st2.boot()
        for cp, st in ((cp1, st1), (cp2, st2)):
            await online(api, cp)
            http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/commands/reset", json={"type": "soft"}))
            frame = await answer_next_call(st, {"status": "Accepted"})
            assert frame[2:] == ["Reset", {"type": "Soft"}]
            r = await http
            assert r.status_code == 200, r.text
            assert (r.json()["state"], r.json()["status"]) == ("completed", "Accepted")
            # a raw call in the station's own protocol, and one that does not wait
            http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/ocpp/ClearCache", json={}))
            assert (await answer_next_call(st, {"status": "Rejected"}))[2] == "ClearCache"
            assert (await http).json()["status"] == "Rejected"
            r = await api.post(f"/api/v1/charge-points/{cp}/commands/unlock", json={"evse": 1, "connector": 1},
                               params={"wait": "false"})
            assert r.status_code == 202, r.text
            await answer_next_call(st, {"status": "Unlocked"})

            async def completed(command_id=r.json()["id"]):
                return (await api.get(f"/api/v1/commands/{command_id}")).json()["state"] == "completed"
            await until(completed, "the command sent with wait=false completed")
        # a station that does not answer: the gateway's timeout, 504, as in one process
        r = await api.post(f"/api/v1/charge-points/{cp2}/commands/reset", json={"type": "soft"})
        assert r.status_code == 504 and r.json()["error"]["details"]["state"] == "timeout", r.text
        await st2.next_call()  # it did reach the station
        # a call the station's protocol does not have is refused by its gateway, across processes
        r = await api.post(f"/api/v1/charge-points/{cp1}/ocpp/RequestStartTransaction", json={})
        assert r.status_code == 422 and r.json()["error"]["code"] == "command_not_supported", r.text
    # nobody holds it now: refused at once, not after a timeout
    async with cluster.api(api_node(cluster)) as api:
        await shown(api, cp1, "offline", "after it closed")
        r = await api.post(f"/api/v1/charge-points/{cp1}/commands/reset", json={"type": "soft"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "station_offline", r.text


async def test_each_role_refuses_what_it_does_not_serve_with_a_json_404(cluster):
    import websockets

    g1, api, worker = gateways(cluster)[0], api_node(cluster), next(n for n in cluster.nodes if n.role == "worker")
    for node in (g1, worker):
        async with cluster.api(node) as client:
            r = await client.get("/api/v1/charge-points")
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_served", r.text
            assert (await client.get("/health/ready")).status_code == 200
            assert (await client.get("/metrics")).status_code == 200
    for node in (api, worker):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(f"{node.ws_url}/CP-X", subprotocols=["ocpp1.6"], open_timeout=READY_BOUND_S):
                pass
        assert refused.value.response.status_code == 404
        assert b"not_served" in refused.value.response.body
    assert [n.health()["role"] for n in (g1, api, worker)] == ["gateway", "api", "worker"]


async def test_gateways_publish_what_their_stations_say(cluster):
    import nats
    import orjson

    g1 = gateways(cluster)[0]
    prefix = cluster.env["WATTSON_BUS_PREFIX"]
    nc = await nats.connect(NATS_URL)
    heard = []

    async def on_event(msg):
        heard.append((msg.subject.split(".", 2)[2], orjson.loads(msg.data)))
    try:
        await nc.subscribe(f"{prefix}.evt.>", cb=on_event)
        cp = await add_station(cluster)
        tag = unique("TAG")
        async with cluster.api(api_node(cluster)) as api:
            assert (await api.post("/api/v1/id-tokens", json={"uid": tag})).status_code == 201
        async with station(g1.ws_url, cp) as st:
            await st.boot()
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"})
            started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                       "timestamp": now()})
            await st.ok("StopTransaction", {"transactionId": started["transactionId"], "meterStop": 10,
                                            "timestamp": now()})
            await st.ok("Heartbeat", {})  # no news

        def kinds():
            return [kind.rsplit(".", 1)[0] for kind, event in heard if event["station"] == cp]

        async def all_heard():
            return kinds() == ["connected", "boot", "status", "session.started", "session.ended", "disconnected"]
        await until(all_heard, f"the events of {cp}, heard so far: {kinds()}")
        boot = next(event for kind, event in heard if kind.startswith("boot.") and event["station"] == cp)
        connected = next(event for kind, event in heard if kind.startswith("connected.") and event["station"] == cp)
        assert boot["node"] == connected["node"] and (boot["version"], boot["action"]) == ("1.6", "BootNotification")
        assert boot["response"]["status"] == "Accepted"
        info = await nc.jetstream().stream_info(f"{prefix.upper()}_EVENTS")
        assert info.state.messages >= 6  # kept for consumers that were away
    finally:
        await nc.close()


async def test_a_station_moving_to_the_other_gateway_takes_its_connection_along(cluster):
    g1, g2 = gateways(cluster)
    cp = await add_station(cluster)
    async with cluster.api(api_node(cluster)) as api, station(g1.ws_url, cp) as old:
        await old.boot()
        await online(api, cp)
        async with station(g2.ws_url, cp) as new:
            await new.boot()
            await asyncio.wait_for(old._reader, READY_BOUND_S)  # the first gateway closed the old one
            assert old.ws.close_code == 1000
            await online(api, cp)
            http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/commands/reset", json={"type": "hard"}))
            await answer_next_call(new, {"status": "Accepted"})
            assert (await http).status_code == 200
            assert await network_status(api, cp) == "online"  # the old connection's end changed nothing


async def test_an_extra_api_process_changes_no_stations_state(cluster):
    g1, _ = gateways(cluster)
    cp = await add_station(cluster)
    async with cluster.api(api_node(cluster)) as api, station(g1.ws_url, cp) as st:
        await st.boot()
        await online(api, cp)
        extra = cluster.start("api")
        async with cluster.api(extra) as api2:
            assert await network_status(api2, cp) == "online"
        cluster.stop(extra)
        assert await network_status(api, cp) == "online"
        assert extra.proc.returncode in (0, -signal.SIGTERM)  # uvicorn ends by the signal it handled
        assert "ERROR" not in extra.log.read_text()


async def test_with_its_bus_cut_an_api_process_answers_503_and_recovers_by_itself(cluster):
    g1 = gateways(cluster)[0]
    cp = await add_station(cluster)
    proxy = CuttableProxy(urlsplit(NATS_URL).port or 4222)
    try:
        cut_off = cluster.start("api", WATTSON_BUS_URL=f"nats://127.0.0.1:{proxy.port}")
        async with cluster.api(cut_off) as api, station(g1.ws_url, cp) as st:
            await st.boot()
            await online(api, cp)
            proxy.cut()

            async def refused():
                r = await api.post(f"/api/v1/charge-points/{cp}/commands/reset", json={"type": "soft"})
                return r.status_code == 503 and r.json()["error"]["code"] == "bus_unavailable" and r
            await until(refused, "503 bus_unavailable while the bus is cut")
            r = await api.get("/health/ready")
            assert r.status_code == 503 and r.json()["checks"]["bus"] != "ok", r.text
            assert await network_status(api, cp) == "online"  # the station, on its gateway, is untouched
            proxy.restore()

            async def ready():
                return (await api.get("/health/ready")).status_code == 200
            await until(ready, "ready again once the bus is back")
            http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/commands/reset", json={"type": "soft"}))
            await answer_next_call(st, {"status": "Accepted"})
            assert (await http).json()["state"] == "completed"
        cluster.stop(cut_off)
    finally:
        proxy.restore()
        proxy.close()


async def test_one_worker_runs_the_jobs_and_a_standby_takes_over(cluster):
    standby = cluster.start("worker")
    workers = [n for n in cluster.nodes if n.role == "worker" and n.proc.poll() is None]

    async def one_active():
        states = sorted(n.health()["worker"] for n in workers)
        return states == ["active", "standby"] and states
    await until(one_active, "exactly one active worker")
    active = next(n for n in workers if n.health()["worker"] == "active")
    cluster.stop(active, signal.SIGKILL)
    survivor = next(n for n in workers if n is not active)

    async def took_over():
        return survivor.health()["worker"] == "active"
    await until(took_over, "the standby worker took over")
    assert standby in workers


async def test_a_killed_gateways_stations_go_offline_and_finish_on_the_other(cluster):
    g1, g2 = gateways(cluster)
    moving, staying = await add_station(cluster), await add_station(cluster)
    tag = unique("TAG")
    async with cluster.api(api_node(cluster)) as api:
        assert (await api.post("/api/v1/id-tokens", json={"uid": tag})).status_code == 201
        async with station(g1.ws_url, moving) as st, station(g2.ws_url, staying) as other:
            await st.boot()
            await other.boot()
            started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000,
                                                       "timestamp": now()})
            transaction_id = started["transactionId"]
            await st.ok("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [
                {"timestamp": now(), "sampledValue": [{"value": "1500", "measurand": "Energy.Active.Import.Register"}]}]})
            await online(api, moving)
            await online(api, staying)
            cluster.stop(g1, signal.SIGKILL)

            await shown(api, moving, "offline", "after its gateway was killed")
            assert await network_status(api, staying) == "online"
        async with station(g2.ws_url, moving) as st:  # it reconnects to the gateway left
            await st.boot()
            await online(api, moving)
            await st.ok("StopTransaction", {"transactionId": transaction_id, "meterStop": 2500, "timestamp": now()})
        r = await api.get("/api/v1/sessions", params={"charge_point_id": moving})
        sessions = r.json()["data"]
        assert len(sessions) == 1, sessions
        assert (sessions[0]["status"], sessions[0]["energy_wh"]) == ("finished", 1500)
