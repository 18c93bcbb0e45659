"""The dashboard's webhooks pages over real HTTP: a subscription created with the form (its secret
shown once, and the one the receiver's signatures verify with), listed with its state and last
delivery, edited (events, active), paused and resumed, its secret rotated, deleted; a test ping
delivered to a loopback receiver and redelivered, a failing receiver's code and error on the
page; only operators and admins see or post anything here, and every form needs its CSRF
token. The pages in Chromium under their CSP, with a screenshot."""

import asyncio
import hashlib
import hmac
import os
import re
from contextlib import asynccontextmanager

import httpx
import orjson
import pytest

from conftest import READY_BOUND_S, start_server, until
from dashboard_kit import CHROMIUM, SCREENSHOTS, browser_page, logged_in
from fixture_failures import started_once


@pytest.fixture(scope="module")
def hook_server(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("dashboard-webhooks"), "sqlite",
                                                  webhook_allow_private="true", webhook_poll_s="0.2",
                                                  webhook_retry_base_s="3600"))


class Receiver:
    """A loopback HTTP endpoint: answers each POST with the next of ``codes`` (then the last one
    again) and keeps what it got (headers, raw body)."""

    def __init__(self, codes=(200,)):
        self.codes, self.got = list(codes), []

    async def _serve(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.got.append((headers, body))
            code = self.codes.pop(0) if len(self.codes) > 1 else self.codes[0]
            writer.write(b"HTTP/1.1 %d X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok" % code)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self):
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
        try:
            yield self
        finally:
            server.close()


def _secret(html: str) -> str:
    return re.search(r'id="new-secret">.*?<code id="secret">([^<]+)</code>', html, re.S).group(1)


def _signed_with(secret: str, headers: dict, body: bytes) -> bool:
    parts = [p.split("=", 1) for p in headers["wattson-signature"].split(",")]
    t = next(v for k, v in parts if k == "t")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)


async def _create(client, url: str, events=("session.started", "session.ended"), **fields):
    return await client.post("/webhooks", data={"csrf": client.csrf, "url": url, "events": list(events),
                                                "description": "billing", **fields})


def _webhook_id(response: httpx.Response) -> int:
    return int(re.search(r"<h1>Webhook (\d+) ", response.text).group(1))


