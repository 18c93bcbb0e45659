"""OCPI pages: roaming partners (status, the credentials handshake's state, endpoints, the last
push), their token A shown once, registering with a partner, suspending and resuming it; and
the push outbox (pending and failed pushes, a failed one sent again). The same services and
request models as the operator API (ocpi/api_routes.py)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wattson.api.types import IdPath
from wattson.dashboard import auth, forms
from wattson.dashboard.render import render
from wattson.errors import WattsonError
from wattson.ocpi.api_routes import PARTNER_ID, PartnerCreate, PartnerUpdate, RegisterWith
from wattson.ocpi.routes import base_url

router = APIRouter(include_in_schema=False)
PAGE = 50
STATUSES = ("pending", "registered", "suspended", "unregistered")
PartnerPath = Annotated[str, Path(pattern=PARTNER_ID)]
PartnerStatus = Literal["pending", "registered", "suspended", "unregistered"]
OutboxStatus = Literal["pending", "sent", "failed"]


def _ocpi(request: Request):
    return request.app.state.services.ocpi


def credentials_state(partner) -> str:
    """The handshake in words: which tokens exist, so an operator knows what to do next."""
    if partner.status == "pending":
        return ("waiting for the partner to register with its token A" if partner.token_hash else
                "no token: issue a token A or register with the partner")
    if partner.status == "registered":
        return "registered: both sides hold their token (C)"
    if partner.status == "suspended":
        return "suspended: its token is refused and nothing is pushed"
    return "unregistered: the partner ended the connection; issue a new token A to connect again"


@router.get("/partners", response_class=HTMLResponse)
async def partner_list(request: Request, _=auth.viewer_page, status: PartnerStatus | None = None,
                       cursor: str | None = Query(None, max_length=200)):
    return await _partner_list(request, status, cursor)


async def _partner_list(request, status=None, cursor=None, errors=None, values=None, status_code=200):
    after = forms.after(cursor, str)
    rows = await _ocpi(request).partners.find(PAGE + 1, after[0] if after else None, status)
    rows, next_cursor = forms.next_cursor(rows, PAGE, lambda p: (p.id,))
    summary = await _ocpi(request).outbox.summary([p.id for p in rows])
    return render(request, "partners.html", status_code=status_code, partners=rows, summary=summary,
                  next_cursor=next_cursor, statuses=STATUSES, filters={"status": status or ""},
                  errors=errors or {}, values=values or {})


@router.post("/partners", response_class=HTMLResponse)
async def create_partner(request: Request, _=auth.operator_action):
    """A partner and its token A, shown on the answer to this form only (it is stored hashed)."""
    data = await forms.fields(request)
    try:
        body = forms.checked(PartnerCreate, data)
        partner, token = await _ocpi(request).partners.create(body.name, body.country_code, body.party_id)
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _partner_list(request, errors=errors, values=data, status_code=status)
    return await _partner_page(request, partner.id, token_a=token, status_code=201)


@router.get("/partners/outbox", response_class=HTMLResponse)
async def outbox(request: Request, _=auth.viewer_page, status: OutboxStatus | None = None,
                 partner_id: str | None = Query(None, pattern=PARTNER_ID),
                 cursor: str | None = Query(None, max_length=200)):
    before = forms.after(cursor, int)
    rows = await _ocpi(request).outbox.find(PAGE + 1, before[0] if before else None, partner_id, status)
    rows, next_cursor = forms.next_cursor(rows, PAGE, lambda r: (r.id,))
    names = {p.id: p.name for p in await _ocpi(request).partners.find(500)}
    return render(request, "partners_outbox.html", rows=rows, names=names, next_cursor=next_cursor,
                  filters={"status": status or "", "partner_id": partner_id or ""})


@router.post("/partners/outbox/{row_id}/retry")
async def retry(request: Request, row_id: IdPath, _=auth.operator_action):
    """Send a failed push again (it is delivered on the pusher's next round)."""
    row = await _ocpi(request).outbox.retry(row_id)
    back = (await forms.fields(request)).get("back")
    target = f"/partners/{row.partner_id}#outbox" if back == "partner" else "/partners/outbox?status=pending"
    return RedirectResponse(target, status_code=303)


@router.get("/partners/{partner_id}", response_class=HTMLResponse)
async def partner_page(request: Request, partner_id: PartnerPath, _=auth.viewer_page):
    return await _partner_page(request, partner_id)


async def _partner_page(request, partner_id, token_a=None, errors=None, values=None, status_code=200):
    ocpi = _ocpi(request)
    partner = await ocpi.partners.get(partner_id)
    queued = await ocpi.outbox.find(30, partner_id=partner_id)
    summary = (await ocpi.outbox.summary([partner_id]))[partner_id]
    return render(request, "partners_partner.html", status_code=status_code, partner=partner, queued=queued,
                  summary=summary, state=credentials_state(partner), token_a=token_a,
                  our_versions_url=f"{base_url(request)}/versions", errors=errors or {},
                  values=values or {"name": partner.name, "encode_token": partner.encode_token})


@router.post("/partners/{partner_id}", response_class=HTMLResponse)
async def update_partner(request: Request, partner_id: PartnerPath, _=auth.operator_action):
    data = await forms.fields(request)
    data["encode_token"] = "true" if forms.boolean(data, "encode_token") else "false"
    try:
        body = forms.checked(PartnerUpdate, data)
        await _ocpi(request).partners.update(partner_id, **body.model_dump(exclude_unset=True))
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _partner_page(request, partner_id, errors=errors, values=data, status_code=status)
    return RedirectResponse(f"/partners/{partner_id}?saved=1", status_code=303)


@router.post("/partners/{partner_id}/token-a", response_class=HTMLResponse)
async def new_token_a(request: Request, partner_id: PartnerPath, _=auth.operator_action):
    """A new token A for a partner that is not registered, shown on this answer only."""
    partner, token = await _ocpi(request).partners.reissue_token_a(partner_id)
    return await _partner_page(request, partner.id, token_a=token)


@router.post("/partners/{partner_id}/register", response_class=HTMLResponse)
async def register_with(request: Request, partner_id: PartnerPath, _=auth.operator_action):
    """Register with a partner that gave us its versions URL and a token A."""
    data = await forms.fields(request)
    try:
        body = forms.checked(RegisterWith, data)
        await _ocpi(request).partners.register_with(partner_id, body.versions_url, body.token,
                                                    f"{base_url(request)}/versions")
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _partner_page(request, partner_id, errors=errors, values={**data, "token": ""},
                                   status_code=status)
    return RedirectResponse(f"/partners/{partner_id}?registered=1", status_code=303)


@router.post("/partners/{partner_id}/delete")
async def delete_partner(request: Request, partner_id: PartnerPath, _=auth.operator_action):
    await _ocpi(request).partners.delete(partner_id)
    return RedirectResponse("/partners", status_code=303)


# Last: its path would also match /token-a, /register and /delete.
@router.post("/partners/{partner_id}/{change}")
async def change_status(request: Request, partner_id: PartnerPath,
                        change: str = Path(pattern="^(suspend|resume)$"), _=auth.operator_action):
    """Suspend a registered partner (its token stops working, nothing is pushed) or resume it."""
    status = "suspended" if change == "suspend" else "registered"
    await _ocpi(request).partners.update(partner_id, status=status)
    return RedirectResponse(f"/partners/{partner_id}", status_code=303)
