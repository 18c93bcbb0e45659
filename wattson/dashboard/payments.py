"""Payment pages: direct payments (state, amounts, their event history, a refund of a captured
one) and the payment products offered per EVSE, charge point or location. The same service
calls and request models as the operator API (payments/routes.py)."""

import secrets
from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wattson.api.types import MAX_ID, IdPath
from wattson.dashboard import auth, forms
from wattson.dashboard.render import render
from wattson.errors import WattsonError
from wattson.payments import machine as m
from wattson.payments.routes import product_fields
from wattson.payments.schemas import PaymentState, ProductCreate, ProductUpdate, RefundRequest

router = APIRouter(include_in_schema=False)
PAGE = 50
PRODUCT_FIELDS = ("name", "blocking_value", "max_duration_min", "max_energy_kwh", "evse_id", "charge_point_id",
                  "location_id", "position")
CLEARABLE = ("max_duration_min", "max_energy_kwh", "evse_id", "charge_point_id", "location_id")


def _payments(request: Request):
    return request.app.state.services.payments


def refundable(payment) -> Decimal:
    """What is left to give back: captured minus refunded (0 unless captured)."""
    if payment.state not in (m.CAPTURED, m.REFUNDED):
        return Decimal(0)
    return Decimal(payment.amount_captured or 0) - Decimal(payment.amount_refunded)


@router.get("/payments", response_class=HTMLResponse)
async def payment_list(request: Request, _=auth.viewer_page, state: PaymentState | None = None,
                       charge_point_id: str | None = Query(None, max_length=48, pattern=forms.NO_NUL),
                       cursor: str | None = Query(None, max_length=200)):
    before = forms.after(cursor, datetime, int)
    rows = await _payments(request).list_payments(PAGE + 1, before, state=state or None,
                                                  charge_point_id=(charge_point_id or "").strip() or None)
    rows, next_cursor = forms.next_cursor(rows, PAGE, lambda p: (p.created_at, p.id))
    return render(request, "payments.html", payments=rows, next_cursor=next_cursor, states=m.STATES,
                  filters={"state": state or "", "charge_point_id": charge_point_id or ""})


# --- products (before /payments/{id}) ------------------------------------------------------------
def _product_values(product) -> dict:
    values = {name: getattr(product, name, None) for name in PRODUCT_FIELDS}
    values["max_energy_kwh"] = None if product.max_energy_wh is None else Decimal(product.max_energy_wh) / 1000
    values["active"] = product.active
    return values


def _product_form(data: dict) -> dict:
    data = dict(data)
    data["active"] = "true" if forms.boolean(data, "active") else "false"
    return data


@router.get("/payments/products", response_class=HTMLResponse)
async def product_list(request: Request, _=auth.viewer_page, evse_id: int | None = Query(None, ge=1, le=MAX_ID),
                       charge_point_id: str | None = Query(None, max_length=48, pattern=forms.NO_NUL),
                       location_id: int | None = Query(None, ge=1, le=MAX_ID),
                       cursor: str | None = Query(None, max_length=200)):
    filters = {"evse_id": evse_id or "", "charge_point_id": charge_point_id or "", "location_id": location_id or ""}
    return await _product_list(request, filters, cursor)


async def _product_list(request, filters, cursor=None, errors=None, values=None, status_code=200):
    after = forms.after(cursor, int)
    rows = await _payments(request).find_products(
        PAGE + 1, after[0] if after else None, evse_id=filters["evse_id"] or None,
        charge_point_id=filters["charge_point_id"] or None, location_id=filters["location_id"] or None)
    rows, next_cursor = forms.next_cursor(rows, PAGE, lambda p: (p.id,))
    defaults = {"active": True, "position": 0, "evse_id": filters["evse_id"]}
    return render(request, "payments_products.html", status_code=status_code, products=rows, filters=filters,
                  next_cursor=next_cursor, errors=errors or {}, values=values or defaults)


@router.post("/payments/products")
async def create_product(request: Request, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        body = forms.checked(ProductCreate, _product_form(data))
        product = await _payments(request).create_product(product_fields(body, partial=False))
    except WattsonError as error:
        errors, status = forms.problems(error)
        empty = {"evse_id": "", "charge_point_id": "", "location_id": ""}
        return await _product_list(request, empty, errors=errors, values=data, status_code=status)
    return RedirectResponse(f"/payments/products/{product.id}", status_code=303)


@router.get("/payments/products/{product_id}", response_class=HTMLResponse)
async def product_page(request: Request, product_id: IdPath, _=auth.viewer_page):
    return await _product_page(request, product_id)


async def _product_page(request, product_id, errors=None, values=None, status_code=200):
    product = await _payments(request).get_product(product_id)
    return render(request, "payments_product.html", status_code=status_code, product=product, errors=errors or {},
                  values=values or _product_values(product))


@router.post("/payments/products/{product_id}")
async def update_product(request: Request, product_id: IdPath, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        body = forms.checked(ProductUpdate, _product_form(data), clearable=CLEARABLE)
        await _payments(request).update_product(product_id, product_fields(body, partial=True))
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _product_page(request, product_id, errors=errors, values=data, status_code=status)
    return RedirectResponse(f"/payments/products/{product_id}?saved=1", status_code=303)


@router.post("/payments/products/{product_id}/delete")
async def delete_product(request: Request, product_id: IdPath, _=auth.operator_action):
    await _payments(request).delete_product(product_id)
    return RedirectResponse("/payments/products", status_code=303)


# --- one payment ---------------------------------------------------------------------------------
@router.get("/payments/{payment_id}", response_class=HTMLResponse)
async def payment_page(request: Request, payment_id: IdPath, _=auth.viewer_page):
    return await _payment_page(request, payment_id)


async def _payment_page(request, payment_id, errors=None, values=None, status_code=200):
    payment, events = await _payments(request).get(payment_id)
    return render(request, "payments_payment.html", status_code=status_code, payment=payment, events=events,
                  refundable=refundable(payment), errors=errors or {}, values=values or {},
                  refund_key=secrets.token_urlsafe(16))


@router.post("/payments/{payment_id}/refund")
async def refund(request: Request, payment_id: IdPath, _=auth.operator_action):
    """Give back part (``amount``) or all that is left of a captured payment, through its provider."""
    data = await forms.fields(request)
    key = data.pop("refund_key", None)  # the form's own: sent twice (a double click, a resend), it refunds once
    try:
        body = forms.checked(RefundRequest, data)
        await _payments(request).refund(payment_id, body.amount, body.reason, key and f"dashboard:{key[:40]}")
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _payment_page(request, payment_id, errors=errors, values=data, status_code=status)
    return RedirectResponse(f"/payments/{payment_id}?refunded=1#history", status_code=303)
