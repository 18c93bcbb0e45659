"""The statistics and catalogue pages (docs/dashboard.md, "Statistics", "Catalogue"): a charged
session's energy, cost and margin in the table and chart, the API's own refusals shown in the page
(never a 500), and a model a station booted with listed in the catalogue, filtered by its vendor."""

import csv
import io
import re
from datetime import datetime, timezone

import pytest

from conftest import unique, until
from dashboard_kit import logged_in
from ocpp_client import station
from wattson.dashboard.catalogue import connector_text
from wattson.dashboard.render import money
from wattson.dashboard.statistics import per_bucket

DAY = datetime(2026, 2, 17, tzinfo=timezone.utc)
TARIFF = {"currency": "EUR", "type": "REGULAR", "elements": [
    {"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 21, "step_size": 1},
                          {"type": "FLAT", "price": 1.00, "vat": 21, "step_size": 1}]}]}
PERIOD = {"from": "2026-02-16T00:00", "to": "2026-02-19T00:00"}


def at(hour: int, minute: int) -> str:
    return DAY.replace(hour=hour, minute=minute).isoformat().replace("+00:00", "Z")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def row_of(html: str, key: str) -> str:
    """The text of the table row whose first cell links ``key``."""
    found = re.search(rf"<tr><td><a href=\"/stations/{re.escape(key)}\">.*?</tr>", html, re.S)
    assert found, f"no row for {key}"
    return text_of(found.group(0))


# --- rules without I/O -------------------------------------------------------------------------

def test_the_bars_add_up_all_keys_per_bucket_in_time_order():
    one, two = datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 3, 2, tzinfo=timezone.utc)
    rows = [{"bucket": two, "energy_wh": 1500}, {"bucket": one, "energy_wh": 500}, {"bucket": two, "energy_wh": 500}]
    assert per_bucket(rows, "day") == [("2026-03-01", 0.5), ("2026-03-02", 2.0)]
    months = [{"bucket": datetime(2026, m, 1, tzinfo=timezone.utc), "energy_wh": 1000 * m} for m in (4, 3)]
    assert per_bucket(months, "month") == [("2026-03", 3.0), ("2026-04", 4.0)]
    assert per_bucket([], "day") == []


def test_a_connector_capability_reads_as_one_line():
    assert connector_text({"evse": 2, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
                           "max_power_w": 22000}) == "EVSE 2: IEC_62196_T2 socket, AC_3_PHASE, 22 kW"
    assert connector_text({"evse": None, "standard": "IEC_62196_T2_COMBO", "format": "CABLE", "power_type": "DC"}) \
        == "each EVSE: IEC_62196_T2_COMBO cable, DC"


# --- the pages ------------------------------------------------------------------------------------

@pytest.fixture
async def charged(sqlite_server):
    """A site with a tariff and an electricity rate, a station booted with a vendor and model of its
    own, and one finished 8 kWh session on it (priced, its CDR made)."""
    server = sqlite_server
    tag, cp, vendor, model = await server.add_tag(), unique(), unique("Vend"), unique("M")[:20]
    async with server.api() as api:
        site = (await api.post("/api/v1/locations", json={
            "name": unique("Depot"), "street": "Main", "house_number": "1", "city": "Brno", "postal_code": "60200",
            "country": "CZ", "time_zone": "UTC"})).json()
        assert (await api.post("/api/v1/charge-points", json={"id": cp, "location_id": site["id"]})).status_code == 201
        tariff = unique("T")
        assert (await api.post("/api/v1/tariffs", json={"id": tariff, **TARIFF})).status_code == 201
        r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff, "location_id": site["id"]})
        assert r.status_code == 201, r.text
        r = await api.post("/api/v1/electricity-rates", json={"name": unique("Grid"), "currency": "EUR",
                                                              "price_per_kwh": 0.25, "location_ids": [site["id"]]})
        assert r.status_code == 201, r.text
        async with station(server.ws_url, cp) as st:
            await st.ok("BootNotification", {"chargePointVendor": vendor, "chargePointModel": model})
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": at(9, 0)}))["transactionId"]
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 8000, "timestamp": at(10, 30),
                                            "reason": "Local"})
        session = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"][0]

        async def priced():
            return bool((await api.get("/api/v1/cdrs", params={"session_id": session["id"]})).json()["data"])
        await until(priced, "the session's CDR")
    return {"cp": cp, "vendor": vendor, "model": model}


