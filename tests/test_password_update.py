"""A station's new HTTP Basic password over OCPP (stations/password_update.py; TC_A_09, TC_A_10,
1.6 TC_073): sent first, stored only once the station accepted it; the old one works until then and
after a refusal. Real stations over real WebSockets, the operator through the API."""

import asyncio

import pytest
import websockets

from conftest import READY_BOUND_S, until
from ocpp_client import RawStation
from test_commands import receive_call
from test_commands_v201 import BOOT
from test_conformance_v16 import booted
from test_conformance_v201 import NEW_PASSWORD, PASSWORD, basic, boot_201, refused_201

V201, V16 = "ocpp2.0.1", "ocpp1.6"


async def connected(server, cp: str, subprotocol: str, password: str):
    ws = await websockets.connect(f"{server.ws_url}/{cp}", subprotocols=[subprotocol],
                                  additional_headers=basic(cp, password), open_timeout=READY_BOUND_S)
    st = RawStation(ws)
    if subprotocol == V201:
        await st.ok("BootNotification", BOOT)
    else:
        await st.boot()
    return st


async def update(api, st, cp: str, body: dict, reply: dict) -> tuple[list, dict]:
    """Ask for a new password, answer the station's CALL with ``reply``: the frame and the answer."""
    http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/password", json=body))
    frame = await receive_call(st, http)
    await st.answer(frame, reply)
    r = await http
    assert r.status_code == 200, r.text
    return frame, r.json()


def set_variable_result(status: str) -> dict:
    return {"setVariableResult": [{"attributeStatus": status, "component": {"name": "SecurityCtrlr"},
                                   "variable": {"name": "BasicAuthPassword"}}]}


async def security_events(api, cp: str) -> list[dict]:
    r = await api.get("/api/v1/security-events", params={"charge_point_id": cp, "source": "csms"})
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def refused_16(url: str, cp: str, headers: dict) -> int:
    with pytest.raises(websockets.exceptions.InvalidStatus) as err:
        await booted(url, cp, headers)
    return err.value.response.status_code


async def test_a_2_0_1_station_that_accepts_gets_in_with_the_new_password_only(sqlite_server):
    """TC_A_09: SetVariables BasicAuthPassword; Accepted: the new password from then on, the old refused."""
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    st = await connected(sqlite_server, cp, V201, PASSWORD)
    async with sqlite_server.api() as api:
        frame, answer = await update(api, st, cp, {"password": NEW_PASSWORD}, set_variable_result("Accepted"))
        assert frame[2:] == ["SetVariables", {"setVariableData": [
            {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
             "attributeValue": NEW_PASSWORD}]}]
        assert (answer["changed"], answer["reason"]) == (True, None)
        assert NEW_PASSWORD not in str(answer) and answer["command"]["request"]["setVariableData"][0][
            "attributeValue"] == "********"
        history = (await api.get(f"/api/v1/charge-points/{cp}/commands")).json()["data"]
        assert NEW_PASSWORD not in str(history)
        (event,) = await security_events(api, cp)
        assert (event["type"], event["data"]["over_ocpp"], event["data"]["generated"]) == (
            "StationPasswordChanged", True, False)
    await st.close()
    assert await boot_201(sqlite_server.ws_url, cp, basic(cp, NEW_PASSWORD)) == "Accepted"
    assert await refused_201(sqlite_server.ws_url, cp, basic(cp, PASSWORD)) == 401


async def test_a_2_0_1_station_that_rejects_keeps_its_old_password(sqlite_server):
    """TC_A_10: Rejected: nothing stored, the old password still gets in, the new one does not; recorded."""
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    st = await connected(sqlite_server, cp, V201, PASSWORD)
    async with sqlite_server.api() as api:
        _, answer = await update(api, st, cp, {"password": NEW_PASSWORD}, set_variable_result("Rejected"))
        assert answer["changed"] is False
        assert answer["reason"] == "SetVariables: SecurityCtrlr.BasicAuthPassword Rejected"
        (event,) = await security_events(api, cp)
        assert (event["type"], event["severity"], event["data"]["reason"]) == (
            "StationPasswordNotChanged", "warning", answer["reason"])
    await st.close()
    assert await boot_201(sqlite_server.ws_url, cp, basic(cp, PASSWORD)) == "Accepted"
    assert await refused_201(sqlite_server.ws_url, cp, basic(cp, NEW_PASSWORD)) == 401


async def test_a_generated_password_reaches_the_station_and_is_never_shown(sqlite_server):
    """No password given: Wattson makes one (40 passwordString characters), the station has it, the API never shows it."""
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    st = await connected(sqlite_server, cp, V201, PASSWORD)
    async with sqlite_server.api() as api:
        frame, answer = await update(api, st, cp, {}, set_variable_result("Accepted"))
        generated = frame[3]["setVariableData"][0]["attributeValue"]
        assert len(generated) == 40 and generated != PASSWORD
        assert generated not in str(answer) and answer["changed"] is True
    await st.close()
    assert await boot_201(sqlite_server.ws_url, cp, basic(cp, generated)) == "Accepted"
    assert await refused_201(sqlite_server.ws_url, cp, basic(cp, PASSWORD)) == 401


