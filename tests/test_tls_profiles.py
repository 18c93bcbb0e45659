"""OCPP security profiles 2 and 3 over real TLS on loopback (and profile 1 over TLS): handshakes
with the right credentials succeed, with wrong ones fail, identically for every reason; no
downgrade; repeated attempts refused unchecked (429); the ASGI TLS extension; start-up checks; the API's rules;
the CA that signs station certificates."""

import asyncio
import base64
import os
import ssl
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import orjson
import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from websockets.exceptions import InvalidMessage, InvalidStatus

from certs import TestCa, csr
from conftest import READY_BOUND_S, start_server, unique
from fixture_failures import started_once
from test_handshake import log_line, wait_for_station
from wattson.errors import Invalid
from wattson.settings import Settings
from wattson.pki.authority import CertificateAuthority
from wattson.tls import server_context, tls_extension

PASSWORD = "s3cret-Station-Pa55"


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The CSMS's CA (signs the server certificate and the stations'), and a CA nobody trusts."""
    directory = tmp_path_factory.mktemp("pki")
    ca = TestCa(directory)
    return {"ca": ca, "server": ca.server(), "stranger": TestCa(directory, "Untrusted CA")}


@pytest.fixture(scope="module")
def tls_server(request, pki, tmp_path_factory):
    """Plain and TLS listeners, client certificates verified against the CA (profiles 0 to 3)."""
    ca, cert = pki["ca"], pki["server"]
    yield from started_once(request, start_server(
        tmp_path_factory.mktemp("tls"), "sqlite", tls_cert=str(cert.cert), tls_key=str(cert.key),
        tls_client_ca=str(ca.cert_path), ca_cert=str(ca.cert_path), ca_key=str(ca.key_path)))


@pytest.fixture(scope="module")
def tls_no_client_ca_server(request, pki, tmp_path_factory):
    """TLS without client certificates: profiles 0 to 2."""
    cert = pki["server"]
    yield from started_once(request, start_server(tmp_path_factory.mktemp("tls-no-ca"), "sqlite",
                                                  tls_cert=str(cert.cert), tls_key=str(cert.key)))


async def connect(url: str, cp: str, *, context: ssl.SSLContext | None = None, headers: dict | None = None) -> str:
    """Connect as OCPP 1.6 and boot; the BootNotification's status."""
    async with websockets.connect(f"{url}/{cp}", subprotocols=["ocpp1.6"], ssl=context,
                                  additional_headers=headers or {}, open_timeout=READY_BOUND_S) as ws:
        assert ws.subprotocol == "ocpp1.6"
        await ws.send(orjson.dumps([2, "1", "BootNotification", {"chargePointVendor": "Test",
                                                                 "chargePointModel": "T1"}]).decode())
        return orjson.loads(await asyncio.wait_for(ws.recv(), READY_BOUND_S))[2]["status"]


async def refused(url: str, cp: str, **kwargs) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as err:
        await connect(url, cp, **kwargs)
    return err.value


def assert_unauthenticated(error: InvalidStatus) -> None:
    assert error.response.status_code == 401, error.response
    assert orjson.loads(error.response.body)["error"]["code"] == "unauthorized"
    assert error.response.headers["WWW-Authenticate"].startswith("Basic")


# --- profiles ----------------------------------------------------------------------------------
async def test_profile_1_over_ws_and_wss(tls_server, pki):
    cp = await tls_server.add_station(security_profile=1, password=PASSWORD)
    trusting = pki["ca"].client_context()
    assert await connect(tls_server.ws_url, cp, headers=basic(cp, PASSWORD)) == "Accepted"
    assert await connect(tls_server.wss_url, cp, context=trusting, headers=basic(cp, PASSWORD)) == "Accepted"
    assert_unauthenticated(await refused(tls_server.wss_url, cp, context=trusting, headers=basic(cp, "wrong-pass-1234")))
    assert_unauthenticated(await refused(tls_server.wss_url, cp, context=trusting))


async def test_profile_2_needs_tls_and_the_password(tls_server, pki):
    cp = await tls_server.add_station(security_profile=2, password=PASSWORD)
    trusting = pki["ca"].client_context()
    assert await connect(tls_server.wss_url, cp, context=trusting, headers=basic(cp, PASSWORD)) == "Accepted"
    # No downgrade: the right password over plain ws:// is refused.
    assert_unauthenticated(await refused(tls_server.ws_url, cp, headers=basic(cp, PASSWORD)))
    assert_unauthenticated(await refused(tls_server.wss_url, cp, context=trusting, headers=basic(cp, "wrong-pass-1234")))
    assert_unauthenticated(await refused(tls_server.wss_url, cp, context=trusting))
    line = await log_line(tls_server, "WARNING", cp, "without TLS")
    assert PASSWORD not in line


