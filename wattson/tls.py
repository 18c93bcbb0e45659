"""TLS termination for ``wattson serve`` (OCPP security profiles 2 and 3).

uvicorn terminates TLS but does not tell the app which certificate the client presented, and
profile 3 identifies a station by exactly that. So this module adds, for TLS connections, the
standard ASGI TLS extension (``scope["extensions"]["tls"]``, https://asgi.readthedocs.io/en/latest/
specs/tls.html) to WebSocket scopes; the gateway reads that, never uvicorn internals. It also
builds the server's SSL context from the settings and opens the TLS listener next to the plain one.
"""

import asyncio
import logging
import ssl
import sys
from functools import lru_cache
from pathlib import Path

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from wattson.settings import Settings, require_file

log = logging.getLogger("wattson")
TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


#: TLS 1.2 cipher suites (OpenSSL's names), best first; TLS 1.3 keeps its own (all AEAD). OCPP
#: 2.0.1 A00.FR.318 and the 1.6 security whitepaper have a CSMS support ECDHE-ECDSA and RSA key
#: exchange with AES-GCM (TLS_ECDHE_ECDSA_WITH_AES_128/256_GCM_SHA256/384, TLS_RSA_WITH_AES_128/
#: 256_GCM_SHA256/384: a 1.6 station may offer only the latter pair); ECDHE-RSA gives an RSA
#: certificate forward secrecy and comes before plain RSA. Nothing else is offered.
TLS12_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                 "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                 "AES128-GCM-SHA256", "AES256-GCM-SHA384")


def server_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS listener's context, or None when TLS is not configured. ValueError naming the
    variable to fix when the files are missing or unusable, so that start-up fails clearly.

    Up to two certificates of different key types (WATTSON_TLS_CERT and WATTSON_TLS_CERT_2, e.g.
    ECDSA and RSA): OpenSSL keeps one per key type and presents the one the client's cipher
    suites (TLS 1.2) or signature algorithms (TLS 1.3) can use."""
    pairs = _certificate_pairs(settings)
    if not pairs:
        if settings.tls_client_ca is not None:
            raise ValueError("WATTSON_TLS_CLIENT_CA needs TLS: set WATTSON_TLS_CERT and WATTSON_TLS_KEY too")
        return None
    for name in ("tls_cert", "tls_key", "tls_cert_2", "tls_key_2", "tls_client_ca"):
        require_file(f"WATTSON_{name.upper()}", getattr(settings, name))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # OCPP security profiles 2 and 3
    context.set_ciphers(":".join(TLS12_CIPHERS))
    loaded: dict[str, str] = {}  # key type -> the variable whose certificate has it
    for cert_variable, key_variable, cert, key in pairs:
        try:
            context.load_cert_chain(cert, key)
        except OSError as error:  # ssl.SSLError included
            raise ValueError(f"{cert_variable} / {key_variable}: cannot use {cert} with {key} "
                             f"({_why(error)})") from None
        # OpenSSL checks a key against the certificate of the key's type already loaded, which
        # may be the other pair's: a second certificate with the first one's key would pass.
        problem = _mismatch(cert.read_bytes(), key.read_bytes())
        if problem:
            raise ValueError(f"{cert_variable} / {key_variable}: cannot use {cert} with {key} ({problem})")
        kind = key_type(cert.read_bytes())
        if kind in loaded:
            raise ValueError(f"{loaded[kind]} and {cert_variable} both hold an {kind} key: a second certificate "
                             f"must have the other key type (one RSA, one ECDSA)")
        loaded[kind] = cert_variable
    if settings.tls_client_ca is not None:
        try:
            context.load_verify_locations(cafile=settings.tls_client_ca)
        except OSError as error:
            raise ValueError(f"WATTSON_TLS_CLIENT_CA: no usable CA certificate in {settings.tls_client_ca} "
                             f"({_why(error)})") from None
        # Asked for, not required: stations on profiles 1 and 2 have no certificate. One that is
        # presented must chain to the CA, or the TLS handshake fails.
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def _certificate_pairs(settings: Settings) -> list[tuple[str, str, Path, Path]]:
    """(certificate variable, key variable, certificate, key) of each configured server certificate."""
    pairs = []
    for suffix in ("", "_2"):
        cert, key = getattr(settings, f"tls_cert{suffix}"), getattr(settings, f"tls_key{suffix}")
        names = f"WATTSON_TLS_CERT{suffix}", f"WATTSON_TLS_KEY{suffix}"
        if cert is None and key is None:
            continue
        if cert is None or key is None:
            raise ValueError(f"TLS needs both {names[0]} and {names[1]}")
        pairs.append((*names, cert, key))
    if pairs and pairs[0][0] != "WATTSON_TLS_CERT":
        raise ValueError("WATTSON_TLS_CERT_2 is a second server certificate: set WATTSON_TLS_CERT and "
                         "WATTSON_TLS_KEY first")
    return pairs


def _mismatch(cert_pem: bytes, key_pem: bytes) -> str | None:
    """Why the key is not the certificate's (both loadable: OpenSSL read them), or None."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as error:
        return f"the key cannot be read: {error}"
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    cert_key = x509.load_pem_x509_certificate(cert_pem).public_key()
    if key.public_key().public_bytes(*spki) != cert_key.public_bytes(*spki):
        return "the key does not belong to the certificate"
    return None


