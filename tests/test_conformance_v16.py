"""OCTT CSMS test cases of the OCPP 1.6 security extension that no other test covered
(docs/conformance.md maps every case), each played by a raw 1.6 station over a real WebSocket.
"""

import asyncio
import base64
from datetime import datetime, timezone

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from conftest import READY_BOUND_S
from ocpp_client import RawStation, station
from test_commands import no_call, receive_call

PASSWORD = "conformance-Pa55word"
NEW_PASSWORD = "conformance-N3w-Pa55word"
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HASH = {"hashAlgorithm": "SHA256", "issuerNameHash": "aa11", "issuerKeyHash": "bb22", "serialNumber": "0c"}


def ts() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def booted(url: str, cp: str, headers: dict | None = None) -> str:
    async with websockets.connect(f"{url}/{cp}", subprotocols=["ocpp1.6"], additional_headers=headers or {},
                                  open_timeout=READY_BOUND_S) as ws:
        return (await RawStation(ws).boot())["status"]


async def round_trip(st, api, cp: str, name: str, body: dict, reply: dict) -> list:
    """Post a command, answer its CALL with ``reply``; the CALL frame."""
    http = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/commands/{name}", json=body))
    frame = await receive_call(st, http)
    await st.answer(frame, reply)
    r = await http
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["response"]) == ("completed", reply)
    return frame


async def test_tc_073_update_charge_point_password(sqlite_server):
    """The operator stores the new password, Wattson sends it as AuthorizationKey; the station
    reconnects with it, and the old password no longer gets in."""
    cp = await sqlite_server.add_station(security_profile=1, password=PASSWORD)
    async with websockets.connect(f"{sqlite_server.ws_url}/{cp}", subprotocols=["ocpp1.6"],
                                  additional_headers=basic(cp, PASSWORD), open_timeout=READY_BOUND_S) as ws, \
            sqlite_server.api() as api:
        st = RawStation(ws)
        await st.boot()
        r = await api.patch(f"/api/v1/charge-points/{cp}", json={"security_profile": 1, "password": NEW_PASSWORD})
        assert r.status_code == 200, r.text
        frame = await round_trip(st, api, cp, "change-configuration",
                                 {"key": "AuthorizationKey", "value": NEW_PASSWORD}, {"status": "Accepted"})
        assert frame[2:] == ["ChangeConfiguration", {"key": "AuthorizationKey", "value": NEW_PASSWORD}]
        assert 16 <= len(frame[3]["value"]) <= 40
        await st.close()
    assert await booted(sqlite_server.ws_url, cp, basic(cp, NEW_PASSWORD)) == "Accepted"
    with pytest.raises(InvalidStatus) as refused:
        await booted(sqlite_server.ws_url, cp, basic(cp, PASSWORD))
    assert refused.value.response.status_code == 401


@pytest.mark.parametrize("neutral, wire", [
    ("ManufacturerRootCertificate", "ManufacturerRootCertificate"),
    ("CSMSRootCertificate", "CentralSystemRootCertificate"),
], ids=["TC_075_1", "TC_075_2"])
async def test_tc_075_install_a_certificate(sqlite_server, neutral, wire):
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp) as st, sqlite_server.api() as api:
        await st.boot()
        frame = await round_trip(st, api, cp, "install-certificate", {"certificate_type": neutral, "certificate": CERT},
                                 {"status": "Accepted"})
        assert frame[2:] == ["InstallCertificate", {"certificateType": wire, "certificate": CERT}]
        await no_call(st, 0.2)


async def test_tc_078_invalid_central_system_certificate_security_event(sqlite_server):
    """The station refuses the root certificate Wattson installs and reports
    InvalidCentralSystemCertificate: answered, and listed in the security log."""
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp) as st, sqlite_server.api() as api:
        await st.boot()
        await round_trip(st, api, cp, "install-certificate", {"certificate_type": "CSMSRootCertificate",
                                                              "certificate": CERT}, {"status": "Rejected"})
        assert await st.ok("SecurityEventNotification", {"type": "InvalidCentralSystemCertificate",
                                                         "timestamp": ts()}) == {}
        r = await api.get("/api/v1/security-events", params={"charge_point_id": cp})
    assert r.status_code == 200, r.text
    assert [e["type"] for e in r.json()["data"]] == ["InvalidCentralSystemCertificate"]


