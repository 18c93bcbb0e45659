"""Authorize with ISO 15118 contract certificates (OCPP 2.0.1 C07; OCTT TC_C_50-TC_C_52): Wattson
checks the certificate online with a real `openssl ocsp` responder on loopback (tests/test_ocsp.py's
PKI and responder) and answers certificateStatus beside the eMAID's idTokenInfo. The rules
without a server at the end."""

from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

import test_ocsp
from conftest import free_port, start_server, started_once, unique
from ocpp_client import station
from test_ocsp import BOOT, Pki, Responder, _name, _response
from wattson.pki.contract_auth import (ACCEPTED, CHAIN_ERROR, EXPIRED, NO_STATUS, REVOKED, SIGNATURE_ERROR, Check,
                                       checks_for, combine, judge, verify_chain, Verdict)
from wattson.pki.ocsp import OcspQuery

NOW = datetime.now(timezone.utc)


@pytest.fixture(autouse=True)
def _fresh_now():
    """NOW is each test's own: certificates and OCSP answers made during the test are dated by the
    clock, and a suite that runs long would otherwise judge them against its start."""
    global NOW
    NOW = datetime.now(timezone.utc)


def pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def with_ocsp_url(pki: Pki, cert: x509.Certificate, url: str, **changes) -> x509.Certificate:
    """``cert`` issued again by the PKI's CA with an OCSP responder in its Authority Information Access."""
    builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(pki.ca.subject)
               .public_key(cert.public_key()).serial_number(cert.serial_number)
               .not_valid_before(changes.get("not_before", cert.not_valid_before_utc))
               .not_valid_after(changes.get("not_after", cert.not_valid_after_utc))
               .add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                   AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(url))]), critical=False))
    return builder.sign(changes.get("key", pki.ca_key), hashes.SHA256())


@pytest.fixture(scope="module")
def contract_pki(tmp_path_factory):
    """The PKI of tests/test_ocsp.py, its responder on a port chosen first (the certificates name it)."""
    pki = Pki(tmp_path_factory.mktemp("contract-pki"))
    port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(test_ocsp, "free_port", lambda: port)
        responder = Responder(pki)
    assert responder.url == f"http://127.0.0.1:{port}/"
    pki.good_aia = with_ocsp_url(pki, pki.good, responder.url)
    pki.revoked_aia = with_ocsp_url(pki, pki.revoked, responder.url)
    yield pki, responder
    responder.stop()


@pytest.fixture(scope="module")
def contract_server(request, tmp_path_factory, contract_pki):
    pki, _ = contract_pki
    yield from started_once(request, start_server(
        tmp_path_factory.mktemp("contract-auth"), "sqlite", ocsp_allow_private="true", ocsp_timeout_s="2",
        contract_roots=str(pki.directory / "ca.pem")))


async def authorize(server, **extra) -> tuple[dict, str, str]:
    """An eMAID Wattson knows, authorised with ``extra``: the answer, the eMAID, the station."""
    emaid = unique("DEWAT")[:15]
    await server.add_tag(uid=emaid, type="eMAID")
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        answer = await st.ok("Authorize", {"idToken": {"idToken": emaid, "type": "eMAID"}, **extra})
        if extra.get("certificate") and answer.get("certificateStatus") == ACCEPTED:  # TC_C_52 steps 5-6
            started = await st.ok("TransactionEvent", {
                "eventType": "Started", "timestamp": datetime.now(timezone.utc).isoformat(), "seqNo": 0,
                "triggerReason": "Authorized", "transactionInfo": {"transactionId": f"C52-{cp}",
                                                                   "chargingState": "EVConnected"},
                "idToken": {"idToken": emaid, "type": "eMAID"}, "evse": {"id": 1, "connectorId": 1}})
            assert started["idTokenInfo"]["status"] == "Accepted", started
    return answer, emaid, cp


async def test_tc_c_50_hash_data_of_a_good_certificate_is_accepted(contract_server, contract_pki):
    pki, responder = contract_pki
    answer, _, cp = await authorize(contract_server, iso15118CertificateHashData=[
        pki.request_data(pki.good, responder.url)])
    assert (answer["idTokenInfo"]["status"], answer["certificateStatus"]) == ("Accepted", "Accepted")
    async with contract_server.api() as api:
        events = (await api.get(f"/api/v1/charge-points/{cp}/events")).json()["data"]
    (check,) = [e for e in events if e["kind"] == "contract_certificate_check"]
    assert check["data"]["certificate_status"] == "Accepted"


