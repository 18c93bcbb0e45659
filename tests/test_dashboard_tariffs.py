"""The dashboard's tariff pages over real HTTP: the list (cursor pages), a tariff with its
elements, the price estimate (the same price as the API's estimate) and its assignments; the
editor builds and edits the OCPI tariff with buttons that add and remove elements and components
(no script), is checked by the API's schema (the message next to the field, what was typed
kept), and the API then serves what was saved. Roles and CSRF on every change. In Chromium: the
editor and the live estimate under the page's Content-Security-Policy."""

import os
import re

import pytest
from playwright.async_api import expect

from conftest import READY_BOUND_S, unique
from dashboard_kit import CHROMIUM, SCREENSHOTS, browser_page, logged_in
from wattson.dashboard import tariff_form

TARIFF = {"currency": "EUR", "type": "REGULAR",
          "tariff_alt_text": [{"language": "en", "text": "0.30 EUR/kWh at night, 0.40 by day"}],
          "elements": [
              {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 21, "step_size": 1}],
               "restrictions": {"start_time": "22:00", "end_time": "06:00", "day_of_week": ["MONDAY", "FRIDAY"]}},
              {"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 21, "step_size": 1},
                                    {"type": "PARKING_TIME", "price": 3.0, "vat": 21, "step_size": 60}]}],
          "energy_mix": {"is_green_energy": True}}


class Form(dict):
    """Posted fields as FastAPI's FormData offers them (get, getlist)."""

    def getlist(self, name):
        value = self.get(name)
        return [] if value is None else value if isinstance(value, list) else [value]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def fields(draft: tariff_form.Draft) -> dict:
    """The form fields a browser would post for ``draft`` (as the template names them)."""
    out = {k: v for k, v in draft.top.items()}
    out["elements"] = str(len(draft.elements))
    for i, e in enumerate(draft.elements):
        out[f"e{i}_components"] = str(len(e["components"]))
        for name in tariff_form.RESTRICTIONS:
            out[f"e{i}_{name}"] = e[name]
        out[f"e{i}_day_of_week"] = e["day_of_week"]
        out[f"e{i}_reservation"] = e["reservation"]
        for j, c in enumerate(e["components"]):
            for name in tariff_form.COMPONENT:
                out[f"e{i}c{j}_{name}"] = c[name]
    return out


async def add_tariff(server, body=TARIFF) -> str:
    tariff_id = unique("T")
    async with server.api() as api:
        r = await api.post("/api/v1/tariffs", json={"id": tariff_id, **body})
        assert r.status_code == 201, r.text
    return tariff_id


# --- the form's rules, without I/O ----------------------------------------------------------------

def test_a_stored_tariff_goes_through_the_form_unchanged():
    draft = tariff_form.from_tariff("T1", TARIFF)
    assert draft.elements[0]["start_time"] == "22:00" and draft.elements[0]["day_of_week"] == ["MONDAY", "FRIDAY"]
    assert draft.elements[1]["components"][1] == {"type": "PARKING_TIME", "price": "3", "vat": "21",
                                                  "step_size": "60"}
    again = tariff_form.from_form(Form(fields(draft)))
    body, problems = tariff_form.body_of(again)
    stored, schema_problems = tariff_form.validate(body, new=False)
    assert problems == schema_problems == {}
    expected = {k: v for k, v in TARIFF.items() if k != "energy_mix"}  # the editor leaves the mix alone
    assert stored == expected


def test_buttons_add_and_remove_elements_and_components():
    draft = tariff_form.Draft()
    assert tariff_form.apply(draft, "add-element") and len(draft.elements) == 2
    assert tariff_form.apply(draft, "add-component:1") and len(draft.elements[1]["components"]) == 2
    draft.elements[1]["components"][1]["price"] = "9"
    assert tariff_form.apply(draft, "remove-component:1:0")
    assert [c["price"] for c in draft.elements[1]["components"]] == ["9"]
    assert tariff_form.apply(draft, "remove-element:0") and len(draft.elements) == 1
    assert tariff_form.apply(draft, "remove-element:0") and len(draft.elements) == 1  # never none at all
    for op in ("save", "", "add-component:7", "remove-component:x:1", "explode"):
        assert not tariff_form.apply(draft, op)


