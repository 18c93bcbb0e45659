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

import uvicorn
from cryptography import x509
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from wattson.settings import Settings, require_file

log = logging.getLogger("wattson")
TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def server_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS listener's context, or None when TLS is not configured. ValueError naming the
    variable to fix when the files are missing or unusable, so that start-up fails clearly."""
    if settings.tls_cert is None and settings.tls_key is None:
        if settings.tls_client_ca is not None:
            raise ValueError("WATTSON_TLS_CLIENT_CA needs TLS: set WATTSON_TLS_CERT and WATTSON_TLS_KEY too")
        return None
    if settings.tls_cert is None or settings.tls_key is None:
        raise ValueError("TLS needs both WATTSON_TLS_CERT and WATTSON_TLS_KEY")
    for name in ("tls_cert", "tls_key", "tls_client_ca"):
        require_file(f"WATTSON_{name.upper()}", getattr(settings, name))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # OCPP security profiles 2 and 3
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except OSError as error:  # ssl.SSLError included
        raise ValueError(f"WATTSON_TLS_CERT / WATTSON_TLS_KEY: cannot use {settings.tls_cert} with "
                         f"{settings.tls_key} ({_why(error)})") from None
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
