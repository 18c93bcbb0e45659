"""The circuit pages in Chromium (Debian's, driven by Playwright), as an operator uses them: create
a circuit with the form, place a station on it from the station page's select, follow the link to
the circuit and watch the station's session appear in its allocation without reloading. Under the
pages' Content-Security-Policy; screenshots of the circuit and the list land in docs/screenshots/."""

import asyncio
import os

import pytest

from conftest import READY_BOUND_S, unique
from dashboard_kit import CHROMIUM, SCREENSHOTS, browser_page, logged_in
from ocpp_client import station
from test_dashboard_circuits import answer_the_controller, iso

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (pip: playwright)")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")
expect = playwright_api.expect


async def test_an_operator_creates_a_circuit_places_a_station_and_sees_it_charge_there(sqlite_server):
    server, name = sqlite_server, unique("Depot grid")
    cp, tag = await server.add_station(name="Bay 1"), await server.add_tag()
    async with logged_in(server, "operator") as client:
        cookies = dict(client.cookies)
    async with browser_page(server.http_url, cookies) as (page, violations), station(server.ws_url, cp) as st:
        expect.set_options(timeout=READY_BOUND_S * 1000)
        answering = asyncio.create_task(answer_the_controller(st))
        try:
            await st.boot()
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})

            await page.goto(f"{server.http_url}/circuits")
            await page.get_by_label("Name").fill(name)
            await page.get_by_label("Max current per phase, A").fill("100")
            await page.get_by_label("Fixed unmanaged load per phase, A").fill("30")
            await page.get_by_role("button", name="Add circuit").click()
            await expect(page.locator("h1")).to_have_text(name)
            circuit_id = page.url.rsplit("/", 1)[1]

            await page.goto(f"{server.http_url}/stations/{cp}")
            await page.get_by_label("Circuit").select_option(label=f"{name} (#{circuit_id}, 100 A)")
            await page.get_by_role("button", name="Place on circuit").click()
            await expect(page.locator("#placed-on")).to_have_text(name)
            await page.locator("#placed-on").click()
            await expect(page.locator("h1")).to_have_text(name)
            await expect(page.locator("#placed")).to_contain_text(cp)

            # The station starts charging: the allocation follows live, without a reload.
            await expect(page.locator("#allocation")).to_contain_text("No session charges on this circuit now.")
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": iso()}))["transactionId"]
            await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [{
                "timestamp": iso(), "sampledValue": [
                    {"value": "14", "measurand": "Current.Import", "unit": "A", "phase": phase}
                    for phase in ("L1", "L2", "L3")]}]})
            row = page.locator("#allocation tr.managed")
            await expect(row).to_contain_text(cp)
            await expect(row).to_contain_text("sent and accepted")
            await expect(page.locator("#phases")).to_contain_text("14 A")
            assert await page.locator("#phases svg.phase-bar").count() == 3
            await page.screenshot(path=os.path.join(SCREENSHOTS, "circuit.png"), full_page=True)

            await page.get_by_role("navigation", name="Main").get_by_role("link", name="Circuits").click()
            await expect(page.locator(f"#tree a:text-is('{name}')")).to_be_visible()
            await page.screenshot(path=os.path.join(SCREENSHOTS, "circuits.png"), full_page=True)
            assert violations == []
        finally:
            answering.cancel()
