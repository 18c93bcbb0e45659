"""The dashboard in a real browser (Debian's Chromium, driven by Playwright), as an operator uses
it: log in, watch a simulated station come online without reloading, start a session with a
button, watch its chart grow, stop it, open the receipt; a viewer sees no command buttons. The
pages run under their Content-Security-Policy; screenshots land in docs/screenshots/."""

import os
import re

import pytest
import websockets

from conftest import READY_BOUND_S, unique
from dashboard_kit import ARGS, CHROMIUM, PASSWORD, SCREENSHOTS, create_operator
from payment_kit import AD_HOC_TARIFF, priced_evse, serve
from wattson.sim.station import SimStation, StationConfig

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (pip: playwright)")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
expect = playwright_api.expect


@pytest.fixture
def dash(tmp_path):
    yield from serve(tmp_path)


async def _browser_page(browser, violations: list[str]):
    """A page of its own context (cookies: a login of its own)."""
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(READY_BOUND_S * 1000)
    expect.set_options(timeout=READY_BOUND_S * 1000)
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of command buttons
    return page


async def _log_in(page, base: str, email: str) -> None:
    await page.goto(f"{base}/")
    await expect(page).to_have_url(f"{base}/login?next=/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("h1")).to_have_text("Overview")


async def shoot(page, name: str) -> None:
    os.makedirs(SCREENSHOTS, exist_ok=True)
    await page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def points(polyline: str | None) -> int:
    return len((polyline or "").split())


async def test_an_operator_watches_a_station_come_online_charges_stops_and_opens_the_receipt(dash):
    async with dash.api() as api:
        place = await priced_evse(api)  # a location, an EVSE with its EVSE ID, an ad hoc tariff
        tariff = {**AD_HOC_TARIFF, "id": unique("T"), "type": "REGULAR"}  # and one for tag sessions
        assert (await api.post("/api/v1/tariffs", json=tariff)).status_code == 201
        assert (await api.post("/api/v1/tariff-assignments", json={
            "tariff_id": tariff["id"], "charge_point_id": place["cp_id"]})).status_code == 201
    tag = await dash.add_tag()
    admin, viewer = create_operator(dash, "admin"), create_operator(dash, "viewer")
    base, cp = dash.http_url, place["cp_id"]
    config = StationConfig(station_id=cp, url=dash.ws_url, ocpp="1.6", connectors=1, id_tags=[],
                           meter_interval=1.0, seed=3)
    violations: list[str] = []
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await _browser_page(browser, violations)
            await page.goto(f"{base}/login")
            await shoot(page, "login")
            await _log_in(page, base, admin)

            await page.get_by_role("link", name="Stations", exact=True).click()
            row = page.locator(f"tr[data-station='{cp}']")
            await expect(row.locator(".net")).to_have_text("never connected")
            async with SimStation(config) as sim:
                # Online without a reload: the live stream tells the page, which re-fetches the rows.
                await expect(row.locator(".net")).to_have_text("online")
                await expect(row).to_contain_text("Available")
                await shoot(page, "stations")
                await row.get_by_role("link", name=cp).click()

                await page.locator("summary", has_text="Start a session").click()
                start = page.locator(f"form[action='/stations/{cp}/commands/remote-start']")
                await start.get_by_label("Id tag").fill(tag)
                await start.get_by_label("EVSE").fill("1")
                await start.get_by_role("button", name="Start a session").click()
                await expect(page.locator("#commands")).to_contain_text("remote-start")
                await expect(page.locator("#commands")).to_contain_text("Accepted")
                await sim.wait_until(lambda: sim.status(1) == "Charging", timeout=READY_BOUND_S)
                session_link = page.locator("section", has_text="Sessions").locator("tbody a").first
                await expect(session_link).to_be_visible()
                await expect(page.locator("#ocpp-log")).to_contain_text("RemoteStartTransaction")
                await shoot(page, "station")

                await page.get_by_role("link", name="Sessions", exact=True).click()
                session_link = page.locator("table.sessions a[href^='/sessions/']").first
                await expect(session_link).to_be_visible()
                await shoot(page, "sessions")
                await session_link.click()
                await expect(page.locator("#session-status")).to_have_text("active")
                power = page.locator("#curves polyline").first
                await expect(power).to_be_attached()
                first = points(await power.get_attribute("points"))
                # The chart grows as meter values arrive, without a reload.
                await expect(power).not_to_have_attribute("points", await power.get_attribute("points"))
                grown = points(await page.locator("#curves polyline").first.get_attribute("points"))
                assert grown > first
                await shoot(page, "session")

                await page.get_by_role("button", name="Stop the session").click()
                await expect(page.locator("#session-status")).to_have_text("finished")
                total = await page.locator("#total").inner_text()
                receipt = page.locator("#receipt")
                await expect(receipt).to_be_visible()  # the CDR arrives with a live refresh
                await receipt.click()
                await expect(page).to_have_url(re.compile(r"/sessions/\d+/receipt$"))
                await expect(page.locator("body")).to_contain_text(place["evse_id"])
                await expect(page.locator("body")).to_contain_text(total)
                await shoot(page, "receipt")

                await page.goto(f"{base}/")
                await expect(page.locator("#online")).to_have_text("1")
                await shoot(page, "overview")
                with pytest.raises(websockets.InvalidStatus):  # an installer's typo in the station's URL
                    async with websockets.connect(f"{dash.ws_url}/{cp.lower()}", subprotocols=["ocpp1.6"]):
                        pass
                await page.goto(f"{base}/diagnostics")
                await expect(page.locator("#unknown")).to_contain_text(cp.lower())
                await shoot(page, "diagnostics")

            # A viewer sees the station, not its command buttons.
            viewer_page = await _browser_page(browser, violations)
            await _log_in(viewer_page, base, viewer)
            await viewer_page.goto(f"{base}/stations/{cp}")
            await expect(viewer_page.locator("h1")).to_contain_text(cp)
            assert await viewer_page.get_by_text("Start a session").count() == 0
            assert await viewer_page.locator("#actions").count() == 0
        finally:
            await browser.close()
    assert violations == [], violations