async def test_tc_c_51_hash_data_of_a_revoked_certificate_is_invalid(contract_server, contract_pki):
    pki, responder = contract_pki
    answer, _, _ = await authorize(contract_server, iso15118CertificateHashData=[
        pki.request_data(pki.good, responder.url), pki.request_data(pki.revoked, responder.url)])
    assert (answer["idTokenInfo"]["status"], answer["certificateStatus"]) == ("Invalid", "CertificateRevoked")


async def test_tc_c_52_a_certificate_is_checked_against_the_roots_and_online(contract_server, contract_pki):
    """No hash data: Wattson verifies the chain to WATTSON_CONTRACT_ROOTS and asks the responder its
    Authority Information Access names; the transaction that follows is authorised as usual."""
    pki, _ = contract_pki
    answer, _, _ = await authorize(contract_server, certificate=pem(pki.good_aia))
    assert (answer["idTokenInfo"]["status"], answer["certificateStatus"]) == ("Accepted", "Accepted")
    answer, _, _ = await authorize(contract_server, certificate=pem(pki.revoked_aia))
    assert (answer["idTokenInfo"]["status"], answer["certificateStatus"]) == ("Invalid", "CertificateRevoked")


@pytest.mark.parametrize("case", ["unknown_ca", "expired", "no_responder_url", "not_pem", "unreachable"])
async def test_a_certificate_not_known_good_authorises_nothing(contract_server, contract_pki, case):
    pki, responder = contract_pki
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_ca = (x509.CertificateBuilder().subject_name(_name("Another CA")).issuer_name(_name("Another CA"))
                .public_key(other_key.public_key()).serial_number(7).not_valid_before(NOW - timedelta(days=1))
                .not_valid_after(NOW + timedelta(days=9)).add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                                                       critical=True).sign(other_key, hashes.SHA256()))
    extra, expected = {
        "unknown_ca": ({"certificate": pem(x509.CertificateBuilder().subject_name(_name("stranger"))
                                           .issuer_name(other_ca.subject).public_key(other_key.public_key())
                                           .serial_number(8).not_valid_before(NOW - timedelta(days=1))
                                           .not_valid_after(NOW + timedelta(days=9))
                                           .sign(other_key, hashes.SHA256()), other_ca)}, CHAIN_ERROR),
        "expired": ({"certificate": pem(with_ocsp_url(pki, pki.good, responder.url,
                                                      not_before=NOW - timedelta(days=9),
                                                      not_after=NOW - timedelta(days=1)))}, EXPIRED),
        "no_responder_url": ({"certificate": pem(pki.good)}, NO_STATUS),
        "not_pem": ({"certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"}, CHAIN_ERROR),
        "unreachable": ({"iso15118CertificateHashData": [pki.request_data(pki.good, f"http://127.0.0.1:{free_port()}/")]},
                        NO_STATUS),
    }[case]
    answer, _, _ = await authorize(contract_server, **extra)
    assert (answer["idTokenInfo"]["status"], answer["certificateStatus"]) == ("Invalid", expected)


