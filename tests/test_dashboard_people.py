"""The dashboard's driver pages over real HTTP: drivers, tags (block, unblock), driver and charger
groups and the access rights between them; forms that create, edit and delete through the
services, their validation errors on the form, the roles and the CSRF token; and the pages in
Chromium under their Content-Security-Policy."""

import os
import re

import pytest

from conftest import unique
from dashboard_kit import CHROMIUM, SCREENSHOTS, browser_page, logged_in


def _id(location: str) -> int:
    return int(re.search(r"/(\d+)(?:[?#].*)?$", location).group(1))


async def test_drivers_and_their_tags(server):
    async with logged_in(server, "operator") as client:
        r = await client.post("/drivers/groups", data={"csrf": client.csrf, "name": "Staff"})
        assert r.status_code == 303
        group_id = _id(r.headers["location"])
        email = f"{unique('ada').lower()}@example.com"
        r = await client.post("/drivers", data={"csrf": client.csrf, "name": "Ada Lovelace", "email": email,
                                                "external_id": unique("EXT"), "home_group_id": str(group_id)})
        assert r.status_code == 303, r.text
        driver_id = _id(r.headers["location"])

        # A tag added on the driver's page belongs to the driver.
        uid = unique("TAG")
        r = await client.post("/drivers/tags", data={"csrf": client.csrf, "uid": uid, "type": "ISO14443",
                                                     "status": "Accepted", "visual_number": "FI-WAT-1",
                                                     "expires_at": "2030-01-01T00:00", "driver_id": str(driver_id),
                                                     "back": str(driver_id)})
        assert r.status_code == 303 and r.headers["location"] == f"/drivers/{driver_id}#tags"
        page = (await client.get(f"/drivers/{driver_id}")).text
        assert "Ada Lovelace" in page and uid in page and "Staff" in page and "FI-WAT-1" in page

        listing = (await client.get("/drivers", params={"email": email.upper()})).text
        assert "Ada Lovelace" in listing and uid in listing
        assert "Ada Lovelace" not in (await client.get("/drivers", params={"email": "nobody@example.com"})).text

        # Block it from the driver's page, and unblock it.
        async with server.api() as api:
            tag = (await api.get("/api/v1/id-tokens", params={"uid": uid})).json()["data"][0]
            assert tag["driver_id"] == driver_id and tag["expires_at"].startswith("2030-01-01T00:00")
            r = await client.post(f"/drivers/tags/{tag['id']}/block", data={"csrf": client.csrf, "back": "driver"})
            assert r.status_code == 303
            assert (await api.get(f"/api/v1/id-tokens/{tag['id']}")).json()["status"] == "Blocked"
            assert "Unblock" in (await client.get(f"/drivers/tags/{tag['id']}")).text
            await client.post(f"/drivers/tags/{tag['id']}/unblock", data={"csrf": client.csrf})
            assert (await api.get(f"/api/v1/id-tokens/{tag['id']}")).json()["status"] == "Accepted"

            # Edit the tag: a bad expiry is shown on the form, a good one saved; clearing clears.
            r = await client.post(f"/drivers/tags/{tag['id']}", data={
                "csrf": client.csrf, "uid": uid, "type": "ISO14443", "status": "Accepted",
                "valid_from": "2031-01-01T00:00", "expires_at": "2030-01-01T00:00", "driver_id": str(driver_id)})
            assert r.status_code == 422 and "must be after valid_from" in r.text and 'value="2031-01-01T00:00"' in r.text
            r = await client.post(f"/drivers/tags/{tag['id']}", data={
                "csrf": client.csrf, "uid": uid, "type": "KeyCode", "status": "Expired", "visual_number": "",
                "expires_at": "", "driver_id": str(driver_id), "invoicable": "true"})
            assert r.status_code == 303, r.text
            saved = (await api.get(f"/api/v1/id-tokens/{tag['id']}")).json()
            assert saved["type"] == "KeyCode" and saved["status"] == "Expired" and saved["invoicable"] is True
            assert saved["expires_at"] is None and saved["visual_number"] is None

            # The tags list filters by status.
            assert uid in (await client.get("/drivers/tags", params={"status": "Expired"})).text
            assert uid not in (await client.get("/drivers/tags", params={"status": "Blocked"})).text

            # Edit the driver: a bad email is said beside the field; then delete.
            r = await client.post(f"/drivers/{driver_id}", data={"csrf": client.csrf, "name": "Ada",
                                                                 "email": "not-an-email"})
            assert r.status_code == 422 and "not an email address" in r.text
            r = await client.post(f"/drivers/{driver_id}", data={"csrf": client.csrf, "name": "Ada King",
                                                                 "email": "", "home_group_id": ""})
            assert r.status_code == 303
            driver = (await api.get(f"/api/v1/drivers/{driver_id}")).json()
            assert driver["name"] == "Ada King" and driver["email"] is None and driver["home_group"] is None
            r = await client.post(f"/drivers/{driver_id}/delete", data={"csrf": client.csrf})
            assert r.status_code == 303
            assert (await api.get(f"/api/v1/drivers/{driver_id}")).status_code == 404
            assert (await client.get(f"/drivers/{driver_id}")).status_code == 404