async def test_a_charged_session_shows_in_the_table_chart_and_csv(sqlite_server, charged):
    async with logged_in(sqlite_server, "viewer") as client:
        home = (await client.get("/")).text
        assert 'href="/statistics"' in home and 'href="/catalogue"' in home
        params = {"group_by": "charge_point", "interval": "day", "time_zone": "UTC", **PERIOD}
        r = await client.get("/statistics", params=params)
        assert r.status_code == 200, r.text
        row = row_of(r.text, charged["cp"])
        assert "2026-02-17" in row and "8.00 kWh" in row and " 1 " in row
        assert money(4.2, None) in row  # revenue excl. VAT: 8 kWh × 0.40 + 1.00
        assert money(2, "EUR") in row and money(2.2, "EUR") in row  # energy cost 8 × 0.25, margin
        assert "<svg class='chart'" in r.text and "2026-02-17" in re.search(r"<svg.*?</svg>", r.text, re.S).group(0)
        link = re.search(r'href="(/statistics\.csv\?[^"]+)"', r.text).group(1).replace("&amp;", "&")
        r = await client.get(link)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        mine = [line for line in csv.DictReader(io.StringIO(r.text)) if line["key"] == charged["cp"]]
        assert [(m["bucket"], m["energy_wh"], m["sessions"], m["duration_s"]) for m in mine] == [
            ("2026-02-17T00:00:00+00:00", "8000", "1", "5400")]
        # another zone: the same session in its local day, the bucket written with the zone's offset
        r = await client.get("/statistics", params={**params, "time_zone": "america/new_york"})
        assert r.status_code == 200 and "2026-02-17" in row_of(r.text, charged["cp"])
        r = await client.get("/statistics", params={**params, "from": "2030-01-01T00:00", "to": "2030-01-02T00:00"})
        assert r.status_code == 200 and "No sessions started in this period" in r.text
    async with sqlite_server.api() as api:  # what the API answers for the same parameters
        r = await api.get("/api/v1/statistics/consumption", params={**params, "from": "2026-02-16T00:00:00Z",
                                                                    "to": "2026-02-19T00:00:00Z"})
        assert [d["energy_wh"] for d in r.json()["data"] if d["key"] == charged["cp"]] == [8000]


@pytest.mark.parametrize("params, field, message", [
    ({"time_zone": "Mars/Olympus"}, "time_zone", "is not an IANA time zone name"),
    ({"group_by": "planet"}, "group_by", "Input should be"),
    ({"interval": "week"}, "interval", "Input should be"),
    ({"from": "yesterday"}, "from", "valid datetime"),
    ({"from": "2026-03-01T00:00", "to": "2026-02-01T00:00"}, "to", "from must be before to"),
    ({"interval": "hour", "from": "2026-01-01T00:00", "to": "2026-03-01T00:00"}, "to", "at most 32 days by hour"),
    ({"from": "0001-01-01T00:00"}, "to", "between the years 1900 and 9000"),
])
async def test_bad_parameters_give_the_page_with_a_message(sqlite_server, params, field, message):
    async with logged_in(sqlite_server, "viewer") as client:
        r = await client.get("/statistics", params=params)
        assert r.status_code == 422, r.text
        problems = text_of(re.search(r'<div class="card error" role="alert" id="problems">.*?</div>', r.text,
                                     re.S).group(0))
        assert field in problems and message in problems, problems
        assert "<form" in r.text and "<svg" not in r.text  # the form stays, to correct it
        r = await client.get("/statistics.csv", params=params)
        assert r.status_code == 422 and message in r.text


async def test_the_catalogue_lists_a_model_a_station_booted_with(sqlite_server, charged):
    async with sqlite_server.api() as api:
        vendor = (await api.get("/api/v1/vendors", params={"name": charged["vendor"]})).json()["data"][0]
        r = await api.post("/api/v1/vendor-error-codes", json={
            "vendor_id": vendor["id"], "code": "E-42", "description": "Contactor welded", "severity": "critical"})
        assert r.status_code == 201, r.text
    async with logged_in(sqlite_server, "viewer") as client:
        r = await client.get("/catalogue")
        assert r.status_code == 200 and charged["vendor"] in r.text and charged["model"] in r.text
        r = await client.get("/catalogue", params={"vendor": vendor["id"]})
        models = text_of(re.search(r'<section class="card" id="models">.*?</section>', r.text, re.S).group(0))
        assert charged["model"] in models and "discovered" in models and "TestVendor" not in models
        codes = text_of(re.search(r'<section class="card" id="codes">.*?</section>', r.text, re.S).group(0))
        assert "E-42" in codes and "Contactor welded" in codes and "all models" in codes
        assert (await client.get("/catalogue", params={"vendor": 999_999_999})).status_code == 404
        assert (await client.get("/catalogue", params={"vendor": "x"})).status_code == 422


async def test_the_pages_need_a_login(sqlite_server):
    async with sqlite_server.api() as api:
        for path in ("/statistics", "/statistics.csv", "/catalogue"):
            r = await api.get(path, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
