"""The dashboard's OCPI pages over real HTTP: a partner created with the form (its token A shown
once, and working), a new token A, registering with an unreachable partner (the reason on the
page); a registered eMSP that refuses our location pushes: its status, endpoints and last push,
the failed push in the outbox, sent again with Retry; suspend and resume; roles and CSRF; the
pages in Chromium under their CSP."""

import asyncio
import os
import re
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from conftest import READY_BOUND_S, free_port, start_server, until
from dashboard_kit import CHROMIUM, SCREENSHOTS, browser_page, logged_in
from fixture_failures import started_once
from ocpi_peer import Peer, header, register


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ocpi_server(request, tmp_path_factory):
    """Retries at most 0.2 s apart: a refused push is given up (5 attempts) within a second or so."""
    yield from started_once(request, start_server(tmp_path_factory.mktemp(f"dashboard-ocpi-{request.param}"),
                                                  request.param, ocpi_retry_max="0.2"))


class RefusingPeer(Peer):
    """An eMSP that registers, then refuses every push with OCPI 2001 (retrying cannot help)."""

    def app(self) -> FastAPI:
        app = super().app()

        @app.middleware("http")
        async def refuse(request, call_next):
            if "/receiver/" in request.url.path:
                self.requests.append({"method": request.method, "path": request.url.path})
                return JSONResponse({"status_code": 2001, "status_message": "we do not take locations",
                                     "timestamp": "2026-01-01T00:00:00Z"}, 400)
            return await call_next(request)
        return app


