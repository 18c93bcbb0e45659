"""The rules of webhook delivery, without I/O: signatures, back-off, giving up, pausing, and which
addresses a delivery may go to (docs/webhooks.md). Delivery (``delivery.py``) and the service
apply them; tests/test_webhook_rules.py checks them alone."""

import hashlib
import hmac
import ipaddress
import random
from datetime import datetime, timedelta
from urllib.parse import urlsplit

SIGNATURE_HEADER = "Wattson-Signature"
#: how far a signature's ``t`` may be from the receiver's clock (the replay window)
TOLERANCE_S = 300


# --- signatures ------------------------------------------------------------------------------
def _mac(secret: str, t: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secrets: list[str], t: int) -> str:
    """The ``Wattson-Signature`` value: ``t=<unix>,v1=<hex>`` with one ``v1`` per secret (the
    current one first; during a rotation's grace period also the previous one)."""
    return ",".join([f"t={t}", *(f"v1={_mac(s, t, body)}" for s in secrets)])


def verify(header: str, body: bytes, secret: str, now: float, tolerance: float = TOLERANCE_S) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at a time within ``tolerance`` of ``now``:
    what a receiver checks (docs/webhooks.md shows the same in Python and JavaScript)."""
    t, candidates = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            t = int(value)
        elif key == "v1":
            candidates.append(value)
    if t is None or abs(now - t) > tolerance:
        return False
    expected = _mac(secret, t, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)


def signing_secrets(secret: str, previous: str | None, previous_until: datetime | None, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the previous one only while its grace lasts."""
    if previous and previous_until is not None and now < previous_until:
        return [secret, previous]
    return [secret]


# --- retries ---------------------------------------------------------------------------------
def backoff(attempts: int, rng: random.Random, base_s: float, max_s: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones: ``base_s`` doubled per failure,
    at most ``max_s``, and jittered to between half and all of that, so that many deliveries
    failing together (an endpoint down) do not all come back at once."""
    ceiling = min(max_s, base_s * 2 ** min(max(attempts - 1, 0), 60))
    return ceiling * (0.5 + rng.random() / 2)


def next_attempt(created_at: datetime, now: datetime, delay_s: float, horizon_s: float) -> datetime | None:
    """When to try again, or None when that would be past the horizon (counted from the
    delivery's creation): the delivery is then given up as failed."""
    at = now + timedelta(seconds=delay_s)
    return None if at > created_at + timedelta(seconds=horizon_s) else at


def pauses(failures_in_a_row: int, pause_after: int) -> bool:
    """Whether a subscription is paused after this many failed attempts in a row (0: never)."""
    return pause_after > 0 and failures_in_a_row >= pause_after


# --- where deliveries may go -----------------------------------------------------------------
class Refused(ValueError):
    """A target URL or address deliveries may not go to; the message says why."""


def parse_target(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a webhook URL, or Refused with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise Refused(f"not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("the URL must be http:// or https://")
    if not parts.hostname:
        raise Refused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("the URL must not carry credentials: sign with the secret instead")
    if port == 0:
        raise Refused("port 0 is no port to deliver to")
    if parts.fragment:
        raise Refused("the URL must not have a #fragment")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def address_kind(address: str) -> str | None:
    """Why ``address`` is not a public internet address (loopback, private, link-local,
    multicast, unspecified, reserved), or None when it is. IPv4-mapped IPv6 addresses (and
    the other IPv6 forms that embed an IPv4 address) are judged as that IPv4 address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_kind(str(embedded))
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:  # shared address space (100.64/10), documentation ranges, …
        return "non-global"
    return None


def refusal(scheme: str, addresses: list[str], allow_private: bool, allow_http: bool) -> str | None:
    """Why a delivery may not go to a host resolving to ``addresses`` over ``scheme``, or None.
    Non-public addresses need ``allow_private`` (WATTSON_WEBHOOK_ALLOW_PRIVATE); plain http
    needs a loopback or private target so allowed, or ``allow_http`` (WATTSON_WEBHOOK_ALLOW_HTTP,
    for development)."""
    if not addresses:
        return "the host does not resolve"
    kinds = {a: address_kind(a) for a in addresses}
    closed = [f"{a} ({k})" for a, k in kinds.items() if k is not None]
    if closed and not allow_private:
        return ("the host resolves to an address that is not public: " + ", ".join(closed)
                + " (WATTSON_WEBHOOK_ALLOW_PRIVATE=true allows it)")
    if scheme == "http" and not allow_http:
        inside = all(k in ("loopback", "private") for k in kinds.values())
        if not (inside and allow_private):
            return "the URL must be https:// (http only for loopback or private targets, or WATTSON_WEBHOOK_ALLOW_HTTP)"
    return None
