"""`POST /api/v1/charge-points/{id}/ocpp/{Action}`: an exact OCPP call, validated before sending."""

import asyncio

from conftest import READY_BOUND_S
from ocpp_client import station


async def test_raw_call_goes_out_exactly_and_is_recorded(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st, server.api() as api:
        await st.boot()
        payload = {"key": ["HeartbeatInterval", "MeterValueSampleInterval"]}
        http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/ocpp/GetConfiguration", json=payload))
        frame = await st.next_call()
        assert frame[2:] == ["GetConfiguration", payload]
        reply = {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "120"}],
                 "unknownKey": ["MeterValueSampleInterval"]}
        await st.answer(frame, reply)
        r = await http
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["name"], body["action"], body["request"], body["response"], body["state"]) == \
            ("ocpp", "GetConfiguration", payload, reply, "completed")
        history = (await api.get(f"/api/v1/charge-points/{cp}/commands")).json()["data"]
        assert history[0]["id"] == body["id"] and history[0]["params"] == {"action": "GetConfiguration"}


async def test_security_extension_actions_are_allowed(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st, server.api() as api:
        await st.boot()
        http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/ocpp/ExtendedTriggerMessage",
                                            json={"requestedMessage": "SignChargePointCertificate"}))
        frame = await st.next_call()
        await st.answer(frame, {"status": "Accepted"})
        assert (await http).json()["status"] == "Accepted"


async def test_raw_call_refusals(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st, server.api() as api:
        await st.boot()
        for action, payload, code in [
            ("BootNotification", {"chargePointVendor": "x", "chargePointModel": "y"}, "command_not_supported"),
            ("Teleport", {}, "command_not_supported"),
            ("GetConfiguration", {"key": "HeartbeatInterval"}, "validation_error"),
            ("Reset", {"type": "Gentle"}, "validation_error"),
            ("Reset", {}, "validation_error"),
        ]:
            r = await api.post(f"/api/v1/charge-points/{cp}/ocpp/{action}", json=payload)
            assert r.status_code == 422, (action, r.text)
            assert r.json()["error"]["code"] == code, (action, r.json())
        assert st.calls.empty()  # nothing invalid reached the station
        assert (await api.post(f"/api/v1/charge-points/{cp}/ocpp/Reset", json=[1])).status_code == 422
        assert (await api.post(f"/api/v1/charge-points/{cp}/ocpp/Re-set", json={})).status_code == 422
    async with server.api() as api:
        offline = await api.post(f"/api/v1/charge-points/{cp}/ocpp/ClearCache", json={})
        assert offline.status_code == 409 and offline.json()["error"]["code"] == "station_offline"
        assert (await api.post("/api/v1/charge-points/NO-SUCH-CP/ocpp/ClearCache", json={})).status_code == 404
        viewer = (await api.post("/api/v1/api-keys", json={"name": "ro", "role": "viewer"})).json()["key"]
    async with server.api(viewer) as ro:
        assert (await ro.post(f"/api/v1/charge-points/{cp}/ocpp/ClearCache", json={})).status_code == 403


async def test_raw_call_without_waiting(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st, server.api() as api:
        await st.boot()
        r = await api.post(f"/api/v1/charge-points/{cp}/ocpp/ClearCache", json={}, params={"wait": "false"})
        assert r.status_code == 202 and r.json()["state"] == "pending"
        frame = await st.next_call()
        await st.answer(frame, {"status": "Rejected"})
        for _ in range(int(READY_BOUND_S / 0.05)):
            polled = (await api.get(f"/api/v1/commands/{r.json()['id']}")).json()
            if polled["state"] != "pending":
                break
            await asyncio.sleep(0.05)
        assert (polled["state"], polled["status"]) == ("completed", "Rejected")
