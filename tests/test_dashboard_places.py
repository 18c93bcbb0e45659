"""The dashboard's location pages over real HTTP: locations created, edited and deleted with the
form (errors shown on it), their charge points and EVSEs, and an EVSE's printable sticker with
the QR code of its driver page; roles and CSRF; the pages in Chromium under their CSP."""

import os
import re
import uuid

import pytest

from conftest import unique
from dashboard_kit import CHROMIUM, SCREENSHOTS, browser_page, logged_in

FORM = {"name": "Depot North", "street": "Hafenstraße", "house_number": "12", "postal_code": "20457",
        "city": "Hamburg", "country": "de", "time_zone": "europe/berlin", "latitude": "53.5413",
        "longitude": "9.9846", "parking_type": "PARKING_LOT", "twentyfourseven": "true", "publish": "true"}


async def _station_with_evses(server, location_id: int) -> dict:
    cp_id = await server.add_station(location_id=location_id, name="Gate charger")
    evse_id = f"DE*WAT*E{uuid.uuid4().hex[:8].upper()}*1"
    async with server.api() as api:
        with_id = (await api.post(f"/api/v1/charge-points/{cp_id}/evses", json={
            "number": 1, "evse_id": evse_id, "max_power_w": 22000,
            "connectors": [{"number": 1, "standard": "IEC_62196_T2", "format": "SOCKET"}]})).json()
        without_id = (await api.post(f"/api/v1/charge-points/{cp_id}/evses", json={"number": 2})).json()
    return {"cp_id": cp_id, "evse_id": evse_id, "with_id": with_id["id"], "without_id": without_id["id"]}


async def test_a_location_is_created_shown_edited_and_deleted(server):
    async with logged_in(server, "operator") as client:
        r = await client.post("/locations", data={"csrf": client.csrf, **FORM})
        assert r.status_code == 303, r.text
        location_id = int(re.search(r"/locations/(\d+)$", r.headers["location"]).group(1))
        async with server.api() as api:
            saved = (await api.get(f"/api/v1/locations/{location_id}")).json()
            assert saved["country"] == "DEU" and saved["time_zone"] == "Europe/Berlin"
            assert saved["opening_hours"]["twentyfourseven"] is True and saved["latitude"] == 53.5413

            page = (await client.get(f"/locations/{location_id}")).text
            assert "Hafenstraße 12" in page and "Europe/Berlin" in page and "24/7" in page
            listing = (await client.get("/locations", params={"city": "hamburg", "country": "DE"})).text
            assert "Depot North" in listing
            assert "Depot North" not in (await client.get("/locations", params={"city": "Bremen"})).text

            # Bad input is said beside its field, the typed values kept.
            r = await client.post(f"/locations/{location_id}", data={
                "csrf": client.csrf, **FORM, "time_zone": "Mars/Olympus", "country": "XX"})
            assert r.status_code == 422
            assert "not an IANA time zone name" in r.text and 'value="Mars/Olympus"' in r.text
            r = await client.post(f"/locations/{location_id}", data={
                "csrf": client.csrf, **FORM, "longitude": ""})
            assert r.status_code == 422 and "latitude and longitude go together" in r.text

            # Clearing fields and the 24/7 box clears them.
            edit = {**FORM, "name": "Depot North (gate 2)", "street": "", "latitude": "", "longitude": "",
                    "twentyfourseven": "", "publish": ""}
            r = await client.post(f"/locations/{location_id}", data={"csrf": client.csrf, **edit})
            assert r.status_code == 303, r.text
            saved = (await api.get(f"/api/v1/locations/{location_id}")).json()
            assert saved["name"] == "Depot North (gate 2)" and saved["street"] is None and saved["latitude"] is None
            assert saved["opening_hours"] is None and saved["publish"] is False

            # With a charge point standing there, it cannot be deleted: the page says why.
            place = await _station_with_evses(server, location_id)
            page = (await client.get(f"/locations/{location_id}")).text
            assert place["cp_id"] in page and place["evse_id"] in page
            assert f"/locations/evses/{place['with_id']}/sticker" in page
            assert f"/locations/evses/{place['without_id']}/sticker" not in page
            r = await client.post(f"/locations/{location_id}/delete", data={"csrf": client.csrf})
            assert r.status_code == 409 and "still has 1 charge point" in r.text
            r = await api.patch(f"/api/v1/charge-points/{place['cp_id']}", json={"location_id": None})
            assert r.status_code == 200, r.text
            r = await client.post(f"/locations/{location_id}/delete", data={"csrf": client.csrf})
            assert r.status_code == 303
            assert (await api.get(f"/api/v1/locations/{location_id}")).status_code == 404


