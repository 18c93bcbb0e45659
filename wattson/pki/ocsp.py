"""OCSP on behalf of stations (OCPP 2.x GetCertificateStatus, use case M06; also what a station
checks a contract certificate with before Plug & Charge, C07).

A station that cannot reach an OCSP responder itself sends the certificate's identifiers
(hashes of its issuer's name and key, its serial number) and the responder's URL; Wattson builds
a real OCSP request (RFC 6960) from them, POSTs it to the responder and relays the DER response.
The station judges it (good, revoked, unknown, signature): Wattson only says whether the
responder answered, and why not. Answers are cached until their nextUpdate (at most
``cache_s``): stations booting together ask for the same certificates.

The URL comes from a station, so what it may reach is guarded as webhook targets are: no
loopback, private or link-local addresses unless ``allow_private`` (WATTSON_OCSP_ALLOW_PRIVATE).
"""

import asyncio
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

import httpcore
import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from wattson import __version__
from wattson.webhooks import rules as target_rules
from wattson.webhooks.delivery import GuardedBackend, resolve

log = logging.getLogger("wattson.pki")

HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}
#: an OCSP response larger than this is no answer a station could take (2.1 allows 18,000 base64 characters)
MAX_RESPONSE_BYTES = 64 * 1024
#: distinct certificates whose answers are kept at once; the least recently used go first
CACHE_ENTRIES = 4096
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_RESPONDER_REFUSALS = {
    ocsp.OCSPResponseStatus.MALFORMED_REQUEST: ("MalformedRequest", "the responder called the request malformed"),
    ocsp.OCSPResponseStatus.INTERNAL_ERROR: ("ResponderError", "the responder had an internal error"),
    ocsp.OCSPResponseStatus.TRY_LATER: ("TryLater", "the responder asked to try later"),
    ocsp.OCSPResponseStatus.SIG_REQUIRED: ("SigRequired", "the responder wants signed requests"),
    ocsp.OCSPResponseStatus.UNAUTHORIZED: ("Unauthorized", "the responder does not answer for this certificate"),
}


@dataclass(frozen=True, slots=True)
class OcspQuery:
    """What a station asks about (GetCertificateStatus's ocspRequestData), as sent: hex strings."""
    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    responder_url: str


@dataclass(frozen=True, slots=True)
class OcspAnswer:
    """The responder's DER response (``result``) when it answered SUCCESSFUL, else why not:
    ``reason`` a short code (OCPP reasonCode, at most 20 characters), ``info`` in words."""
    result: bytes | None = None
    reason: str | None = None
    info: str | None = None
    fresh_until: datetime | None = None  # the matching response's nextUpdate

    @property
    def accepted(self) -> bool:
        return self.result is not None


class Refused(ValueError):
    """A query Wattson will not send: ``reason`` and ``info`` as in OcspAnswer."""

    def __init__(self, reason: str, info: str):
        super().__init__(info)
        self.reason, self.info = reason, info

    def answer(self) -> OcspAnswer:
        return OcspAnswer(reason=self.reason, info=self.info)


# --- pure parts: the request, the response, the cache ------------------------------------------
def responder_target(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a responder URL, or Refused: http or https, a host, no credentials."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise Refused("InvalidURL", f"responderURL is not a URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("InvalidURL", "responderURL must be http:// or https://")
    if not parts.hostname:
        raise Refused("InvalidURL", "responderURL has no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("InvalidURL", "responderURL must not carry credentials")
    if port == 0:
        raise Refused("InvalidURL", "responderURL has port 0")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def _hex(field: str, value: str, length: int | None = None) -> bytes:
    if not _HEX.match(value) or len(value) % 2:
        raise Refused("InvalidInput", f"{field} is not an even number of hexadecimal digits")
    raw = bytes.fromhex(value)
    if length is not None and len(raw) != length:
        raise Refused("InvalidInput", f"{field} has {len(raw)} bytes; the hash algorithm makes {length}")
    return raw


def build_request(query: OcspQuery) -> bytes:
    """The DER OCSP request for the certificate ``query`` names (no nonce, so that identical
    questions are identical requests a responder or a cache may answer alike), or Refused."""
    algorithm = HASHES.get(query.hash_algorithm.upper())
    if algorithm is None:
        raise Refused("InvalidInput", f"hashAlgorithm {query.hash_algorithm!r} is none of SHA256, SHA384, SHA512")
    size = algorithm.digest_size
    name_hash = _hex("issuerNameHash", query.issuer_name_hash, size)
    key_hash = _hex("issuerKeyHash", query.issuer_key_hash, size)
    if not _HEX.match(query.serial_number):
        raise Refused("InvalidInput", "serialNumber is not hexadecimal")
    responder_target(query.responder_url)
    try:
        request = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
            name_hash, key_hash, int(query.serial_number, 16), algorithm()).build()
    except (ValueError, TypeError) as error:
        raise Refused("InvalidInput", f"no OCSP request can be made of it: {error}") from None
    return request.public_bytes(serialization.Encoding.DER)


def classify(der: bytes, query: OcspQuery) -> OcspAnswer:
    """What the responder's bytes say: SUCCESSFUL with a single response for the certificate
    asked about (whatever its status: the station judges it), or why not."""
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError as error:
        return OcspAnswer(reason="MalformedResponse", info=f"the responder's answer is no OCSP response: {error}")
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        reason, info = _RESPONDER_REFUSALS.get(response.response_status,
                                               ("ResponderError", str(response.response_status)))
        return OcspAnswer(reason=reason, info=info)
    try:
        singles = list(response.responses)
    except ValueError as error:
        return OcspAnswer(reason="MalformedResponse", info=f"the OCSP response cannot be read: {error}")
    serial = int(query.serial_number, 16)
    name_hash, key_hash = bytes.fromhex(query.issuer_name_hash), bytes.fromhex(query.issuer_key_hash)
    for single in singles:
        same_hashes = (single.issuer_name_hash, single.issuer_key_hash) == (name_hash, key_hash)
        if single.serial_number == serial and (same_hashes or _algorithm_differs(single, query)):
            return OcspAnswer(result=der, fresh_until=single.next_update_utc)
    return OcspAnswer(reason="WrongCertificate",
                      info="the responder answered about another certificate than the one asked about")


def _algorithm_differs(single, query: OcspQuery) -> bool:
    """A responder may identify the certificate with another hash (often SHA-1): then only the
    serial number can be compared."""
    return single.hash_algorithm.name.lower() != query.hash_algorithm.lower()


def cache_seconds(fresh_until: datetime | None, now: datetime, cap_s: float) -> float:
    """How long an answer may be served again: until its nextUpdate, at most ``cap_s``. Without a
    nextUpdate newer information is always available (RFC 6960 4.2.2.1): not at all."""
    if fresh_until is None or cap_s <= 0:
        return 0.0
    return max(0.0, min(cap_s, (fresh_until - now).total_seconds()))


class AnswerCache:
    """Answers by key until they expire, at most ``entries`` of them (least recently used go
    first). ``clock`` gives seconds (monotonic)."""

    def __init__(self, entries: int = CACHE_ENTRIES, clock: Callable[[], float] = time.monotonic):
        self.entries, self.clock = entries, clock
        self._items: OrderedDict[object, tuple[float, OcspAnswer]] = OrderedDict()

    def get(self, key) -> OcspAnswer | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self.clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key, answer: OcspAnswer, seconds: float) -> None:
        if seconds <= 0:
            return
        self._items[key] = (self.clock() + seconds, answer)
        self._items.move_to_end(key)
        while len(self._items) > self.entries:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


