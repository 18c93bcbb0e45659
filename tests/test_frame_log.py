"""The OCPP message log (issue 16): each station's last N frames, both directions, newest first,
with the action a reply answers; kept after a disconnect; through the API of one process and,
across processes, of an API process asking the gateway over NATS."""

import os
import uuid

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from conftest import READY_BOUND_S, _postgres_admin, _postgres_database, run_cli, start_server, unique, until
from fixture_failures import started_once
from ocpp_client import station
from wattson.ocpp.frame_log import FrameLog, describe

CAPACITY = 6


# --- the store, on its own -------------------------------------------------------------------------
def test_the_log_keeps_the_last_n_frames_newest_first():
    frames = FrameLog(3)
    log = frames.opened("CP-1")
    for n in range(5):
        log.append((1_700_000_000.0 + n, False, None, f'[2,"u{n}","Heartbeat",{{}}]'))
    found = frames.entries("CP-1")
    assert [f["unique_id"] for f in found] == ["u4", "u3", "u2"]
    assert found[0] == {"at": "2023-11-14T22:13:24Z", "direction": "in", "type": "CALL", "action": "Heartbeat",
                        "unique_id": "u4", "frame": '[2,"u4","Heartbeat",{}]'}
    assert [f["unique_id"] for f in frames.entries("CP-1", limit=2)] == ["u4", "u3"]


def test_a_reply_carries_the_action_of_the_call_it_answers():
    assert describe((0.0, True, "BootNotification", '[3,"a\\"b",{"status":"Accepted"}]')) | {"at": None} == {
        "at": None, "direction": "out", "type": "CALLRESULT", "action": "BootNotification", "unique_id": 'a"b',
        "frame": '[3,"a\\"b",{"status":"Accepted"}]'}
    error = describe((0.0, False, "Reset", ' [ 4 , "7", "NotSupported", "no", {}]'))
    assert (error["type"], error["action"], error["unique_id"]) == ("CALLERROR", "Reset", "7")
    broken = describe((0.0, False, None, "[2, 17"))
    assert (broken["type"], broken["action"], broken["unique_id"]) == ("INVALID", None, None)


def test_the_action_filter_counts_replies_as_their_call():
    frames = FrameLog(10)
    log = frames.opened("CP-1")
    log.extend([(0.0, False, None, '[2,"1","Heartbeat",{}]'), (0.0, True, "Heartbeat", '[3,"1",{}]'),
                (0.0, False, None, '[2,"2","StatusNotification",{}]'), (0.0, True, "StatusNotification", '[3,"2",{}]')])
    assert [(f["type"], f["unique_id"]) for f in frames.entries("CP-1", action="Heartbeat")] == [
        ("CALLRESULT", "1"), ("CALL", "1")]


def test_a_disconnected_stations_log_is_kept_bounded_and_continued_on_return():
    frames = FrameLog(5, keep_closed=2)
    for cp in ("A", "B", "C"):
        frames.opened(cp).append((0.0, False, None, f'[2,"{cp}","Heartbeat",{{}}]'))
        frames.closed(cp)
    assert not frames.has("A") and frames.has("B") and frames.has("C")  # the oldest disconnected forgotten
    again = frames.opened("B")
    again.append((1.0, False, None, '[2,"B2","Heartbeat",{}]'))
    assert [f["unique_id"] for f in frames.entries("B")] == ["B2", "B"]
    # a second connection of a station still connected shares its log
    assert frames.opened("B") is again


def test_a_zero_capacity_keeps_nothing():
    frames = FrameLog(0)
    assert frames.opened("CP-1") is None
    answer = frames.answer("CP-1")
    assert answer["frames"] == [] and answer["capacity"] == 0 and "WATTSON_OCPP_LOG_FRAMES=0" in answer["note"]


# --- one process --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def log_server(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("frame-log"), "sqlite",
                                                  ocpp_log_frames=str(CAPACITY), command_timeout="5"))


async def ocpp_log(server, cp: str, **params) -> dict:
    async with server.api() as api:
        r = await api.get(f"/api/v1/charge-points/{cp}/ocpp-log", params=params)
        assert r.status_code == 200, r.text
        return r.json()


async def test_boot_notification_and_its_answer_in_order(log_server):
    cp = await log_server.add_station()
    async with station(log_server.ws_url, cp) as st:
        await st.boot()
        log = await ocpp_log(log_server, cp)
    assert log["capacity"] == CAPACITY
    answer, call = log["frames"][:2]
    assert (call["direction"], call["type"], call["action"]) == ("in", "CALL", "BootNotification")
    assert (answer["direction"], answer["type"], answer["action"]) == ("out", "CALLRESULT", "BootNotification")
    assert answer["unique_id"] == call["unique_id"]
    assert answer["at"] >= call["at"]
    assert '"chargePointVendor":"TestVendor"' in call["frame"] and '"status":"Accepted"' in answer["frame"]


async def test_our_calls_and_the_stations_replies_have_the_calls_action(log_server):
    cp = await log_server.add_station()
    async with station(log_server.ws_url, cp) as st, log_server.api() as api:
        await st.boot()
        r = await api.post(f"/api/v1/charge-points/{cp}/commands/clear-cache", params={"wait": "false"})
        assert r.status_code == 202, r.text
        call = await st.next_call()
        await st.answer(call, {"status": "Accepted"})

        async def answered():
            frames = (await ocpp_log(log_server, cp, action="ClearCache"))["frames"]
            return frames if len(frames) == 2 else None
        reply, ours = await until(answered, "the ClearCache call and its reply in the log")
    assert (ours["direction"], ours["type"], ours["unique_id"]) == ("out", "CALL", call[1])
    assert (reply["direction"], reply["type"], reply["action"], reply["unique_id"]) == (
        "in", "CALLRESULT", "ClearCache", call[1])