async def test_a_webhook_created_edited_rotated_and_deleted(hook_server):
    async with logged_in(hook_server, "operator") as op, hook_server.api() as api:
        page = (await op.get("/webhooks")).text
        assert 'href="/webhooks" aria-current="page"' in page and "New webhook" in page
        r = await _create(op, "http://127.0.0.1:9/hook")
        assert r.status_code == 201 and "shown only now" in r.text, r.text
        secret, webhook_id = _secret(r.text), _webhook_id(r)
        assert secret.startswith("whsec_")
        body = (await api.get(f"/api/v1/webhooks/{webhook_id}")).json()
        assert body["events"] == ["session.ended", "session.started"] and body["active"] is True
        listed = (await op.get("/webhooks")).text
        assert secret not in listed and "http://127.0.0.1:9/hook" in listed and "billing" in listed
        row = re.search(rf'<td>{webhook_id}</td>.*?</tr>', listed, re.S).group(0)
        assert "active" in row and "none yet" in row and "<code>session.started</code>" in row
        assert secret not in (await op.get(f"/webhooks/{webhook_id}")).text

        # edit: all events, not active
        r = await op.post(f"/webhooks/{webhook_id}", data={"csrf": op.csrf, "url": "http://127.0.0.1:9/other",
                                                           "description": "", "events": ["*", "cdr.created"]})
        assert r.status_code == 303
        body = (await api.get(f"/api/v1/webhooks/{webhook_id}")).json()
        assert body["events"] == ["*"] and body["active"] is False and body["description"] is None
        assert body["url"] == "http://127.0.0.1:9/other"
        page = (await op.get(f"/webhooks/{webhook_id}")).text
        assert '<span class="state " id="state">inactive</span>' in page and "Resume" in page
        assert "Send test ping" not in page
        assert (await op.post(f"/webhooks/{webhook_id}/resume", data={"csrf": op.csrf})).status_code == 303
        assert (await api.get(f"/api/v1/webhooks/{webhook_id}")).json()["active"] is True
        assert (await op.post(f"/webhooks/{webhook_id}/pause", data={"csrf": op.csrf})).status_code == 303
        assert (await api.get(f"/api/v1/webhooks/{webhook_id}")).json()["active"] is False
        r = await op.post(f"/webhooks/{webhook_id}", data={"csrf": op.csrf, "url": "http://127.0.0.1:9/other",
                                                           "events": "session.ended", "active": "true"})
        assert r.status_code == 303
        assert (await api.get(f"/api/v1/webhooks/{webhook_id}")).json()["active"] is True

        # a new secret, shown once; the old one signs beside it for a while
        r = await op.post(f"/webhooks/{webhook_id}/rotate-secret", data={"csrf": op.csrf})
        assert r.status_code == 200
        rotated = _secret(r.text)
        assert rotated != secret and rotated.startswith("whsec_") and "The previous secret signs too until" in r.text
        assert rotated not in (await op.get(f"/webhooks/{webhook_id}")).text

        # bad input: said beside the field, nothing made
        r = await _create(op, "http://127.0.0.1:9/x", events=("session.exploded",))
        assert r.status_code == 422 and "session.exploded" in r.text and "shown only now" not in r.text
        r = await _create(op, "http://127.0.0.1:9/x", events=())
        assert r.status_code == 422 and "at least one event type" in r.text
        r = await _create(op, "gopher://127.0.0.1/x")
        assert r.status_code == 422 and "refused" in r.text
        r = await _create(op, "http://127.0.0.1:9/x", secret="short")
        assert r.status_code == 422 and "shown only now" not in r.text
        r = await op.post(f"/webhooks/{webhook_id}", data={"csrf": op.csrf, "url": "http://127.0.0.1:9/other",
                                                           "events": "nope"})
        assert r.status_code == 422 and "nope" in r.text
        assert (await op.get("/webhooks/999999")).status_code == 404

        r = await op.post(f"/webhooks/{webhook_id}/delete", data={"csrf": op.csrf})
        assert r.status_code == 303 and r.headers["location"] == "/webhooks?deleted=1"
        assert (await api.get(f"/api/v1/webhooks/{webhook_id}")).status_code == 404
        assert f'href="/webhooks/{webhook_id}"' not in (await op.get("/webhooks")).text


async def _deliveries(api, webhook_id: int) -> list[dict]:
    return (await api.get(f"/api/v1/webhooks/{webhook_id}/deliveries")).json()["data"]


async def test_a_ping_is_delivered_and_redelivered(hook_server):
    async with Receiver().running() as receiver, logged_in(hook_server, "admin") as admin, hook_server.api() as api:
        r = await _create(admin, receiver.url, events=("*",))
        secret, webhook_id = _secret(r.text), _webhook_id(r)
        r = await admin.post(f"/webhooks/{webhook_id}/test", data={"csrf": admin.csrf})
        assert r.status_code == 303 and r.headers["location"].endswith("?pinged=1#deliveries")
        await until(lambda: receiver.got, "the ping reaches the receiver")
        headers, raw = receiver.got[0]
        event = orjson.loads(raw)
        assert event["type"] == "ping" and _signed_with(secret, headers, raw)
        delivered = await until(lambda: _first_with(api, webhook_id, "delivered"), "the ping marked delivered")
        page = (await admin.get(f"/webhooks/{webhook_id}")).text
        row = re.search(rf'<tr id="delivery-{delivered["id"]}">.*?</tr>', page, re.S).group(0)
        assert "<code>ping</code>" in row and event["id"] in row and ">delivered<" in row and "<td>200</td>" in row
        listed = (await admin.get("/webhooks")).text
        assert re.search(rf'<td>{webhook_id}</td>.*?>delivered<.*?HTTP 200', listed, re.S)

        r = await admin.post(f"/webhooks/{webhook_id}/deliveries/{delivered['id']}/redeliver",
                             data={"csrf": admin.csrf})
        assert r.status_code == 303
        assert f"Delivery {delivered['id']} is queued again" in (await admin.get(r.headers["location"])).text
        await until(lambda: len(receiver.got) >= 2, "the redelivery reaches the receiver")
        assert orjson.loads(receiver.got[1][1])["id"] == event["id"]  # the same event: receivers de-duplicate
        r = await admin.post(f"/webhooks/{webhook_id}/deliveries/999999/redeliver", data={"csrf": admin.csrf})
        assert r.status_code == 404


