"""Station certificates end to end over real TLS: a 1.6 and a 2.0.1 station send SignCertificate,
are answered Accepted, receive CertificateSigned with a chain from the CSMS's CA, and then connect
on security profile 3 with it; bad CSRs and a missing CA are Rejected with the reason recorded and
nothing sent; renewal by the operator and by the expiry sweep (once per certificate); the
`command` signer with a small Python program."""

import asyncio
import base64
import os
import subprocess
import sys
import textwrap
from contextlib import asynccontextmanager

import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from ocpp.routing import on
from ocpp.v201 import ChargePoint as ChargePoint201, call as call201, call_result as result201

from certs import TestCa, csr
from conftest import READY_BOUND_S, start_server, unique, until
from fixture_failures import started_once
from ocpp_client import RawStation, station
from wattson.pki.signers import CommandSigner, SigningFailed, SigningRequest

PASSWORD = "s3cret-Station-Pa55"
ORGANIZATION = "Wattson tests"  # what certs.csr() puts in O
BOOT_16 = {"chargePointVendor": "Test", "chargePointModel": "T1"}
BOOT_201 = {"chargingStation": {"vendorName": "Test", "model": "T1"}, "reason": "PowerUp"}

SIGNER = '''\
"""Signs the CSR on stdin with the CA of argv[1] (certificate) and argv[2] (key); the chain on
stdout. Identities starting with CP-FAIL are refused, as an operator's CA might."""
import datetime, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

if os.environ["WATTSON_CHARGE_POINT_ID"].startswith("CP-FAIL"):
    sys.exit("no contract for " + os.environ["WATTSON_CHARGE_POINT_ID"])
ca = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
request = x509.load_pem_x509_csr(sys.stdin.buffer.read())
now = datetime.datetime.now(datetime.timezone.utc)
leaf = (x509.CertificateBuilder().subject_name(request.subject).issuer_name(ca.subject)
        .public_key(request.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=20))
        .sign(key, hashes.SHA256()))
sys.stdout.write((leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)).decode())
'''


# --- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca = TestCa(tmp_path_factory.mktemp("station-pki"))
    return {"ca": ca, "server": ca.server()}