def test_schema_errors_land_next_to_their_fields():
    draft = tariff_form.Draft()
    draft.top["currency"] = "XXQ"
    element = draft.elements[0]
    element["components"][0]["price"] = "0.3x"
    element["min_kwh"], element["max_kwh"], element["end_time"] = "5", "2", "25:00"
    draft.top["alt_text"] = "no language here"
    body, problems = tariff_form.body_of(draft)
    stored, schema = tariff_form.validate(body, new=True)
    assert stored is None and "alt_text" in problems
    assert set(schema) >= {"currency", "e0c0_price", "e0_end_time"}
    assert "HH:MM" in schema["e0_end_time"]
    element["end_time"] = ""
    schema = tariff_form.validate(tariff_form.body_of(draft)[0], new=True)[1]
    assert "min_kwh must be less than max_kwh" in schema["e0"]


# --- over HTTP ------------------------------------------------------------------------------------

async def test_the_list_pages_with_the_cursor_and_shows_the_defaults(sqlite_server):
    ids = sorted([await add_tariff(sqlite_server) for _ in range(3)])
    async with logged_in(sqlite_server, "viewer") as client:
        r = await client.get("/tariffs")
        assert r.status_code == 200 and all(f'data-tariff="{t}"' in r.text for t in ids)
        assert "New tariff" not in r.text  # a viewer gets no editor
        assert "0.30 EUR/kWh at night" in r.text
        r = await client.get("/tariffs", params={"currency": "CZK"})
        assert not any(f'data-tariff="{t}"' in r.text for t in ids)
        bad = await client.get("/tariffs", params={"after": "not-a-cursor"})
        assert bad.status_code == 422 and "invalid cursor" in bad.text
        assert (await client.get("/tariffs", params={"currency": "E1R"})).status_code == 422


async def test_a_tariff_page_estimates_like_the_api(sqlite_server):
    tariff_id = await add_tariff(sqlite_server)
    ask = {"energy_kwh": "10", "duration_minutes": "60", "parking_minutes": "30",
           "start_at": "2026-03-09T23:00:00", "time_zone": "UTC"}
    async with sqlite_server.api() as api:
        api_price = (await api.post(f"/api/v1/tariffs/{tariff_id}/estimate", json={
            **ask, "energy_kwh": 10, "duration_minutes": 60, "parking_minutes": 30})).json()
    assert api_price["total_incl_vat"] == pytest.approx(10 * 0.30 * 1.21 + 0.5 * 3 * 1.21, abs=0.01)
    async with logged_in(sqlite_server, "viewer") as client:
        r = await client.get(f"/tariffs/{tariff_id}")
        assert r.status_code == 200
        text = text_of(r.text)
        assert "22:00" in text and "MONDAY, FRIDAY" in text and "parking time" in text
        fragment = await client.get(f"/tariffs/{tariff_id}", params={**ask, "fragment": "estimate"})
        assert fragment.status_code == 200 and "<html" not in fragment.text
        total = re.search(r'id="estimate-total">([^<]+)<', fragment.text).group(1)
        assert f"{api_price['total_incl_vat']:.2f}" in total
        bad = await client.get(f"/tariffs/{tariff_id}", params={**ask, "energy_kwh": "lots", "fragment": "estimate"})
        assert bad.status_code == 422 and "energy_kwh" in bad.text and 'class="error"' in bad.text
        zone = await client.get(f"/tariffs/{tariff_id}", params={**ask, "time_zone": "Mars/Olympus"})
        assert zone.status_code == 200 and "time_zone" in zone.text  # the page, with the message in place
        assert (await client.get("/tariffs/NOPE-404")).status_code == 404


