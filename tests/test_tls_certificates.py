"""The TLS listener with an ECDSA and an RSA server certificate at once, and only the cipher suites
OCPP names for TLS 1.2 (2.0.1 A00.FR.318, the 1.6 security whitepaper): real stations over real
TLS on loopback, each restricted to what a station might offer; and the settings' checks."""

import asyncio
import os
import ssl
import subprocess
import sys

import orjson
import pytest
import websockets
from cryptography import x509

from certs import TestCa
from conftest import READY_BOUND_S, start_server, unique
from fixture_failures import started_once
from wattson.settings import Settings
from wattson.tls import TLS12_CIPHERS, key_type, server_context

ECDSA_SUITES = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"
ECDHE_RSA_SUITES = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
PLAIN_RSA_SUITES = "AES128-GCM-SHA256:AES256-GCM-SHA384"  # TLS_RSA_WITH_AES_*_GCM_*: no forward secrecy


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    ca = TestCa(directory)
    return {"ca": ca, "ecdsa": ca.server(), "rsa": ca.server("rsa"), "other_ca": TestCa(directory, "Other CA")}


@pytest.fixture(scope="module")
def dual_server(request, pki, tmp_path_factory):
    """ECDSA first, RSA second; unknown stations registered on connect (profile 0 over TLS)."""
    yield from started_once(request, start_server(
        tmp_path_factory.mktemp("dual"), "sqlite", auto_register="true",
        tls_cert=str(pki["ecdsa"].cert), tls_key=str(pki["ecdsa"].key),
        tls_cert_2=str(pki["rsa"].cert), tls_key_2=str(pki["rsa"].key)))


def client(ca: TestCa, ciphers: str | None = None) -> ssl.SSLContext:
    """A station's context trusting ``ca``: TLS 1.2 only offering ``ciphers``, or anything (TLS 1.3)."""
    context = ca.client_context()
    if ciphers is not None:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(ciphers)
    return context


async def boot(url: str, context: ssl.SSLContext) -> tuple[str, str, str, str]:
    """Connect as a new OCPP 1.6 station and boot: (status, server key type, cipher, TLS version)."""
    async with websockets.connect(f"{url}/{unique()}", subprotocols=["ocpp1.6"], ssl=context,
                                  open_timeout=READY_BOUND_S) as ws:
        ssl_object = ws.transport.get_extra_info("ssl_object")
        await ws.send(orjson.dumps([2, "1", "BootNotification", {"chargePointVendor": "Test",
                                                                 "chargePointModel": "T1"}]).decode())
        status = orjson.loads(await asyncio.wait_for(ws.recv(), READY_BOUND_S))[2]["status"]
        peer = ssl.DER_cert_to_PEM_cert(ssl_object.getpeercert(binary_form=True)).encode()
        return status, key_type(peer), ssl_object.cipher()[0], ssl_object.version()


# --- a station sees the certificate its cipher suites can use ------------------------------------
@pytest.mark.parametrize("ciphers, expected_key", [
    (ECDSA_SUITES, "ECDSA"), ("ECDHE-ECDSA-AES256-GCM-SHA384", "ECDSA"),
    (ECDHE_RSA_SUITES, "RSA"), ("ECDHE-RSA-AES256-GCM-SHA384", "RSA"), (PLAIN_RSA_SUITES, "RSA"),
], ids=["ecdsa", "ecdsa-aes256", "ecdhe-rsa", "ecdhe-rsa-aes256", "plain-rsa"])
async def test_a_tls12_station_gets_the_certificate_its_suites_need(dual_server, pki, ciphers, expected_key):
    status, server_key, cipher, version = await boot(dual_server.wss_url, client(pki["ca"], ciphers))
    assert (status, server_key, version) == ("Accepted", expected_key, "TLSv1.2")
    assert cipher in ciphers.split(":")


async def test_tls13_still_connects(dual_server, pki):
    status, server_key, _, version = await boot(dual_server.wss_url, client(pki["ca"]))
    assert (status, version) == ("Accepted", "TLSv1.3") and server_key in ("ECDSA", "RSA")


@pytest.mark.parametrize("ciphers", [
    "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "AES128-SHA256",
], ids=["ecdsa-cbc", "rsa-cbc", "chacha20", "plain-rsa-cbc"])
async def test_a_suite_outside_the_list_is_refused(dual_server, pki, ciphers):
    context = client(pki["ca"], ciphers)
    with pytest.raises((ssl.SSLError, ConnectionResetError)):  # a handshake failure alert, or the socket closed
        _, writer = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", int(dual_server.env["WATTSON_TLS_PORT"]), ssl=context,
            server_hostname="localhost"), READY_BOUND_S)
        writer.close()
    # The listener lives on: a station with a listed suite still connects.
    assert (await boot(dual_server.wss_url, client(pki["ca"], ECDSA_SUITES)))[0] == "Accepted"


# --- the context and the settings ---------------------------------------------------------------
def _tls12_names(context: ssl.SSLContext) -> set[str]:
    return {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}


def test_one_certificate_as_before(pki):
    context = server_context(Settings(tls_cert=pki["ecdsa"].cert, tls_key=pki["ecdsa"].key))
    assert _tls12_names(context) == set(TLS12_CIPHERS)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert any(c["protocol"] == "TLSv1.3" for c in context.get_ciphers())