async def test_profile_3_needs_the_stations_own_certificate(tls_server, pki):
    ca = pki["ca"]
    cp = await tls_server.add_station(security_profile=3)
    mine, other = ca.client(cp), ca.client(unique())
    assert await connect(tls_server.wss_url, cp, context=ca.client_context(mine)) == "Accepted"
    # Another station's certificate, though signed by our CA: 403, whatever the password.
    error = await refused(tls_server.wss_url, cp, context=ca.client_context(other), headers=basic(cp, PASSWORD))
    assert error.response.status_code == 403
    assert orjson.loads(error.response.body)["error"]["code"] == "forbidden"
    # No certificate, or plain ws:// (no downgrade): the one 401.
    assert_unauthenticated(await refused(tls_server.wss_url, cp, context=ca.client_context()))
    assert_unauthenticated(await refused(tls_server.ws_url, cp))
    # A certificate from a CA we do not trust fails the TLS handshake itself.
    stranger = pki["stranger"]
    # (TLS 1.3: the client has finished its side when the server's alert comes, so it sees the
    # connection end instead of an HTTP answer; TLS 1.2: the alert itself.)
    with pytest.raises((InvalidMessage, ssl.SSLError, ConnectionError)):
        await connect(tls_server.wss_url, cp, context=ca.client_context(stranger.client(cp)))
    await wait_for_station(tls_server, cp, lambda station: station["network_status"] == "offline")  # polled


async def test_a_certificate_from_our_ca_signing_a_stations_csr(tls_server, pki, tmp_path):
    """The path of OCPP SignCertificate: the station's CSR, signed by the CSMS's CA, lets it in on profile 3."""
    cp = await tls_server.add_station(security_profile=3)
    key = ec.generate_private_key(ec.SECP256R1())
    chain = CertificateAuthority.from_settings(_ca_settings(pki["ca"])).sign(csr(cp, key), cp)
    (tmp_path / "chain.pem").write_text(chain)
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = pki["ca"].client_context()
    context.load_cert_chain(tmp_path / "chain.pem", tmp_path / "key.pem")
    assert await connect(tls_server.wss_url, cp, context=context) == "Accepted"


async def test_every_401_is_the_same(tls_server, pki):
    """Unknown station, wrong or missing password, TLS or certificate missing: one answer, byte for byte."""
    trusting = pki["ca"].client_context()
    p1 = await tls_server.add_station(security_profile=1, password=PASSWORD)
    p2 = await tls_server.add_station(security_profile=2, password=PASSWORD)
    p3 = await tls_server.add_station(security_profile=3)
    errors = [await refused(tls_server.ws_url, unique()),
              await refused(tls_server.wss_url, unique(), context=trusting, headers=basic("x", PASSWORD)),
              await refused(tls_server.ws_url, p1, headers=basic(p1, "wrong-pass-1234")),
              await refused(tls_server.ws_url, p1),
              await refused(tls_server.ws_url, p2, headers=basic(p2, PASSWORD)),
              await refused(tls_server.wss_url, p3, context=trusting)]
    answers = {(e.response.status_code, bytes(e.response.body), e.response.headers["WWW-Authenticate"],
                e.response.headers["Content-Type"]) for e in errors}
    assert len(answers) == 1, answers
    assert not any(cp in str(answers) for cp in (p1, p2, p3))
    assert_unauthenticated(errors[0])


async def test_repeated_failures_are_refused_unchecked(tls_no_client_ca_server, pki):
    cp = await tls_no_client_ca_server.add_station(security_profile=2, password=PASSWORD)
    context = pki["ca"].client_context()
    for _ in range(10):  # the free attempts per (station, address) are evaluated: 401
        assert_unauthenticated(await refused(tls_no_client_ca_server.wss_url, cp, context=context,
                                             headers=basic(cp, "wrong-pass-1234")))
    # Then 429 at once, without looking at the password: even the right one.
    error = await refused(tls_no_client_ca_server.wss_url, cp, context=context, headers=basic(cp, PASSWORD))
    assert error.response.status_code == 429 and int(error.response.headers["Retry-After"]) >= 1
    await log_line(tls_no_client_ca_server, "WARNING", cp, "unchecked: too many recent attempts")


