"""The public driver API (seed 000): no API key, rate-limited per client, showing nothing beyond
what the charger's sticker and the driver's own payment say. A payment is named by its
``session_id``, a 128-bit random handle only its driver has."""

import time
from collections import deque
from decimal import Decimal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import HTMLResponse

from wattson.db import utcnow
from wattson.errors import NotFound, WattsonError
from wattson.payments import machine as m
from wattson.payments.driver import charging_point
from wattson.payments.schemas import ChargingPoint, DriverPayment, PayRequest
from wattson.sessions.receipts import card_text, render_html, render_pdf
from wattson.web.money import money

PREFIX = "/driver/api/v1"
SESSION_ID = Query(None, min_length=1, max_length=64, description="The payment's session_id.")
LANG = Query(None, max_length=8, description="en or cs; otherwise the payment's (or the browser's) language.")
LANGUAGES = ("en", "cs")


class RateLimited(WattsonError):
    status = 429
    code = "rate_limited"


class RateLimiter:
    """At most ``per_minute`` requests per client address in any 60 seconds."""

    MAX_CLIENTS = 10_000

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.seen: dict[str, deque] = {}

    def check(self, client: str) -> None:
        now = time.monotonic()
        hits = self.seen.get(client)
        if hits is None:
            if len(self.seen) >= self.MAX_CLIENTS:
                self.seen = {k: v for k, v in self.seen.items() if v and v[-1] > now - 60}
            hits = self.seen[client] = deque()
        while hits and hits[0] <= now - 60:
            hits.popleft()
        if len(hits) >= self.per_minute:
            raise RateLimited("too many requests; try again in a minute")
        hits.append(now)


async def rate_limit(request: Request) -> None:
    limiter = getattr(request.app.state, "driver_rate_limiter", None)
    if limiter is None:
        limiter = request.app.state.driver_rate_limiter = RateLimiter(
            request.app.state.services.settings.driver_rate_limit)
    limiter.check(request.client.host if request.client else "?")


router = APIRouter(prefix=PREFIX, tags=["driver"], include_in_schema=False, dependencies=[Depends(rate_limit)])


def _payments(request: Request):
    return request.app.state.services.payments


def _only(lang: str | None) -> str | None:
    return lang if lang in LANGUAGES else None


def _language(request: Request, lang: str | None) -> str:
    if lang in LANGUAGES:
        return lang
    accept = request.headers.get("accept-language", "").lower()
    return "cs" if accept.startswith("cs") or accept.startswith("sk") else "en"


async def charging_point_data(request: Request, code: str, session_id: str | None, language: str) -> dict:
    service = _payments(request)
    offer = await service.offer(code)
    if session_id is None:
        return charging_point(offer, language)
    payment = await service.find_payment(session_id)
    if payment.evse_id != offer.evse.id:
        raise NotFound("no such payment session at this charging point")
    session, priced = await service.live(payment)
    current = None
    if session is not None and session.status == "active":
        sample = await request.app.state.services.sessions.latest_sample(session.id, "Current.Import")
        current = sample.numeric if sample is not None else None
    return charging_point(offer, language, payment, session, priced.total_incl_vat if priced else None, current,
                          utcnow())


@router.get("/charging_points/by_code/{evse_id}", response_model=ChargingPoint)
async def by_code(request: Request, evse_id: str, session_id: str | None = SESSION_ID,
                  lang: str | None = Query(None, max_length=8)):
    """Seed 000: the charging point with this EVSE ID (case and `*` ignored), its products with
    prices, and with `session_id` the live progress of that payment's session."""
    return await charging_point_data(request, evse_id, session_id, _language(request, lang))


def _amounts_text(payment, cost: Decimal | None, language: str) -> dict:
    """The amounts as the page shows them, written by the one money function (web.money); nothing
    captured (yet) reads as zero."""
    def text(value) -> str | None:
        return None if value is None else money(Decimal(value), payment.currency, language)

    return {"amount_held": text(payment.amount_held), "amount_captured": text(payment.amount_captured or "0"),
            "amount_released": text(payment.amount_released), "amount_refunded": text(payment.amount_refunded),
            "cost_incl_vat": text(cost)}


