"""Raising a station's security profile over OCPP (2.0.1 A05, the 1.6 security whitepaper), over real
TLS on loopback: raw 2.0.1 and 1.6 stations receive the calls, answer them, reconnect on the new
profile and are admitted on it, and refused on the old one from then on; while the upgrade is pending
the old profile still works (the station's fallback); a refused step fails the upgrade; a pending one
can be cancelled. And the rules behind it, without I/O."""

import asyncio
import base64
import ssl
from contextlib import asynccontextmanager
from types import SimpleNamespace

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from certs import TestCa
from conftest import READY_BOUND_S, free_port, start_server, unique
from fixture_failures import started_once
from ocpp_client import RawStation
from wattson.stations import commands as c
from wattson.stations.agreement import refusal
from wattson.stations.passwords import hash_password
from wattson.stations.password_update import MASK
from wattson.stations.security_upgrade import first_in_priority, free_slot, priority_read, slots_of
from wattson.stations.service import Credentials, admitted_profile

PASSWORD = "s3cret-Station-Pa55"
NEW_PASSWORD = "n3w-Station-Pa55-wd"  # 1.6 AuthorizationKey: at most 20 bytes
V201 = ("ocpp2.0.1",)
V16 = ("ocpp1.6",)


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca = TestCa(tmp_path_factory.mktemp("pki"))
    return {"ca": ca, "server": ca.server()}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def tls_server(request, pki, tmp_path_factory):
    """Plain and TLS listeners, client certificates verified, the public wss:// URL configured; on
    each database (the writer completes an upgrade in its batch statement)."""
    ca, cert, tls_port = pki["ca"], pki["server"], str(free_port())
    yield from started_once(request, start_server(
        tmp_path_factory.mktemp("upgrade"), request.param, tls_cert=str(cert.cert), tls_key=str(cert.key),
        tls_client_ca=str(ca.cert_path), tls_port=tls_port, command_timeout="30",
        public_ocpp_url_tls=f"wss://127.0.0.1:{tls_port}/ocpp"))


@asynccontextmanager
async def connected(url: str, cp: str, subprotocols, *, headers: dict | None = None,
                    context: ssl.SSLContext | None = None):
    async with websockets.connect(f"{url}/{cp}", subprotocols=list(subprotocols), ssl=context,
                                  additional_headers=headers or {}, compression=None,
                                  open_timeout=READY_BOUND_S) as ws:
        client = RawStation(ws)
        try:
            yield client
        finally:
            client._reader.cancel()


async def boot(st: RawStation) -> str:
    if st.ws.subprotocol == "ocpp1.6":
        return (await st.boot())["status"]
    return (await st.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {
        "model": "T2", "vendorName": "TestVendor"}}))["status"]


async def refused(url: str, cp: str, subprotocols, **kwargs) -> int:
    with pytest.raises(InvalidStatus) as err:
        async with connected(url, cp, subprotocols, **kwargs):
            pass
    return err.value.response.status_code


async def answer(st: RawStation, action: str, payload: dict) -> dict:
    """Wait for our next call, which must be ``action``; answer it; its payload."""
    call = await st.next_call()
    assert call[2] == action, call
    await st.answer(call, payload)
    return call[3]


def variable_results(request: dict, status: str = "Accepted") -> dict:
    return {"setVariableResult": [{"attributeStatus": status, "component": d["component"], "variable": d["variable"]}
                                  for d in request["setVariableData"]]}


async def upgrade(api, cp: str, body: dict):
    return await api.post(f"/api/v1/charge-points/{cp}/security-profile", json=body)


async def profile_of(api, cp: str) -> dict:
    r = await api.get(f"/api/v1/charge-points/{cp}/security-profile")
    assert r.status_code == 200, r.text
    return r.json()