def key_type(pem: bytes) -> str:
    """The key type of a PEM certificate's (the first one's) public key: RSA, ECDSA or another name."""
    key = x509.load_pem_x509_certificate(pem).public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ECDSA"
    return type(key).__name__.removeprefix("_").removesuffix("PublicKey")


def _why(error: OSError) -> str:
    return getattr(error, "reason", None) or error.strerror or str(error)


def tls_extension(ssl_object: ssl.SSLObject) -> dict:
    """The ASGI TLS extension of one connection. Python gives the peer's own certificate only,
    so the chain has at most one entry."""
    der = ssl_object.getpeercert(binary_form=True)
    name = error = None
    if der:
        try:
            name = x509.load_der_x509_certificate(der).subject.rfc4514_string()
        except ValueError as problem:
            error = f"unreadable client certificate: {problem}"
        if not ssl_object.getpeercert():  # an empty dict: presented but not verified
            error = error or "the client certificate was not verified"
    cipher = ssl_object.cipher()
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": name,
        "client_cert_error": error,
        "tls_version": TLS_VERSIONS.get(ssl_object.version()),
        "cipher_suite": _cipher_ids(ssl_object.context).get(cipher[0]) if cipher else None,
    }


@lru_cache(maxsize=8)
def _cipher_ids(context: ssl.SSLContext) -> dict[str, int]:
    """OpenSSL cipher name → its 16-bit IANA number (OpenSSL's id carries it in the low bits)."""
    return {c["name"]: c["id"] & 0xFFFF for c in context.get_ciphers()}


class TlsWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, adding the ASGI TLS extension to TLS connections."""

    async def run_asgi(self) -> None:
        ssl_object = self.transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.scope["extensions"]["tls"] = tls_extension(ssl_object)
        await super().run_asgi()


class Server(uvicorn.Server):
    """uvicorn's server, also listening with TLS on ``tls_port`` when given a context: one app,
    one lifespan, one set of connections, one shutdown. The TLS socket is bound before the app
    starts (a taken port fails start-up) and serves only once the app is ready."""

    def __init__(self, config: uvicorn.Config, tls_port: int, tls_context: ssl.SSLContext | None):
        super().__init__(config)
        self.tls_port, self.tls_context = tls_port, tls_context

    async def startup(self, sockets=None) -> None:
        if self.tls_context is None:
            return await super().startup(sockets)
        config = self.config

        def protocol():
            return config.http_protocol_class(config=config, server_state=self.server_state,
                                              app_state=self.lifespan.state)

        try:
            listener = await asyncio.get_running_loop().create_server(
                protocol, host=config.host, port=self.tls_port, ssl=self.tls_context, backlog=config.backlog,
                start_serving=False)
        except OSError as error:
            log.error("cannot listen with TLS on %s port %d: %s", config.host, self.tls_port, error)
            sys.exit(STARTUP_FAILURE)
        await super().startup(sockets)
        if not self.started:
            listener.close()
            return
        self.servers.append(listener)
        await listener.start_serving()
        port = listener.sockets[0].getsockname()[1]
        log.info("listening with TLS on https://%s:%d (stations: wss://%s:%d/ocpp/<id>)",
                 config.host, port, config.host, port)
