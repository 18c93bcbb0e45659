"""The dashboard's session pages over real HTTP: the list with seed 004's filters, totals and CSV
export; a session with its curves, charging periods, cost, CDR, receipt links and Stop button;
roles and CSRF on the stop; bad filters answered with a message. The same in Chromium, from the
station page's Start button to the receipt, is test_dashboard_browser.py.

The priced session (a raw OCPP 1.6 station, UTC, tariff 0.40/kWh + 1.00 per session, 21 % VAT):
20:30 start at 0 Wh, 21:00 5,000 Wh (11 kW), 21:30 8,000 Wh, stop 21:45 at 8,000 Wh (idle):
energy 8 kWh × 0.40 = 3.20 + VAT 0.67 = 3.87; flat 1.00 + 0.21 = 1.21; total 5.08 incl. VAT."""

import csv
import io
import re
from datetime import datetime, timezone

import pytest

from conftest import unique, until
from dashboard_kit import logged_in
from ocpp_client import station
from wattson.dashboard.sessions import energy_points, page_totals, power_points
from wattson.sessions.meter import Sample
from wattson.sessions.periods import charging_periods

DAY = datetime(2026, 3, 10, tzinfo=timezone.utc)
TARIFF = {"currency": "EUR", "type": "REGULAR", "elements": [
    {"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 21, "step_size": 1},
                          {"type": "FLAT", "price": 1.00, "vat": 21, "step_size": 1}]}]}


def at(hour: int, minute: int) -> str:
    return DAY.replace(hour=hour, minute=minute).isoformat().replace("+00:00", "Z")