async def test_a_form_with_bad_input_is_shown_again_with_the_reasons(server):
    async with logged_in(server, "operator") as client:
        r = await client.post("/drivers", data={"csrf": client.csrf, "name": "", "email": "x@"})
        assert r.status_code == 422
        assert "not an email address" in r.text and 'value="x@"' in r.text
        uid = await server.add_tag()
        r = await client.post("/drivers/tags", data={"csrf": client.csrf, "uid": uid, "type": "ISO14443",
                                                     "status": "Accepted"})
        assert r.status_code == 409 and "already exists" in r.text
        r = await client.post("/drivers/tags", data={"csrf": client.csrf, "uid": unique("T"), "type": "Telepathy",
                                                     "status": "Accepted"})
        assert r.status_code == 422 and "Input should be" in r.text
        r = await client.post("/drivers", data={"csrf": client.csrf, "name": "Bob", "home_group_id": "999999"})
        assert r.status_code == 422 and "no driver group 999999" in r.text
        assert (await client.get("/drivers", params={"cursor": "garbage!"})).status_code == 422
        r = await client.post("/drivers", data={"csrf": client.csrf, "name": "Nul\x00Byte"})
        assert r.status_code == 422 and "NUL" in r.text
        assert (await client.get("/drivers", params={"email": "a\x00@b.c"})).status_code == 422
        for path in ("/drivers", "/drivers/tags", "/drivers/groups", "/drivers/charger-groups", "/locations",
                     "/payments/products", "/partners", "/partners/outbox"):  # a block alone, as a script asks
            r = await client.get(path, params={"fragment": "main"})
            assert r.status_code == 200 and "<html" not in r.text, path


async def test_groups_and_access_rights(server):
    cp_id = await server.add_station()
    async with logged_in(server, "operator") as client:
        r = await client.post("/drivers/groups", data={"csrf": client.csrf, "name": "Night shift"})
        driver_group = _id(r.headers["location"])
        r = await client.post("/drivers/charger-groups", data={"csrf": client.csrf, "name": "Depot",
                                                               "external_id": "D-1"})
        assert r.status_code == 303
        charger_group = _id(r.headers["location"])
        r = await client.post(f"/drivers/charger-groups/{charger_group}/members",
                              data={"csrf": client.csrf, "charge_point_id": cp_id})
        assert r.status_code == 303
        r = await client.post(f"/drivers/charger-groups/{charger_group}/members",
                              data={"csrf": client.csrf, "charge_point_id": "NO-SUCH-CP"})
        assert r.status_code == 404 and "NO-SUCH-CP not found" in r.text

        r = await client.post("/drivers/rights", data={"csrf": client.csrf, "back": "driver",
                                                       "driver_group_id": str(driver_group),
                                                       "charger_group_id": str(charger_group)})
        assert r.status_code == 303 and r.headers["location"] == f"/drivers/groups/{driver_group}#rights"
        r = await client.post("/drivers/rights", data={"csrf": client.csrf, "back": "charger",
                                                       "driver_group_id": str(driver_group),
                                                       "charger_group_id": str(charger_group)})
        assert r.status_code == 409 and "already has a right" in r.text

        page = (await client.get(f"/drivers/charger-groups/{charger_group}")).text
        assert cp_id in page and "Night shift" in page

        # Who may charge there (seed 003): the night shift's driver, admitted by the Depot group.
        r = await client.post("/drivers", data={"csrf": client.csrf, "name": "Night Owl",
                                                "home_group_id": str(driver_group)})
        owl = _id(r.headers["location"])
        page = (await client.get("/drivers/authorized", params={"charge_point_id": cp_id})).text
        assert "<b>restricted</b>" in page and f'href="/drivers/{owl}"' in page
        assert f'href="/drivers/charger-groups/{charger_group}">Depot</a>' in page
        other_cp = await server.add_station()
        page = (await client.get("/drivers/authorized", params={"charge_point_id": other_cp})).text
        assert "<b>open</b>" in page and f'href="/drivers/{owl}"' in page
        r = await client.get("/drivers/authorized", params={"charge_point_id": "NO-SUCH-CP"})
        assert r.status_code == 404
        assert "Depot" in (await client.get(f"/drivers/groups/{driver_group}")).text
        assert "Depot" in (await client.get("/drivers/charger-groups")).text

        async with server.api() as api:
            rights = (await api.get("/api/v1/access-rights", params={"driver_group_id": driver_group})).json()["data"]
            assert [r["charger_group"]["id"] for r in rights] == [charger_group]
            r = await client.post(f"/drivers/rights/{rights[0]['id']}/delete",
                                  data={"csrf": client.csrf, "back": "charger"})
            assert r.status_code == 303 and r.headers["location"].startswith(f"/drivers/charger-groups/{charger_group}")
            assert (await api.get("/api/v1/access-rights", params={"driver_group_id": driver_group})).json()["data"] == []

            r = await client.post(f"/drivers/charger-groups/{charger_group}", data={
                "csrf": client.csrf, "name": "Depot West", "external_id": ""})
            assert r.status_code == 303
            group = (await api.get(f"/api/v1/charger-groups/{charger_group}")).json()
            assert group["name"] == "Depot West" and group["external_id"] is None and group["charge_point_ids"] == [cp_id]
            await client.post(f"/drivers/charger-groups/{charger_group}/members/remove",
                              data={"csrf": client.csrf, "charge_point_id": cp_id})
            assert (await api.get(f"/api/v1/charger-groups/{charger_group}")).json()["charge_point_ids"] == []
            await client.post(f"/drivers/groups/{driver_group}/delete", data={"csrf": client.csrf})
            assert (await api.get(f"/api/v1/driver-groups/{driver_group}")).status_code == 404


