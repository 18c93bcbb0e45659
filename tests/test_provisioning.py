"""Boot Pending provisioning (OCPP 2.0.1 B02/B03, 1.6 section 4.2): a Pending station is configured by
the commands of WATTSON_PROVISIONING_FILE while it may send only what it was asked for, then accepted
and triggered to boot again; a refused step leaves it Pending with the reason as a station event; an
operator accepts a station with POST /charge-points/{id}/accept. Raw stations on real servers."""

import asyncio
import os
import subprocess
import sys

import orjson
import pytest

from conftest import start_server, unique, until
from fixture_failures import started_once
from ocpp_client import now, station
from wattson.stations.provisioning import load_steps, parse_steps

V201 = ("ocpp2.0.1",)
STEPS = [{"command": "get-base-report", "params": {"report": "full"}},
         {"command": "set-variables", "params": {"variables": [
             {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "120"}]}}]


@pytest.fixture(scope="module")
def provisioning_server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("provisioning")
    (tmp / "provisioning.json").write_bytes(orjson.dumps(STEPS))
    yield from started_once(request, start_server(tmp, "sqlite", command_timeout="30",
                                                  provisioning_file=str(tmp / "provisioning.json")))


async def boot_201(st) -> dict:
    return await st.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {
        "model": "T2", "vendorName": "TestVendor"}})


async def provisioning_events(api, cp: str) -> list[dict]:
    """The station's provisioning events, newest first."""
    events = (await api.get(f"/api/v1/charge-points/{cp}/events")).json()["data"]
    return [e["data"] for e in events if e["kind"] == "provisioning"]


async def at_least(api, cp: str, n: int) -> list[dict] | None:
    events = await provisioning_events(api, cp)
    return events if len(events) >= n else None


async def test_a_pending_201_station_is_provisioned_then_accepted(provisioning_server):
    cp = await provisioning_server.add_station(registration_status="Pending")
    async with provisioning_server.api() as api, station(provisioning_server.ws_url, cp, V201) as st:
        answer = await boot_201(st)
        assert answer["status"] == "Pending" and answer["interval"] >= 1
        report = await st.next_call()
        assert report[2] == "GetBaseReport" and report[3]["reportBase"] == "FullInventory"
        # Pending: a Heartbeat is refused, the report asked for is not.
        assert (await st.call("Heartbeat", {}))[2] == "SecurityError"
        await st.answer(report, {"status": "Accepted"})
        assert await st.ok("NotifyReport", {
            "requestId": report[3]["requestId"], "generatedAt": now(), "seqNo": 0, "reportData": [{
                "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
                "variableAttribute": [{"value": "300"}]}]}) == {}
        setting = await st.next_call()
        assert setting[2] == "SetVariables"
        [data] = setting[3]["setVariableData"]
        assert (data["component"]["name"], data["variable"]["name"], data["attributeValue"]) == (
            "OCPPCommCtrlr", "HeartbeatInterval", "120")
        await st.answer(setting, {"setVariableResult": [{"attributeStatus": "Accepted", "component": data["component"],
                                                         "variable": data["variable"]}]})
        trigger = await st.next_call()
        assert (trigger[2], trigger[3]) == ("TriggerMessage", {"requestedMessage": "BootNotification"})
        await st.answer(trigger, {"status": "Accepted"})
        assert (await boot_201(st))["status"] == "Accepted"
        assert "currentTime" in await st.ok("Heartbeat", {})
        body = (await api.get(f"/api/v1/charge-points/{cp}")).json()
        assert body["registration_status"] == "Accepted"
        [done] = await provisioning_events(api, cp)
        assert done["state"] == "completed" and len(done["commands"]) == 2
        history = (await api.get(f"/api/v1/charge-points/{cp}/commands")).json()["data"]
        assert [cmd["action"] for cmd in history] == ["TriggerMessage", "SetVariables", "GetBaseReport"]


async def test_a_refused_step_leaves_the_station_pending(provisioning_server):
    cp = await provisioning_server.add_station(registration_status="Pending")
    async with provisioning_server.api() as api, station(provisioning_server.ws_url, cp, V201) as st:
        assert (await boot_201(st))["status"] == "Pending"
        report = await st.next_call()
        assert report[2] == "GetBaseReport"
        await st.answer(report, {"status": "Rejected"})
        [failed] = await until(lambda: provisioning_events(api, cp), "the provisioning's failure recorded")
        assert failed["state"] == "failed" and failed["step"] == 1 and failed["command"] == "get-base-report"
        assert failed["reason"] == "GetBaseReport answered Rejected"
        assert (await api.get(f"/api/v1/charge-points/{cp}")).json()["registration_status"] == "Pending"
        assert (await st.call("Heartbeat", {}))[2] == "SecurityError"
        # Its next Pending boot runs the list again; this time it agrees.
        assert (await boot_201(st))["status"] == "Pending"
        report = await st.next_call()
        assert report[2] == "GetBaseReport"
        await st.answer(report, {"status": "Accepted"})
        setting = await st.next_call()
        await st.answer(setting, {"setVariableResult": [{"attributeStatus": "Rejected", **{
            k: setting[3]["setVariableData"][0][k] for k in ("component", "variable")}}]})
        second = (await until(lambda: at_least(api, cp, 2), "the second failure recorded"))[0]
        assert (second["step"], second["reason"]) == (2, "SetVariables: OCPPCommCtrlr.HeartbeatInterval Rejected")
        assert (await api.get(f"/api/v1/charge-points/{cp}")).json()["registration_status"] == "Pending"