def reading(ts: str, wh: int, kw: float | None = None) -> dict:
    values = [{"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
    if kw is not None:
        values.append({"value": str(kw), "measurand": "Power.Active.Import", "unit": "kW"})
    return {"timestamp": ts, "sampledValue": values}


@pytest.fixture
async def place(sqlite_server):
    """A site with a priced charge point, a finished priced session on it, and an active session
    on a second charge point whose raw station stays connected (to receive the stop)."""
    server = sqlite_server
    tag, other_tag = await server.add_tag(), await server.add_tag()
    async with server.api() as api:
        site = (await api.post("/api/v1/locations", json={
            "name": unique("Depot"), "street": "Main", "house_number": "1", "city": "Brno", "postal_code": "60200",
            "country": "CZ", "time_zone": "UTC"})).json()
        cp_id, live_cp = unique(), unique()
        for cp in (cp_id, live_cp):
            r = await api.post("/api/v1/charge-points", json={"id": cp, "location_id": site["id"]})
            assert r.status_code == 201, r.text
        tariff_id = unique("T")
        assert (await api.post("/api/v1/tariffs", json={"id": tariff_id, **TARIFF})).status_code == 201
        r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff_id, "location_id": site["id"]})
        assert r.status_code == 201, r.text
        async with station(server.ws_url, cp_id) as st:
            await st.boot()
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": at(20, 30)}))["transactionId"]
            for ts, wh in ((at(21, 0), 5000), (at(21, 30), 8000)):
                await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx,
                                            "meterValue": [reading(ts, wh, 11.0)]})
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 8000, "timestamp": at(21, 45),
                                            "reason": "Local"})
        finished = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"][0]
        await until(lambda: _has_cdr(api, finished["id"]), "the finished session's CDR")
        async with station(server.ws_url, live_cp) as live:
            await live.boot()
            now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
            tx = (await live.ok("StartTransaction", {"connectorId": 1, "idTag": other_tag, "meterStart": 1000,
                                                     "timestamp": now}))["transactionId"]
            await live.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
                reading(datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"), 1500, 7.4)]})
            active = (await api.get("/api/v1/sessions", params={"charge_point_id": live_cp})).json()["data"][0]
            yield {"cp": cp_id, "live_cp": live_cp, "tag": tag, "site": site["id"], "site_name": site["name"],
                   "tariff": tariff_id,
                   "finished": finished["id"], "active": active["id"], "live": live}


async def _has_cdr(api, session_id: int) -> bool:
    return bool((await api.get("/api/v1/cdrs", params={"session_id": session_id})).json()["data"])


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- rules without I/O -------------------------------------------------------------------------

def test_the_curves_come_from_the_samples():
    t = [datetime(2026, 1, 1, 10, m, tzinfo=timezone.utc) for m in range(4)]
    samples = [Sample(t[1], "1500", "Energy.Active.Import.Register", "Wh"),
               Sample(t[1], "7.2", "Power.Active.Import", "kW"),
               Sample(t[2], "1200", "Power.Active.Import", "W", phase="L1"),
               Sample(t[2], "1300", "Power.Active.Import", "W", phase="L2"),
               Sample(t[3], "2.5", "Energy.Active.Import.Register", "kWh")]
    # the outlet's total wins over phases where the station sends it; phases add up otherwise
    assert power_points(samples) == [(t[1], 7.2)]
    assert power_points(samples[2:]) == [(t[2], 2.5)]
    periods = charging_periods(t[0], 1000, samples, None, None, merge=False)
    assert energy_points(periods) == [(t[0], 0.0), (t[1], 0.5), (t[3], 1.5)]
    assert energy_points([]) == []


def test_the_page_totals_add_up_per_currency():
    items = [{"total_cost_incl_vat": 1.1, "currency": "EUR"}, {"total_cost_incl_vat": 2.2, "currency": "EUR"},
             {"total_cost_incl_vat": None, "currency": None}, {"total_cost_incl_vat": 5, "currency": "CZK"}]
    assert {k: str(v) for k, v in page_totals(items).items()} == {"EUR": "3.3", "CZK": "5"}


# --- the list -------------------------------------------------------------------------------------

async def test_the_list_filters_totals_and_exports(sqlite_server, place):
    async with logged_in(sqlite_server, "viewer") as client:
        r = await client.get("/sessions", params={"chargers": f"{place['cp']}, {place['live_cp']}"})
        assert r.status_code == 200, r.text
        text = text_of(r.text)
        assert f'data-session="{place["finished"]}"' in r.text and f'data-session="{place["active"]}"' in r.text
        assert "2 sessions" in text and "8.50 kWh energy" in text and "1 still charging" in text
        assert "5.08" in text  # the finished session's cost
        r = await client.get("/sessions", params={"tags": place["tag"]})
        assert f'data-session="{place["finished"]}"' in r.text and f'data-session="{place["active"]}"' not in r.text
        r = await client.get("/sessions", params={"sites": place["site"], "stopped_from": "2026-03-10T21:00",
                                                  "stopped_to": "2026-03-10T22:00:00"})
        assert f'data-session="{place["finished"]}"' in r.text and f'data-session="{place["active"]}"' not in r.text
        r = await client.get("/sessions", params={"chargers": place["cp"], "started_from": "2026-03-11T00:00"})
        assert "No sessions match" in r.text
        r = await client.get("/sessions", params={"chargers": f"{place['cp']} {place['live_cp']}",
                                                  "sort": "energy_wh", "order": "asc"})
        assert r.text.index(f'data-session="{place["active"]}"') < r.text.index(f'data-session="{place["finished"]}"')
        fragment = await client.get("/sessions", params={"chargers": place["cp"], "fragment": "rows"})
        assert "<html" not in fragment.text and 'id="totals"' in fragment.text

        r = await client.get("/sessions.csv", params={"chargers": place["cp"]})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [int(row["id"]) for row in rows] == [place["finished"]]
        assert rows[0]["total_cost_incl_vat"] == "5.08" and rows[0]["full_consumption_wh"] == "8000"


@pytest.mark.parametrize("params, field", [
    ({"started_from": "yesterday"}, "started_from"), ({"drivers": "12 abc"}, "drivers"),
    ({"sort": "price"}, "sort"), ({"page": "0"}, "page"), ({"stopped_to": "2026-13-40T99:00"}, "stopped_to")])
async def test_bad_filters_get_a_message_not_a_500(sqlite_server, params, field):
    async with logged_in(sqlite_server, "viewer") as client:
        r = await client.get("/sessions", params=params)
        assert r.status_code == 422 and 'id="problems"' in r.text and f"<b>{field}</b>" in r.text, r.text
        assert (await client.get("/sessions.csv", params=params)).status_code == 422


async def test_the_pages_need_a_login(sqlite_server):
    async with sqlite_server.api() as api:  # an API key is no dashboard login
        r = await api.get("/sessions/1", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


# --- a session ------------------------------------------------------------------------------------

async def test_a_finished_session_shows_periods_cost_cdr_and_receipt(sqlite_server, place):
    async with logged_in(sqlite_server, "viewer") as client:
        r = await client.get(f"/sessions/{place['finished']}")
        assert r.status_code == 200, r.text
        text = text_of(r.text)
        assert place["cp"] in text and place["tag"] in text and "8.00 kWh" in text and "Local" in text
        assert place["site_name"] in text
        assert "<polyline" in r.text and r.text.count("<svg") == 2  # power and energy
        periods = r.text.split('id="periods"')[1].split("</section>")[0]
        assert periods.count('<tr class="charging">') == 1 and periods.count('<tr class="idle">') == 1
        cost = text_of(r.text.split('id="cost"')[1].split("</section>")[0])
        assert "5.08" in cost and "3.87" in cost and "1.21" in cost
        cdrs = text_of(r.text.split('id="cdrs"')[1].split("</section>")[0])
        assert "CDR 0" in cdrs and "5.08" in cdrs
        assert "Stop the session" not in r.text
        receipt = await client.get(f"/sessions/{place['finished']}/receipt")
        assert receipt.status_code == 200 and receipt.headers["content-type"].startswith("text/html")
        assert "5.08" in text_of(receipt.text)
        pdf = await client.get(f"/sessions/{place['finished']}/receipt.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        running = await client.get(f"/sessions/{place['active']}/receipt")
        assert running.status_code == 409 and "still running" in running.text
        missing = await client.get("/sessions/2000000000")
        assert missing.status_code == 404 and "not found" in missing.text.lower()
        assert (await client.get("/sessions/abc")).status_code == 422


async def test_an_active_session_is_live_and_an_operator_stops_it(sqlite_server, place):
    async with logged_in(sqlite_server, "viewer") as viewer:
        r = await viewer.get(f"/sessions/{place['active']}")
        assert r.status_code == 200 and "active" in r.text and "Stop the session" not in r.text
        assert 'data-live="sessions circuits"' in r.text and "Cost so far" in r.text
        live = await viewer.get(f"/sessions/{place['active']}", params={"fragment": "live"})
        assert "<html" not in live.text and "Power and energy" in live.text
        r = await viewer.post(f"/sessions/{place['active']}/stop", data={"csrf": viewer.csrf})
        assert r.status_code == 403
    async with logged_in(sqlite_server, "operator") as operator:
        page = await operator.get(f"/sessions/{place['active']}")
        assert "Stop the session" in page.text and "data-confirm=" in page.text
        r = await operator.post(f"/sessions/{place['active']}/stop", data={})
        assert r.status_code == 403 and "security token" in r.text
        r = await operator.post(f"/sessions/{place['active']}/stop", data={"csrf": operator.csrf})
        assert r.status_code == 303 and r.headers["location"].startswith(f"/sessions/{place['active']}?sent=")
        call = await place["live"].next_call()
        assert call[2] == "RemoteStopTransaction" and call[3]["transactionId"]
        r = await operator.post(f"/sessions/{place['finished']}/stop", data={"csrf": operator.csrf})
        assert r.status_code == 409 and "finished already" in r.text