@pytest.fixture(scope="module")
def ca_server(request, pki, tmp_path_factory):
    """TLS with client certificates verified against the CA that also signs stations' CSRs."""
    ca, cert = pki["ca"], pki["server"]
    yield from started_once(request, start_server(
        tmp_path_factory.mktemp("certificates"), "sqlite", tls_cert=str(cert.cert), tls_key=str(cert.key),
        tls_client_ca=str(ca.cert_path), ca_cert=str(ca.cert_path), ca_key=str(ca.key_path),
        cert_organization=ORGANIZATION, command_timeout="20", cert_renew_days="0"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def command_server(request, pki, tmp_path_factory):
    """Signing by a program; every certificate it signs (20 days) is within the renewal window (60)."""
    directory = tmp_path_factory.mktemp(f"command-signer-{request.param}")
    script = directory / "signer.py"
    script.write_text(SIGNER)
    ca = pki["ca"]
    yield from started_once(request, start_server(
        directory, request.param, cert_signer="command",
        cert_signer_command=f"{sys.executable} {script} {ca.cert_path} {ca.key_path}",
        cert_renew_days="60", cert_sweep_s="0.5", command_timeout="20"))


@asynccontextmanager
async def tls_station(server, cp: str, context, subprotocol: str = "ocpp1.6", password: str | None = None):
    headers = {} if password is None else {"Authorization": basic(cp, password)}
    async with websockets.connect(f"{server.wss_url}/{cp}", subprotocols=[subprotocol], ssl=context,
                                  additional_headers=headers, compression=None, open_timeout=READY_BOUND_S) as ws:
        client = RawStation(ws)
        try:
            yield client
        finally:
            client._reader.cancel()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def key_and_csr(cp: str, common_name: str | None = None):
    key = ec.generate_private_key(ec.SECP256R1())
    return key, csr(common_name or cp, key)


def own_certificate_context(ca: TestCa, chain: str, key, directory):
    """A station's TLS context presenting the chain it was sent, with its own key."""
    (directory / "chain.pem").write_text(chain)
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    context = ca.client_context()
    context.load_cert_chain(directory / "chain.pem", directory / "key.pem")
    return context


def check_chain(chain: str, ca: TestCa, common_name: str) -> x509.Certificate:
    """The leaf verifies against the CA and names ``common_name``."""
    leaf, *issuers = x509.load_pem_x509_certificates(chain.encode())
    leaf.verify_directly_issued_by(ca.certificate)
    assert issuers and issuers[0] == ca.certificate
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == common_name
    return leaf


async def certificates(server, cp: str, **params) -> dict:
    async with server.api() as api:
        r = await api.get(f"/api/v1/charge-points/{cp}/certificates", params=params)
        assert r.status_code == 200, r.text
        return r.json()


async def record_in(server, cp: str, state: str) -> dict:
    async def newest():
        rows = (await certificates(server, cp))["data"]
        return rows[0] if rows and rows[0]["state"] == state else None
    return await until(newest, f"{cp}'s newest certificate {state}")


async def event_kinds(server, cp: str) -> list[str]:
    async with server.api() as api:
        r = await api.get(f"/api/v1/charge-points/{cp}/events", params={"limit": 100})
        assert r.status_code == 200, r.text
        return [e["kind"] for e in reversed(r.json()["data"])]


async def commands_sent(server, cp: str) -> list[str]:
    async with server.api() as api:
        r = await api.get(f"/api/v1/charge-points/{cp}/commands")
        assert r.status_code == 200, r.text
        return [c["action"] for c in r.json()["data"]]


async def profile_3(server, cp: str) -> None:
    async with server.api() as api:
        r = await api.patch(f"/api/v1/charge-points/{cp}", json={"security_profile": 3})
        assert r.status_code == 200 and r.json()["security_profile"] == 3, r.text


# --- signing over TLS, then profile 3 -----------------------------------------------------------
async def test_a_16_station_is_signed_and_then_connects_on_profile_3(ca_server, pki, tmp_path):
    ca = pki["ca"]
    cp = await ca_server.add_station(security_profile=2, password=PASSWORD)
    key, request = key_and_csr(cp)
    async with tls_station(ca_server, cp, ca.client_context(), password=PASSWORD) as st:
        assert (await st.boot())["status"] == "Accepted"
        assert await st.ok("SignCertificate", {"csr": request}) == {"status": "Accepted"}
        sent = await st.next_call()
        assert sent[2] == "CertificateSigned" and set(sent[3]) == {"certificateChain"}
        chain = sent[3]["certificateChain"]
        leaf = check_chain(chain, ca, cp)
        await st.answer(sent, {"status": "Accepted"})
        row = await record_in(ca_server, cp, "accepted_by_station")
    assert row["certificate_type"] is None and row["chain"] == chain and row["reason"] is None
    assert row["serial"] == format(leaf.serial_number, "x") and row["subject"] == f"CN={cp},O={ORGANIZATION}"
    assert row["not_after"] is not None and row["command_id"] is not None
    assert [k for k in await event_kinds(ca_server, cp) if k.startswith("certificate_")] == [
        "certificate_requested", "certificate_signed", "certificate_sent", "certificate_accepted_by_station"]

    await profile_3(ca_server, cp)
    async with tls_station(ca_server, cp, own_certificate_context(ca, chain, key, tmp_path)) as st:
        assert (await st.boot())["status"] == "Accepted"


class Station201(ChargePoint201):
    """The ocpp library's 2.0.1 station, keeping the chains it is sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.chains: asyncio.Queue = asyncio.Queue()

    @on("CertificateSigned")
    async def on_certificate_signed(self, certificate_chain, **kwargs):
        self.chains.put_nowait((certificate_chain, kwargs.get("certificate_type")))
        return result201.CertificateSigned(status="Accepted")


async def test_a_201_library_station_is_signed_and_then_connects_on_profile_3(ca_server, pki, tmp_path):
    ca = pki["ca"]
    cp = await ca_server.add_station(security_profile=2, password=PASSWORD)
    key, request = key_and_csr(cp)
    async with websockets.connect(f"{ca_server.wss_url}/{cp}", subprotocols=["ocpp2.0.1"], ssl=ca.client_context(),
                                  additional_headers={"Authorization": basic(cp, PASSWORD)},
                                  open_timeout=READY_BOUND_S) as ws:
        lib = Station201(cp, ws, response_timeout=READY_BOUND_S)
        runner = asyncio.create_task(lib.start())
        try:
            boot = await lib.call(call201.BootNotification(charging_station={"model": "T1", "vendor_name": "Test"},
                                                           reason="PowerUp"))
            assert boot.status == "Accepted"
            answer = await lib.call(call201.SignCertificate(csr=request, certificate_type="ChargingStationCertificate"))
            assert answer.status == "Accepted" and answer.status_info is None
            chain, certificate_type = await asyncio.wait_for(lib.chains.get(), READY_BOUND_S)
            assert certificate_type == "ChargingStationCertificate"  # it named one: it is told which
            check_chain(chain, ca, cp)
            row = await record_in(ca_server, cp, "accepted_by_station")
            assert row["certificate_type"] == "ChargingStationCertificate"
        finally:
            runner.cancel()

    await profile_3(ca_server, cp)
    async with tls_station(ca_server, cp, own_certificate_context(ca, chain, key, tmp_path), "ocpp2.0.1") as st:
        assert (await st.ok("BootNotification", BOOT_201))["status"] == "Accepted"


async def test_a_v2g_request_keeps_its_secc_id(ca_server, pki):
    ca = pki["ca"]
    cp = await ca_server.add_station(security_profile=2, password=PASSWORD)
    _, request = key_and_csr(cp, "SECC-DE-ABC-1")
    async with tls_station(ca_server, cp, ca.client_context(), "ocpp2.0.1", PASSWORD) as st:
        await st.ok("BootNotification", BOOT_201)
        assert await st.ok("SignCertificate", {"csr": request, "certificateType": "V2GCertificate"}) == {
            "status": "Accepted"}
        sent = await st.next_call()
        assert sent[2] == "CertificateSigned" and sent[3]["certificateType"] == "V2GCertificate"
        check_chain(sent[3]["certificateChain"], ca, "SECC-DE-ABC-1")
        await st.answer(sent, {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidChain"}})
        row = await record_in(ca_server, cp, "refused_by_station")
    assert row["reason"] == "the station answered Rejected: InvalidChain"


async def renewed_by_trigger(server, st, cp: str, body: dict | None, message: str) -> None:
    """The operator renews; the station is triggered with ``message`` and accepts."""
    pending = asyncio.ensure_future(renew(server, cp, body))
    trigger = await st.next_call()
    assert (trigger[2], trigger[3]["requestedMessage"]) == ("TriggerMessage", message)
    await st.answer(trigger, {"status": "Accepted"})
    assert (await pending).json()["status"] == "Accepted"


async def test_tc_a_13_a_combined_certificate_is_renewed(ca_server, pki):
    """OCTT TC_A_13 (A02.FR.11): TriggerMessage SignCombinedCertificate, a SignCertificate naming
    no type, Accepted, then a CertificateSigned naming none either (the one certificate serves both
    connections), accepted by the station."""
    ca = pki["ca"]
    cp = await ca_server.add_station(security_profile=2, password=PASSWORD)
    _, request = key_and_csr(cp)
    async with tls_station(ca_server, cp, ca.client_context(), "ocpp2.0.1", PASSWORD) as st:
        await st.ok("BootNotification", BOOT_201)
        await renewed_by_trigger(ca_server, st, cp, {"certificate_type": "Combined"}, "SignCombinedCertificate")
        assert await st.ok("SignCertificate", {"csr": request}) == {"status": "Accepted"}
        sent = await st.next_call()
        assert sent[2] == "CertificateSigned" and "certificateType" not in sent[3]
        leaf = check_chain(sent[3]["certificateChain"], ca, cp)
        assert leaf.serial_number > 0
        await st.answer(sent, {"status": "Accepted"})
        row = await record_in(ca_server, cp, "accepted_by_station")
    assert row["certificate_type"] is None and row["serial"] == format(leaf.serial_number, "x")


async def test_tc_a_14_a_station_refusing_its_new_certificate(ca_server, pki):
    """OCTT TC_A_14 (A02): the station refuses the CertificateSigned and reports
    InvalidChargingStationCertificate: the record says refused, the event is in the security log."""
    ca = pki["ca"]
    cp = await ca_server.add_station(security_profile=2, password=PASSWORD)
    _, request = key_and_csr(cp)
    async with tls_station(ca_server, cp, ca.client_context(), "ocpp2.0.1", PASSWORD) as st:
        await st.ok("BootNotification", BOOT_201)
        await renewed_by_trigger(ca_server, st, cp, None, "SignChargingStationCertificate")
        assert await st.ok("SignCertificate", {"csr": request, "certificateType": "ChargingStationCertificate"}
                           ) == {"status": "Accepted"}
        sent = await st.next_call()
        assert sent[2] == "CertificateSigned" and sent[3]["certificateType"] == "ChargingStationCertificate"
        await st.answer(sent, {"status": "Rejected"})
        row = await record_in(ca_server, cp, "refused_by_station")
        assert await st.ok("SecurityEventNotification", {"type": "InvalidChargingStationCertificate",
                                                         "timestamp": "2026-12-04T12:00:00Z"}) == {}
    assert row["reason"] == "the station answered Rejected"
    async with ca_server.api() as api:
        events = await until(lambda: _listed(api, cp), "the security event listed")
    assert events[0]["type"] == "InvalidChargingStationCertificate"


async def test_tc_077_a_16_station_refusing_its_new_certificate(ca_server, pki):
    """OCTT 1.6 TC_077: ExtendedTriggerMessage SignChargePointCertificate, SignCertificate,
    CertificateSigned refused, SecurityEventNotification InvalidChargePointCertificate answered and
    listed in the security log."""
    ca = pki["ca"]
    cp = await ca_server.add_station(security_profile=2, password=PASSWORD)
    _, request = key_and_csr(cp)
    async with tls_station(ca_server, cp, ca.client_context(), "ocpp1.6", PASSWORD) as st:
        await st.ok("BootNotification", BOOT_16)
        pending = asyncio.ensure_future(renew(ca_server, cp))
        trigger = await st.next_call()
        assert trigger[2:] == ["ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}]
        await st.answer(trigger, {"status": "Accepted"})
        assert (await pending).json()["status"] == "Accepted"
        assert await st.ok("SignCertificate", {"csr": request}) == {"status": "Accepted"}
        sent = await st.next_call()
        assert sent[2] == "CertificateSigned"
        await st.answer(sent, {"status": "Rejected"})
        await record_in(ca_server, cp, "refused_by_station")
        assert await st.ok("SecurityEventNotification", {"type": "InvalidChargePointCertificate",
                                                         "timestamp": "2026-12-04T12:00:00Z"}) == {}
    async with ca_server.api() as api:
        r = await api.get("/api/v1/security-events", params={"charge_point_id": cp})
    assert "InvalidChargePointCertificate" in [e["type"] for e in r.json()["data"]]


async def _listed(api, cp: str):
    r = await api.get("/api/v1/security-events", params={"charge_point_id": cp,
                                                         "type": "InvalidChargingStationCertificate"})
    assert r.status_code == 200, r.text
    return r.json()["data"] or None


# --- refusals -----------------------------------------------------------------------------------
def rsa_csr(cp: str, bits: int) -> str:
    return csr(cp, rsa.generate_private_key(65537, bits))


def csr_without_organization(cp: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    request = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cp)])).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode()


BAD = {  # name -> (CSR for station cp, reasonCode, words of the recorded reason)
    "wrong CN": (lambda cp: csr("CP-SOMEONE-ELSE"), "InvalidCommonName", "must be"),
    "no O": (csr_without_organization, "InvalidOrganization", "organisation name"),
    "RSA 1024": (lambda cp: rsa_csr(cp, 1024), "UnsupportedKey", "at least 2048 bits, not 1024"),
    "garbage": (lambda cp: "-----BEGIN CERTIFICATE REQUEST-----\nbm9wZQ==\n-----END CERTIFICATE REQUEST-----",
                "InvalidCSR", "not a PEM certificate signing request"),
}


async def test_bad_requests_are_rejected_saying_why_and_nothing_is_sent(ca_server, pki):
    ca = pki["ca"]
    for subprotocol in ("ocpp1.6", "ocpp2.0.1"):
        cp = await ca_server.add_station(security_profile=2, password=PASSWORD)
        async with tls_station(ca_server, cp, ca.client_context(), subprotocol, PASSWORD) as st:
            await st.ok("BootNotification", BOOT_16 if subprotocol == "ocpp1.6" else BOOT_201)
            for make, code, _ in BAD.values():
                answer = await st.ok("SignCertificate", {"csr": make(cp)})
                if subprotocol == "ocpp1.6":
                    assert answer == {"status": "Rejected"}
                else:
                    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == code
                    assert answer["statusInfo"]["additionalInfo"]
        # each record is final when the answer goes: rejected, never signed, no command sent
        rows = (await certificates(ca_server, cp))["data"]
        assert [r["state"] for r in rows] == ["rejected"] * len(BAD)
        for row, (name, (_, _, words)) in zip(reversed(rows), BAD.items()):
            assert words in row["reason"], (name, row["reason"])
            assert row["chain"] is None and row["serial"] is None
        assert await commands_sent(ca_server, cp) == []
        assert (await event_kinds(ca_server, cp)).count("certificate_rejected") == len(BAD)

    first = await certificates(ca_server, cp, limit=3)  # newest first, paged by cursor
    rest = await certificates(ca_server, cp, limit=3, cursor=first["next_cursor"])
    assert [r["id"] for r in first["data"] + rest["data"]] == [r["id"] for r in rows]
    assert rest["next_cursor"] is None


async def test_the_configured_organisation_is_required(ca_server, pki):
    cp = await ca_server.add_station(security_profile=2, password=PASSWORD)
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Another CPO"), x509.NameAttribute(NameOID.COMMON_NAME, cp)])
    ).sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    async with tls_station(ca_server, cp, pki["ca"].client_context(), "ocpp2.0.1", PASSWORD) as st:
        await st.ok("BootNotification", BOOT_201)
        answer = await st.ok("SignCertificate", {"csr": request.decode()})
    assert answer["statusInfo"]["reasonCode"] == "InvalidOrganization"
    assert (await certificates(ca_server, cp))["data"][0]["reason"] == (
        f"the subject's organisation must be {ORGANIZATION!r}, not 'Another CPO'")


async def test_without_a_ca_requests_are_rejected(sqlite_server):
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp) as st:
        await st.boot()
        assert await st.ok("SignCertificate", {"csr": csr(cp)}) == {"status": "Rejected"}
    async with station(sqlite_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT_201)
        answer = await st.ok("SignCertificate", {"csr": csr(cp)})
    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == "NoCertificateSigner"
    rows = (await certificates(sqlite_server, cp))["data"]
    assert [r["state"] for r in rows] == ["rejected", "rejected"]
    assert all("no certificate signer is configured" in r["reason"] for r in rows)
    assert await commands_sent(sqlite_server, cp) == []


# --- renewal ------------------------------------------------------------------------------------
async def renew(server, cp: str, body: dict | None = None):
    async with server.api() as api:
        return await api.post(f"/api/v1/charge-points/{cp}/certificates/renew", json=body)


async def test_renewal_by_the_operator_triggers_the_station(ca_server, pki):
    ca = pki["ca"]
    cases = [("ocpp2.0.1", None, "TriggerMessage", "SignChargingStationCertificate"),
             ("ocpp2.0.1", {"certificate_type": "V2GCertificate"}, "TriggerMessage", "SignV2GCertificate"),
             ("ocpp1.6", {"certificate_type": "ChargingStationCertificate"}, "ExtendedTriggerMessage",
              "SignChargePointCertificate")]
    for subprotocol, body, action, message in cases:
        cp = await ca_server.add_station(security_profile=2, password=PASSWORD)
        async with tls_station(ca_server, cp, ca.client_context(), subprotocol, PASSWORD) as st:
            await st.ok("BootNotification", BOOT_16 if subprotocol == "ocpp1.6" else BOOT_201)
            pending = asyncio.ensure_future(renew(ca_server, cp, body))
            trigger = await st.next_call()
            assert (trigger[2], trigger[3]["requestedMessage"]) == (action, message)
            await st.answer(trigger, {"status": "Accepted"})
            r = await pending
            assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
            if subprotocol == "ocpp1.6":  # 1.6 has no V2G certificate: refused before anything is sent
                r = await renew(ca_server, cp, {"certificate_type": "V2GCertificate"})
                assert r.status_code == 422 and r.json()["error"]["code"] == "command_not_supported", r.text
        assert "certificate_renewal_requested" in await event_kinds(ca_server, cp)
    r = await renew(ca_server, unique())
    assert r.status_code == 404
    r = await renew(ca_server, cp, {"certificate_type": "V2G20Certificate"})
    assert r.status_code == 422


async def test_the_command_signer_and_the_expiry_sweep_triggers_once(command_server, pki):
    """A program signs (20 days, inside the 60-day renewal window): the sweep then triggers a new
    request once; a second station's trigger, from a later round, shows the first got no other."""
    ca = pki["ca"]
    first, second = await command_server.add_station(), await command_server.add_station()
    async with station(command_server.ws_url, first, ("ocpp2.0.1",)) as one, \
            station(command_server.ws_url, second, ("ocpp2.0.1",)) as two:
        for st, cp in ((one, first), (two, second)):
            await st.ok("BootNotification", BOOT_201)
            assert await st.ok("SignCertificate", {"csr": csr(cp)}) == {"status": "Accepted"}
            sent = await st.next_call()
            assert sent[2] == "CertificateSigned" and "certificateType" not in sent[3]
            check_chain(sent[3]["certificateChain"], ca, cp)
            await st.answer(sent, {"status": "Accepted"})
            trigger = await st.next_call()  # the sweep: this certificate expires within 60 days
            assert (trigger[2], trigger[3]) == ("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
            await st.answer(trigger, {"status": "Accepted"})
            row = await until(lambda: _renewal_triggered(command_server, cp), f"{cp}'s renewal recorded")
            assert row["state"] == "accepted_by_station"
        assert one.calls.empty()  # rounds ran since its trigger: none triggered it again
    assert (await event_kinds(command_server, first)).count("certificate_renewal_triggered") == 1


async def _renewal_triggered(server, cp: str):
    rows = (await certificates(server, cp))["data"]
    return rows[0] if rows and rows[0]["renewal_triggered_at"] else None


async def test_a_signing_program_that_refuses_fails_the_record(command_server):
    cp = await command_server.add_station(f"CP-FAIL-{unique()}")
    async with station(command_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT_201)
        assert await st.ok("SignCertificate", {"csr": csr(cp)}) == {"status": "Accepted"}
        row = await record_in(command_server, cp, "failed")
    assert row["reason"] == f"the signing command exited with status 1: no contract for {cp}"
    assert row["chain"] is None and await commands_sent(command_server, cp) == []


async def test_a_signing_program_is_killed_at_its_timeout(tmp_path):
    signer = CommandSigner([sys.executable, "-c", "import time; time.sleep(600)"], timeout=0.5)
    with pytest.raises(SigningFailed, match="did not finish within 0.5 s"):
        await signer.sign(SigningRequest("CP-1", "ChargingStationCertificate", csr("CP-1")))
    missing = CommandSigner([str(tmp_path / "no-such-program")], timeout=5)
    with pytest.raises(SigningFailed, match="cannot be run"):
        await missing.sign(SigningRequest("CP-1", "ChargingStationCertificate", csr("CP-1")))
    script = textwrap.dedent("""
        import os, sys
        sys.stdout.write(os.environ["WATTSON_CHARGE_POINT_ID"] + " " + os.environ["WATTSON_CERTIFICATE_TYPE"]
                         + " " + sys.stdin.read()[:35])
    """)
    echo = CommandSigner([sys.executable, "-c", script], timeout=60)
    assert await echo.sign(SigningRequest("CP-1", "V2GCertificate", csr("CP-1"))) == (
        "CP-1 V2GCertificate -----BEGIN CERTIFICATE REQUEST-----")


# --- signers from entry points, and unusable signer settings ------------------------------------
PLUGIN = '''\
import asyncio

from wattson.pki.signers import SigningFailed


class AcmeSigner:
    name = "acme"

    def __init__(self, settings):
        self.validity = settings.cert_validity_days

    async def sign(self, request):
        if request.charge_point_id.startswith("CP-NOPE"):
            raise SigningFailed("acme says no to " + request.charge_point_id)
        if request.charge_point_id.startswith("CP-HANG"):
            await asyncio.sleep(3600)
        return "not a chain at all"


def make(settings):
    return AcmeSigner(settings)
'''


def install_plugin(directory):
    """A distribution declaring the signer `acme` in wattson.certificate_signers, on ``directory``."""
    (directory / "acme_signer.py").write_text(PLUGIN)
    info = directory / "acme_signer-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-signer\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[wattson.certificate_signers]\nacme = acme_signer:make\n")


@pytest.fixture
def plugin_server(tmp_path, monkeypatch):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    install_plugin(plugins)
    monkeypatch.setenv("PYTHONPATH", str(plugins))  # the server process finds the distribution there
    yield from start_server(tmp_path, "sqlite", cert_signer="acme", cert_signer_timeout="1")


async def test_a_signer_from_an_entry_point_and_what_it_gets_wrong(plugin_server):
    """The operator's signer is loaded by name; its refusal, an answer that is no chain and no
    answer in time fail the record and send the station nothing."""
    nope, wrong = await plugin_server.add_station(f"CP-NOPE-{unique()}"), await plugin_server.add_station()
    hang = await plugin_server.add_station(f"CP-HANG-{unique()}")
    for cp, reason in ((nope, f"acme says no to {nope}"),
                       (wrong, "the signer's answer is not a chain of PEM certificates"),
                       (hang, "the signer did not answer within 1 s")):
        async with station(plugin_server.ws_url, cp, ("ocpp2.0.1",)) as st:
            await st.ok("BootNotification", BOOT_201)
            assert await st.ok("SignCertificate", {"csr": csr(cp)}) == {"status": "Accepted"}
            row = await record_in(plugin_server, cp, "failed")
        assert row["reason"] == reason and row["chain"] is None
        assert await commands_sent(plugin_server, cp) == []


@pytest.mark.parametrize("variables, message", [
    ({"WATTSON_CERT_SIGNER": "nope"}, "wattson: WATTSON_CERT_SIGNER: no signer 'nope'; use ca, command or an entry "
                                      "point of the group wattson.certificate_signers"),
    ({"WATTSON_CERT_SIGNER": "command"}, "wattson: WATTSON_CERT_SIGNER=command needs WATTSON_CERT_SIGNER_COMMAND"),
], ids=["unknown", "no-command"])
def test_serve_stops_at_an_unusable_signer(tmp_path, variables, message):
    env = {**os.environ, "WATTSON_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **variables}
    result = subprocess.run([sys.executable, "-m", "wattson", "serve", "--port", "0"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(message), result.stderr
