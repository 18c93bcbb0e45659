"""GetVariables, SetVariables and GetReport cut to the limits a 2.0.1 station reported
(DeviceDataCtrlr.ItemsPerMessage / BytesPerMessage), transparently to the API caller: the station
receives several messages within its limits, the caller one command with the merged answer.

Real servers (SQLite and PostgreSQL, and a gateway and an API process linked by NATS), a raw 2.0.1
station over WebSocket reporting its limits with NotifyReport and answering each CALL by hand.
"""

import asyncio
import os
import uuid

import orjson
import pytest

from conftest import READY_BOUND_S, _postgres_admin, _postgres_database, run_cli, start_server, unique, until
from fixture_failures import started_once
from ocpp_client import now, station
from test_commands import callerror, command, no_call, receive_call, send

BOOT = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}


def limit(name: str, instance: str, value: int) -> dict:
    return {"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": name, "instance": instance},
            "variableAttribute": [{"type": "Actual", "value": str(value), "mutability": "ReadOnly"}],
            "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": False}}


async def report_limits(st, **limits: tuple[int, int]) -> None:
    """The station reports ItemsPerMessage and BytesPerMessage per action, e.g. GetVariables=(2, 400)."""
    data = [entry for action, (items, size) in limits.items()
            for entry in (limit("ItemsPerMessage", action, items), limit("BytesPerMessage", action, size))]
    await st.ok("NotifyReport", {"requestId": 1, "generatedAt": now(), "seqNo": 0, "reportData": data})


async def booted(server, st) -> None:
    assert (await st.ok("BootNotification", BOOT))["status"] == "Accepted"


def wire_bytes(frame: list) -> int:
    """The frame as Wattson sent it: compact orjson, so re-encoding gives the same bytes."""
    return len(orjson.dumps(frame))


def variables(n: int) -> list[dict]:
    return [{"component": "OCPPCommCtrlr", "variable": f"Variable{i}"} for i in range(n)]


async def answer_gets(st, http, count: int) -> list[list]:
    """Answer ``count`` GetVariables, each entry Accepted with its variable's name as the value."""
    frames = []
    for _ in range(count):
        frame = await receive_call(st, http)
        frames.append(frame)
        await st.answer(frame, {"getVariableResult": [
            {**e, "attributeStatus": "Accepted", "attributeValue": e["variable"]["name"]}
            for e in frame[3]["getVariableData"]]})
    return frames