# --- the API -----------------------------------------------------------------------------------
async def test_api_profiles_with_tls(tls_server):
    async with tls_server.api() as api:
        cp = await tls_server.add_station(security_profile=2, password=PASSWORD)
        path = f"/api/v1/charge-points/{cp}"
        r = await api.patch(path, json={"security_profile": 3, "password": PASSWORD})
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "body.password", r.text
        r = await api.patch(path, json={"security_profile": 3})
        assert (r.json()["security_profile"], r.json()["has_password"]) == (3, False)  # forgotten
        r = await api.patch(path, json={"security_profile": 2})
        assert r.status_code == 422 and "needs a password" in r.text
        r = await api.patch(path, json={"security_profile": 2, "password": PASSWORD})
        assert (r.json()["security_profile"], r.json()["has_password"]) == (2, True)
        r = await api.patch(path, json={"security_profile": 1})  # the password is kept
        assert (r.json()["security_profile"], r.json()["has_password"]) == (1, True)


async def test_api_profile_3_needs_the_client_ca(tls_no_client_ca_server):
    async with tls_no_client_ca_server.api() as api:
        r = await api.post("/api/v1/charge-points", json={"id": unique(), "security_profile": 3})
        assert r.status_code == 422 and "WATTSON_TLS_CLIENT_CA" in r.text, r.text
        r = await api.post("/api/v1/charge-points", json={"id": unique(), "security_profile": 2, "password": PASSWORD})
        assert r.status_code == 201, r.text


# --- start-up checks ---------------------------------------------------------------------------
@pytest.mark.parametrize("variables, message", [
    ({"tls_cert": "missing.pem", "tls_key": "server.key"}, "WATTSON_TLS_CERT: "),
    ({"tls_cert": "server.pem"}, "both WATTSON_TLS_CERT and WATTSON_TLS_KEY"),
    ({"tls_cert": "server.key", "tls_key": "server.key"}, "WATTSON_TLS_CERT / WATTSON_TLS_KEY: cannot use"),
    ({"tls_cert": "server.pem", "tls_key": "ca.key"}, "WATTSON_TLS_CERT / WATTSON_TLS_KEY: cannot use"),
    ({"tls_client_ca": "ca.pem"}, "WATTSON_TLS_CLIENT_CA needs TLS"),
    ({"tls_cert": "server.pem", "tls_key": "server.key", "tls_client_ca": "nope.pem"}, "WATTSON_TLS_CLIENT_CA: "),
    ({"tls_cert": "server.pem", "tls_key": "server.key", "tls_client_ca": "server.key"}, "WATTSON_TLS_CLIENT_CA: no "),
], ids=["missing-cert", "no-key", "cert-is-a-key", "key-of-another", "client-ca-alone", "missing-client-ca",
        "client-ca-not-a-cert"])
def test_unusable_tls_settings_name_the_variable(pki, tmp_path, variables, message):
    files = {"server.pem": pki["server"].cert, "server.key": pki["server"].key, "ca.pem": pki["ca"].cert_path,
             "ca.key": pki["ca"].key_path}
    settings = Settings(**{k: files.get(v, tmp_path / v) for k, v in variables.items()})
    with pytest.raises(ValueError) as err:
        server_context(settings)
    assert message in str(err.value)


def test_tls_settings_make_a_context(pki):
    assert server_context(Settings()) is None
    plain = server_context(Settings(tls_cert=pki["server"].cert, tls_key=pki["server"].key))
    assert plain.verify_mode == ssl.CERT_NONE and plain.minimum_version >= ssl.TLSVersion.TLSv1_2
    mutual = server_context(Settings(tls_cert=pki["server"].cert, tls_key=pki["server"].key,
                                     tls_client_ca=pki["ca"].cert_path))
    assert mutual.verify_mode == ssl.CERT_OPTIONAL  # profiles 1 and 2 still connect without a certificate


