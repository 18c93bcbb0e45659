"""The built-in sandbox provider: test card numbers, holds kept in Wattson's own database, so the
whole direct payment flow runs on a fresh machine with no account anywhere. It never sees a real
card: any number that is not one of its test cards is declined.

| card number         | outcome                                        |
|---------------------|------------------------------------------------|
| 4242 4242 4242 4242 | authorised (Visa)                              |
| 5555 5555 5555 4444 | authorised (Mastercard)                        |
| 4000 0000 0000 0002 | declined: card_declined                        |
| 4000 0000 0000 9995 | declined: insufficient_funds                   |
| 4000 0000 0000 3220 | 3-D Secure authentication fails                |

Any future expiry and any 3-4 digit CVC. The numbers are Stripe's test cards, so a tester uses
the same ones with either provider.
"""

import json
import uuid
from dataclasses import asdict
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select

from wattson.db import Database
from wattson.errors import Invalid
from wattson.payments.models import SandboxHold
from wattson.payments.providers.base import (DECLINED, FAILED, SUCCEEDED, Outcome, ProviderError, WebhookEvent,
                                             verify)

CARDS = {
    "4242424242424242": (SUCCEEDED, "visa", None),
    "5555555555554444": (SUCCEEDED, "mastercard", None),
    "4000000000000002": (DECLINED, "visa", "card_declined"),
    "4000000000009995": (DECLINED, "visa", "insufficient_funds"),
    "4000000000003220": (FAILED, "visa", "authentication_failed"),
}
DEFAULT_WEBHOOK_SECRET = "whsec_sandbox"


def card_problems(method: dict, today: datetime | None = None) -> list[dict]:
    """What is wrong with a card as typed (number, exp_month, exp_year, cvc); [] when nothing."""
    today = today or datetime.now(timezone.utc)
    problems = []
    number = "".join(str(method.get("card_number") or "").split())
    if not (number.isdigit() and 12 <= len(number) <= 19 and _luhn(number)):
        problems.append({"field": "body.card.card_number", "message": "not a card number"})
    month, year = method.get("exp_month"), method.get("exp_year")
    if not (isinstance(month, int) and 1 <= month <= 12 and isinstance(year, int) and 2000 <= year <= 2100):
        problems.append({"field": "body.card.exp_month", "message": "expiry month 1-12 and a 4-digit year"})
    elif (year, month) < (today.year, today.month):
        problems.append({"field": "body.card.exp_year", "message": "the card has expired"})
    cvc = str(method.get("cvc") or "")
    if not (cvc.isdigit() and 3 <= len(cvc) <= 4):
        problems.append({"field": "body.card.cvc", "message": "3 or 4 digits"})
    return problems


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


class SandboxProvider:
    name = "sandbox"

    def __init__(self, db: Database, webhook_secret: str | None = None):
        self.db = db
        self.webhook_secret = webhook_secret or DEFAULT_WEBHOOK_SECRET

    async def authorize(self, amount: Decimal, currency: str, method: dict, key: str, description: str) -> Outcome:
        card = method.get("card") or {}
        problems = card_problems(card)
        if problems:
            raise Invalid("invalid card details", problems)
        number = "".join(str(card["card_number"]).split())
        status, brand, reason = CARDS.get(number, (DECLINED, "card", "not_a_sandbox_test_card"))
        label = f"{brand} •••• {number[-4:]}"
        async with self.db.session() as s:
            hold = await s.scalar(select(SandboxHold).where(SandboxHold.idempotency_key == key))
            if hold is None:
                hold = SandboxHold(id="sbx_" + uuid.uuid4().hex[:24], idempotency_key=key,
                                   status="authorized" if status == SUCCEEDED else status, amount=str(amount),
                                   currency=currency, operations={})
                s.add(hold)
        if status != SUCCEEDED:
            return Outcome(status, hold.id, reason, label)
        return Outcome(SUCCEEDED, hold.id, None, label)

    async def find(self, key: str) -> str | None:
        async with self.db.session() as s:
            return await s.scalar(select(SandboxHold.id).where(SandboxHold.idempotency_key == key,
                                                              SandboxHold.status == "authorized"))

    async def capture(self, reference: str, amount: Decimal, currency: str, key: str) -> Outcome:
        async def apply(hold: SandboxHold) -> Outcome:
            if hold.status != "authorized":
                return Outcome(FAILED, hold.id, f"the hold is {hold.status}")
            if amount > Decimal(hold.amount) or amount <= 0:
                return Outcome(FAILED, hold.id, f"cannot capture {amount} of a hold of {hold.amount}")
            hold.status, hold.captured = "captured", str(amount)
            return Outcome(SUCCEEDED, hold.id)

        return await self._operate(reference, key, apply)

    async def release(self, reference: str, key: str) -> Outcome:
        async def apply(hold: SandboxHold) -> Outcome:
            if hold.status in ("released", "declined", "failed"):
                return Outcome(SUCCEEDED, hold.id)
            if hold.status != "authorized":
                return Outcome(FAILED, hold.id, f"the hold is {hold.status}")
            hold.status = "released"
            return Outcome(SUCCEEDED, hold.id)

        return await self._operate(reference, key, apply)

    async def refund(self, reference: str, amount: Decimal, currency: str, key: str) -> Outcome:
        async def apply(hold: SandboxHold) -> Outcome:
            left = Decimal(hold.captured) - Decimal(hold.refunded)
            if hold.status != "captured" or amount <= 0 or amount > left:
                return Outcome(FAILED, hold.id, f"cannot refund {amount}: {left} is refundable")
            hold.refunded = str(Decimal(hold.refunded) + amount)
            return Outcome(SUCCEEDED, hold.id)

        return await self._operate(reference, key, apply)

    async def _operate(self, reference: str, key: str, apply) -> Outcome:
        """Run ``apply`` on the hold once per idempotency key; a repeat answers what the first did."""
        async with self.db.session() as s:
            hold = await s.get(SandboxHold, reference, with_for_update=True)
            if hold is None:
                raise ProviderError(f"no sandbox hold {reference!r}")
            done = hold.operations.get(key)
            if done is not None:
                return Outcome(**done)
            outcome = await apply(hold)
            hold.operations = {**hold.operations, key: asdict(outcome)}
            return outcome

    async def hold(self, reference: str) -> SandboxHold | None:
        """The ledger row (for tests and the operator's eyes)."""
        async with self.db.session() as s:
            return await s.get(SandboxHold, reference)

    def webhook(self, body: bytes, signature: str | None) -> WebhookEvent:
        verify(body, signature, self.webhook_secret)
        try:
            event = json.loads(body)
            return WebhookEvent(id=str(event["id"]), type=str(event["type"]),
                                reference=event.get("data", {}).get("reference"), data=event.get("data") or {})
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Invalid("a webhook body must be {\"id\", \"type\", \"data\": {\"reference\"}}") from None

    def client_config(self) -> dict:
        # "outcome" in English; "code" names it for the page's translations (web/i18n.py).
        return {"provider": self.name, "test_cards": [
            {"number": "4242 4242 4242 4242", "outcome": "authorised", "code": "authorised"},
            {"number": "4000 0000 0000 0002", "outcome": "declined", "code": "declined"},
            {"number": "4000 0000 0000 3220", "outcome": "authentication fails", "code": "authentication_fails"}]}
