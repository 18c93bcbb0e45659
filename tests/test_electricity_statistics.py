"""Electricity rates and consumption statistics over HTTP, on SQLite and PostgreSQL: rates CRUD
with filters, cursor and bad input; statistics bucketed in Europe/Berlin across both DST changes
of 2021, with revenue from a tariff, energy cost by a time-of-use rate (each session priced) and
by a fixed one (energy × price in SQL), margin; seed 004's totalMarginAmount filled.

Sessions lie in 2021 and the rates are valid in 2021 only, at this test's own locations: other
tests' sessions on the shared server are not costed by them."""

from datetime import datetime, timezone

import httpx

from conftest import unique, until
from dashboard_kit import logged_in
from ocpp_client import station

STATS = "/api/v1/statistics/consumption"
RATES = "/api/v1/electricity-rates"
YEAR = {"valid_from": "2021-01-01T00:00:00Z", "valid_to": "2022-01-01T00:00:00Z"}
NIGHT = {"weekdays": [1, 2, 3, 4, 5], "from": "00:00", "to": "06:00", "price_per_kwh": 0.10}


def ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def error_fields(r: httpx.Response, status: int = 422) -> list[str]:
    body = ok(r, status)["error"]
    return [d["field"] for d in body.get("details") or []]


def at(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def site(api, name: str) -> int:
    return ok(await api.post("/api/v1/locations", json={"name": unique(name), "time_zone": "Europe/Berlin"}), 201)["id"]


async def charge(server, cp: str, tag: str, start: datetime, stop: datetime, wh: int) -> None:
    async with station(server.ws_url, cp) as st:
        await st.boot()
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                               "timestamp": iso(start)}))["transactionId"]
        await st.ok("StopTransaction", {"transactionId": tx, "meterStop": wh, "timestamp": iso(stop),
                                        "reason": "Local"})


async def test_electricity_rates_crud_filters_and_bad_input(server):
    async with server.api() as api:
        location, elsewhere = await site(api, "Rates"), await site(api, "Elsewhere")
        fixed = ok(await api.post(RATES, json={"name": "Grid", "currency": "eur", "price_per_kwh": 0.24,
                                               "location_ids": [location], **YEAR}), 201)
        assert (fixed["currency"], fixed["price_per_kwh"], fixed["periods"], fixed["time_zone"]) == ("EUR", 0.24, [],
                                                                                                      "UTC")
        assert fixed["location_ids"] == [location] and fixed["valid_from"] == "2021-01-01T00:00:00Z"
        assert fixed["is_default"] is False
        tou = ok(await api.post(RATES, json={"name": "Night", "currency": "EUR", "price_per_kwh": 0.3,
                                             "time_zone": "europe/berlin", "periods": [NIGHT],
                                             "location_ids": [location], "valid_from": "2021-06-01T00:00:00Z"}), 201)
        assert tou["time_zone"] == "Europe/Berlin" and tou["periods"] == [NIGHT]
        assert ok(await api.get(f"{RATES}/{tou['id']}")) == tou

        # list: by location, in pages, by currency, in force at a time
        page = ok(await api.get(RATES, params={"location_id": location, "limit": 1}))
        assert [r["id"] for r in page["data"]] == [fixed["id"]] and page["next_cursor"]
        page = ok(await api.get(RATES, params={"location_id": location, "cursor": page["next_cursor"]}))
        assert [r["id"] for r in page["data"]] == [tou["id"]] and page["next_cursor"] is None
        assert ok(await api.get(RATES, params={"location_id": location, "currency": "CHF"}))["data"] == []
        in_force = ok(await api.get(RATES, params={"location_id": location, "at": "2021-03-01T00:00:00Z"}))
        assert [r["id"] for r in in_force["data"]] == [fixed["id"]]

        # update: only what is sent; location_ids replaces; null clears a bound
        changed = ok(await api.patch(f"{RATES}/{tou['id']}", json={"price_per_kwh": 0.31, "valid_from": None,
                                                                    "location_ids": [elsewhere]}))
        assert (changed["price_per_kwh"], changed["valid_from"], changed["location_ids"]) == (0.31, None, [elsewhere])
        assert changed["periods"] == [NIGHT] and changed["name"] == "Night"

        # bad input: 422 with the field, 404, never a 500
        assert "body.location_ids" in error_fields(await api.post(RATES, json={
            "name": "x", "currency": "EUR", "price_per_kwh": 1, "location_ids": [2_000_000_000]}))
        x = {"name": "x", "currency": "EUR", "price_per_kwh": 1, "location_ids": [location]}
        for body in ({**x, "periods": [{**NIGHT, "from": "22:00"}]}, {**x, "periods": [{**NIGHT, "to": "6:00"}]},
                     {**x, "periods": [{**NIGHT, "weekdays": [0]}]}, {**x, "price_per_kwh": -1},
                     {**x, "price_per_kwh": 0.123456}, {**x, "currency": "XXY"}, {**x, "time_zone": "Mars/Base"},
                     {**x, "valid_from": "2022-01-01T00:00:00Z", "valid_to": "2021-01-01T00:00:00Z"},
                     {**x, "location_ids": [location, location]},
                     {**x, "location_ids": []},  # neither locations nor the default
                     {**x, "is_default": True},  # the default at a location
                     {"name": "x", "currency": "EUR", "location_ids": [location]}, {**x, "z": 1}):
            assert (await api.post(RATES, json=body)).status_code == 422, body
        assert (await api.patch(f"{RATES}/{fixed['id']}", json={"name": None})).status_code == 422
        assert "body.location_ids" in error_fields(await api.patch(f"{RATES}/{fixed['id']}", json={"location_ids": []}))
        assert "body.location_ids" in error_fields(await api.patch(f"{RATES}/{fixed['id']}", json={"is_default": True}))
        assert "body.valid_to" in error_fields(await api.patch(f"{RATES}/{fixed['id']}",
                                                               json={"valid_to": "2020-01-01T00:00:00Z"}))
        assert (await api.get(f"{RATES}/999999999")).status_code == 404
        assert (await api.get(f"{RATES}/0")).status_code == 422
        assert (await api.get(RATES, params={"cursor": "nonsense"})).status_code == 422
        assert (await api.get(RATES, params={"at": "yesterday"})).status_code == 422

        assert (await api.delete(f"{RATES}/{tou['id']}")).status_code == 204
        assert (await api.get(f"{RATES}/{tou['id']}")).status_code == 404
        assert (await api.delete(f"{RATES}/{tou['id']}")).status_code == 404


