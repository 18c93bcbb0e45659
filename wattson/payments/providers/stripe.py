"""Stripe: a PaymentIntent with manual capture is the hold; capturing takes part of it and
releases the rest, cancelling releases it all, refunds give back what was taken. Through the
official ``stripe`` package (async over httpx), every call with an idempotency key. The card is
collected by Stripe Elements on the driver page, which hands Wattson only a PaymentMethod id.

Cards that need a 3-D Secure challenge are not taken (the page has no redirect flow yet): such an
intent is cancelled at once and the payment fails."""

from decimal import Decimal

import stripe
from stripe import StripeClient

from wattson.errors import Invalid
from wattson.payments.providers.base import (DECLINED, FAILED, SUCCEEDED, InvalidSignature, Outcome,
                                             ProviderError, WebhookEvent)
from wattson.tariffs.pricing import minor_units


def minor(amount: Decimal, currency: str) -> int:
    return int((amount * 10 ** minor_units(currency)).to_integral_value())


class StripeProvider:
    name = "stripe"

    def __init__(self, settings):
        if not settings.stripe_secret_key:
            raise ValueError("WATTSON_STRIPE_SECRET_KEY must be set for WATTSON_PAYMENT_PROVIDER=stripe")
        bases = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
        self.client = StripeClient(settings.stripe_secret_key, base_addresses=bases,
                                   http_client=stripe.HTTPXClient(), max_network_retries=2)
        self.publishable_key = settings.stripe_publishable_key
        self.webhook_secret = settings.stripe_webhook_secret

    async def authorize(self, amount: Decimal, currency: str, method: dict, key: str, description: str) -> Outcome:
        payment_method = method.get("payment_method")
        if not payment_method:
            raise Invalid("a Stripe payment needs the payment_method from Stripe Elements",
                          [{"field": "body.payment_method", "message": "required with the stripe provider"}])
        params = {"amount": minor(amount, currency), "currency": currency.lower(), "capture_method": "manual",
                  "payment_method": payment_method, "payment_method_types": ["card"], "confirm": True,
                  "description": description, "metadata": {"wattson_key": key},
                  "expand": ["latest_charge"]}  # its card details: the brand and last four digits for the receipt
        try:
            intent = await self.client.v1.payment_intents.create_async(params, {"idempotency_key": key})
        except stripe.CardError as error:
            intent = (error.json_body or {}).get("error", {}).get("payment_intent") or {}
            return Outcome(DECLINED, intent.get("id"), error.code or error.user_message)
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe: {error.user_message or error}") from None
        if intent.status == "requires_capture":
            return Outcome(SUCCEEDED, intent.id, None, _card(intent))
        if intent.status == "requires_action":
            await self.release(intent.id, f"{key}:3ds")
            return Outcome(FAILED, intent.id, "authentication_required")
        reason = (intent.to_dict().get("last_payment_error") or {}).get("code") or intent.status
        return Outcome(DECLINED, intent.id, reason)

    async def find(self, key: str) -> str | None:
        try:
            found = await self.client.v1.payment_intents.search_async(
                {"query": f"metadata['wattson_key']:'{key}'", "limit": 1})
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe: {error}") from None
        held = [i for i in found.data if i.status == "requires_capture"]
        return held[0].id if held else None

    async def capture(self, reference: str, amount: Decimal, currency: str, key: str) -> Outcome:
        try:
            intent = await self.client.v1.payment_intents.capture_async(
                reference, {"amount_to_capture": minor(amount, currency)}, {"idempotency_key": key})
        except stripe.InvalidRequestError as error:
            return Outcome(FAILED, reference, error.code or str(error))
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe: {error}") from None
        return Outcome(SUCCEEDED if intent.status == "succeeded" else FAILED, reference, intent.status)

    async def release(self, reference: str, key: str) -> Outcome:
        try:
            await self.client.v1.payment_intents.cancel_async(reference, {}, {"idempotency_key": key})
        except stripe.InvalidRequestError as error:
            try:
                intent = await self.client.v1.payment_intents.retrieve_async(reference)
            except stripe.StripeError:
                raise ProviderError(f"Stripe: {error}") from None
            if intent.status != "canceled":
                return Outcome(FAILED, reference, error.code or str(error))
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe: {error}") from None
        return Outcome(SUCCEEDED, reference)

    async def refund(self, reference: str, amount: Decimal, currency: str, key: str) -> Outcome:
        try:
            refund = await self.client.v1.refunds.create_async(
                {"payment_intent": reference, "amount": minor(amount, currency)}, {"idempotency_key": key})
        except stripe.InvalidRequestError as error:
            return Outcome(FAILED, reference, error.code or str(error))
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe: {error}") from None
        return Outcome(SUCCEEDED if refund.status in ("succeeded", "pending") else FAILED, reference, refund.status)

    def webhook(self, body: bytes, signature: str | None) -> WebhookEvent:
        if not self.webhook_secret:
            raise InvalidSignature("WATTSON_STRIPE_WEBHOOK_SECRET is not set")
        try:
            event = stripe.Webhook.construct_event(body, signature, self.webhook_secret)
        except stripe.SignatureVerificationError as error:
            raise InvalidSignature(str(error)) from None
        except ValueError:
            raise InvalidSignature("not a Stripe event") from None
        obj = event.data.object.to_dict()
        reference = obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")
        return WebhookEvent(id=event.id, type=event.type, reference=reference, data={"object": obj.get("object")})

    def client_config(self) -> dict:
        return {"provider": self.name, "publishable_key": self.publishable_key}


def _card(intent) -> str | None:
    charge = intent.to_dict().get("latest_charge")
    details = charge.get("payment_method_details", {}).get("card") if isinstance(charge, dict) else None
    return f"{details['brand']} •••• {details['last4']}" if details else None