async def _first_with(api, webhook_id: int, status: str) -> dict | None:
    rows = await _deliveries(api, webhook_id)
    return rows[0] if rows and rows[0]["status"] == status and rows[0]["attempts"] else None


async def test_a_failing_receiver_shows_its_code(hook_server):
    async with Receiver(codes=(500,)).running() as receiver, logged_in(hook_server, "operator") as op, \
            hook_server.api() as api:
        webhook_id = _webhook_id(await _create(op, receiver.url))
        assert (await op.post(f"/webhooks/{webhook_id}/test", data={"csrf": op.csrf})).status_code == 303
        tried = await until(lambda: _first_with(api, webhook_id, "pending"), "the first attempt answered 500")
        page = (await op.get(f"/webhooks/{webhook_id}", params={"status": "pending"})).text
        row = re.search(rf'<tr id="delivery-{tried["id"]}">.*?</tr>', page, re.S).group(0)
        assert ">pending<" in row and "<td>500</td>" in row and "<td>1</td>" in row
        assert "Redeliver" not in row  # it is queued already
        assert "No deliveries match" in (await op.get(f"/webhooks/{webhook_id}", params={"status": "failed"})).text
        assert (await op.get(f"/webhooks/{webhook_id}", params={"status": "lost"})).status_code == 422


async def test_operators_only_and_every_form_needs_its_token(hook_server):
    async with logged_in(hook_server, "admin") as admin:
        webhook_id = _webhook_id(await _create(admin, "http://127.0.0.1:9/hook"))
        assert (await admin.post("/webhooks", data={"url": "http://127.0.0.1:9/x", "events": "*"})).status_code == 403
        for action in ("rotate-secret", "test", "delete", "pause"):
            r = await admin.post(f"/webhooks/{webhook_id}/{action}", data={"csrf": "wrong"})
            assert r.status_code == 403, action
        assert (await admin.get(f"/webhooks/{webhook_id}")).status_code == 200  # still there
    async with logged_in(hook_server, "viewer") as viewer:
        assert 'href="/webhooks"' not in (await viewer.get("/")).text
        assert (await viewer.get("/webhooks")).status_code == 403
        assert (await viewer.get(f"/webhooks/{webhook_id}")).status_code == 403
        r = await viewer.post(f"/webhooks/{webhook_id}/delete", data={"csrf": viewer.csrf})
        assert r.status_code == 403
        r = await viewer.post("/webhooks", data={"csrf": viewer.csrf, "url": "http://127.0.0.1:9/x", "events": "*"})
        assert r.status_code == 403
    async with httpx.AsyncClient(base_url=hook_server.http_url, timeout=READY_BOUND_S) as anonymous:
        r = await anonymous.get("/webhooks")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


pytest.importorskip("playwright.async_api", reason="playwright is not installed")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")
async def test_the_pages_in_a_browser(hook_server):
    async with Receiver().running() as receiver, logged_in(hook_server, "operator") as client:
        cookies = client.cookies
        async with browser_page(hook_server.http_url, cookies) as (page, violations):
            await page.goto(f"{hook_server.http_url}/webhooks")
            form = page.locator("#new")
            await form.get_by_label("URL").fill(receiver.url)
            await form.get_by_label("Description").fill("billing system")
            await form.locator('input[name=events][value="session.started"]').check()
            await form.locator('input[name=events][value="session.ended"]').check()
            await form.locator('input[name=events][value="cdr.created"]').check()
            await page.get_by_role("button", name="Create webhook").click()
            await page.locator("#secret").wait_for()
            assert (await page.locator("#secret").inner_text()).startswith("whsec_")
            await page.get_by_role("button", name="Send test ping").click()
            await page.locator(".saved").wait_for()
            await until(lambda: receiver.got, "the ping reaches the receiver")

            async def shown():
                await page.reload()
                return "delivered" in await page.locator("#deliveries tbody").inner_text()
            await until(shown, "the page shows the ping delivered", interval=0.5)
            await page.screenshot(path=os.path.join(SCREENSHOTS, "webhooks.png"), full_page=True)
            await page.goto(f"{hook_server.http_url}/webhooks")
            assert "billing system" in await page.locator("#subscriptions").inner_text()
            assert violations == []