async def test_consumption_statistics_in_a_time_zone_with_energy_cost_and_margin(server):
    async with server.api() as api:
        harbour, airport = await site(api, "Harbour"), await site(api, "Airport")
        h1, h2 = await server.add_station(location_id=harbour), await server.add_station(location_id=harbour)
        a1 = await server.add_station(location_id=airport)
        tariff = unique("T")
        ok(await api.post("/api/v1/tariffs", json={"id": tariff, "currency": "EUR", "elements": [
            {"price_components": [{"type": "ENERGY", "price": 0.50, "vat": 20, "step_size": 1}]}]}), 201)
        ok(await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff, "location_id": harbour}), 201)
        ok(await api.post(RATES, json={"name": "Harbour ToU", "currency": "EUR", "price_per_kwh": 0.30,
                                       "time_zone": "Europe/Berlin", "periods": [NIGHT], "location_ids": [harbour],
                                       **YEAR}), 201)
        ok(await api.post(RATES, json={"name": "Airport", "currency": "EUR", "price_per_kwh": 0.25,
                                       "location_ids": [airport], **YEAR}), 201)
    tag = await server.add_tag()
    # Berlin: CET (UTC+1) until 2021-03-28 01:00 UTC, then CEST (UTC+2) until 2021-10-31 01:00 UTC.
    await charge(server, h1, tag, at(2021, 3, 27, 22, 30), at(2021, 3, 27, 23, 30), 10_000)  # Sat 23:30 CET
    await charge(server, h1, tag, at(2021, 3, 28, 1, 30), at(2021, 3, 28, 2, 30), 4_000)  # Sun 03:30 CEST
    await charge(server, h2, tag, at(2021, 3, 28, 22, 30), at(2021, 3, 29, 0, 30), 6_000)  # Mon 00:30 CEST
    await charge(server, a1, tag, at(2021, 3, 28, 10), at(2021, 3, 28, 11), 2_000)
    await charge(server, h1, tag, at(2021, 10, 31, 0, 30), at(2021, 10, 31, 0, 40), 1_000)  # 02:30 CEST
    await charge(server, h1, tag, at(2021, 10, 31, 1, 30), at(2021, 10, 31, 1, 40), 1_000)  # 02:30 CET

    march = {"from": "2021-03-27T00:00:00+01:00", "to": "2021-03-30T00:00:00+02:00", "time_zone": "Europe/Berlin"}
    async with server.api() as api:
        async def priced():
            items = ok(await api.post("/api/v1/sessions/query", json={"charger_ids": [h1, h2]}))["items"]
            return len(items) == 5 and all(i["total_cost_excl_vat"] is not None for i in items)
        await until(priced, "the harbour sessions priced")

        answer = ok(await api.get(STATS, params={"group_by": "location", "interval": "day", **march}))
        assert (answer["group_by"], answer["interval"], answer["time_zone"]) == ("location", "day", "Europe/Berlin")
        rows = [r for r in answer["data"] if r["key"] in (harbour, airport)]
        assert [(r["key"], r["bucket"], r["energy_wh"], r["sessions"], r["duration_s"]) for r in rows] == [
            (harbour, "2021-03-27T00:00:00+01:00", 10_000, 1, 3600),
            (harbour, "2021-03-28T00:00:00+01:00", 4_000, 1, 3600),
            (harbour, "2021-03-29T00:00:00+02:00", 6_000, 1, 7200),
            (airport, "2021-03-28T00:00:00+01:00", 2_000, 1, 3600)]
        # revenue 0.50/kWh excl. VAT; energy cost: Saturday and Sunday at 0.30, Monday night at 0.10
        assert [(r["revenue"], r["energy_cost"], r["margin"], r["currency"]) for r in rows] == [
            (5.0, 3.0, 2.0, "EUR"), (2.0, 1.2, 0.8, "EUR"), (3.0, 0.6, 2.4, "EUR"), (0.0, 0.5, -0.5, "EUR")]

        # in UTC the Monday night session falls on Sunday
        utc = ok(await api.get(STATS, params={"group_by": "location", "interval": "day", "location_id": harbour,
                                              "from": "2021-03-27T00:00:00Z", "to": "2021-03-30T00:00:00Z"}))
        assert [(r["bucket"], r["sessions"]) for r in utc["data"]] == [("2021-03-27T00:00:00Z", 1),
                                                                        ("2021-03-28T00:00:00Z", 2)]
        naive = ok(await api.get(STATS, params={"group_by": "location", "interval": "day", "location_id": harbour,
                                                "from": "2021-03-27T00:00:00", "to": "2021-03-30T00:00"}))
        assert naive["data"] == utc["data"]  # no zone: UTC, as documented

        # by charge point, in months
        months = ok(await api.get(STATS, params={"group_by": "charge_point", "interval": "month",
                                                 "location_id": harbour, "time_zone": "Europe/Berlin",
                                                 "from": "2021-01-01T00:00:00+01:00",
                                                 "to": "2022-01-01T00:00:00+01:00"}))
        assert [(r["key"], r["bucket"], r["sessions"], r["energy_wh"]) for r in months["data"]] == sorted([
            (h1, "2021-03-01T00:00:00+01:00", 2, 14_000), (h1, "2021-10-01T00:00:00+02:00", 2, 2_000),
            (h2, "2021-03-01T00:00:00+01:00", 1, 6_000)])

        # the hour repeated when clocks go back is two buckets
        hours = ok(await api.get(STATS, params={"group_by": "charge_point", "interval": "hour",
                                                "charge_point_id": h1, "time_zone": "Europe/Berlin",
                                                "from": "2021-10-30T22:00:00Z", "to": "2021-10-31T04:00:00Z"}))
        assert [(r["bucket"], r["energy_wh"]) for r in hours["data"]] == [("2021-10-31T02:00:00+02:00", 1000),
                                                                           ("2021-10-31T02:00:00+01:00", 1000)]

        # by EVSE, driver (the tag has none) and driver group
        for group_by in ("evse", "driver", "group"):
            data = ok(await api.get(STATS, params={"group_by": group_by, "location_id": airport, **march}))["data"]
            assert [(r["sessions"], r["energy_wh"]) for r in data] == [(1, 2000)], group_by
            assert (data[0]["key"] is None) == (group_by != "evse")

        # seed 004: the margin is the price excl. VAT less the energy cost
        items = ok(await api.post("/api/v1/sessions/query", json={"charger_ids": [h2]}))["items"]
        assert [(i["total_cost_excl_vat"], i["total_margin_amount"]) for i in items] == [(3.0, 2.4)]
        csv = (await api.post("/api/v1/sessions/query.csv", json={"charger_ids": [h2]})).text
        header, row = (line.split(",") for line in csv.strip().splitlines())
        assert dict(zip(header, row))["total_margin_amount"] == "2.4"

        # bad input
        for params in ({"interval": "day", **march}, {"group_by": "planet", **march},
                       {"group_by": "location", "interval": "week", **march},
                       {"group_by": "location", **{**march, "time_zone": "Mars/Base"}},
                       {"group_by": "location", **{**march, "to": march["from"]}},
                       {"group_by": "location", "interval": "hour", "from": "2021-01-01T00:00:00Z",
                        "to": "2021-06-01T00:00:00Z"},
                       {"group_by": "location", "from": "soon", "to": march["to"]},
                       {"group_by": "location", "from": "0001-01-01T00:00:00Z", "to": "0001-01-02T00:00:00Z",
                        "time_zone": "America/Los_Angeles"},
                       {"group_by": "location", "from": "9999-12-30T00:00:00Z", "to": "9999-12-31T00:00:00Z",
                        "time_zone": "Asia/Tokyo"},
                       {"group_by": "location", "location_id": 0, **march}):
            assert (await api.get(STATS, params=params)).status_code == 422, params

    # the dashboard's location page lists the location's own rates
    async with logged_in(server, "viewer") as client:
        page = (await client.get(f"/locations/{harbour}")).text
        assert "Electricity rates" in page and "Harbour ToU" in page and "MoTuWeThFr 00:00–06:00: 0.1" in page
        assert "2021-01-01 00:00 UTC" in page and "(Europe/Berlin)" in page
    async with server.api() as api:
        bare = await site(api, "Bare")
    async with logged_in(server, "viewer") as client:
        assert "the default rates apply" in (await client.get(f"/locations/{bare}")).text
