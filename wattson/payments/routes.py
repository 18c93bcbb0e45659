"""Operator API of direct payment: products, payments and refunds, QR codes for the stickers."""

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Header, Query, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import IdPath
from wattson.errors import Conflict
from wattson.payments import machine as m
from wattson.payments.schemas import (PaymentOut, PaymentState, ProductCreate, ProductOut, ProductUpdate,
                                      RefundRequest)
from wattson.web.qr import qr_code

router = APIRouter(prefix="/api/v1", tags=["payments"])


def _payments(request: Request):
    return request.app.state.services.payments


def product_fields(body, partial: bool) -> dict:
    """A product request as the service's fields (kWh as Wh, the hold as exact text); the dashboard's
    forms use it too."""
    fields = body.model_dump(exclude_unset=partial)
    if "max_energy_kwh" in fields:
        kwh = fields.pop("max_energy_kwh")
        fields["max_energy_wh"] = None if kwh is None else int(kwh * 1000)
    if "blocking_value" in fields:
        fields["blocking_value"] = str(fields["blocking_value"])
    return fields


def product_out(product) -> dict:
    return {**{c: getattr(product, c) for c in ("id", "uid", "name", "max_duration_min", "evse_id", "charge_point_id",
                                                "location_id", "position", "active", "created_at", "updated_at")},
            "blocking_value": Decimal(product.blocking_value),
            "max_energy_kwh": None if product.max_energy_wh is None else Decimal(product.max_energy_wh) / 1000}


def payment_out(payment, events=None) -> dict:
    out = {c: getattr(payment, c) for c in ("id", "state", "provider", "provider_ref", "product", "charge_point_id",
                                            "evse", "evse_code", "currency", "cdr_id", "stop_reason", "failure",
                                            "card", "created_at", "authorized_at", "started_at", "finished_at",
                                            "updated_at")}
    out.update(session_id=payment.uid, charging_session_id=payment.session_id,
               amount_held=Decimal(payment.amount_held), amount_refunded=Decimal(payment.amount_refunded),
               amount_captured=None if payment.amount_captured is None else Decimal(payment.amount_captured),
               amount_released=None if payment.amount_released is None else Decimal(payment.amount_released))
    if events is not None:
        out["events"] = events
    return out


@router.post("/payment-products", status_code=201, response_model=ProductOut, dependencies=[auth.operator])
async def create_product(request: Request, body: ProductCreate):
    """A product drivers can buy by card at the EVSEs it is offered at: the amount held on the card,
    and optionally a time and an energy limit. Its price comes from the ad hoc tariff there."""
    return product_out(await _payments(request).create_product(product_fields(body, partial=False)))


@router.get("/payment-products", response_model=Page[ProductOut], dependencies=[auth.viewer])
async def list_products(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                        evse_id: int | None = Query(None, ge=1, le=2**31 - 1),
                        charge_point_id: str | None = Query(None, max_length=48),
                        location_id: int | None = Query(None, ge=1, le=2**31 - 1)):
    """Products by id."""
    after = pagination.decode(cursor, int)
    rows = await _payments(request).find_products(limit + 1, after[0] if after else None, evse_id=evse_id,
                                                  charge_point_id=charge_point_id, location_id=location_id)
    return pagination.page([product_out(p) for p in rows], limit, lambda p: (p["id"],))


@router.get("/payment-products/{product_id}", response_model=ProductOut, dependencies=[auth.viewer])
async def get_product(request: Request, product_id: IdPath):
    return product_out(await _payments(request).get_product(product_id))


@router.patch("/payment-products/{product_id}", response_model=ProductOut, dependencies=[auth.operator])
async def update_product(request: Request, body: ProductUpdate, product_id: IdPath):
    """Change a product; payments already made keep the product as they bought it."""
    return product_out(await _payments(request).update_product(product_id, product_fields(body, partial=True)))


@router.delete("/payment-products/{product_id}", status_code=204, dependencies=[auth.operator])
async def delete_product(request: Request, product_id: IdPath):
    await _payments(request).delete_product(product_id)
    return Response(status_code=204)


@router.get("/payments", response_model=Page[PaymentOut], dependencies=[auth.viewer])
async def list_payments(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                        state: PaymentState | None = None,
                        charge_point_id: str | None = Query(None, max_length=48)):
    """Direct payments, newest first, with their state and amounts."""
    before = pagination.decode(cursor, datetime, int)
    rows = await _payments(request).list_payments(limit + 1, before, state=state, charge_point_id=charge_point_id)
    return pagination.page([payment_out(p) for p in rows], limit, lambda p: (p["created_at"], p["id"]))


@router.get("/payments/{payment_id}", response_model=PaymentOut, dependencies=[auth.viewer])
async def get_payment(request: Request, payment_id: IdPath):
    """One payment with its history (each state change and its reason)."""
    payment, events = await _payments(request).get(payment_id)
    return payment_out(payment, events)


@router.post("/payments/{payment_id}/refund", response_model=PaymentOut, dependencies=[auth.operator])
async def refund(request: Request, body: RefundRequest, payment_id: IdPath,
                 idempotency_key: str | None = Header(None, max_length=64, pattern=r"^[\x21-\x7e]+$")):
    """Give back part or all of what was captured (409 unless the payment is captured)."""
    payment = await _payments(request).refund(payment_id, body.amount, body.reason, idempotency_key)
    return payment_out(payment)


@router.get("/evses/{evse_id}/qr-code", dependencies=[auth.viewer], response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/svg+xml": {}},
                             "description": "The QR code of the EVSE's driver page."}})
async def evse_qr_code(request: Request, evse_id: IdPath, format: str = Query("png", pattern="^(png|svg)$"),
                       scale: int = Query(8, ge=1, le=40)):
    """The QR code to print on the EVSE's sticker: it opens `/driver/{EVSE ID}`. 409 when the EVSE
    has no EVSE ID."""
    evse = await request.app.state.services.stations.get_evse(evse_id)
    if not evse.evse_id:
        raise Conflict(f"EVSE {evse_id} has no EVSE ID: set evse_id first")
    url = driver_url(request, evse.evse_id)
    body, media_type = qr_code(url, format, scale)
    name = evse.evse_id.replace("*", "")
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'inline; filename="{name}.{format}"', "X-Driver-Url": url})


def driver_url(request: Request, evse_id: str) -> str:
    settings = request.app.state.services.settings
    base = settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/driver/{evse_id}"


__all__ = ["router", "payment_out", "product_out", "m"]