@asynccontextmanager
async def refusing_peer():
    port = free_port()
    peer = RefusingPeer(url=f"http://127.0.0.1:{port}/emsp")
    outer = FastAPI()
    outer.mount("/emsp", peer.app())
    server = uvicorn.Server(uvicorn.Config(outer, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started or task.done(), "the eMSP peer starts")
    assert not task.done(), "the eMSP peer stopped before it started"
    try:
        yield peer
    finally:
        server.should_exit = True
        await task


def pushes(peer) -> int:
    return len([r for r in peer.requests if "/receiver/locations" in r["path"]])


async def test_a_partner_gets_its_token_a_once(ocpi_server):
    async with logged_in(ocpi_server, "operator") as client:
        r = await client.post("/partners", data={"csrf": client.csrf, "name": "Example eMSP", "country_code": "de",
                                                 "party_id": "exm"})
        assert r.status_code == 201
        token = re.search(r"Token A: <code>([^<]+)</code>", r.text).group(1)
        assert f"{ocpi_server.http_url}/ocpi/versions" in r.text and "shown only now" in r.text
        partner_id = re.search(r'action="/partners/([0-9a-f-]{36})/delete"', r.text).group(1)
        async with httpx.AsyncClient(base_url=ocpi_server.http_url, timeout=READY_BOUND_S) as ocpi:
            assert (await ocpi.get("/ocpi/versions", headers=header(token))).status_code == 200
            page = (await client.get(f"/partners/{partner_id}")).text
            assert token not in page and "waiting for the partner to register" in page and "DE*EXM" in page
            assert "Example eMSP" in (await client.get("/partners", params={"status": "pending"})).text
            assert "Example eMSP" not in (await client.get("/partners", params={"status": "registered"})).text

            # A new token A: the old one no longer opens anything.
            r = await client.post(f"/partners/{partner_id}/token-a", data={"csrf": client.csrf})
            fresh = re.search(r"Token A: <code>([^<]+)</code>", r.text).group(1)
            assert fresh != token
            assert (await ocpi.get("/ocpi/versions", headers=header(token))).status_code == 401
            assert (await ocpi.get("/ocpi/versions", headers=header(fresh))).status_code == 200

        # Registering with a partner nobody answers for: the reason, on the page.
        r = await client.post(f"/partners/{partner_id}/register", data={
            "csrf": client.csrf, "versions_url": f"http://127.0.0.1:{free_port()}/versions", "token": "their-a"})
        assert r.status_code == 502 and "unable to use the partner" in r.text
        r = await client.post(f"/partners/{partner_id}/register", data={
            "csrf": client.csrf, "versions_url": "not a url", "token": "their-a"})
        assert r.status_code == 422 and "URL" in r.text
        r = await client.post("/partners", data={"csrf": client.csrf, "name": "", "country_code": "DEU"})
        assert r.status_code == 422 and 'value="DEU"' in r.text

        r = await client.post(f"/partners/{partner_id}", data={"csrf": client.csrf, "name": "Renamed eMSP"})
        assert r.status_code == 303
        async with ocpi_server.api() as api:
            saved = (await api.get(f"/api/v1/ocpi/partners/{partner_id}")).json()
            assert saved["name"] == "Renamed eMSP" and saved["encode_token"] is False  # the box unticked
            r = await client.post(f"/partners/{partner_id}/suspend", data={"csrf": client.csrf})
            assert r.status_code == 409 and "only a registered partner" in r.text
            r = await client.post(f"/partners/{partner_id}/delete", data={"csrf": client.csrf})
            assert r.status_code == 303
            assert (await api.get(f"/api/v1/ocpi/partners/{partner_id}")).status_code == 404


async def test_a_refused_push_is_shown_failed_and_sent_again(ocpi_server):
    async with refusing_peer() as peer, ocpi_server.api() as api:
        partner = await register(ocpi_server, peer, api)
        r = await api.post("/api/v1/locations", json={"name": "Pushed depot", "country": "NL", "latitude": 52.1,
                                                      "longitude": 5.1, "time_zone": "Europe/Amsterdam"})
        cp_id = await ocpi_server.add_station(location_id=r.json()["id"])
        r = await api.post(f"/api/v1/charge-points/{cp_id}/evses", json={
            "number": 1, "evse_id": "NL*WAT*E1*1", "connectors": [{"number": 1, "standard": "IEC_62196_T2",
                                                                   "format": "SOCKET", "power_type": "AC_3_PHASE"}]})
        assert r.status_code == 201, r.text

        async def failed():
            rows = (await api.get("/api/v1/ocpi/outbox", params={"partner_id": partner["id"],
                                                                  "status": "failed"})).json()["data"]
            return rows
        rows = await until(failed, "the refused push is given up")
        row = rows[0]
        assert row["attempts"] == 5 and "2001" in row["last_error"]
        before = pushes(peer)

        async with logged_in(ocpi_server, "operator") as client:
            page = (await client.get(f"/partners/{partner['id']}")).text
            assert "registered: both sides hold their token" in page and "receiver/locations" in page
            assert "we do not take locations" in page and "failed</span>" in page
            listing = (await client.get("/partners")).text
            assert f'href="/partners/outbox?status=failed&amp;partner_id={partner["id"]}"' in listing
            outbox = (await client.get("/partners/outbox", params={"status": "failed"})).text
            assert f'action="/partners/outbox/{row["id"]}/retry"' in outbox

            r = await client.post(f"/partners/outbox/{row['id']}/retry", data={"csrf": client.csrf, "back": "partner"})
            assert r.status_code == 303 and r.headers["location"] == f"/partners/{partner['id']}#outbox"
            await until(lambda: pushes(peer) > before, "the push is sent again")

            # Suspended, nothing is pushed and its token is refused; resumed, it works again.
            r = await client.post(f"/partners/{partner['id']}/suspend", data={"csrf": client.csrf})
            assert r.status_code == 303
            assert 'class="state suspended"' in (await client.get(f"/partners/{partner['id']}")).text
            async with httpx.AsyncClient(base_url=ocpi_server.http_url, timeout=READY_BOUND_S) as ocpi:
                assert (await ocpi.get("/ocpi/versions", headers=header(peer.wattson_token))).status_code == 401
                await client.post(f"/partners/{partner['id']}/resume", data={"csrf": client.csrf})
                assert (await ocpi.get("/ocpi/versions", headers=header(peer.wattson_token))).status_code == 200
            r = await client.post("/partners/outbox/99999999/retry", data={"csrf": client.csrf})
            assert r.status_code == 404

        async with logged_in(ocpi_server, "viewer") as viewer:
            page = (await viewer.get(f"/partners/{partner['id']}")).text
            assert "Suspend" not in page and "/retry" not in page
            assert (await viewer.post(f"/partners/{partner['id']}/suspend", data={"csrf": viewer.csrf})).status_code == 403
            assert (await viewer.post(f"/partners/outbox/{row['id']}/retry",
                                      data={"csrf": viewer.csrf})).status_code == 403
        async with logged_in(ocpi_server, "operator") as client:
            assert (await client.post(f"/partners/{partner['id']}/suspend", data={})).status_code == 403
        assert (await api.get(f"/api/v1/ocpi/partners/{partner['id']}")).json()["status"] == "registered"

        await _browse(ocpi_server, partner["id"])


async def _browse(server, partner_id: str) -> None:
    """The partner and outbox pages in Chromium: no CSP violation; screenshots."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing")
    async with logged_in(server, "operator") as client:
        cookies = dict(client.cookies)
    async with browser_page(server.http_url, cookies) as (page, violations):
        await page.goto(f"{server.http_url}/partners")
        await page.get_by_role("link", name="Test eMSP").first.click()
        assert "registered" in await page.locator("h1").inner_text()
        await page.screenshot(path=os.path.join(SCREENSHOTS, "partner.png"), full_page=True)
        await page.goto(f"{server.http_url}/partners/outbox")
        assert await page.locator("tbody tr").count() >= 1
        assert violations == []