# --- OCPP 2.0.1 ----------------------------------------------------------------------------------
async def test_a_201_station_moves_from_profile_1_to_2(tls_server, pki):
    cp = await tls_server.add_station(security_profile=1, password=PASSWORD)
    trusting = pki["ca"].client_context()
    async with tls_server.api() as api:
        async with connected(tls_server.ws_url, cp, V201, headers=basic(cp, PASSWORD)) as st:
            assert await boot(st) == "Accepted"
            request = asyncio.create_task(upgrade(api, cp, {"security_profile": 2}))
            read = await answer(st, "GetVariables", {"getVariableResult": [{
                "attributeStatus": "Accepted", "attributeValue": "1", "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "NetworkConfigurationPriority"}}]})
            assert read["getVariableData"][0]["variable"]["name"] == "NetworkConfigurationPriority"
            profile = await answer(st, "SetNetworkProfile", {"status": "Accepted"})
            assert profile["configurationSlot"] == 2  # the first slot the priority list does not use
            data = profile["connectionData"]
            assert (data["securityProfile"], data["ocppCsmsUrl"], data["ocppTransport"], data["ocppVersion"]) == (
                2, tls_server.wss_url, "JSON", "OCPP20")
            priority = await st.next_call()
            assert priority[2] == "SetVariables"
            [setting] = priority[3]["setVariableData"]
            assert (setting["component"]["name"], setting["variable"]["name"], setting["attributeValue"]) == (
                "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,1")  # new first, the old one to fall back to
            await st.answer(priority, variable_results(priority[3]))
            reset = await answer(st, "Reset", {"status": "Accepted"})
            assert reset["type"] == "OnIdle"
            r = await request
            assert r.status_code == 200, r.text
            body = r.json()
            assert (body["security_profile"], body["pending_security_profile"], body["security_upgrade"]) == (1, 2, "pending")
            assert [cmd["action"] for cmd in body["commands"]] == ["GetVariables", "SetNetworkProfile", "SetVariables",
                                                                   "Reset"]
        # Rebooted: it comes back over wss:// with its password, i.e. on profile 2.
        async with connected(tls_server.wss_url, cp, V201, headers=basic(cp, PASSWORD), context=trusting) as st:
            assert await boot(st) == "Accepted"
        body = await profile_of(api, cp)
        assert (body["security_profile"], body["pending_security_profile"], body["security_upgrade"]) == (2, None, "completed")
        assert (await api.get(f"/api/v1/charge-points/{cp}")).json()["security_profile"] == 2
        events = (await api.get(f"/api/v1/charge-points/{cp}/events")).json()["data"]
        upgrades = [e["data"]["state"] for e in events if e["kind"] == "security_upgrade"]
        assert upgrades == ["completed", "pending", "sending"], upgrades  # newest first
    # From now on profile 1 is refused: no downgrade.
    assert await refused(tls_server.ws_url, cp, V201, headers=basic(cp, PASSWORD)) == 401
    async with connected(tls_server.wss_url, cp, V201, headers=basic(cp, PASSWORD), context=trusting) as st:
        assert await boot(st) == "Accepted"


async def test_a_station_refusing_the_network_profile_keeps_its_profile(tls_server, pki):
    cp = await tls_server.add_station(security_profile=1, password=PASSWORD)
    async with tls_server.api() as api:
        unknown = {"getVariableResult": [{"attributeStatus": "UnknownVariable", "component": {"name": "OCPPCommCtrlr"},
                                          "variable": {"name": "NetworkConfigurationPriority"}}]}
        async with connected(tls_server.ws_url, cp, V201, headers=basic(cp, PASSWORD)) as st:
            assert await boot(st) == "Accepted"
            # Its slots unknown, no slot is guessed: it might hold the profile the station falls back to.
            request = asyncio.create_task(upgrade(api, cp, {"security_profile": 2}))
            await answer(st, "GetVariables", unknown)
            body = (await request).json()
            assert (body["security_upgrade"], [cmd["action"] for cmd in body["commands"]]) == ("failed", ["GetVariables"])
            assert "give configuration_slot" in body["security_upgrade_reason"]
            # Nor the slot it uses now.
            request = asyncio.create_task(upgrade(api, cp, {"security_profile": 2, "configuration_slot": 1}))
            await answer(st, "GetVariables", {"getVariableResult": [{**unknown["getVariableResult"][0],
                                                                     "attributeStatus": "Accepted", "attributeValue": "1"}]})
            body = (await request).json()
            assert body["security_upgrade_reason"] == "configuration slot 1 holds the network profile the station uses now"
            request = asyncio.create_task(upgrade(api, cp, {"security_profile": 2, "configuration_slot": 3}))
            await answer(st, "GetVariables", unknown)
            profile = await answer(st, "SetNetworkProfile", {"status": "Rejected"})
            assert profile["configurationSlot"] == 3
            r = await request
            assert r.status_code == 200, r.text
            body = r.json()
            assert (body["security_profile"], body["pending_security_profile"], body["security_upgrade"]) == (1, None, "failed")
            assert body["security_upgrade_reason"] == "SetNetworkProfile answered Rejected"
            assert [cmd["action"] for cmd in body["commands"]] == ["GetVariables", "SetNetworkProfile"]  # no reset
        # Profile 1 still works, and a TLS connection with the password stays on profile 1.
        async with connected(tls_server.ws_url, cp, V201, headers=basic(cp, PASSWORD)) as st:
            assert await boot(st) == "Accepted"
        async with connected(tls_server.wss_url, cp, V201, headers=basic(cp, PASSWORD),
                             context=pki["ca"].client_context()) as st:
            assert await boot(st) == "Accepted"
        body = await profile_of(api, cp)
        assert (body["security_profile"], body["security_upgrade"]) == (1, "failed")
        events = (await api.get(f"/api/v1/charge-points/{cp}/events")).json()["data"]
        assert [e["data"] for e in events if e["kind"] == "security_upgrade"][0] == {
            "state": "failed", "security_profile": 2, "reason": "SetNetworkProfile answered Rejected"}


async def test_from_profile_2_to_3_with_a_client_certificate(tls_server, pki):
    ca = pki["ca"]
    cp = await tls_server.add_station(security_profile=2, password=PASSWORD)
    own = ca.client_context(ca.client(cp))
    async with tls_server.api() as api:
        async with connected(tls_server.wss_url, cp, V201, headers=basic(cp, PASSWORD),
                             context=ca.client_context()) as st:
            assert await boot(st) == "Accepted"
            r = await upgrade(api, cp, {"security_profile": 3, "password": NEW_PASSWORD})
            assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "body.password", r.text
            request = asyncio.create_task(upgrade(api, cp, {"security_profile": 3}))
            await answer(st, "GetVariables", {"getVariableResult": [{
                "attributeStatus": "Accepted", "attributeValue": "1,2", "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "NetworkConfigurationPriority"}}]})
            profile = await answer(st, "SetNetworkProfile", {"status": "Accepted"})
            assert (profile["configurationSlot"], profile["connectionData"]["securityProfile"]) == (3, 3)
            priority = await st.next_call()
            assert priority[3]["setVariableData"][0]["attributeValue"] == "3,1,2"
            await st.answer(priority, variable_results(priority[3]))
            await answer(st, "Reset", {"status": "Accepted"})
            assert (await request).json()["security_upgrade"] == "pending"
        # Pending: the old profile still works (the station's fallback when the new one fails).
        async with connected(tls_server.wss_url, cp, V201, headers=basic(cp, PASSWORD),
                             context=ca.client_context()) as st:
            assert await boot(st) == "Accepted"
        assert (await profile_of(api, cp))["security_profile"] == 2
        async with connected(tls_server.wss_url, cp, V201, context=own) as st:  # its certificate, no password
            assert await boot(st) == "Accepted"
        body = await profile_of(api, cp)
        assert (body["security_profile"], body["security_upgrade"]) == (3, "completed")
        assert (await api.get(f"/api/v1/charge-points/{cp}")).json()["has_password"] is False  # profile 3 keeps none
    assert await refused(tls_server.wss_url, cp, V201, headers=basic(cp, PASSWORD), context=ca.client_context()) == 401


# --- OCPP 1.6 ------------------------------------------------------------------------------------
async def test_a_16_station_moves_from_profile_1_to_2_with_a_new_password(tls_server, pki):
    cp = await tls_server.add_station(security_profile=1, password=PASSWORD)
    trusting = pki["ca"].client_context()
    async with tls_server.api() as api:
        async with connected(tls_server.ws_url, cp, V16, headers=basic(cp, PASSWORD)) as st:
            assert await boot(st) == "Accepted"
            request = asyncio.create_task(upgrade(api, cp, {"security_profile": 2, "password": NEW_PASSWORD}))
            assert await answer(st, "ChangeConfiguration", {"status": "Accepted"}) == {
                "key": "AuthorizationKey", "value": NEW_PASSWORD.encode().hex()}
            assert await answer(st, "ChangeConfiguration", {"status": "Accepted"}) == {
                "key": "SecurityProfile", "value": "2"}
            assert await answer(st, "Reset", {"status": "Accepted"}) == {"type": "Hard"}
            r = await request
            assert r.status_code == 200 and r.json()["security_upgrade"] == "pending", r.text
        # The password never shows: not in the history nor in what the API answers.
        history = (await api.get(f"/api/v1/charge-points/{cp}/commands")).json()["data"]
        assert NEW_PASSWORD not in str(history) and NEW_PASSWORD not in r.text
        key = next(cmd for cmd in history if cmd["request"].get("key") == "AuthorizationKey")
        assert key["request"]["value"] == key["params"]["value"] == MASK and key["status"] == "Accepted"
        # The station took the new password: the old one is refused, the new one works on profile 1 still.
        assert await refused(tls_server.ws_url, cp, V16, headers=basic(cp, PASSWORD)) == 401
        async with connected(tls_server.ws_url, cp, V16, headers=basic(cp, NEW_PASSWORD)) as st:
            assert await boot(st) == "Accepted"
        assert (await profile_of(api, cp))["pending_security_profile"] == 2
        async with connected(tls_server.wss_url, cp, V16, headers=basic(cp, NEW_PASSWORD), context=trusting) as st:
            assert await boot(st) == "Accepted"
        body = await profile_of(api, cp)
        assert (body["security_profile"], body["pending_security_profile"], body["security_upgrade"]) == (2, None, "completed")
    assert await refused(tls_server.ws_url, cp, V16, headers=basic(cp, NEW_PASSWORD)) == 401


async def test_a_pending_upgrade_can_be_cancelled(tls_server, pki):
    cp = await tls_server.add_station(security_profile=1, password=PASSWORD)
    async with tls_server.api() as api:
        async with connected(tls_server.ws_url, cp, V16, headers=basic(cp, PASSWORD)) as st:
            assert await boot(st) == "Accepted"
            request = asyncio.create_task(upgrade(api, cp, {"security_profile": 2}))
            await answer(st, "ChangeConfiguration", {"status": "Accepted"})
            reset = await st.next_call()
            r = await upgrade(api, cp, {"security_profile": 2})  # one at a time
            assert r.status_code == 409 and "under way" in r.text, r.text
            await st.answer(reset, {"status": "Accepted"})
            assert (await request).json()["security_upgrade"] == "pending"
        r = await api.delete(f"/api/v1/charge-points/{cp}/security-profile/upgrade")
        assert r.status_code == 200, r.text
        assert (r.json()["security_upgrade"], r.json()["pending_security_profile"]) == ("cancelled", None)
        assert (await api.delete(f"/api/v1/charge-points/{cp}/security-profile/upgrade")).status_code == 409
        # A connection that would have met profile 2 is admitted on profile 1, which stays.
        async with connected(tls_server.wss_url, cp, V16, headers=basic(cp, PASSWORD),
                             context=pki["ca"].client_context()) as st:
            assert await boot(st) == "Accepted"
        assert (await profile_of(api, cp))["security_profile"] == 1


async def test_a_profile_set_by_hand_ends_the_upgrade(tls_server):
    cp = await tls_server.add_station(security_profile=1, password=PASSWORD)
    async with tls_server.api() as api:
        async with connected(tls_server.ws_url, cp, V16, headers=basic(cp, PASSWORD)) as st:
            assert await boot(st) == "Accepted"
            request = asyncio.create_task(upgrade(api, cp, {"security_profile": 3}))
            await answer(st, "ChangeConfiguration", {"status": "RebootRequired"})  # agrees: it is reset anyway
            await answer(st, "Reset", {"status": "Accepted"})
            assert (await request).json()["pending_security_profile"] == 3
        r = await api.patch(f"/api/v1/charge-points/{cp}", json={"security_profile": 2})
        assert r.status_code == 200, r.text
        body = await profile_of(api, cp)
        assert (body["security_profile"], body["pending_security_profile"], body["security_upgrade"],
                body["security_upgrade_reason"]) == (2, None, "cancelled", "security profile set through the API")


async def test_upgrades_that_cannot_be(tls_server):
    cp = await tls_server.add_station(security_profile=2, password=PASSWORD)
    async with tls_server.api() as api:
        r = await upgrade(api, cp, {"security_profile": 2})
        assert r.status_code == 422 and "never downgraded" in r.text, r.text
        r = await upgrade(api, cp, {"security_profile": 1})
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "body.security_profile"
        r = await upgrade(api, cp, {"security_profile": 3, "surprise": True})
        assert r.status_code == 422
        r = await upgrade(api, cp, {"security_profile": 3})
        assert r.status_code == 409 and r.json()["error"]["code"] == "station_offline", r.text
        other = await tls_server.add_station()  # profile 0, no password
        r = await upgrade(api, other, {"security_profile": 2})
        assert r.status_code == 422 and "needs a password" in r.text, r.text
        r = await upgrade(api, other, {"security_profile": 2, "password": "short"})
        assert r.status_code == 422
        assert (await api.post(f"/api/v1/charge-points/{unique()}/security-profile",
                               json={"security_profile": 2})).status_code == 404
        assert (await api.get(f"/api/v1/charge-points/{unique()}/security-profile")).status_code == 404
        assert (await profile_of(api, cp))["security_upgrade"] is None


# --- the rules (no I/O) ----------------------------------------------------------------------------
HASH = hash_password(PASSWORD)
VERIFIED = {"password": PASSWORD, "verified_against": HASH}


@pytest.mark.parametrize("stored, pending, given, admitted", [
    (1, None, Credentials(**VERIFIED), 1),
    (1, None, Credentials(**VERIFIED, tls=True), 1),  # meets 2, but no upgrade is pending
    (1, 2, Credentials(**VERIFIED), 1),  # the fallback to the old profile
    (1, 2, Credentials(**VERIFIED, tls=True), 2),  # meets the new one: upgraded
    (1, 2, Credentials(tls=True), None),  # no password: neither
    (2, 3, Credentials(**VERIFIED, tls=True), 2),
    (2, 3, Credentials(tls=True, certificate=True), 3),
    (2, 3, Credentials(certificate=True), None),  # no TLS: neither
    (2, None, Credentials(**VERIFIED), None),  # after the upgrade: the old profile is refused
    (0, 2, Credentials(), 0),
    (0, 2, Credentials(**VERIFIED, tls=True), 2),
    (2, 1, Credentials(**VERIFIED), None),  # a "pending" below the stored profile is no way down
])
def test_admitted_profile(stored, pending, given, admitted):
    profile, problem = admitted_profile(stored, pending, HASH, given)
    assert profile == admitted, problem
    assert (problem is None) == (admitted is not None)


def test_configuration_slots():
    assert slots_of("1,2") == [1, 2] and slots_of(" 3 , 1,x,3") == [3, 1] and slots_of(None) == []
    assert free_slot(None) == 1 and free_slot("1") == 2 and free_slot("2,3") == 1 and free_slot("1,2,3") == 4
    assert first_in_priority("1,2", 3) == "3,1,2" and first_in_priority("2,1", 1) == "1,2"
    assert first_in_priority(None, 1) == "1"


def record(state=c.COMPLETED, action="SetVariables", status=None, response=None, **extra):
    return SimpleNamespace(state=state, action=action, status=status, response=response,
                           error_code=extra.get("code"), error_description=extra.get("description"))


def test_refusal():
    ok = {"attributeStatus": "Accepted", "component": {"name": "OCPPCommCtrlr"},
          "variable": {"name": "NetworkConfigurationPriority"}}
    assert refusal(record(action="Reset", status="Accepted", response={"status": "Accepted"})) is None
    assert refusal(record(action="Reset", status="Rejected")) == "Reset answered Rejected"
    assert refusal(record(action="ChangeConfiguration", status="RebootRequired")) == \
        "ChangeConfiguration answered RebootRequired"
    assert refusal(record(action="ChangeConfiguration", status="RebootRequired"), ("Accepted", "RebootRequired")) is None
    assert refusal(record(response={"setVariableResult": [ok]})) is None
    assert refusal(record(response={"setVariableResult": [ok, {**ok, "attributeStatus": "Rejected"}]})) == \
        "SetVariables: OCPPCommCtrlr.NetworkConfigurationPriority Rejected"
    assert refusal(record(state=c.TIMEOUT, action="Reset", description="no reply within 3 s")) == \
        "Reset: no answer (no reply within 3 s)"
    assert refusal(record(state=c.FAILED, action="Reset", code="NotSupported", description="no")) == \
        "Reset failed: NotSupported: no"


def test_priority_read():
    result = {"attributeStatus": "Accepted", "attributeValue": "2,1", "component": {"name": "OCPPCommCtrlr"},
              "variable": {"name": "NetworkConfigurationPriority"}}
    assert priority_read(record(response={"getVariableResult": [result]})) == "2,1"
    assert priority_read(record(response={"getVariableResult": [{**result, "attributeStatus": "Rejected"}]})) is None
    assert priority_read(record(state=c.TIMEOUT)) is None