async def driver_payment(request: Request, payment, lang: str | None = None) -> dict:
    session, priced = await _payments(request).live(payment)
    settled = payment.state in (m.CAPTURED, m.REFUNDED)
    end = (session.stopped_at or utcnow()) if session else None
    base = f"{PREFIX}/payments/{payment.uid}"
    return {"session_id": payment.uid, "state": payment.state, "evse_id": payment.evse_code,
            "product": {k: payment.product.get(k) for k in ("uid", "name", "max_duration_min", "max_energy_wh")},
            "currency": payment.currency, "amount_held": float(Decimal(payment.amount_held)),
            "amount_captured": None if payment.amount_captured is None else float(Decimal(payment.amount_captured)),
            "amount_released": None if payment.amount_released is None else float(Decimal(payment.amount_released)),
            "amount_refunded": float(Decimal(payment.amount_refunded)),
            "energy_kwh": session.energy_wh / 1000 if session else None,
            "cost_incl_vat": float(priced.total_incl_vat) if priced else None,
            "elapsed_s": int((end - session.started_at).total_seconds()) if session else None,
            "started_at": session.started_at if session else None,
            "stopped_at": session.stopped_at if session else None,
            "stop_reason": payment.stop_reason, "failure": payment.failure, "card": card_text(payment.card),
            "text": _amounts_text(payment, priced.total_incl_vat if priced else None, _only(lang) or payment.language),
            "receipt_url": f"{base}/receipt" if settled else None,
            "receipt_pdf_url": f"{base}/receipt.pdf" if settled else None}


@router.post("/payments", status_code=201, response_model=DriverPayment)
async def pay(request: Request, response: Response, body: PayRequest,
              idempotency_key: str | None = Header(None, max_length=64, pattern=r"^[\x21-\x7e]+$")):
    """Buy a product: the hold is placed on the card (402 when declined or not authenticated) and
    the charger is started. Poll by_code with the returned session_id."""
    method = {"card": body.card.model_dump()} if body.card else {"payment_method": body.payment_method}
    payment, created = await _payments(request).pay(body.evse_id, body.product_id, method, idempotency_key,
                                                    body.email, body.language)
    if not created:
        response.status_code = 200
    return await driver_payment(request, payment, body.language)


@router.get("/payments/{session_id}", response_model=DriverPayment)
async def get_payment(request: Request, session_id: str, lang: str | None = LANG):
    return await driver_payment(request, await _payments(request).find_payment(session_id[:64]), lang)


@router.post("/payments/{session_id}/stop", response_model=DriverPayment)
async def stop(request: Request, session_id: str, lang: str | None = LANG):
    """End the charging (before it began: cancel, and the whole hold is released)."""
    return await driver_payment(request, await _payments(request).stop(session_id[:64]), lang)


@router.get("/payments/{session_id}/receipt", response_class=HTMLResponse)
async def receipt(request: Request, session_id: str, lang: str | None = LANG):
    """The VAT receipt with the seller and what was held, captured and released, in the
    payment's language (or ``lang``): a link fit for an e-mail."""
    return HTMLResponse(render_html(await _payments(request).receipt(session_id[:64], _only(lang))))


@router.get("/payments/{session_id}/receipt.pdf")
async def receipt_pdf(request: Request, session_id: str, lang: str | None = LANG):
    receipt = await _payments(request).receipt(session_id[:64], _only(lang))
    return Response(render_pdf(receipt), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="receipt-{receipt.number}.pdf"'})


@router.get("/config")
async def config(request: Request):
    """What the page needs to take a card with the configured provider."""
    return _payments(request).provider.client_config()


webhooks = APIRouter(include_in_schema=False)


@webhooks.post("/webhooks/payments")
async def provider_webhook(request: Request, signature: str | None = Header(None, alias="Stripe-Signature"),
                           wattson_signature: str | None = Header(None, alias="Wattson-Signature")):
    """The payment provider's notifications, verified by signature (400 otherwise)."""
    payment = await _payments(request).webhook(await request.body(), signature or wattson_signature)
    return {"received": True, "payment": payment.uid if payment else None}
