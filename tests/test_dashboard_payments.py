"""The dashboard's payment pages over real HTTP: a driver pays by card at a raw OCPP 1.6 station,
charges and stops; the operator finds the captured payment, reads its history and refunds it in
part and then the rest (the refund form: operator role, CSRF, confirmation, errors on the page);
payment products created, edited and deleted with the form; the pages in Chromium under their CSP."""

import os

import re

import pytest

from dashboard_kit import CHROMIUM, SCREENSHOTS, browser_page, logged_in
from fixture_failures import started_once
from ocpp_client import station
from payment_kit import pay, priced_evse, serve, wait_for_state
from test_payments import answer_stop, meter, online, start_charging


@pytest.fixture(scope="module")
def payment_server(request, tmp_path_factory):
    yield from started_once(request, serve(tmp_path_factory.mktemp("dashboard-payments")))


async def captured_payment(server) -> dict:
    """A payment a driver made, charged with and stopped: captured. Its operator API view."""
    async with server.api() as api:
        place = await priced_evse(api)
        async with station(server.ws_url, place["cp_id"]) as st:
            await online(st)
            r = await pay(api, place["evse_id"], place["products"][0])
            assert r.status_code == 201, r.text
            handle = r.json()["session_id"]
            _, tx = await start_charging(st)
            await meter(st, tx, 1200)
            await wait_for_state(api, handle, "charging")
            await api.post(f"/driver/api/v1/payments/{handle}/stop")
            await answer_stop(st, tx, 2500)
            await wait_for_state(api, handle, "captured")
        listed = (await api.get("/api/v1/payments", params={"charge_point_id": place["cp_id"]})).json()["data"]
        return {**listed[0], "place": place}


async def test_a_captured_payment_is_shown_and_refunded(payment_server):
    payment = await captured_payment(payment_server)
    pid, captured = payment["id"], payment["amount_captured"]
    async with logged_in(payment_server, "operator") as client:
        listing = (await client.get("/payments", params={"state": "captured"})).text
        assert f'href="/payments/{pid}"' in listing and payment["place"]["cp_id"] in listing
        assert f'href="/payments/{pid}"' not in (await client.get("/payments", params={"state": "declined"})).text
        assert (await client.get("/payments", params={"state": "lost"})).status_code == 422
        # The live part, as dashboard.js fetches it when sessions change.
        rows = await client.get("/payments", params={"state": "captured", "fragment": "rows"},
                                headers={"X-Fragment": "1"})
        assert rows.status_code == 200 and f'href="/payments/{pid}"' in rows.text and "<html" not in rows.text

        page = (await client.get(f"/payments/{pid}")).text
        for state in ("created", "authorized", "starting", "charging", "stopping", "finished", "captured"):
            assert f'class="state {state}"' in page
        assert "Up to 30 min" in page and "•••• 4242" in page and 'action="/payments/%d/refund"' % pid in page
        assert "data-confirm" in page

        # More than was captured: refused, the reason on the page and the amount kept.
        r = await client.post(f"/payments/{pid}/refund", data={"csrf": client.csrf, "amount": "1000"})
        assert r.status_code == 422 and f"at most {captured}" in r.text and 'value="1000"' in r.text
        r = await client.post(f"/payments/{pid}/refund", data={"csrf": client.csrf, "amount": "abc"})
        assert r.status_code == 422 and "valid decimal" in r.text
        form_key = re.search(r'name="refund_key" value="([^"]+)"', page).group(1)
        for _ in range(2):  # the same form sent twice (a double click, a resend): one refund
            r = await client.post(f"/payments/{pid}/refund", data={"csrf": client.csrf, "amount": "0.5",
                                                                   "reason": "goodwill", "refund_key": form_key})
            assert r.status_code == 303 and r.headers["location"] == f"/payments/{pid}?refunded=1#history"
        async with payment_server.api() as api:
            after = (await api.get(f"/api/v1/payments/{pid}")).json()
            assert after["amount_refunded"] == 0.5 and after["state"] == "captured"
            assert after["events"][-1]["data"] == {"amount": "0.5", "reason": "goodwill",
                                                   "key": f"dashboard:{form_key}"}
        page = (await client.get(f"/payments/{pid}")).text
        assert "goodwill" in page and "Refunded." not in page
        # The rest (no amount: all that is left); then there is nothing to refund.
        r = await client.post(f"/payments/{pid}/refund", data={"csrf": client.csrf, "amount": ""})
        assert r.status_code == 303
        page = (await client.get(f"/payments/{pid}?refunded=1")).text
        assert 'class="state refunded" id="state"' in page and "Refunded." in page
        assert 'action="/payments/%d/refund"' % pid not in page
        r = await client.post(f"/payments/{pid}/refund", data={"csrf": client.csrf})
        assert r.status_code == 409 and "nothing is left to refund" in r.text
    async with payment_server.api() as api:
        assert (await api.get(f"/api/v1/payments/{pid}")).json()["amount_refunded"] == captured