async def test_the_editor_builds_validates_and_saves_a_tariff(sqlite_server):
    tariff_id = unique("NEW")
    async with logged_in(sqlite_server, "operator") as client:
        page = await client.get("/tariffs/new")
        assert page.status_code == 200 and 'name="e0c0_price"' in page.text and "e1c0_price" not in page.text
        draft = tariff_form.Draft()
        draft.top.update(id=tariff_id, currency="eur", alt_text="en: by day and night")
        draft.elements[0]["components"][0].update(price="0.35", vat="21")
        form = {**fields(draft), "csrf": client.csrf}
        grown = await client.post("/tariffs/new", data={**form, "op": "add-element"})
        assert grown.status_code == 200 and 'name="e1c0_price"' in grown.text
        assert 'value="0.35"' in grown.text and "by day and night" in grown.text  # kept as typed
        assert tariff_form.apply(draft, "add-element")
        draft.elements[0].update(start_time="22:00", end_time="6:00", day_of_week=["SATURDAY", "SUNDAY"])
        draft.elements[1]["components"][0].update(type="FLAT", price="1.5")
        form = {**fields(draft), "csrf": client.csrf}
        wrong = await client.post("/tariffs/new", data={**form, "op": "save"})
        assert wrong.status_code == 422 and 'id="problems"' in wrong.text
        assert "HH:MM" in wrong.text and 'value="6:00"' in wrong.text  # told, and kept as typed
        assert 'value="SATURDAY" checked' in wrong.text
        draft.elements[0]["end_time"] = "06:00"
        form = {**fields(draft), "csrf": client.csrf}
        saved = await client.post("/tariffs/new", data={**form, "op": "save"})
        assert saved.status_code == 303 and saved.headers["location"] == f"/tariffs/{tariff_id}?saved=1"
        again = await client.post("/tariffs/new", data={**form, "op": "save"})
        assert again.status_code == 409 and "already exists" in again.text

    async with sqlite_server.api() as api:
        body = (await api.get(f"/api/v1/tariffs/{tariff_id}")).json()
    assert body["currency"] == "EUR" and body["tariff_alt_text"] == [{"language": "en", "text": "by day and night"}]
    restrictions = {k: v for k, v in body["elements"][0]["restrictions"].items() if v is not None}
    assert restrictions == {"start_time": "22:00", "end_time": "06:00",
                                                   "day_of_week": ["SATURDAY", "SUNDAY"]}
    assert body["elements"][1]["price_components"] == [{"type": "FLAT", "price": 1.5, "vat": None, "step_size": 1}]


async def test_editing_keeps_what_the_form_does_not_show(sqlite_server):
    tariff_id = await add_tariff(sqlite_server)
    async with logged_in(sqlite_server, "operator") as client:
        page = await client.get(f"/tariffs/{tariff_id}/edit")
        assert page.status_code == 200 and 'value="22:00"' in page.text and 'value="FRIDAY" checked' in page.text
        draft = tariff_form.from_tariff(tariff_id, TARIFF)
        tariff_form.apply(draft, "remove-component:1:1")
        draft.elements[1]["components"][0]["price"] = "0.45"
        r = await client.post(f"/tariffs/{tariff_id}/edit", data={**fields(draft), "csrf": client.csrf, "op": "save"})
        assert r.status_code == 303
        shown = await client.get(r.headers["location"])
        assert "Saved." in shown.text and "€0.45" in shown.text
    async with sqlite_server.api() as api:
        body = (await api.get(f"/api/v1/tariffs/{tariff_id}")).json()
    assert body["elements"][1]["price_components"] == [{"type": "ENERGY", "price": 0.45, "vat": 21.0, "step_size": 1}]
    assert body["energy_mix"]["is_green_energy"] is True


async def test_assignments_are_added_and_removed_and_deleting_waits_for_them(sqlite_server):
    tariff_id = await add_tariff(sqlite_server)
    cp_id = await sqlite_server.add_station()
    async with logged_in(sqlite_server, "operator") as client:
        r = await client.post(f"/tariffs/{tariff_id}/assignments", data={
            "csrf": client.csrf, "kind": "regular", "scope": "charge_point_id", "value": cp_id})
        assert r.status_code == 303, r.text
        page = await client.get(f"/tariffs/{tariff_id}")
        found = re.search(r'data-assignment="(\d+)"', page.text)
        assert found and cp_id in page.text
        same = await client.post(f"/tariffs/{tariff_id}/assignments", data={
            "csrf": client.csrf, "kind": "regular", "scope": "charge_point_id", "value": cp_id})
        assert same.status_code == 409 and "already covers" in same.text
        for data, message in (({"scope": "charge_point_id", "value": ""}, "name the charge point"),
                              ({"scope": "planet", "value": "x"}, "no such place"),
                              ({"scope": "location_id", "value": "abc"}, "location_id"),
                              ({"scope": "", "value": ""}, "default tariff")):
            bad = await client.post(f"/tariffs/{tariff_id}/assignments", data={"csrf": client.csrf, **data})
            assert bad.status_code == 422 and message in bad.text, (data, bad.text)
        busy = await client.post(f"/tariffs/{tariff_id}/delete", data={"csrf": client.csrf})
        assert busy.status_code == 409 and "still in use" in busy.text
        other = await add_tariff(sqlite_server)
        wrong = await client.post(f"/tariffs/{other}/assignments/{found.group(1)}/delete", data={"csrf": client.csrf})
        assert wrong.status_code == 404 and "has no assignment" in wrong.text  # and it is still there
        gone = await client.post(f"/tariffs/{tariff_id}/assignments/{found.group(1)}/delete",
                                 data={"csrf": client.csrf})
        assert gone.status_code == 303
        assert 'data-assignment="' not in (await client.get(f"/tariffs/{tariff_id}")).text
        deleted = await client.post(f"/tariffs/{tariff_id}/delete", data={"csrf": client.csrf})
        assert deleted.status_code == 303 and deleted.headers["location"] == "/tariffs"
        assert (await client.get(f"/tariffs/{tariff_id}")).status_code == 404


