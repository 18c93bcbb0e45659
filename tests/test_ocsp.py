"""OCSP for stations (GetCertificateStatus): the request Wattson builds, how it reads answers and
caches them, and a real `openssl ocsp` responder on loopback asked through a 2.0.1 / 2.1 station."""

import base64
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from conftest import READY_BOUND_S, free_port, start_server, started_once
from ocpp_client import station
from wattson.pki.ocsp import (AnswerCache, OcspAnswer, OcspQuery, Refused, build_request, cache_seconds, classify,
                              responder_target)

BOOT = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}


# --- a small PKI and an openssl responder ---------------------------------------------------------
def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Wattson OCSP tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Pki:
    """A CA, a good and a revoked certificate, and the index file `openssl ocsp` answers from."""

    def __init__(self, directory: Path):
        self.directory = directory
        now = datetime.now(timezone.utc)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = (x509.CertificateBuilder().subject_name(_name("OCSP test CA")).issuer_name(_name("OCSP test CA"))
                   .public_key(self.ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(self.ca_key, hashes.SHA256()))
        self.good, self.revoked = self._issue("good station"), self._issue("revoked station")
        (directory / "ca.pem").write_bytes(self.ca.public_bytes(serialization.Encoding.PEM))
        (directory / "ca.key").write_bytes(self.ca_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        expiry = (now + timedelta(days=7)).strftime("%y%m%d%H%M%SZ")
        revoked_at = (now - timedelta(minutes=5)).strftime("%y%m%d%H%M%SZ")
        lines = [f"V\t{expiry}\t\t{self.good.serial_number:X}\tunknown\t/O=Wattson OCSP tests/CN=good station",
                 f"R\t{expiry}\t{revoked_at}\t{self.revoked.serial_number:X}\tunknown\t"
                 "/O=Wattson OCSP tests/CN=revoked station"]
        (directory / "index.txt").write_text("".join(line + "\n" for line in lines))

    def _issue(self, cn: str) -> x509.Certificate:
        now = datetime.now(timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        serial = x509.random_serial_number()
        if len(f"{serial:X}") % 2:  # the index file's serials have an even number of digits
            serial >>= 4
        return (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.ca.subject)
                .public_key(key.public_key()).serial_number(serial)
                .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=7))
                .sign(self.ca_key, hashes.SHA256()))

    def request_data(self, cert: x509.Certificate, url: str, algorithm=hashes.SHA256) -> dict:
        """ocspRequestData for ``cert``, as a station computes it."""
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, self.ca, algorithm()).build()
        return {"hashAlgorithm": algorithm.name.upper(), "issuerNameHash": request.issuer_name_hash.hex(),
                "issuerKeyHash": request.issuer_key_hash.hex(), "serialNumber": f"{cert.serial_number:X}",
                "responderURL": url}


class Responder:
    """`openssl ocsp` answering from the PKI's index on a free port, asked on loopback; its
    answers' nextUpdate is 10 minutes on."""

    def __init__(self, pki: Pki):
        self.port = free_port()
        d = pki.directory
        self.log = open(d / f"openssl-{self.port}.log", "w")
        self.process = subprocess.Popen(
            ["openssl", "ocsp", "-index", str(d / "index.txt"), "-port", str(self.port),  # 3.0 takes no address
             "-CA", str(d / "ca.pem"), "-rsigner", str(d / "ca.pem"), "-rkey", str(d / "ca.key"), "-nmin", "10"],
            stdout=self.log, stderr=subprocess.STDOUT)
        # it says ACCEPT once it listens (a probe connection would hold up this one-at-a-time server)
        log = d / f"openssl-{self.port}.log"
        deadline = time.monotonic() + READY_BOUND_S
        while "ACCEPT" not in log.read_text():
            assert self.process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "openssl ocsp did not listen"
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("ocsp-pki"))


@pytest.fixture(scope="module")
def responder(pki):
    running = Responder(pki)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ocsp_server(request, tmp_path_factory):
    """A server that may reach loopback responders, with a short OCSP timeout."""
    yield from started_once(request, start_server(tmp_path_factory.mktemp("ocsp"), "sqlite",
                                                  ocsp_allow_private="true", ocsp_timeout_s="2"))


async def status(server, data: dict, subprotocol: str = "ocpp2.0.1", cp: str | None = None) -> dict:
    cp = cp or await server.add_station()
    async with station(server.ws_url, cp, (subprotocol,)) as st:
        await st.ok("BootNotification", BOOT)
        return await st.ok("GetCertificateStatus", {"ocspRequestData": data})