async def test_a_viewer_sees_but_cannot_change_and_forms_need_the_token(server):
    uid = await server.add_tag()
    async with server.api() as api:
        tag_id = (await api.get("/api/v1/id-tokens", params={"uid": uid})).json()["data"][0]["id"]
    async with logged_in(server, "viewer") as viewer:
        page = await viewer.get("/drivers/tags", params={"uid": uid})  # the shared server holds many tags
        assert page.status_code == 200 and uid in page.text and "New tag" not in page.text
        assert "Block" not in (await viewer.get(f"/drivers/tags/{tag_id}")).text
        r = await viewer.post(f"/drivers/tags/{tag_id}/block", data={"csrf": viewer.csrf})
        assert r.status_code == 403 and "operator role" in r.text
        r = await viewer.post("/drivers", data={"csrf": viewer.csrf, "name": "Eve"})
        assert r.status_code == 403
    async with logged_in(server, "operator") as client:
        r = await client.post(f"/drivers/tags/{tag_id}/block", data={"csrf": "stale"})
        assert r.status_code == 403 and "security token" in r.text
        r = await client.post("/drivers/groups", data={"name": "No token"})
        assert r.status_code == 403
    async with server.api() as api:
        assert (await api.get(f"/api/v1/id-tokens/{tag_id}")).json()["status"] == "Accepted"
        async with logged_in(server, "operator") as client:
            r = await client.post(f"/drivers/tags/{tag_id}/delete", data={"csrf": client.csrf})
            assert r.status_code == 303 and r.headers["location"] == "/drivers/tags"
        assert (await api.get(f"/api/v1/id-tokens/{tag_id}")).status_code == 404


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")
async def test_the_driver_pages_in_a_browser(sqlite_server):
    async with logged_in(sqlite_server, "operator") as client:
        r = await client.post("/drivers/groups", data={"csrf": client.csrf, "name": "Fleet"})
        group_id = _id(r.headers["location"])
        r = await client.post("/drivers", data={"csrf": client.csrf, "name": "Grace Hopper",
                                                "email": f"{unique('g').lower()}@example.com",
                                                "home_group_id": str(group_id)})
        driver_id = _id(r.headers["location"])
        cookies = dict(client.cookies)
    async with browser_page(sqlite_server.http_url, cookies) as (page, violations):
        await page.goto(f"{sqlite_server.http_url}/drivers/{driver_id}")
        assert await page.locator("h1").inner_text() == "Grace Hopper"
        await page.locator("summary", has_text="Add a tag").click()
        uid = unique("B")
        await page.get_by_label("UID").fill(uid)
        await page.get_by_role("button", name="Add tag").click()
        await page.locator(f"text={uid}").first.wait_for()
        page.once("dialog", lambda dialog: dialog.accept())  # data-confirm asks first
        await page.get_by_role("button", name="Block").first.click()
        await page.get_by_role("button", name="Unblock").first.wait_for()
        await page.screenshot(path=os.path.join(SCREENSHOTS, "drivers.png"), full_page=True)
        await page.goto(f"{sqlite_server.http_url}/drivers/groups/{group_id}")
        assert "Grace Hopper" in await page.locator("#members").inner_text()
        assert violations == []