def test_either_order_of_key_types(pki):
    for first, second in (("rsa", "ecdsa"), ("ecdsa", "rsa")):
        context = server_context(Settings(tls_cert=pki[first].cert, tls_key=pki[first].key,
                                          tls_cert_2=pki[second].cert, tls_key_2=pki[second].key))
        assert _tls12_names(context) == set(TLS12_CIPHERS)


def test_key_type(pki):
    assert key_type(pki["rsa"].cert.read_bytes()) == "RSA"
    assert key_type(pki["ecdsa"].cert.read_bytes()) == "ECDSA"
    assert x509.load_pem_x509_certificate(pki["rsa"].cert.read_bytes()).public_key().key_size == 2048


@pytest.mark.parametrize("variables, message", [
    ({"tls_cert_2": "rsa.pem", "tls_key_2": "rsa.key"}, "WATTSON_TLS_CERT_2 is a second server certificate: set "
                                                        "WATTSON_TLS_CERT and WATTSON_TLS_KEY first"),
    ({"tls_cert": "ecdsa.pem", "tls_key": "ecdsa.key", "tls_cert_2": "rsa.pem"},
     "TLS needs both WATTSON_TLS_CERT_2 and WATTSON_TLS_KEY_2"),
    ({"tls_cert": "ecdsa.pem", "tls_key": "ecdsa.key", "tls_key_2": "rsa.key"},
     "TLS needs both WATTSON_TLS_CERT_2 and WATTSON_TLS_KEY_2"),
    ({"tls_cert": "ecdsa.pem", "tls_key": "ecdsa.key", "tls_cert_2": "missing.pem", "tls_key_2": "rsa.key"},
     "WATTSON_TLS_CERT_2: "),
    ({"tls_cert": "ecdsa.pem", "tls_key": "ecdsa.key", "tls_cert_2": "rsa.pem", "tls_key_2": "ecdsa.key"},
     "WATTSON_TLS_CERT_2 / WATTSON_TLS_KEY_2: cannot use"),
    ({"tls_cert": "ecdsa.pem", "tls_key": "ecdsa.key", "tls_cert_2": "rsa.key", "tls_key_2": "rsa.key"},
     "WATTSON_TLS_CERT_2 / WATTSON_TLS_KEY_2: cannot use"),
    ({"tls_cert": "ecdsa.pem", "tls_key": "ecdsa.key", "tls_cert_2": "other.pem", "tls_key_2": "other.key"},
     "WATTSON_TLS_CERT and WATTSON_TLS_CERT_2 both hold an ECDSA key"),
    ({"tls_cert": "rsa.pem", "tls_key": "rsa.key", "tls_cert_2": "rsa.pem", "tls_key_2": "rsa.key"},
     "WATTSON_TLS_CERT and WATTSON_TLS_CERT_2 both hold an RSA key"),
    ({"tls_cert": "rsa.pem", "tls_key": "ecdsa.key", "tls_cert_2": "rsa.pem", "tls_key_2": "rsa.key"},
     "WATTSON_TLS_CERT / WATTSON_TLS_KEY: cannot use"),
], ids=["second-alone", "cert-2-without-key", "key-2-without-cert", "missing-cert-2", "key-2-of-another",
        "cert-2-is-a-key", "two-ecdsa", "two-rsa", "first-pair-broken"])
def test_unusable_second_certificate_names_the_variable(pki, tmp_path, variables, message):
    other = pki["other_ca"].server()
    files = {"ecdsa.pem": pki["ecdsa"].cert, "ecdsa.key": pki["ecdsa"].key, "rsa.pem": pki["rsa"].cert,
             "rsa.key": pki["rsa"].key, "other.pem": other.cert, "other.key": other.key}
    settings = Settings(**{k: files.get(v, tmp_path / v) for k, v in variables.items()})
    with pytest.raises(ValueError) as err:
        server_context(settings)
    assert message in str(err.value)


def test_second_certificate_from_the_environment(pki, monkeypatch):
    monkeypatch.setenv("WATTSON_TLS_CERT", str(pki["ecdsa"].cert))
    monkeypatch.setenv("WATTSON_TLS_KEY", str(pki["ecdsa"].key))
    monkeypatch.setenv("WATTSON_TLS_CERT_2", "")
    monkeypatch.setenv("WATTSON_TLS_KEY_2", "")
    assert Settings().tls_cert_2 is None and server_context(Settings()) is not None  # empty is unset
    monkeypatch.setenv("WATTSON_TLS_CERT_2", str(pki["rsa"].cert))
    monkeypatch.setenv("WATTSON_TLS_KEY_2", str(pki["rsa"].key))
    assert Settings().tls_key_2 == pki["rsa"].key and server_context(Settings()) is not None


def test_serve_stops_at_two_certificates_of_one_key_type(pki, tmp_path):
    env = {**os.environ, "WATTSON_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
           "WATTSON_TLS_CERT": str(pki["rsa"].cert), "WATTSON_TLS_KEY": str(pki["rsa"].key),
           "WATTSON_TLS_CERT_2": str(pki["rsa"].cert), "WATTSON_TLS_KEY_2": str(pki["rsa"].key)}
    result = subprocess.run([sys.executable, "-m", "wattson", "serve", "--port", "0"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("wattson: WATTSON_TLS_CERT and WATTSON_TLS_CERT_2 both hold an RSA key"), \
        result.stderr
