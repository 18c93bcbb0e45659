"""Payment providers behind one small interface (``base.PaymentProvider``)."""

from wattson.payments.providers.base import (DECLINED, FAILED, SUCCEEDED, InvalidSignature, Outcome,
                                             PaymentProvider, ProviderError, WebhookEvent)

__all__ = ["DECLINED", "FAILED", "SUCCEEDED", "InvalidSignature", "Outcome", "PaymentProvider", "ProviderError",
           "WebhookEvent", "build_provider"]


def build_provider(settings, db) -> PaymentProvider:
    """The provider ``WATTSON_PAYMENT_PROVIDER`` names."""
    if settings.payment_provider == "stripe":
        from wattson.payments.providers.stripe import StripeProvider

        return StripeProvider(settings)
    from wattson.payments.providers.sandbox import SandboxProvider

    return SandboxProvider(db, settings.payment_webhook_secret)