async def test_get_variables_cut_to_the_reported_limits_and_merged(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        await report_limits(st, GetVariables=(2, 400))
        http = send(api, cp, "get-variables", {"variables": variables(5)})
        frames = await answer_gets(st, http, 3)
        r = await http
        await no_call(st)
    assert [len(f[3]["getVariableData"]) for f in frames] == [2, 2, 1]
    assert all(f[2] == "GetVariables" and wire_bytes(f) <= 400 for f in frames)
    assert r.status_code == 200, r.text
    record = r.json()
    assert record["state"] == "completed" and record["error_code"] is None
    assert [x["attributeValue"] for x in record["response"]["getVariableResult"]] == \
        [f"Variable{i}" for i in range(5)]
    assert len(record["request"]["getVariableData"]) == 5  # the command as asked, once in the history
    async with server.api() as api:
        history = (await api.get(f"/api/v1/charge-points/{cp}/commands")).json()["data"]
        rows = (await api.get(f"/api/v1/charge-points/{cp}/variables", params={"component": "OCPPCommCtrlr"})).json()
    assert [h["id"] for h in history] == [record["id"]]
    # the device model learnt from every part
    assert sorted((v["variable"], v["value"], v["source"]) for v in rows["data"]) == \
        [(f"Variable{i}", f"Variable{i}", "get") for i in range(5)]


async def test_set_variables_cut_by_bytes_too(server):
    cp = await server.add_station()
    settings = [{"component": "OCPPCommCtrlr", "variable": f"V{i}", "value": "x" * (40 + 37 * (i % 4))}
                for i in range(9)]
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        await report_limits(st, SetVariables=(3, 400), GetVariables=(1, 1000))
        http = send(api, cp, "set-variables", {"variables": settings})
        frames, sent = [], 0
        while sent < len(settings):
            frame = await receive_call(st, http)
            frames.append(frame)
            sent += len(frame[3]["setVariableData"])
            await st.answer(frame, {"setVariableResult": [{"component": e["component"], "variable": e["variable"],
                                                           "attributeStatus": "Accepted"}
                                                          for e in frame[3]["setVariableData"]]})
        r = await http
    assert r.status_code == 200, r.text
    assert all(f[2] == "SetVariables" and len(f[3]["setVariableData"]) <= 3 and wire_bytes(f) <= 400
               for f in frames)
    assert len(frames) > 3  # the bytes, not only the 3 entries, cut it
    assert [e["attributeValue"] for f in frames for e in f[3]["setVariableData"]] == [s["value"] for s in settings]
    assert [x["variable"]["name"] for x in r.json()["response"]["setVariableResult"]] == [f"V{i}" for i in range(9)]


async def test_a_part_answered_with_callerror_fails_the_command_with_an_error_per_entry(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        await report_limits(st, GetVariables=(2, 4000))
        http = send(api, cp, "get-variables", {"variables": variables(5)})
        await answer_gets(st, http, 1)
        await callerror(st, await receive_call(st, http), "FormatViolation", "too long for me")
        await answer_gets(st, http, 1)  # the others are still asked
        r = await http
    assert r.status_code == 502, r.text
    record = r.json()["error"]["details"]
    assert (record["state"], record["error_code"]) == ("failed", "FormatViolation")
    assert "entries 3-4" in record["error_description"]
    results = record["response"]["getVariableResult"]
    assert [x["variable"]["name"] for x in results] == [f"Variable{i}" for i in range(5)]
    assert [x["attributeStatus"] for x in results] == ["Accepted", "Accepted", "Rejected", "Rejected", "Accepted"]
    assert results[2]["attributeStatusInfo"]["reasonCode"] == "NotAnswered"
    assert "CALLERROR FormatViolation: too long for me" in results[2]["attributeStatusInfo"]["additionalInfo"]


async def test_a_part_not_answered_times_the_command_out_and_the_rest_is_not_sent(server):
    """The server's command timeout (3 s) covers the whole command, not each part."""
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        await report_limits(st, GetVariables=(2, 4000))
        http = send(api, cp, "get-variables", {"variables": variables(5)})
        await answer_gets(st, http, 1)
        await receive_call(st, http)  # never answered
        r = await http
        await no_call(st)
    assert r.status_code == 504, r.text
    record = r.json()["error"]["details"]
    assert record["state"] == "timeout"
    reasons = [x.get("attributeStatusInfo", {}).get("reasonCode") for x in record["response"]["getVariableResult"]]
    assert reasons == [None, None, "NotAnswered", "NotAnswered", "NotSent"]


async def test_an_entry_too_large_for_any_message_is_not_sent_and_said_so(server):
    cp = await server.add_station()
    settings = [{"component": "OCPPCommCtrlr", "variable": "Small", "value": "1"},
                {"component": "OCPPCommCtrlr", "variable": "Big", "value": "y" * 600}]
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        await report_limits(st, SetVariables=(10, 400))
        http = send(api, cp, "set-variables", {"variables": settings})
        frame = await receive_call(st, http)
        await st.answer(frame, {"setVariableResult": [{"component": {"name": "OCPPCommCtrlr"},
                                                       "variable": {"name": "Small"}, "attributeStatus": "Accepted"}]})
        r = await http
        await no_call(st)
    assert [e["variable"]["name"] for e in frame[3]["setVariableData"]] == ["Small"]
    assert r.status_code == 502, r.text
    record = r.json()["error"]["details"]
    assert record["error_code"] == "TooLarge"
    big = record["response"]["setVariableResult"][1]
    assert (big["variable"], big["attributeStatus"], big["attributeStatusInfo"]["reasonCode"]) == \
        ({"name": "Big"}, "Rejected", "TooLarge")
    assert "BytesPerMessage[SetVariables] of 400" in big["attributeStatusInfo"]["additionalInfo"]


async def test_no_limits_known_is_one_message(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        http = send(api, cp, "get-variables", {"variables": variables(30)})
        frames = await answer_gets(st, http, 1)
        r = await http
        await no_call(st)
    assert len(frames[0][3]["getVariableData"]) == 30
    assert r.status_code == 200 and len(r.json()["response"]["getVariableResult"]) == 30, r.text


async def test_get_report_parts_each_with_a_request_id_and_every_report_stored(server):
    cp = await server.add_station()
    targets = [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"},
               {"component": "TxCtrlr", "variable": "EVConnectionTimeOut"}]
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        await report_limits(st, GetReport=(1, 4000))
        http = send(api, cp, "get-report", {"variables": targets, "request_id": 41})
        frames = []
        for value in ("300", "60"):
            frame = await receive_call(st, http)
            frames.append(frame)
            await st.answer(frame, {"status": "Accepted"})
            target = frame[3]["componentVariable"][0]
            await st.ok("NotifyReport", {"requestId": frame[3]["requestId"], "generatedAt": now(), "seqNo": 0,
                                         "reportData": [{**target, "variableAttribute": [{"value": value}]}]})
        r = await http
        rows = (await api.get(f"/api/v1/charge-points/{cp}/variables")).json()["data"]
    assert [f[3]["requestId"] for f in frames] == [41, 42]
    assert [len(f[3]["componentVariable"]) for f in frames] == [1, 1]
    assert r.status_code == 200, r.text
    record = r.json()
    assert (record["state"], record["status"]) == ("completed", "Accepted")
    assert [(p["requestId"], p["status"]) for p in record["response"]["requests"]] == [(41, "Accepted"),
                                                                                     (42, "Accepted")]
    assert {(v["variable"], v["value"]) for v in rows} >= {("HeartbeatInterval", "300"),
                                                          ("EVConnectionTimeOut", "60")}


# --- a default for stations that said nothing ------------------------------------------------------
@pytest.fixture(scope="module")
def default_limited(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("batching-default"), "sqlite",
                                                  command_timeout="5", default_items_per_message="4",
                                                  default_bytes_per_message="100000"))


async def test_the_configured_default_applies_until_the_station_says_its_own(default_limited):
    server = default_limited
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        http = send(api, cp, "get-variables", {"variables": variables(10)})
        frames = await answer_gets(st, http, 3)
        assert (await http).status_code == 200
        assert [len(f[3]["getVariableData"]) for f in frames] == [4, 4, 2]
        await report_limits(st, GetVariables=(6, 100000))
        http = send(api, cp, "get-variables", {"variables": variables(10)})
        frames = await answer_gets(st, http, 2)
        assert (await http).status_code == 200
    assert [len(f[3]["getVariableData"]) for f in frames] == [6, 4]


# --- across processes: the API in one, the station's gateway in another ------------------------------
def _gateway_and_api(tmp):
    from test_cluster import NATS_URL, Cluster, _require_nats

    _require_nats()
    name = f"wattson_test_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "WATTSON_DATABASE_URL": _postgres_database(name), "WATTSON_BUS_URL": NATS_URL,
           "WATTSON_BUS_PREFIX": f"t{uuid.uuid4().hex[:10]}", "WATTSON_COMMAND_TIMEOUT": "5",
           "WATTSON_LOG_LEVEL": "info"}
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


@pytest.fixture(scope="module")
def split_roles(request, tmp_path_factory):
    yield from started_once(request, _gateway_and_api(tmp_path_factory.mktemp("batching-cluster")))


async def test_cut_by_the_gateway_when_the_api_is_another_process(split_roles):
    gateway, api_node = split_roles.nodes
    async with split_roles.api(api_node) as api:
        r = await api.post("/api/v1/charge-points", json={"id": unique("CL")})
        assert r.status_code == 201, r.text
        cp = r.json()["id"]
        async with station(gateway.ws_url, cp, ("ocpp2.0.1",)) as st:
            await booted(None, st)
            await report_limits(st, GetVariables=(2, 400))

            async def online():
                return (await api.get(f"/api/v1/charge-points/{cp}")).json()["network_status"] == "online"
            await until(online, f"{cp} online through the API process")
            http = asyncio.create_task(command(api, cp, "get-variables", {"variables": variables(5)}))
            frames = await answer_gets(st, http, 3)
            r = await asyncio.wait_for(http, READY_BOUND_S)
    assert [len(f[3]["getVariableData"]) for f in frames] == [2, 2, 1]
    assert all(wire_bytes(f) <= 400 for f in frames)
    assert r.status_code == 200, r.text
    assert [x["attributeValue"] for x in r.json()["response"]["getVariableResult"]] == \
        [f"Variable{i}" for i in range(5)]