async def test_detailed_opening_hours_are_kept(server):
    hours = {"twentyfourseven": False,
             "regular_hours": [{"weekday": 1, "period_begin": "07:00", "period_end": "22:00"}]}
    async with server.api() as api:
        location = (await api.post("/api/v1/locations", json={"name": "Mall", "opening_hours": hours})).json()
        async with logged_in(server, "operator") as client:
            page = (await client.get(f"/locations/{location['id']}")).text
            assert "Mo 07:00–22:00" in page and "set in detail through the API" in page
            r = await client.post(f"/locations/{location['id']}", data={"csrf": client.csrf, "name": "Mall West",
                                                                     "time_zone": "UTC", "publish": "true"})
            assert r.status_code == 303
        saved = (await api.get(f"/api/v1/locations/{location['id']}")).json()
        assert saved["name"] == "Mall West" and saved["opening_hours"]["regular_hours"] == hours["regular_hours"]


async def test_the_sticker_has_the_evse_id_and_the_qr_code_of_the_driver_page(server):
    async with server.api() as api:
        location = (await api.post("/api/v1/locations", json={"name": "Harbour"})).json()
    place = await _station_with_evses(server, location["id"])
    async with logged_in(server, "viewer") as client:
        r = await client.get(f"/locations/evses/{place['with_id']}/sticker")
        assert r.status_code == 200
        assert place["evse_id"] in r.text and "<?xml" not in r.text
        assert re.search(r'<svg [^>]*viewBox="0 0 (\d+) \1"', r.text), "the QR code must scale, not be cut off"
        assert f"{server.http_url}/driver/{place['evse_id']}" in r.text
        assert "Gate charger" in r.text and "Harbour" in r.text
        r = await client.get(f"/locations/evses/{place['without_id']}/sticker")
        assert r.status_code == 409 and "has no EVSE ID" in r.text
        assert (await client.get("/locations/evses/99999999/sticker")).status_code == 404
    # The QR code encodes what the API's qr-code endpoint encodes.
    async with server.api() as api:
        r = await api.get(f"/api/v1/evses/{place['with_id']}/qr-code", params={"format": "svg"})
        assert r.headers["x-driver-url"] == f"{server.http_url}/driver/{place['evse_id']}"


async def test_a_viewer_cannot_change_locations_and_forms_need_the_token(server):
    async with server.api() as api:
        location = (await api.post("/api/v1/locations", json={"name": "Quay"})).json()
    async with logged_in(server, "viewer") as viewer:
        page = (await viewer.get(f"/locations/{location['id']}")).text
        assert "Quay" in page and "Delete location" not in page and "New location" not in (
            await viewer.get("/locations")).text
        r = await viewer.post(f"/locations/{location['id']}/delete", data={"csrf": viewer.csrf})
        assert r.status_code == 403
        r = await viewer.post("/locations", data={"csrf": viewer.csrf, **FORM})
        assert r.status_code == 403
    async with logged_in(server, "operator") as client:
        r = await client.post(f"/locations/{location['id']}/delete", data={})
        assert r.status_code == 403 and "security token" in r.text
        assert (await client.get("/locations", params={"country": "Narnia"})).status_code == 422
        r = await client.post("/locations", data={"csrf": client.csrf, "name": "", "time_zone": ""})
        assert r.status_code == 422 and "required" in r.text
    async with server.api() as api:
        assert (await api.get(f"/api/v1/locations/{location['id']}")).status_code == 200


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")
async def test_the_location_pages_in_a_browser(sqlite_server):
    async with logged_in(sqlite_server, "operator") as client:
        r = await client.post("/locations", data={"csrf": client.csrf, **FORM, "name": unique("Depot")})
        location_id = int(r.headers["location"].rsplit("/", 1)[1])
        cookies = dict(client.cookies)
    place = await _station_with_evses(sqlite_server, location_id)
    async with browser_page(sqlite_server.http_url, cookies) as (page, violations):
        await page.goto(f"{sqlite_server.http_url}/locations/{location_id}")
        await page.get_by_label("City").fill("Lübeck")
        await page.get_by_role("button", name="Save").click()
        await page.locator(".saved").wait_for()
        assert "Lübeck" in await page.locator(".facts").inner_text()
        await page.screenshot(path=os.path.join(SCREENSHOTS, "location.png"), full_page=True)
        await page.get_by_role("link", name="Print sticker").click()
        await page.locator(".sticker svg").wait_for()
        assert await page.locator(".sticker-id").inner_text() == place["evse_id"]
        await page.emulate_media(media="print")
        assert not await page.locator("header.top").is_visible()  # the print stylesheet
        box = await page.locator(".sticker-qr svg").bounding_box()
        assert box["width"] > 200 and box["width"] == pytest.approx(box["height"])  # square, scannable
        path = await page.locator(".sticker-qr svg path").bounding_box()
        assert path["x"] >= box["x"] and path["x"] + path["width"] <= box["x"] + box["width"] + 1  # whole
        await page.screenshot(path=os.path.join(SCREENSHOTS, "sticker.png"), full_page=True)
        assert violations == []
