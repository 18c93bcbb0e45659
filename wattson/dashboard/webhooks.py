"""Webhooks pages (admin and operator roles, to see and to post): subscriptions listed with their
state (active, or paused and why) and last delivery; created with the signing secret shown once;
events, URL and active changed; the secret rotated (the new one shown once); a test ping sent;
deleted; and a subscription's deliveries, each redelivered on demand. The same service and
request models as the operator API (webhooks/routes.py)."""

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wattson.api.types import IdPath
from wattson.dashboard import auth, forms
from wattson.dashboard.render import render
from wattson.errors import WattsonError
from wattson.webhooks.catalogue import ALL, TYPES
from wattson.webhooks.schemas import Status, WebhookCreate, WebhookUpdate

router = APIRouter(include_in_schema=False)
PAGE = 50
DELIVERIES = 50
#: The catalogue as the form's checkboxes: (value, label, description); ``ping`` is the test's own.
EVENT_CHOICES = tuple((t.name, t.name, t.description) for t in TYPES.values() if t.name != "ping")


def _webhooks(request: Request):
    return request.app.state.services.webhooks


async def _posted(request: Request) -> dict:
    """The form's fields, with ``events`` the list of ticked types (all of them when "all" is)."""
    data = await forms.fields(request)
    events = [e for e in (await request.form()).getlist("events") if isinstance(e, str)]
    data["events"] = [ALL] if ALL in events else events
    return data


def _state(sub) -> tuple[str, str]:
    """(CSS class, words) of a subscription's state."""
    if sub.active:
        return "completed", "active"
    return ("failed", "paused") if sub.paused_reason else ("", "inactive")


@router.get("/webhooks", response_class=HTMLResponse)
async def webhook_list(request: Request, _=auth.operator_page, cursor: str | None = Query(None, max_length=200)):
    return await _webhook_list(request, cursor)


async def _webhook_list(request, cursor=None, errors=None, values=None, status_code=200):
    after = forms.after(cursor, int)
    rows = await _webhooks(request).find(PAGE + 1, after[0] if after else None)
    rows, next_cursor = forms.next_cursor(rows, PAGE, lambda sub: (sub.id,))
    last = await _webhooks(request).last_deliveries([sub.id for sub in rows])
    return render(request, "webhooks.html", status_code=status_code, subscriptions=rows, last=last,
                  next_cursor=next_cursor, state=_state, choices=EVENT_CHOICES, all_events=ALL,
                  errors=errors or {}, values=values or {"events": []})


@router.post("/webhooks", response_class=HTMLResponse)
async def create_webhook(request: Request, _=auth.operator_action):
    """A subscription; its signing secret (typed, or generated) is on this answer only."""
    data = await _posted(request)
    try:
        body = forms.checked(WebhookCreate, data)
        sub = await _webhooks(request).create(body.url, body.events, body.secret, body.description, body.active)
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _webhook_list(request, errors=errors, values={**data, "secret": ""}, status_code=status)
    return await _webhook_page(request, sub.id, secret=sub.secret, status_code=201)


@router.get("/webhooks/{webhook_id}", response_class=HTMLResponse)
async def webhook_page(request: Request, webhook_id: IdPath, _=auth.operator_page, status: Status | None = None,
                       cursor: str | None = Query(None, max_length=200)):
    return await _webhook_page(request, webhook_id, status=status, cursor=cursor)


async def _webhook_page(request, webhook_id, secret=None, errors=None, values=None, status=None, cursor=None,
                        status_code=200):
    service = _webhooks(request)
    sub = await service.get(webhook_id)
    before = forms.after(cursor, int)
    rows = await service.deliveries(webhook_id, DELIVERIES + 1, before[0] if before else None, status)
    rows, next_cursor = forms.next_cursor(rows, DELIVERIES, lambda row: (row[0].id,))
    return render(request, "webhooks_webhook.html", status_code=status_code, sub=sub, state=_state(sub),
                  deliveries=rows, next_cursor=next_cursor, filters={"status": status or ""},
                  statuses=("pending", "delivered", "failed"), secret=secret, choices=EVENT_CHOICES,
                  all_events=ALL, errors=errors or {},
                  values=values or {"url": sub.url, "description": sub.description or "", "events": sub.events,
                                    "active": sub.active})


@router.post("/webhooks/{webhook_id}", response_class=HTMLResponse)
async def update_webhook(request: Request, webhook_id: IdPath, _=auth.operator_action):
    """URL, description, events and active; ticking active again resumes a paused subscription."""
    data = await _posted(request)
    data["active"] = "true" if forms.boolean(data, "active") else "false"
    try:
        body = forms.checked(WebhookUpdate, data, clearable=("description",))
        await _webhooks(request).update(webhook_id, body.model_dump(exclude_unset=True))
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _webhook_page(request, webhook_id, errors=errors, values=data, status_code=status)
    return RedirectResponse(f"/webhooks/{webhook_id}?saved=1", status_code=303)


@router.post("/webhooks/{webhook_id}/rotate-secret", response_class=HTMLResponse)
async def rotate_secret(request: Request, webhook_id: IdPath, _=auth.operator_action):
    """A new generated secret, shown on this answer only; the old one signs too for a grace period."""
    sub = await _webhooks(request).rotate_secret(webhook_id)
    return await _webhook_page(request, sub.id, secret=sub.secret)


@router.post("/webhooks/{webhook_id}/test", response_class=HTMLResponse)
async def ping(request: Request, webhook_id: IdPath, _=auth.operator_action):
    """A ``ping`` to this subscription only; its delivery heads the list below."""
    try:
        await _webhooks(request).ping(webhook_id)
    except WattsonError as error:  # e.g. not active: said on the page
        errors, status = forms.problems(error)
        return await _webhook_page(request, webhook_id, errors=errors, status_code=status)
    return RedirectResponse(f"/webhooks/{webhook_id}?pinged=1#deliveries", status_code=303)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(request: Request, webhook_id: IdPath, delivery_id: IdPath, _=auth.operator_action):
    await _webhooks(request).redeliver(webhook_id, delivery_id)
    return RedirectResponse(f"/webhooks/{webhook_id}?redelivered={delivery_id}#deliveries", status_code=303)


@router.post("/webhooks/{webhook_id}/delete")
async def delete_webhook(request: Request, webhook_id: IdPath, _=auth.operator_action):
    await _webhooks(request).delete(webhook_id)
    return RedirectResponse("/webhooks?deleted=1", status_code=303)


# Last: its path would also match /rotate-secret, /test and /delete.
@router.post("/webhooks/{webhook_id}/{change}")
async def activate(request: Request, webhook_id: IdPath, change: str = Path(pattern="^(pause|resume)$"),
                   _=auth.operator_action):
    """Pause a subscription by hand, or resume it (a paused one's failure count starts again)."""
    await _webhooks(request).update(webhook_id, {"active": change == "resume"})
    return RedirectResponse(f"/webhooks/{webhook_id}?saved=1", status_code=303)