def certificate_status(reply: dict) -> ocsp.OCSPCertStatus:
    assert reply["status"] == "Accepted", reply
    response = ocsp.load_der_ocsp_response(base64.b64decode(reply["ocspResult"]))
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    return response.certificate_status


# --- through a station ------------------------------------------------------------------------------
@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])
async def test_the_responder_says_good_and_revoked(ocsp_server, pki, responder, subprotocol):
    good = await status(ocsp_server, pki.request_data(pki.good, responder.url), subprotocol)
    assert certificate_status(good) == ocsp.OCSPCertStatus.GOOD
    revoked = await status(ocsp_server, pki.request_data(pki.revoked, responder.url, hashes.SHA384), subprotocol)
    assert certificate_status(revoked) == ocsp.OCSPCertStatus.REVOKED
    response = ocsp.load_der_ocsp_response(base64.b64decode(revoked["ocspResult"]))
    assert response.serial_number == pki.revoked.serial_number and response.revocation_time_utc is not None


async def test_each_request_is_a_station_event_with_its_outcome(ocsp_server, pki, responder):
    cp = await ocsp_server.add_station()
    await status(ocsp_server, pki.request_data(pki.good, responder.url), cp=cp)
    await status(ocsp_server, {**pki.request_data(pki.good, responder.url), "issuerKeyHash": "zz"}, cp=cp)
    async with ocsp_server.api() as api:
        events = (await api.get(f"/api/v1/charge-points/{cp}/events", params={"limit": 10})).json()["data"]
    asked = [e for e in events if e["kind"] == "certificate_status_request"]
    assert len(asked) == 2, events
    answers = [e["data"]["answer"] for e in asked]
    assert sorted(answers, key=str) == [{"status": "Accepted"}, {"reason": "InvalidInput", "status": "Failed"}]
    assert all(e["data"]["ocspRequestData"]["responderURL"] == responder.url for e in asked)


async def test_a_second_identical_request_is_answered_from_the_cache(ocsp_server, pki):
    own = Responder(pki)
    try:
        first = await status(ocsp_server, pki.request_data(pki.revoked, own.url))
        assert certificate_status(first) == ocsp.OCSPCertStatus.REVOKED
    finally:
        own.stop()
    again = await status(ocsp_server, pki.request_data(pki.revoked, own.url))  # nobody listens there now
    assert again == first
    other = await status(ocsp_server, pki.request_data(pki.good, own.url))  # never asked: not cached
    assert other["status"] == "Failed" and other["statusInfo"]["reasonCode"] == "Unreachable", other


async def test_a_port_nobody_listens_on_is_unreachable(ocsp_server, pki):
    reply = await status(ocsp_server, pki.request_data(pki.good, f"http://127.0.0.1:{free_port()}/ocsp"))
    assert reply["status"] == "Failed" and reply["statusInfo"]["reasonCode"] == "Unreachable", reply
    assert "cannot be reached" in reply["statusInfo"]["additionalInfo"]


async def test_a_responder_that_never_answers_times_out(ocsp_server, pki):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        reply = await status(ocsp_server, pki.request_data(pki.good, url))
    assert reply == {"status": "Failed", "statusInfo": {"reasonCode": "Timeout",
                                                        "additionalInfo": "the responder did not answer within 2 s"}}


async def test_an_http_error_is_failed_with_its_status(ocsp_server, pki):
    data = pki.request_data(pki.good, f"http://127.0.0.1:{ocsp_server.port}/no/ocsp/here")  # Wattson's own 404
    reply = await status(ocsp_server, data)
    assert reply == {"status": "Failed", "statusInfo": {"reasonCode": "HttpError",
                                                        "additionalInfo": "the responder answered HTTP 404"}}


@pytest.mark.parametrize("change, reason", [
    ({"issuerNameHash": "xyz"}, "InvalidInput"),
    ({"issuerNameHash": "abc"}, "InvalidInput"),  # odd number of digits
    ({"issuerKeyHash": "ab" * 20}, "InvalidInput"),  # a SHA-1 length for SHA256
    ({"serialNumber": "12G4"}, "InvalidInput"),
    ({"responderURL": "ftp://127.0.0.1/ocsp"}, "InvalidURL"),
    ({"responderURL": "http://user:pw@127.0.0.1/"}, "InvalidURL"),
    ({"responderURL": "not a url"}, "InvalidURL"),
])
async def test_bad_input_is_failed_with_the_reason(ocsp_server, pki, change, reason):
    reply = await status(ocsp_server, {**pki.request_data(pki.good, "http://127.0.0.1:9/"), **change})
    assert reply["status"] == "Failed" and reply["statusInfo"]["reasonCode"] == reason, reply
    assert reply["statusInfo"]["additionalInfo"]