async def test_an_unknown_emaid_stays_unknown_and_without_certificate_data_nothing_changes(contract_server,
                                                                                          contract_pki):
    pki, responder = contract_pki
    cp = await contract_server.add_station()
    async with station(contract_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        answer = await st.ok("Authorize", {"idToken": {"idToken": "DE-UNKNOWN-1", "type": "eMAID"},
                                           "iso15118CertificateHashData": [pki.request_data(pki.good, responder.url)]})
        assert (answer["idTokenInfo"]["status"], answer["certificateStatus"]) == ("Unknown", "Accepted")
        plain = await st.ok("Authorize", {"idToken": {"idToken": "DE-UNKNOWN-1", "type": "eMAID"}})
        assert "certificateStatus" not in plain


# --- the rules, without a server ------------------------------------------------------------------
def _ca(cn: str, key, issuer=None, issuer_key=None) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(issuer.subject if issuer else _name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(issuer_key or key, hashes.SHA256()))


def test_a_chain_through_a_sub_ca_is_verified_and_each_certificate_checked():
    root_key, sub_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _ca("MO root", root_key)
    sub = _ca("MO sub-CA", sub_key, root, root_key)
    aia = x509.AuthorityInformationAccess([x509.AccessDescription(
        AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.example/"))])
    leaf = (x509.CertificateBuilder().subject_name(_name("DEWATC12345678")).issuer_name(sub.subject)
            .public_key(leaf_key.public_key()).serial_number(0x1234).not_valid_before(NOW - timedelta(days=1))
            .not_valid_after(NOW + timedelta(days=9)).add_extension(aia, critical=False).sign(sub_key, hashes.SHA256()))
    path, problem = verify_chain([leaf, sub], [root], NOW)
    assert problem is None and path == [leaf, sub, root]
    (check,) = checks_for(path)  # the sub-CA names no responder: its signature vouches for it
    assert (check.issuer, check.query.serial_number, check.query.responder_url) == (sub, "1234", "http://ocsp.example/")
    assert verify_chain([leaf], [root], NOW)[1].status == CHAIN_ERROR  # the sub-CA missing
    forged_sub = _ca("MO sub-CA", sub_key, root, ec.generate_private_key(ec.SECP256R1()))
    assert verify_chain([leaf, forged_sub], [root], NOW)[1].status == SIGNATURE_ERROR
    assert verify_chain([leaf, sub], [], NOW)[1].status == CHAIN_ERROR  # no roots configured
    assert combine([Verdict(ACCEPTED, ""), Verdict(NO_STATUS, "x"), Verdict(REVOKED, "y")]).status == REVOKED


def test_an_ocsp_answer_counts_only_when_the_issuer_or_its_responder_signed_it(tmp_path):
    pki = Pki(tmp_path)
    query = OcspQuery(**{k: v for k, v in zip(
        ("hash_algorithm", "issuer_name_hash", "issuer_key_hash", "serial_number", "responder_url"),
        pki.request_data(pki.good, "http://ocsp.example/").values())})
    by_issuer = _response(pki, pki.good)
    assert judge(by_issuer, Check(query), NOW).status == NO_STATUS  # the issuer's certificate not included
    assert judge(_response(pki, pki.good, extra_certs=[pki.ca]), Check(query), NOW).status == ACCEPTED
    assert judge(by_issuer, Check(query, pki.ca), NOW).status == ACCEPTED  # the issuer known (a chain)
    assert judge(_response(pki, pki.revoked, ocsp.OCSPCertStatus.REVOKED), Check(
        OcspQuery(query.hash_algorithm, query.issuer_name_hash, query.issuer_key_hash,
                  f"{pki.revoked.serial_number:X}", query.responder_url), pki.ca), NOW).status == REVOKED
    # a delegated responder: made one by the issuer (id-kp-OCSPSigning), included in the answer
    responder_key = ec.generate_private_key(ec.SECP256R1())
    delegate = (x509.CertificateBuilder().subject_name(_name("OCSP responder")).issuer_name(pki.ca.subject)
                .public_key(responder_key.public_key()).serial_number(99).not_valid_before(NOW - timedelta(days=1))
                .not_valid_after(NOW + timedelta(days=9))
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
                .sign(pki.ca_key, hashes.SHA256()))

    def signed_by(cert, key) -> bytes:
        return (ocsp.OCSPResponseBuilder().add_response(
            cert=pki.good, issuer=pki.ca, algorithm=hashes.SHA256(), cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=NOW, next_update=NOW + timedelta(minutes=10), revocation_time=None, revocation_reason=None)
            .responder_id(ocsp.OCSPResponderEncoding.HASH, cert).certificates([cert])
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    assert judge(signed_by(delegate, responder_key), Check(query, pki.ca), NOW).status == ACCEPTED
    assert judge(signed_by(delegate, responder_key), Check(query), NOW).status == NO_STATUS  # issuer unknown
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger = _ca("OCSP test CA", stranger_key)  # the issuer's name, another key
    assert judge(signed_by(stranger, stranger_key), Check(query), NOW).status == NO_STATUS
    tampered = bytearray(by_issuer)
    tampered[-1] ^= 0x01  # the signature's last byte (no certificates follow it)
    assert judge(bytes(tampered), Check(query, pki.ca), NOW).status == NO_STATUS  # the signature does not verify
    stale = _response(pki, pki.good, next_update=NOW - timedelta(minutes=1), extra_certs=[pki.ca])
    assert judge(stale, Check(query), NOW).status == NO_STATUS