async def test_only_an_operator_with_the_token_refunds(payment_server):
    payment = await captured_payment(payment_server)
    pid = payment["id"]
    async with logged_in(payment_server, "viewer") as viewer:
        page = (await viewer.get(f"/payments/{pid}")).text
        assert "History" in page and f'action="/payments/{pid}/refund"' not in page
        r = await viewer.post(f"/payments/{pid}/refund", data={"csrf": viewer.csrf})
        assert r.status_code == 403 and "operator role" in r.text
    async with logged_in(payment_server, "operator") as client:
        r = await client.post(f"/payments/{pid}/refund", data={"amount": "0.1"})
        assert r.status_code == 403 and "security token" in r.text
        assert (await client.get("/payments/99999999")).status_code == 404
    async with payment_server.api() as api:
        assert (await api.get(f"/api/v1/payments/{pid}")).json()["amount_refunded"] == 0


async def test_payment_products_per_evse(payment_server):
    async with payment_server.api() as api:
        place = await priced_evse(api)
        async with logged_in(payment_server, "operator") as client:
            evse = str(place["evse_pk"])
            page = (await client.get("/payments/products", params={"evse_id": evse})).text
            assert "Up to 30 min" in page
            r = await client.post("/payments/products", data={"csrf": client.csrf, "name": "Up to 20 kWh",
                                                             "blocking_value": "1.234", "evse_id": evse})
            assert r.status_code == 422 and 'value="1.234"' in r.text and "decimal" in r.text.lower()
            r = await client.post("/payments/products", data={"csrf": client.csrf, "name": "Up to 20 kWh",
                                                             "blocking_value": "40", "max_energy_kwh": "20",
                                                             "evse_id": evse, "position": "1", "active": "true"})
            assert r.status_code == 303, r.text
            product_id = int(r.headers["location"].rsplit("/", 1)[1])
            made = (await api.get(f"/api/v1/payment-products/{product_id}")).json()
            assert made["max_energy_kwh"] == 20 and made["blocking_value"] == 40 and made["evse_id"] == place["evse_pk"]
            assert "20.00 kWh" in (await client.get("/payments/products", params={"evse_id": evse})).text

            r = await client.post(f"/payments/products/{product_id}", data={
                "csrf": client.csrf, "name": "Up to 15 kWh", "blocking_value": "35.5", "max_energy_kwh": "15",
                "evse_id": evse, "position": "2"})  # the box unticked: no longer offered
            assert r.status_code == 303
            saved = (await api.get(f"/api/v1/payment-products/{product_id}")).json()
            assert saved["name"] == "Up to 15 kWh" and saved["blocking_value"] == 35.5 and saved["active"] is False
            r = await client.post(f"/payments/products/{product_id}", data={
                "csrf": client.csrf, "name": "", "blocking_value": "35.5"})
            assert r.status_code == 303  # an empty name leaves it
            r = await client.post(f"/payments/products/{product_id}", data={
                "csrf": client.csrf, "name": "x", "blocking_value": "5", "evse_id": evse, "location_id": "1"})
            assert r.status_code == 422
            r = await client.post(f"/payments/products/{product_id}/delete", data={"csrf": client.csrf})
            assert r.status_code == 303
            assert (await api.get(f"/api/v1/payment-products/{product_id}")).status_code == 404
        async with logged_in(payment_server, "viewer") as viewer:
            assert "New product" not in (await viewer.get("/payments/products")).text
            r = await viewer.post("/payments/products", data={"csrf": viewer.csrf, "name": "x", "blocking_value": "1"})
            assert r.status_code == 403


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")
async def test_the_refund_in_a_browser(payment_server):
    payment = await captured_payment(payment_server)
    async with logged_in(payment_server, "operator") as client:
        cookies = dict(client.cookies)
    async with browser_page(payment_server.http_url, cookies) as (page, violations):
        await page.goto(f"{payment_server.http_url}/payments")
        await page.get_by_role("link", name=str(payment["id"]), exact=True).click()
        await page.get_by_label("Reason").fill("charger fault")
        dialogs: list[str] = []

        async def accept(dialog):
            dialogs.append(dialog.message)
            await dialog.accept()
        page.once("dialog", accept)
        await page.get_by_role("button", name="Refund").click()
        await page.locator(".saved").wait_for()
        assert dialogs and "Refund this payment?" in dialogs[0]
        assert await page.locator("#state").inner_text() == "refunded"
        assert "charger fault" in await page.locator("#history").inner_text()
        await page.screenshot(path=os.path.join(SCREENSHOTS, "payment.png"), full_page=True)
        assert violations == []
