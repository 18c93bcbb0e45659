"""SetVariableMonitoring and ClearVariableMonitoring cut to the limits a 2.0.1 station reported
(MonitoringCtrlr.ItemsPerMessage / BytesPerMessage, instance = the action; TC_N_18), as
GetVariables and friends are (tests/test_device_model_batching.py): the station receives several
messages within its limits, the operator's raw call one command with the merged answer.
"""

import asyncio

from ocpp_client import now, station
from test_commands import callerror, no_call, receive_call
from test_device_model_batching import booted, limit, wire_bytes


async def report_monitoring_limits(st, **limits: tuple[int, int]) -> None:
    """The station reports MonitoringCtrlr's ItemsPerMessage and BytesPerMessage per action."""
    data = [{**entry, "component": {"name": "MonitoringCtrlr"}} for action, (items, size) in limits.items()
            for entry in (limit("ItemsPerMessage", action, items), limit("BytesPerMessage", action, size))]
    await st.ok("NotifyReport", {"requestId": 1, "generatedAt": now(), "seqNo": 0, "reportData": data})


def raw(api, cp: str, action: str, payload: dict) -> asyncio.Task:
    return asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/ocpp/{action}", json=payload))


def monitor(i: int, **extra) -> dict:
    return {"value": 10.0 + i, "type": "UpperThreshold", "severity": 5, "component": {"name": "EVSE"},
            "variable": {"name": f"Power{i}"}, **extra}


async def test_tc_n_18_clear_monitoring_cut_to_items_per_message_and_merged(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        await report_monitoring_limits(st, ClearVariableMonitoring=(2, 4000))
        http = raw(api, cp, "ClearVariableMonitoring", {"id": [11, 12, 13, 14, 15]})
        frames = []
        for _ in range(3):
            frame = await receive_call(st, http)
            frames.append(frame)
            await st.answer(frame, {"clearMonitoringResult": [
                {"id": i, "status": "NotFound" if i == 14 else "Accepted"} for i in frame[3]["id"]]})
        r = await http
        await no_call(st)
    assert [(f[2], f[3]["id"]) for f in frames] == [("ClearVariableMonitoring", [11, 12]),
                                                    ("ClearVariableMonitoring", [13, 14]),
                                                    ("ClearVariableMonitoring", [15])]
    assert r.status_code == 200, r.text
    record = r.json()
    assert (record["state"], record["request"]) == ("completed", {"id": [11, 12, 13, 14, 15]})
    assert [(x["id"], x["status"]) for x in record["response"]["clearMonitoringResult"]] == [
        (11, "Accepted"), (12, "Accepted"), (13, "Accepted"), (14, "NotFound"), (15, "Accepted")]


async def test_set_monitoring_cut_by_bytes_and_a_refused_part_rejects_its_entries(server):
    """By BytesPerMessage: every frame within it; a part answered with CALLERROR fails the command,
    each of its monitors Rejected with the reason, the others as the station answered."""
    cp = await server.add_station()
    data = [monitor(0), monitor(1, id=7), monitor(2), monitor(3)]
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        await report_monitoring_limits(st, SetVariableMonitoring=(10, 420), ClearVariableMonitoring=(1, 4000))
        http = raw(api, cp, "SetVariableMonitoring", {"setMonitoringData": data})
        frames = [await receive_call(st, http)]
        await st.answer(frames[0], {"setMonitoringResult": [
            {"id": 100 + n, "status": "Accepted", "type": e["type"], "severity": e["severity"],
             "component": e["component"], "variable": e["variable"]}
            for n, e in enumerate(frames[0][3]["setMonitoringData"])]})
        frames.append(await receive_call(st, http))
        await callerror(st, frames[1], "FormatViolation", "too long for me")
        r = await http
        await no_call(st)
    assert all(f[2] == "SetVariableMonitoring" and wire_bytes(f) <= 420 for f in frames)
    sent = [e["variable"]["name"] for f in frames for e in f[3]["setMonitoringData"]]
    assert sent == ["Power0", "Power1", "Power2", "Power3"] and len(frames[0][3]["setMonitoringData"]) == 2
    assert r.status_code == 502, r.text
    record = r.json()["error"]["details"]
    assert (record["state"], record["error_code"]) == ("failed", "FormatViolation")
    results = record["response"]["setMonitoringResult"]
    assert [x["status"] for x in results] == ["Accepted", "Accepted", "Rejected", "Rejected"]
    assert results[2]["variable"] == {"name": "Power2"} and results[2]["statusInfo"]["reasonCode"] == "NotAnswered"
    assert "CALLERROR FormatViolation: too long for me" in results[3]["statusInfo"]["additionalInfo"]
    assert (results[3]["type"], results[3]["severity"]) == ("UpperThreshold", 5)


async def test_device_data_limits_do_not_bound_monitoring_calls(server):
    """GetVariables' DeviceDataCtrlr limit of 1 leaves a ClearVariableMonitoring whole: its limits are MonitoringCtrlr's."""
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await booted(server, st)
        await st.ok("NotifyReport", {"requestId": 1, "generatedAt": now(), "seqNo": 0, "reportData": [
            limit("ItemsPerMessage", "GetVariables", 1), limit("ItemsPerMessage", "ClearVariableMonitoring", 1)]})
        http = raw(api, cp, "ClearVariableMonitoring", {"id": [1, 2, 3]})
        frame = await receive_call(st, http)
        await st.answer(frame, {"clearMonitoringResult": [{"id": i, "status": "Accepted"} for i in frame[3]["id"]]})
        r = await http
        await no_call(st)
    assert frame[3] == {"id": [1, 2, 3]} and r.status_code == 200, r.text
