"""What Wattson needs of a payment provider: place a hold, capture at most the hold, release it,
refund, each under an idempotency key (a repeated call with the same key has the effect of one),
and verified webhooks. Amounts are decimals in the currency's major unit, incl. VAT."""

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

SUCCEEDED = "succeeded"
DECLINED = "declined"  # the card said no: nothing is held
FAILED = "failed"  # authentication (3-D Secure) failed, or the provider refused the request


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    reference: str | None = None  # the hold's id at the provider
    message: str | None = None
    card: str | None = None  # brand and last four digits, e.g. "visa •••• 4242"

    @property
    def ok(self) -> bool:
        return self.status == SUCCEEDED


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: str
    type: str
    reference: str | None  # the hold it is about
    data: dict = field(default_factory=dict)


class ProviderError(Exception):
    """The provider could not be reached or answered unexpectedly: the step is retried later."""


class InvalidSignature(Exception):
    """A webhook whose signature does not verify."""


class PaymentProvider(Protocol):
    name: str

    async def authorize(self, amount: Decimal, currency: str, method: dict, key: str,
                        description: str) -> Outcome: ...

    async def find(self, key: str) -> str | None:
        """The reference of a hold placed under ``key``, if any (to release one whose answer was lost)."""

    async def capture(self, reference: str, amount: Decimal, currency: str, key: str) -> Outcome: ...

    async def release(self, reference: str, key: str) -> Outcome: ...

    async def refund(self, reference: str, amount: Decimal, currency: str, key: str) -> Outcome: ...

    def webhook(self, body: bytes, signature: str | None) -> WebhookEvent:
        """The event a webhook carries; InvalidSignature unless it verifies."""

    def client_config(self) -> dict:
        """What the driver page needs to collect a card (never a secret)."""


# --- signatures shared by the sandbox and Stripe: "t=<unix>,v1=<hex hmac-sha256 of 't.body'>" ----------
TOLERANCE_S = 300


def sign(body: bytes, secret: str, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def verify(body: bytes, header: str | None, secret: str, now: float | None = None) -> None:
    """Raises InvalidSignature unless ``header`` signs ``body`` with ``secret`` within 5 minutes."""
    if not header or not secret:
        raise InvalidSignature("missing signature")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        at = int(parts["t"][0])
    except (KeyError, ValueError):
        raise InvalidSignature("no timestamp in the signature") from None
    if abs((now or time.time()) - at) > TOLERANCE_S:
        raise InvalidSignature("signature timestamp outside the tolerance")
    expected = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, v) for v in parts.get("v1", [])):
        raise InvalidSignature("signature does not match")