async def test_a_step_the_version_cannot_express_leaves_a_16_station_pending(provisioning_server):
    """get-base-report has no OCPP 1.6 equivalent: nothing is sent, the reason is kept."""
    cp = await provisioning_server.add_station(registration_status="Pending")
    async with provisioning_server.api() as api, station(provisioning_server.ws_url, cp) as st:
        assert (await st.boot())["status"] == "Pending"
        [failed] = await until(lambda: provisioning_events(api, cp), "the provisioning's failure recorded")
        assert failed["state"] == "failed" and "no equivalent in OCPP 1.6" in failed["reason"], failed
        assert failed["commands"] == []
        assert (await api.get(f"/api/v1/charge-points/{cp}/commands")).json()["data"] == []


async def test_an_operator_accepts_a_pending_16_station(server):
    cp = await server.add_station(registration_status="Pending")
    async with server.api() as api, station(server.ws_url, cp) as st:
        assert (await st.boot())["status"] == "Pending"
        assert (await st.call("Heartbeat", {}))[2] == "SecurityError"
        accepting = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/accept"))
        trigger = await st.next_call()
        assert (trigger[2], trigger[3]) == ("TriggerMessage", {"requestedMessage": "BootNotification"})
        await st.answer(trigger, {"status": "Accepted"})
        r = await accepting
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["charge_point"]["registration_status"] == "Accepted"
        assert (body["trigger"]["action"], body["trigger"]["status"]) == ("TriggerMessage", "Accepted")
        assert (await st.boot())["status"] == "Accepted"
        assert "currentTime" in await st.ok("Heartbeat", {})
    # Offline: Accepted for its next boot, nothing to trigger.
    other = await server.add_station(registration_status="Rejected")
    async with server.api() as api:
        r = await api.post(f"/api/v1/charge-points/{other}/accept")
        assert r.status_code == 200 and r.json()["trigger"] is None, r.text
        assert r.json()["charge_point"]["registration_status"] == "Accepted"
        assert (await api.post(f"/api/v1/charge-points/{unique()}/accept")).status_code == 404
    async with station(server.ws_url, other) as st:
        assert (await st.boot())["status"] == "Accepted"


# --- the provisioning file ----------------------------------------------------------------------
def test_parse_steps():
    assert parse_steps(orjson.dumps(STEPS).decode())[1].params["variables"][0]["value"] == "120"
    assert parse_steps('[{"command": "clear-cache"}]')[0].params == {}
    for text, message in [("{", "not JSON"), ('{"command": "reset"}', "a JSON list"),
                          ('["reset"]', "entry 1: an object"),
                          ('[{"command": "reset", "extra": 1}]', "entry 1: an object"),
                          ('[{"command": "reboot"}]', "unknown command 'reboot'"),
                          ('[{"command": "remote-start", "params": {"id_tag": "T"}}]', "not sent to a Pending station"),
                          ('[{"command": "clear-cache"}, {"command": "reset", "params": {"type": "warm"}}]',
                           "entry 2 (reset): invalid parameters for reset (type:")]:
        with pytest.raises(ValueError) as err:
            parse_steps(text)
        assert message in str(err.value), err.value


def test_load_steps_names_the_variable(tmp_path):
    assert load_steps(None) == []
    with pytest.raises(ValueError) as err:
        load_steps(tmp_path / "missing.json")
    assert str(err.value).startswith("WATTSON_PROVISIONING_FILE: ") and "not a readable file" in str(err.value)


@pytest.mark.parametrize("content, message", [
    (None, "not a readable file"),
    ("[{\"command\": \"reset\", \"params\": {\"type\": \"warm\"}}]", "entry 1 (reset)"),
], ids=["missing", "invalid"])
def test_serve_stops_at_an_unusable_provisioning_file(tmp_path, content, message):
    path = tmp_path / "provisioning.json"
    if content is not None:
        path.write_text(content)
    env = {**os.environ, "WATTSON_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "WATTSON_PROVISIONING_FILE": str(path)}
    result = subprocess.run([sys.executable, "-m", "wattson", "serve", "--port", "0"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("wattson: WATTSON_PROVISIONING_FILE: ") and message in result.stderr, result.stderr