async def test_loopback_responders_are_refused_unless_allowed(sqlite_server, pki, responder):
    reply = await status(sqlite_server, pki.request_data(pki.good, responder.url))
    assert reply["status"] == "Failed" and reply["statusInfo"]["reasonCode"] == "NotAllowed", reply
    assert "WATTSON_OCSP_ALLOW_PRIVATE" in reply["statusInfo"]["additionalInfo"]


# --- a scripted responder: what real ones sometimes do ---------------------------------------------
@pytest.fixture(scope="module")
def scripted(pki):
    """An HTTP responder whose path says how it answers: /junk (200, no OCSP), /huge (a valid answer
    carrying a dozen certificates), /trickle (a valid answer a byte at a time, too slowly)."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = ocsp.load_der_ocsp_request(self.rfile.read(int(self.headers["Content-Length"])))
            cert, said = ((pki.good, ocsp.OCSPCertStatus.GOOD) if request.serial_number == pki.good.serial_number
                          else (pki.revoked, ocsp.OCSPCertStatus.REVOKED))
            if self.path == "/junk":
                return self._send(b"<html>not OCSP</html>")
            if self.path == "/huge":
                return self._send(_response(pki, cert, said, extra_certs=[pki.ca] * 12))
            body = _response(pki, cert, said)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for byte in body:  # each read gets something, the whole never comes in time
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass

        def _send(self, body: bytes):
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_an_answer_that_is_no_ocsp_response_is_malformed(ocsp_server, pki, scripted):
    reply = await status(ocsp_server, pki.request_data(pki.good, scripted + "/junk"))
    assert reply["status"] == "Failed" and reply["statusInfo"]["reasonCode"] == "MalformedResponse", reply


async def test_an_answer_too_large_for_2_0_1_is_relayed_to_2_1(ocsp_server, pki, scripted):
    data = pki.request_data(pki.revoked, scripted + "/huge")
    reply = await status(ocsp_server, data, "ocpp2.0.1")
    assert reply["status"] == "Failed" and reply["statusInfo"]["reasonCode"] == "TooLarge", reply
    assert "allows 5500" in reply["statusInfo"]["additionalInfo"]
    assert certificate_status(await status(ocsp_server, data, "ocpp2.1")) == ocsp.OCSPCertStatus.REVOKED


async def test_a_responder_that_trickles_is_timed_out_all_told(ocsp_server, pki, scripted):
    reply = await status(ocsp_server, pki.request_data(pki.good, scripted + "/trickle"))
    assert reply["status"] == "Failed" and reply["statusInfo"]["reasonCode"] == "Timeout", reply


# --- pure parts -----------------------------------------------------------------------------------
def query_for(pki: Pki, cert, url="http://127.0.0.1:9/", algorithm=hashes.SHA256) -> OcspQuery:
    d = pki.request_data(cert, url, algorithm)
    return OcspQuery(d["hashAlgorithm"], d["issuerNameHash"], d["issuerKeyHash"], d["serialNumber"], url)


@pytest.mark.parametrize("algorithm", [hashes.SHA256, hashes.SHA384, hashes.SHA512])
def test_the_request_names_the_certificate_asked_about(pki, algorithm):
    query = query_for(pki, pki.good, algorithm=algorithm)
    request = ocsp.load_der_ocsp_request(build_request(query))
    expected = ocsp.OCSPRequestBuilder().add_certificate(pki.good, pki.ca, algorithm()).build()
    assert (request.issuer_name_hash, request.issuer_key_hash, request.serial_number, request.hash_algorithm.name) \
        == (expected.issuer_name_hash, expected.issuer_key_hash, pki.good.serial_number, algorithm.name)
    assert len(request.extensions) == 0  # no nonce: the same question is the same request
    assert build_request(query) == build_request(query)


def test_lowercase_hex_and_a_leading_zero_are_the_same_certificate(pki):
    query = query_for(pki, pki.good)
    lower = OcspQuery("sha256", query.issuer_name_hash.lower(), query.issuer_key_hash.upper(),
                      "0" + query.serial_number.lower(), query.responder_url)
    assert build_request(lower) == build_request(query)


@pytest.mark.parametrize("url", ["https://ocsp.example.com", "http://ocsp.example.com:8080/a/b", "HTTP://x/"])
def test_responder_urls_that_are_taken(url):
    assert responder_target(url)[0] in ("http", "https")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://", "http://a:b@host/", "http://host:0/",
                                 "http://host:99999/"])
def test_responder_urls_that_are_refused(url):
    with pytest.raises(Refused) as refused:
        responder_target(url)
    assert refused.value.reason == "InvalidURL"


def test_an_algorithm_ocpp_does_not_name_is_refused(pki):
    query = query_for(pki, pki.good)
    with pytest.raises(Refused, match="hashAlgorithm"):
        build_request(OcspQuery("SHA1", query.issuer_name_hash[:40], query.issuer_key_hash[:40],
                                query.serial_number, query.responder_url))


def _response(pki: Pki, cert, status=ocsp.OCSPCertStatus.GOOD, next_update: datetime | None = None,
              extra_certs=()) -> bytes:
    now = datetime.now(timezone.utc)
    builder = ocsp.OCSPResponseBuilder()
    if extra_certs:
        builder = builder.certificates(list(extra_certs))
    builder = builder.add_response(
        cert=cert, issuer=pki.ca, algorithm=hashes.SHA256(), cert_status=status, this_update=now,
        next_update=next_update, revocation_time=now if status == ocsp.OCSPCertStatus.REVOKED else None,
        revocation_reason=None).responder_id(ocsp.OCSPResponderEncoding.HASH, pki.ca)
    return builder.sign(pki.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_a_successful_answer_is_accepted_whatever_the_status(pki):
    later = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=30)
    for status_ in (ocsp.OCSPCertStatus.GOOD, ocsp.OCSPCertStatus.REVOKED, ocsp.OCSPCertStatus.UNKNOWN):
        der = _response(pki, pki.good, status_, later)
        assert classify(der, query_for(pki, pki.good)) == OcspAnswer(result=der, fresh_until=later)


def test_an_answer_about_another_certificate_is_not_relayed(pki):
    answer = classify(_response(pki, pki.revoked), query_for(pki, pki.good))
    assert (answer.accepted, answer.reason) == (False, "WrongCertificate")


def test_a_responder_using_sha1_is_matched_by_serial(pki):
    answer = classify(_response(pki, pki.good), query_for(pki, pki.good, algorithm=hashes.SHA512))
    assert answer.accepted


@pytest.mark.parametrize("status_, reason", [
    (ocsp.OCSPResponseStatus.MALFORMED_REQUEST, "MalformedRequest"),
    (ocsp.OCSPResponseStatus.INTERNAL_ERROR, "ResponderError"),
    (ocsp.OCSPResponseStatus.TRY_LATER, "TryLater"),
    (ocsp.OCSPResponseStatus.SIG_REQUIRED, "SigRequired"),
    (ocsp.OCSPResponseStatus.UNAUTHORIZED, "Unauthorized"),
])
def test_unsuccessful_answers_say_why(pki, status_, reason):
    der = ocsp.OCSPResponseBuilder.build_unsuccessful(status_).public_bytes(serialization.Encoding.DER)
    answer = classify(der, query_for(pki, pki.good))
    assert (answer.accepted, answer.reason) == (False, reason) and len(reason) <= 20


def test_bytes_that_are_no_ocsp_response(pki):
    answer = classify(b'{"status": "ok"}', query_for(pki, pki.good))
    assert (answer.accepted, answer.reason) == (False, "MalformedResponse")


def test_an_answer_is_cached_until_its_next_update_at_most_the_cap():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert cache_seconds(now + timedelta(minutes=10), now, 3600) == 600
    assert cache_seconds(now + timedelta(days=7), now, 3600) == 3600
    assert cache_seconds(now - timedelta(minutes=1), now, 3600) == 0  # already stale
    assert cache_seconds(None, now, 3600) == 0  # no nextUpdate: newer information is always available
    assert cache_seconds(now + timedelta(minutes=10), now, 0) == 0  # caching off


def test_the_cache_expires_and_stays_bounded():
    clock = [0.0]
    cache = AnswerCache(entries=2, clock=lambda: clock[0])
    a, b, c = (OcspAnswer(result=bytes([n])) for n in range(3))
    cache.put("a", a, 10)
    cache.put("b", b, 100)
    cache.put("none", c, 0)  # not cached at all
    assert cache.get("a") is a and cache.get("none") is None
    cache.put("c", c, 100)  # "b" is the least recently used now
    assert (cache.get("b"), cache.get("a"), cache.get("c"), len(cache)) == (None, a, c, 2)
    clock[0] = 10.0
    assert cache.get("a") is None and cache.get("c") is c