async def test_a_1_6_station_gets_the_authorization_key_hex_encoded_and_accepts(sqlite_server):
    """TC_073: ChangeConfiguration AuthorizationKey, the password's bytes in hexadecimal (1.6 security
    whitepaper); Accepted: the station's Basic password is the decoded value."""
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    st = await connected(sqlite_server, cp, V16, PASSWORD)
    async with sqlite_server.api() as api:
        frame, answer = await update(api, st, cp, {}, {"status": "Accepted"})
        assert (frame[2], frame[3]["key"]) == ("ChangeConfiguration", "AuthorizationKey")
        key = frame[3]["value"]
        assert len(key) == 40 and all(ch in "0123456789abcdef" for ch in key)  # 20 bytes, the most 1.6 takes
        new = bytes.fromhex(key).decode()
        assert answer["changed"] is True and key not in str(answer) and new not in str(answer)
    await st.close()
    assert await booted(sqlite_server.ws_url, cp, basic(cp, new)) == "Accepted"
    assert await refused_16(sqlite_server.ws_url, cp, basic(cp, PASSWORD)) == 401


async def test_a_1_6_station_that_rejects_keeps_its_old_password(sqlite_server):
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    st = await connected(sqlite_server, cp, V16, PASSWORD)
    async with sqlite_server.api() as api:
        frame, answer = await update(api, st, cp, {"password": "sixteen-chars-16"}, {"status": "Rejected"})
        assert frame[3] == {"key": "AuthorizationKey", "value": b"sixteen-chars-16".hex()}
        assert (answer["changed"], answer["reason"]) == (False, "ChangeConfiguration answered Rejected")
        (event,) = await security_events(api, cp)
        assert event["type"] == "StationPasswordNotChanged"
    await st.close()
    assert await booted(sqlite_server.ws_url, cp, basic(cp, PASSWORD)) == "Accepted"
    assert await refused_16(sqlite_server.ws_url, cp, basic(cp, "sixteen-chars-16")) == 401


async def test_what_cannot_be_sent_is_refused_before_anything_goes(sqlite_server):
    """422 for a profile without a password and for a 1.6 password over 20 bytes; 409 offline; 404 unknown."""
    open_cp = await sqlite_server.add_station()
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    st = await connected(sqlite_server, cp, V16, PASSWORD)
    async with sqlite_server.api() as api:
        r = await api.post(f"/api/v1/charge-points/{open_cp}/password", json={})
        assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error"), r.text
        r = await api.post(f"/api/v1/charge-points/{cp}/password", json={"password": NEW_PASSWORD})  # 24 bytes
        assert r.status_code == 422 and "20 bytes" in r.json()["error"]["message"], r.text
        r = await api.post(f"/api/v1/charge-points/{cp}/password", json={"password": "short"})
        assert r.status_code == 422, r.text
        r = await api.post("/api/v1/charge-points/NO-SUCH-STATION/password", json={})
        assert r.status_code == 404, r.text
        await st.close()
        await until(lambda: _offline(api, cp), f"{cp} offline")
        r = await api.post(f"/api/v1/charge-points/{cp}/password", json={})
        assert (r.status_code, r.json()["error"]["code"]) == (409, "station_offline"), r.text
        assert await security_events(api, cp) == []


async def _offline(api, cp: str) -> bool:
    return (await api.get(f"/api/v1/charge-points/{cp}")).json()["network_status"] == "offline"


# --- the rules, without a server ------------------------------------------------------------------
def test_the_rules_of_a_new_password():
    from wattson.stations.password_update import (ALPHABET, MASK, authorization_key, command_for, generate_password,
                                                  masked, update_problem)
    assert len(generate_password("1.6")) == 20 and len(generate_password("2.0.1")) == 40
    assert set(generate_password("2.1")) <= set(ALPHABET) and generate_password("2.1") != generate_password("2.1")
    assert authorization_key("sixteen-chars-16") == "7369787465656e2d63686172732d3136"
    assert update_problem("1.6", "x" * 20) is None and "20 bytes" in update_problem("1.6", "x" * 21)
    assert update_problem("2.0.1", "x" * 40) is None and update_problem("2.0.1", "x" * 41)
    assert command_for("1.6", "sixteen-chars-16") == (
        "change-configuration", {"key": "AuthorizationKey", "value": "7369787465656e2d63686172732d3136"})
    assert command_for("2.0.1", "p" * 16)[1]["variables"][0]["value"] == "p" * 16
    assert masked({"a": ["k", {"b": "k"}], "c": "kk", "n": 1}, ("k",)) == {"a": [MASK, {"b": MASK}], "c": "kk", "n": 1}