@pytest.mark.parametrize("variables, message", [
    ({"WATTSON_TLS_CERT": "missing.pem", "WATTSON_TLS_KEY": "missing.key"}, "wattson: WATTSON_TLS_CERT: "),
    ({"WATTSON_CA_CERT": "missing.pem"}, "wattson: a certificate authority needs both"),
], ids=["tls", "ca"])
def test_serve_stops_at_unusable_certificate_settings(tmp_path, variables, message):
    env = {**os.environ, "WATTSON_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
           **{k: str(tmp_path / v) for k, v in variables.items()}}
    result = subprocess.run([sys.executable, "-m", "wattson", "serve", "--port", "0"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(message), result.stderr


# --- the ASGI TLS extension --------------------------------------------------------------------
def test_tls_extension_describes_the_client_certificate(pki):
    ca = pki["ca"]
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki["server"].cert, pki["server"].key)
    server.load_verify_locations(ca.cert_path)
    server.verify_mode = ssl.CERT_OPTIONAL
    with_cert = _handshake(server, ca.client_context(ca.client("CP-EXT")))
    extension = tls_extension(with_cert)
    assert extension["client_cert_name"] == "CN=CP-EXT,O=Wattson tests"
    assert extension["client_cert_error"] is None
    [pem] = extension["client_cert_chain"]
    assert x509.load_pem_x509_certificate(pem.encode()).subject.rfc4514_string() == "CN=CP-EXT,O=Wattson tests"
    assert extension["tls_version"] == {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}[with_cert.version()]
    assert isinstance(extension["cipher_suite"], int) and 0 < extension["cipher_suite"] <= 0xFFFF
    without = tls_extension(_handshake(server, ca.client_context()))
    assert (without["client_cert_chain"], without["client_cert_name"], without["client_cert_error"]) == ([], None, None)


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> ssl.SSLObject:
    """A TLS handshake in memory; the server's end."""
    bios = [ssl.MemoryBIO() for _ in range(4)]
    s = server.wrap_bio(bios[0], bios[1], server_side=True)
    c = client.wrap_bio(bios[2], bios[3], server_hostname="localhost")
    for _ in range(10):
        for end in (c, s):
            try:
                end.do_handshake()
            except ssl.SSLWantReadError:
                pass
        bios[2].write(bios[1].read())
        bios[0].write(bios[3].read())
    return s


# --- the CA that signs station certificates ----------------------------------------------------
def _ca_settings(ca: TestCa) -> Settings:
    return Settings(ca_cert=ca.cert_path, ca_key=ca.key_path)


def test_ca_signs_a_stations_csr(pki):
    ca = pki["ca"]
    authority = CertificateAuthority.from_settings(_ca_settings(ca))
    now = datetime.now(timezone.utc)
    chain = authority.sign(csr("CP-42"), "CP-42", days=7, now=now)
    leaf, issuer = x509.load_pem_x509_certificates(chain.encode())
    assert issuer == ca.certificate
    leaf.verify_directly_issued_by(ca.certificate)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP-42"
    assert leaf.not_valid_after_utc == (now + timedelta(days=7)).replace(microsecond=0)
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]
    # Never valid beyond the CA itself.
    late = x509.load_pem_x509_certificates(authority.sign(csr("CP-42"), "CP-42", days=365).encode())[0]
    assert late.not_valid_after_utc == ca.certificate.not_valid_after_utc


@pytest.mark.parametrize("request_pem, message", [
    ("not a CSR", "not a PEM certificate signing request"),
    ("", "not a PEM certificate signing request"),
    ("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "not a PEM"),
    ("\udcff", "not a PEM"),
    (csr("CP-OTHER"), "'CP-42'"),
    (csr(None), "'CP-42'"),
], ids=["text", "empty", "bad-der", "surrogate", "other-cn", "no-cn"])
def test_ca_refuses_bad_csrs(pki, request_pem, message):
    authority = CertificateAuthority.from_settings(_ca_settings(pki["ca"]))
    with pytest.raises(Invalid) as err:
        authority.sign(request_pem, "CP-42")
    assert message in err.value.message


def test_ca_refuses_a_csr_whose_signature_does_not_verify(pki):
    authority = CertificateAuthority.from_settings(_ca_settings(pki["ca"]))
    pem = csr("CP-42")
    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    at = der.index(b"Wattson tests")
    der[at] = ord("X")  # the subject changes; the signature was over the original
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(Invalid, match="signature"):
        authority.sign(tampered, "CP-42")


def test_ca_from_settings(pki, tmp_path):
    assert CertificateAuthority.from_settings(Settings()) is None
    with pytest.raises(ValueError, match="WATTSON_CA_CERT: .* is not a readable file"):
        CertificateAuthority.from_settings(Settings(ca_cert=tmp_path / "nope.pem", ca_key=pki["ca"].key_path))
    with pytest.raises(ValueError, match="WATTSON_CA_CERT / WATTSON_CA_KEY: the CA key does not belong"):
        CertificateAuthority.from_settings(Settings(ca_cert=pki["ca"].cert_path, ca_key=pki["server"].key))
    with pytest.raises(ValueError, match="WATTSON_CA_CERT / WATTSON_CA_KEY: the CA certificate is not a CA"):
        CertificateAuthority.from_settings(Settings(ca_cert=pki["server"].cert, ca_key=pki["server"].key))
    with pytest.raises(ValueError, match="WATTSON_CA_CERT: no PEM certificate"):
        CertificateAuthority.from_settings(Settings(ca_cert=pki["ca"].key_path, ca_key=pki["ca"].key_path))
    authority = CertificateAuthority.from_settings(_ca_settings(pki["ca"]))
    with pytest.raises(Invalid, match="1 to 3650 days"):
        authority.sign(csr("CP-42"), "CP-42", days=0)
    with pytest.raises(Invalid, match="expired"):
        authority.sign(csr("CP-42"), "CP-42", now=datetime.now(timezone.utc) + timedelta(days=60))