@pytest.mark.parametrize("algorithm", ["SHA256", "SHA384", "SHA512"])
async def test_tc_076_delete_a_specific_certificate(sqlite_server, algorithm):
    """Install, list (the station's answer names the hash algorithm), delete with that algorithm, list again."""
    cp = await sqlite_server.add_station()
    installed = {**HASH, "hashAlgorithm": algorithm}
    async with station(sqlite_server.ws_url, cp) as st, sqlite_server.api() as api:
        await st.boot()
        await round_trip(st, api, cp, "install-certificate",
                         {"certificate_type": "CSMSRootCertificate", "certificate": CERT}, {"status": "Accepted"})
        frame = await round_trip(st, api, cp, "get-installed-certificate-ids",
                                 {"certificate_types": ["CSMSRootCertificate"]},
                                 {"status": "Accepted", "certificateHashData": [installed]})
        assert frame[2:] == ["GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"}]
        frame = await round_trip(st, api, cp, "delete-certificate",
                                 {"issuer_name_hash": "aa11", "issuer_key_hash": "bb22", "serial_number": "0c",
                                  "hash_algorithm": algorithm}, {"status": "Accepted"})
        assert frame[2:] == ["DeleteCertificate", {"certificateHashData": installed}]
        await round_trip(st, api, cp, "get-installed-certificate-ids", {"certificate_types": ["CSMSRootCertificate"]},
                         {"status": "NotFound"})


SIGNED = {"location": "https://fw.example/signed.bin", "retrieve_at": "2030-01-01T00:00:00Z",
          "signing_certificate": CERT, "signature": "c2ln"}


@pytest.mark.parametrize("case_id", ["TC_080", "TC_081"])
async def test_secure_firmware_update_case(sqlite_server, case_id):
    """TC_080: SignedUpdateFirmware, then every SignedFirmwareStatusNotification up to Installed, a
    reboot and the FirmwareUpdated security event; TC_081: the signature fails (InvalidSignature and
    the InvalidFirmwareSignature security event). Each is answered; the last status is the station's."""
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp) as st, sqlite_server.api() as api:
        await st.boot()
        frame = await round_trip(st, api, cp, "update-firmware", SIGNED, {"status": "Accepted"})
        assert frame[2] == "SignedUpdateFirmware"
        request_id = frame[3]["requestId"]
        assert frame[3]["firmware"] == {"location": SIGNED["location"], "retrieveDateTime": "2030-01-01T00:00:00.000Z",
                                        "signingCertificate": CERT, "signature": "c2ln"}

        def firmware(value: str) -> tuple[str, dict]:
            return "SignedFirmwareStatusNotification", {"status": value, "requestId": request_id}

        if case_id == "TC_080":
            steps = [firmware("Downloading"), firmware("Downloaded"), firmware("SignatureVerified"),
                     firmware("Installing"), firmware("InstallRebooting"),
                     ("BootNotification", {"chargePointVendor": "TestVendor", "chargePointModel": "T1"}),
                     ("SecurityEventNotification", {"type": "FirmwareUpdated", "timestamp": ts()}),
                     ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
                     firmware("Installed")]
            last = "Installed"
        else:
            steps = [firmware("Downloading"), firmware("Downloaded"), firmware("InvalidSignature"),
                     ("SecurityEventNotification", {"type": "InvalidFirmwareSignature", "timestamp": ts()})]
            last = "InvalidSignature"
        for action, payload in steps:
            reply = await st.call(action, payload)
            assert reply[0] == 3, (action, reply)
        point = (await api.get(f"/api/v1/charge-points/{cp}")).json()
        assert point["firmware_status"] == last, point
        kinds = [e["kind"] for e in (await api.get(f"/api/v1/charge-points/{cp}/events")).json()["data"]]
        assert "security_event" in kinds, kinds


async def test_tc_088_websocket_subprotocol_negotiation(sqlite_server):
    cp = await sqlite_server.add_station()
    async with websockets.connect(f"{sqlite_server.ws_url}/{cp}", subprotocols=["ocpp0.1"],
                                  open_timeout=READY_BOUND_S) as ws:
        assert ws.subprotocol is None  # no OCPP session: closed at once
        await asyncio.wait_for(ws.wait_closed(), READY_BOUND_S)
    assert ws.close_code == 1002
    async with websockets.connect(f"{sqlite_server.ws_url}/{cp}", subprotocols=["ocpp0.1", "ocpp1.6"],
                                  open_timeout=READY_BOUND_S) as ws:
        assert ws.response.headers["Sec-WebSocket-Protocol"] == "ocpp1.6"
        assert (await RawStation(ws).boot())["status"] == "Accepted"
