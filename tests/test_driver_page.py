"""The driver page in a real browser: headless Chromium (Debian's `chromium` package) driven by
Playwright opens /driver/{EVSE ID} as a QR code would, picks a product, pays with a sandbox card,
watches a simulated station charge, stops, and sees the receipt; the amount captured is the CDR's
total incl. VAT and the rest of the hold is released. After the stop the page tells the share of
the product really used, says the charging finished (no "Stopping…" left behind), and the receipt
fits a phone's width."""

import asyncio
import os
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from conftest import READY_BOUND_S
from payment_kit import priced_evse, serve, wait_for_state
from wattson.web.money import money
from wattson.sim.station import SimStation, StationConfig

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (pip: playwright)")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")


@pytest.fixture
def page_server(tmp_path):
    yield from serve(tmp_path)


def amount(text: str) -> float:
    """A money amount as the page shows it (e.g. "CZK 1.23" or "1,23 Kč")."""
    digits = re.sub(r"[^\d,.]", "", text).replace(",", ".")
    return float(digits.strip("."))


def share(payment: dict, hold: int, max_kwh: int) -> int:
    """How much of an energy product a settled payment used, in percent: the more of its money and
    its energy, rounded half up."""
    used = max(Decimal(str(payment["amount_captured"])) / hold, Decimal(str(payment["energy_kwh"])) / max_kwh)
    return min(100, int((used * 100).to_integral_value(ROUND_HALF_UP)))


async def until(locator, predicate, timeout: float = READY_BOUND_S) -> str:
    """Poll ``locator``'s text until ``predicate`` holds (generous bound: a loaded machine)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        text = await locator.inner_text()
        if predicate(text):
            return text
        assert asyncio.get_running_loop().time() < deadline, f"never reached: {text!r}"
        await asyncio.sleep(0.2)


async def test_a_driver_pays_charges_stops_and_gets_the_receipt(page_server):
    async with page_server.api() as api:
        place = await priced_evse(api, products=(
            {"name": "Up to 30 min", "blocking_value": 50, "max_duration_min": 30},
            {"name": "Up to 20 kWh", "blocking_value": 80, "max_energy_kwh": 20}))
        config = StationConfig(station_id=place["cp_id"], url=page_server.ws_url, ocpp="1.6", connectors=1,
                               id_tags=[], meter_interval=1.0, session_duration=(600, 600), seed=7)
        async with SimStation(config) as sim:
            await sim.wait_until(lambda: sim.accepted.is_set() and sim.status(1) == "Available",
                                 timeout=READY_BOUND_S)
            czech = await api.get(f"/driver/{place['evse_id']}?lang=cs")  # payable: the card form's hint
            hint = re.search(r"<p class='hint'>(.*?)</p>", czech.text).group(1)
            assert hint.startswith("Sandbox: jen testovací karty") and "(schválena)" in hint
            assert "(zamítnuta)" in hint and "(ověření selže)" in hint and "authorised" not in hint
            async with playwright_api.async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                try:
                    page = await browser.new_page(locale="en-GB")
                    page.set_default_timeout(READY_BOUND_S * 1000)  # every wait for an element (ms)
                    # The pages run under their Content-Security-Policy: nothing may be blocked.
                    violations: list[str] = []
                    page.on("console", lambda m: violations.append(m.text)
                            if "Content Security Policy" in m.text else None)
                    await page.goto(f"{page_server.http_url}/driver/{place['evse_id']}")
                    assert "content-security-policy" in (await page.request.get(page.url)).headers
                    assert await page.locator("h1").inner_text() == "Garage 1"
                    assert "Available" in await page.locator("#state").inner_text()
                    assert await page.locator(".product").count() == 2
                    await page.get_by_label("Up to 20 kWh").check()
                    await page.get_by_label("Card number").fill("4242 4242 4242 4242")
                    await page.get_by_label("Expiry (MM/YY)").fill("12/34")
                    await page.get_by_label("CVC").fill("123")
                    await page.get_by_role("button", name="Pay and start charging").click()

                    await page.locator("#progress").wait_for(state="visible")
                    # Locators, not wait_for_function: that evaluates its string in the page, which the
                    # page's CSP (no 'unsafe-eval') rightly forbids.
                    await playwright_api.expect(page.locator("#status")).to_have_text("Charging",
                                                                                      timeout=READY_BOUND_S * 1000)
                    await until(page.locator("#energy"), lambda text: re.search(r"\d", text) and amount(text) > 0)
                    session_id = re.search(r"session=(\w+)", page.url).group(1)
                    await page.get_by_role("button", name="Stop charging").click()
                    await page.locator("#done").wait_for(state="visible")
                    captured_text = await page.locator("#captured").inner_text()
                    captured = amount(captured_text)
                    released = amount(await page.locator("#released").inner_text())
                    assert await page.locator("#status").inner_text() == "Charging finished"
                    percent_shown = await page.locator("#percent-text").inner_text()

                    receipt_href = await page.locator("#receipt").get_attribute("href")
                    await page.set_viewport_size({"width": 360, "height": 740})  # a small phone
                    await page.goto(page_server.http_url + receipt_href)
                    assert "Charging receipt" in await page.content()
                    assert await page.locator("#payment").is_visible()
                    for table in await page.locator("table").all():
                        box = await table.bounding_box()
                        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
                    assert await page.locator("#lines td[data-label='Incl. VAT']").first.is_visible()
                    assert violations == []
                finally:
                    await browser.close()

        payment = await wait_for_state(api, session_id, "captured")
        sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": place["cp_id"]})).json()["data"]
        cdr = (await api.get("/api/v1/cdrs", params={"session_id": sessions[0]["id"]})).json()["data"][0]
        assert payment["amount_captured"] == cdr["total_incl_vat"] == captured > 0
        assert payment["amount_released"] == pytest.approx(80 - captured) == pytest.approx(released)
        assert payment["product"]["name"] == "Up to 20 kWh" and payment["stop_reason"] == "driver"
        assert captured_text == money(payment["amount_captured"], "CZK", "en")  # one way of writing money
        assert percent_shown == f"{share(payment, 80, 20)} %" != "100 %"


async def test_the_page_speaks_czech_and_says_when_it_cannot_take_a_payment(page_server):
    async with page_server.api() as api:
        place = await priced_evse(api)
        r = await api.get(f"/driver/{place['evse_id']}", headers={"Accept-Language": "cs-CZ,cs;q=0.9"})
        assert r.status_code == 200 and 'lang="cs"' in r.text and "Offline" in r.text
        assert "Tuto nabíječku teď nelze spustit platbou kartou." in r.text
        assert "Nádražní" in r.text and money(5.75, "CZK", "cs") in r.text  # prices before the start (AFIR)
        assert money(5.75, "CZK", "cs") == "5,75\u00a0Kč"
        r = await api.get(f"/driver/{place['evse_id']}?lang=en")
        assert 'lang="en"' in r.text and "cannot be started" in r.text
        r = await api.get("/driver/XX-NOT-A-CODE")
        assert r.status_code == 404 and "No charger has the code XX-NOT-A-CODE" in r.text
        r = await api.get("/driver/XX-NOT-A-CODE", headers={"Accept-Language": "cs"})
        assert r.status_code == 404 and 'lang="cs"' in r.text
        assert "Nabíječka s kódem XX-NOT-A-CODE neexistuje" in r.text
        js = await api.get("/driver/static/driver.js")
        assert js.status_code == 200 and "by_code" in js.text
        await asyncio.sleep(0)