# --- the responders -----------------------------------------------------------------------------
class OcspResponders:
    """Asks OCSP responders for stations: one cached, shared answer per certificate and responder."""

    def __init__(self, timeout_s: float, cache_s: float, allow_private: bool, cache: AnswerCache | None = None):
        self.timeout_s, self.cache_s, self.allow_private = timeout_s, cache_s, allow_private
        self.cache = cache or AnswerCache()
        self._asking: dict[tuple[str, bytes], asyncio.Future] = {}  # the same question under way: one request
        self._client: httpx.AsyncClient | None = None

    async def status(self, query: OcspQuery) -> OcspAnswer:
        """The responder's answer about ``query``'s certificate, or why there is none; never raises
        for anything a station or a responder can do."""
        try:
            request = build_request(query)
        except Refused as refused:
            return refused.answer()
        key = (query.responder_url.strip(), request)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        asking = self._asking.get(key)
        if asking is None:
            asking = self._asking[key] = asyncio.ensure_future(self._ask(key, query, request))
            asking.add_done_callback(lambda _: self._asking.pop(key, None))
        return await asyncio.shield(asking)

    async def _ask(self, key, query: OcspQuery, request: bytes) -> OcspAnswer:
        try:  # one bound for all of it: httpx's timeout is per read, and a responder may trickle
            der = await asyncio.wait_for(self._post(query.responder_url.strip(), request), self.timeout_s)
        except (TimeoutError, asyncio.TimeoutError):
            return self._unanswered(query, Refused("Timeout", f"the responder did not answer within "
                                                              f"{self.timeout_s:g} s"))
        except Refused as refused:
            return self._unanswered(query, refused)
        answer = classify(der, query)
        if answer.accepted:
            self.cache.put(key, answer, cache_seconds(answer.fresh_until, datetime.now(timezone.utc), self.cache_s))
        else:
            log.info("OCSP responder %s: %s", query.responder_url, answer.info)
        return answer

    @staticmethod
    def _unanswered(query: OcspQuery, refused: Refused) -> OcspAnswer:
        log.info("OCSP request to %s not answered: %s", query.responder_url, refused.info)
        return refused.answer()

    async def _post(self, url: str, request: bytes) -> bytes:
        """The responder's body for ``request``, or Refused saying why there is none."""
        scheme, host, port = responder_target(url)
        if not self.allow_private:
            addresses = await resolve(host, port)
            if not addresses:
                raise Refused("Unreachable", f"the responder's host {host} does not resolve")
            reason = target_rules.refusal(scheme, addresses, allow_private=False, allow_http=True)
            if reason:
                raise Refused("NotAllowed", f"responderURL: {reason.replace('WEBHOOK', 'OCSP')}")
        try:
            async with self.client().stream("POST", url, content=request, headers={
                    "Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"}) as reply:
                if reply.status_code != 200:
                    raise Refused("HttpError", f"the responder answered HTTP {reply.status_code}")
                body = bytearray()
                async for chunk in reply.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise Refused("TooLarge", f"the responder's answer exceeds {MAX_RESPONSE_BYTES} bytes")
                return bytes(body)
        except httpx.TimeoutException:
            raise Refused("Timeout", f"the responder did not answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as error:
            raise Refused("Unreachable", f"the responder cannot be reached: {type(error).__name__}: {error}"
                          .rstrip(": ")) from None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            transport = httpx.AsyncHTTPTransport(retries=0)
            # httpx's own pool with the guarded backend (connects only to allowed addresses)
            transport._pool = httpcore.AsyncConnectionPool(
                ssl_context=httpx.create_ssl_context(), max_connections=50, max_keepalive_connections=10,
                keepalive_expiry=5.0, network_backend=GuardedBackend(self.allow_private))
            self._client = httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False,
                                             timeout=httpx.Timeout(self.timeout_s),
                                             headers={"User-Agent": f"Wattson-OCSP/{__version__}"})
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