async def test_viewers_and_forged_forms_change_nothing(sqlite_server):
    tariff_id = await add_tariff(sqlite_server)
    draft = tariff_form.from_tariff(unique("V"), TARIFF)
    async with logged_in(sqlite_server, "viewer") as viewer:
        assert (await viewer.get("/tariffs/new")).status_code == 403
        assert (await viewer.get(f"/tariffs/{tariff_id}/edit")).status_code == 403
        for path in ("/tariffs/new", f"/tariffs/{tariff_id}/edit", f"/tariffs/{tariff_id}/delete",
                     f"/tariffs/{tariff_id}/assignments"):
            r = await viewer.post(path, data={**fields(draft), "csrf": viewer.csrf, "op": "save"})
            assert r.status_code == 403, path
    async with logged_in(sqlite_server, "operator") as operator:
        r = await operator.post(f"/tariffs/{tariff_id}/delete", data={})
        assert r.status_code == 403 and "security token" in r.text
        r = await operator.post("/tariffs/new", data={**fields(draft), "csrf": "forged", "op": "save"})
        assert r.status_code == 403
    async with sqlite_server.api() as api:
        assert (await api.get(f"/api/v1/tariffs/{tariff_id}")).status_code == 200
        assert (await api.get(f"/api/v1/tariffs/{draft.top['id']}")).status_code == 404


# --- in a browser ---------------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")
async def test_the_editor_and_the_live_estimate_in_a_browser(sqlite_server):
    tariff_id = unique("WEB")
    async with logged_in(sqlite_server, "operator") as client, \
            browser_page(sqlite_server.http_url, client.cookies) as (page, violations):
        await page.goto(f"{sqlite_server.http_url}/tariffs/new")
        await page.locator("input[name='id']").fill(tariff_id)
        await page.get_by_label("Element 1 component 1 price").fill("0.39")
        await page.get_by_label("Element 1 component 1 VAT").fill("21")
        await page.get_by_role("button", name="+ price component").click()  # the server adds one row
        await page.get_by_label("Element 1 component 2 type").select_option("FLAT")
        await page.get_by_label("Element 1 component 2 price").fill("1")
        await page.get_by_role("button", name="+ element").click()
        await page.get_by_label("Element 2 component 1 type").select_option("PARKING_TIME")
        await page.get_by_label("Element 2 component 1 price").fill("6")
        await page.locator("section#element-1 summary").click()
        await page.locator("input[name='e1_start_time']").fill("8:00")  # wrong: HH:MM
        await page.get_by_role("button", name="Save tariff").click()
        await expect(page.locator("#problems")).to_be_visible()
        assert await page.locator("input[name='e0c0_price']").input_value() == "0.39"  # kept
        await page.screenshot(path=os.path.join(SCREENSHOTS, "tariff-editor.png"), full_page=True)
        await page.locator("input[name='e1_start_time']").fill("08:00")
        await page.get_by_role("button", name="Save tariff").click()
        await page.wait_for_url(re.compile(rf"/tariffs/{tariff_id}\?saved=1$"))

        total = page.locator("#estimate-total")
        before = await total.inner_text()
        await page.get_by_label("Energy, kWh").fill("40")  # typed: the estimate follows by itself
        await expect(total).not_to_have_text(before, timeout=READY_BOUND_S * 1000)
        # 40 kWh x 0.39 with 21 % VAT, + the 1.00 session fee (no VAT given for it)
        assert re.sub(r"[^\d.]", "", await total.inner_text()) == f"{40 * 0.39 * 1.21 + 1:.2f}" == "19.88"
        await page.screenshot(path=os.path.join(SCREENSHOTS, "tariff.png"), full_page=True)
        await page.goto(f"{sqlite_server.http_url}/tariffs")
        await expect(page.locator(f"tr[data-tariff='{tariff_id}']")).to_be_visible()
        await page.screenshot(path=os.path.join(SCREENSHOTS, "tariffs.png"), full_page=True)
        assert violations == []