async def test_the_action_filter_and_the_bound(log_server):
    cp = await log_server.add_station()
    async with station(log_server.ws_url, cp) as st:
        await st.boot()
        for _ in range(CAPACITY):
            await st.ok("Heartbeat", {})
        log = await ocpp_log(log_server, cp)
        assert len(log["frames"]) == CAPACITY  # the boot fell out
        assert {f["action"] for f in log["frames"]} == {"Heartbeat"}
        assert (await ocpp_log(log_server, cp, action="BootNotification"))["frames"] == []
        await st.call("NoSuchAction", {})  # answered with a CALLERROR, logged with its action
        assert [(f["type"], f["direction"]) for f in
                (await ocpp_log(log_server, cp, action="NoSuchAction"))["frames"]] == [("CALLERROR", "out"),
                                                                                       ("CALL", "in")]
        assert len((await ocpp_log(log_server, cp, limit=3))["frames"]) == 3


async def test_the_log_outlives_the_connection_and_bad_asks_are_4xx(log_server):
    cp = await log_server.add_station()
    async with station(log_server.ws_url, cp) as st:
        await st.boot()
    async with log_server.api() as api:
        async def offline():
            return (await api.get(f"/api/v1/charge-points/{cp}")).json()["network_status"] == "offline"
        await until(offline, "the station shown offline")
        log = await ocpp_log(log_server, cp)
        assert [f["action"] for f in log["frames"][:2]] == ["BootNotification", "BootNotification"]
        r = await api.get(f"/api/v1/charge-points/{unique('NONE')}/ocpp-log")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
        r = await api.get(f"/api/v1/charge-points/{cp}/ocpp-log", params={"limit": 0})
        assert r.status_code == 422, r.text
        never = await log_server.add_station()
        log = await ocpp_log(log_server, never)
        assert log["frames"] == [] and "has not connected" in log["note"]


# --- across processes ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_cluster(request, tmp_path_factory):
    yield from started_once(request, _small_cluster(tmp_path_factory.mktemp("log-cluster")))


def _small_cluster(tmp):
    from test_cluster import NATS_URL, Cluster, _require_nats
    _require_nats()
    name = f"wattson_test_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "WATTSON_DATABASE_URL": _postgres_database(name), "WATTSON_BUS_URL": NATS_URL,
           "WATTSON_BUS_PREFIX": f"t{uuid.uuid4().hex[:10]}", "WATTSON_NODE_LEASE_S": "3",
           "WATTSON_OCPP_LOG_FRAMES": str(CAPACITY), "WATTSON_LOG_LEVEL": "info"}
    cluster = None
    try:
        key = run_cli(env, "api-keys", "create", "--name", "tests", "--role", "admin").strip().splitlines()[-1]
        cluster = Cluster(env, tmp, key)
        cluster.start("gateway")
        cluster.start("api")
        yield cluster
    finally:
        for node in cluster.nodes if cluster else []:
            if node.proc.poll() is None:
                cluster.stop(node)
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for node in cluster.nodes:
        text = node.log.read_text()
        assert "Traceback" not in text, f"{node.role} logged an unhandled error:\n{text[-5000:]}"


async def test_an_api_process_reads_the_log_from_the_gateway(small_cluster):
    gateway, api_node = small_cluster.nodes
    async with small_cluster.api(api_node) as api:
        cp = unique("CL")
        assert (await api.post("/api/v1/charge-points", json={"id": cp})).status_code == 201

        async def log() -> dict:
            r = await api.get(f"/api/v1/charge-points/{cp}/ocpp-log", params={"action": "BootNotification"})
            assert r.status_code == 200, r.text
            return r.json()
        async with station(gateway.ws_url, cp) as st:
            await st.boot()
            held = await log()  # from the gateway holding the connection
        assert [(f["direction"], f["type"]) for f in held["frames"]] == [("out", "CALLRESULT"), ("in", "CALL")]
        assert held["capacity"] == CAPACITY

        async def released():
            return (await api.get(f"/api/v1/charge-points/{cp}")).json()["network_status"] == "offline"
        await until(released, "the station shown offline")
        kept = await log()  # nobody holds it now: the gateway that held it last answers
        assert kept["frames"] == held["frames"]
        never = unique("CL")
        assert (await api.post("/api/v1/charge-points", json={"id": never})).status_code == 201
        empty = (await api.get(f"/api/v1/charge-points/{never}/ocpp-log")).json()
        assert empty["frames"] == [] and empty["note"]
        # a station sent to the API process is refused there, and the installer sees why
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(f"{api_node.ws_url}/{cp}", subprotocols=["ocpp1.6"],
                                          open_timeout=READY_BOUND_S):
                pass
        assert refused.value.response.status_code == 404

        async def not_served():
            r = await api.get(f"/api/v1/charge-points/{cp}/connection-diagnostics", params={"reason": "not_served"})
            return r.json()["data"]
        row = (await until(not_served, "the refusal by the API process recorded"))[0]
        assert "gateway" in row["explanation"] and row["node_id"]  # the process that refused it
    # gateway gone: no responders is an empty log with a note, not an error
    small_cluster.stop(gateway)
    async with small_cluster.api(api_node) as api:
        r = await api.get(f"/api/v1/charge-points/{cp}/ocpp-log")
        assert r.status_code == 200 and r.json()["frames"] == [] and "no gateway" in r.json()["note"], r.text
