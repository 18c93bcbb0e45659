"""Seed 004's own names in POST /api/v1/sessions/query: its field names as sort keys (camelCase and
snake_case), the sort by driver name, site name and final price with page numbers that still tile
the result, and camelCase body keys (the fixed point of issue 20). Uses test_sessions_api.dataset;
the priced sessions are charged here, at a station of their own priced through a tariff group."""

import csv
import io

import pytest

from conftest import unique
from ocpp_client import station
from test_sessions_api import dataset
from test_sessions_query import QUERY, names, query
from test_tariffs_api import tariff

#: Seed field name → the Wattson sort key it must answer as.
SEED_NAMES = [("timestampStart", "started_at"), ("timestamp_start", "started_at"), ("timestampEnd", "stopped_at"),
              ("timestamp_end", "stopped_at"), ("chargerId", "charge_point_id"), ("charger_id", "charge_point_id"),
              ("fullConsumptionWh", "energy_wh"), ("full_consumption_kwh", "energy_wh"),
              ("transactionLengthMinutes", "duration"), ("transaction_length_minutes", "duration"),
              ("userName", "user_name"), ("siteName", "site_name"), ("totalCostInclVat", "total_cost_incl_vat"),
              ("authorizedTagId", "id_tag"), ("authorizedUserId", "driver_id"), ("siteId", "location_id")]


def _stable(page: dict) -> dict:
    """A page without what moves between two requests (an active session's length runs on)."""
    return {**page, "items": [{k: v for k, v in item.items() if k != "transaction_length_minutes"}
                              for item in page["items"]]}


async def test_the_camel_case_fixed_point_answers_as_snake_case(server):
    data = await dataset(server)
    camel = await query(server, {"sortKey": "timestampStart", "sortDescending": True, "page": 1, "limit": 5})
    snake = await query(server, {"sort_key": "started_at", "sort_descending": True, "page": 1, "limit": 5})
    assert _stable(camel) == _stable(snake) and len(camel["items"]) == 5
    assert (camel["page"], camel["limit"]) == (1, 5)
    # Every key in the seed's spelling, filters too.
    chargers = list(data.chargers.values())
    both = [({"chargerIDs": chargers, "sortKey": "userName", "sortDescending": False, "limit": 2, "page": 2},
             {"charger_ids": chargers, "sort_key": "user_name", "sort_descending": False, "limit": 2, "page": 2}),
            ({"chargerIDs": chargers, "driverIDs": [data.drivers["alice"]], "siteIDs": [data.locations["L1"]],
              "rfidTags": [data.tags["A"]], "startTime": "2000-01-01T00:00:00Z",
              "startTimeSearchEnd": "2100-01-01T00:00:00Z", "stopTimeSearchBegin": "2000-01-01T00:00:00Z",
              "stopTime": "2100-01-01T00:00:00Z"},
             {"charger_ids": chargers, "driver_ids": [data.drivers["alice"]], "site_ids": [data.locations["L1"]],
              "rfid_tags": [data.tags["A"]], "start_time": "2000-01-01T00:00:00Z",
              "start_time_search_end": "2100-01-01T00:00:00Z", "stop_time_search_begin": "2000-01-01T00:00:00Z",
              "stop_time": "2100-01-01T00:00:00Z"}),
            ({"chargerIds": chargers, "sortKey": None, "page": None, "limit": None},
             {"charger_ids": chargers})]
    for seed_body, wattson_body in both:
        assert _stable(await query(server, seed_body)) == _stable(await query(server, wattson_body)), seed_body
    assert await names(server, data, driverIDs=[data.drivers["alice"]], siteIDs=[data.locations["L1"]]) == ["s1"]


@pytest.mark.parametrize("seed_name, key", SEED_NAMES)
async def test_seed_field_names_sort_as_their_wattson_keys(server, seed_name, key):
    data = await dataset(server)
    for descending in (True, False):
        as_seed = await names(server, data, sort_key=seed_name, sort_descending=descending)
        assert as_seed == await names(server, data, sort_key=key, sort_descending=descending)
        assert as_seed == await names(server, data, sortKey=seed_name, sortDescending=descending)


@pytest.mark.parametrize("key, ascending", [
    # Bob's name starts with "=", before "A"; s4's tag belongs to nobody: no name, last going up.
    ("userName", ["s2", "s5", "s1", "s3", "s4"]),
    ("siteName", ["s3", "s1", "s2", "s4", "s5"]),  # Airport before Harbour
    ("authorizedTagId", None),
    ("authorizedUserId", ["s1", "s3", "s2", "s5", "s4"]),  # Alice was created before Bob
    ("siteId", ["s1", "s2", "s4", "s5", "s3"]),
    ("totalCostInclVat", ["s1", "s2", "s3", "s4", "s5"]),  # no tariff: all alike, by id
])
async def test_sorting_by_user_site_and_more_with_pages_that_tile(server, key, ascending):
    data = await dataset(server)
    if ascending is None:  # tags are random: the order of their uids
        tag_of = {"s1": "A", "s2": "B", "s3": "A", "s4": "C", "s5": "B"}
        ascending = sorted(tag_of, key=lambda n: (data.tags[tag_of[n]], data.sessions[n]["id"]))
    assert await names(server, data, sort_key=key, sort_descending=False) == ascending
    # Descending: the missing value first, then each value's sessions newest id first.
    descending = await names(server, data, sort_key=key, sort_descending=True)
    assert sorted(descending) == sorted(ascending) and len(descending) == 5
    if key == "userName":
        assert descending == ["s4", "s3", "s1", "s5", "s2"]
    if key == "siteName":
        assert descending == ["s5", "s4", "s2", "s1", "s3"]
    for order in (True, False):
        pages = []
        for page in (1, 2, 3):
            body = {"charger_ids": list(data.chargers.values()), "sort_key": key, "sort_descending": order,
                    "limit": 2, "page": page}
            answer = await query(server, body)
            assert answer["total_records"] == 5 and answer["has_next_page"] == (page < 3)
            pages += answer["items"]
        assert [item["id"] for item in pages] == [data.sessions[n]["id"] for n in (descending if order else ascending)]


async def test_sorting_by_final_cost(server):
    """Priced sessions in the order of their final price incl. VAT; the active one has none yet and
    sorts after them going up, before them going down; pages tile; the CSV export sorts alike."""
    cp_id = unique("COST")
    async with server.api() as api:
        location = (await api.post("/api/v1/locations", json={"name": unique("Priced"), "time_zone": "UTC"})).json()
        assert (await api.post("/api/v1/charge-points", json={"id": cp_id, "location_id": location["id"]})).status_code == 201
        tariff_id = unique("T")
        assert (await api.post("/api/v1/tariffs", json={"id": tariff_id, **tariff(0.30)})).status_code == 201
        group = (await api.post("/api/v1/tariff-groups", json={"name": unique("cost"),
                                                               "tariffs": [{"tariff_id": tariff_id}]})).json()
        r = await api.post(f"/api/v1/tariff-groups/{group['id']}/assignments", json={"location_id": location["id"]})
        assert r.status_code == 201, r.text
    tag = await server.add_tag()
    energies = {"mid": 5_000, "high": 20_000, "low": 1_000, "zero": 0}
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        for hour, (name, wh) in enumerate(energies.items()):
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": f"2026-11-{10 + hour}T10:00:00Z"}))["transactionId"]
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": wh,
                                            "timestamp": f"2026-11-{10 + hour}T11:00:00Z"})
        await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                         "timestamp": "2026-11-20T10:00:00Z"})
    base = {"chargerIDs": [cp_id], "limit": 10}
    up = (await query(server, {**base, "sortKey": "totalCostInclVat", "sortDescending": False}))["items"]
    costs = [item["total_cost_incl_vat"] for item in up]
    assert costs[:4] == [0.0, 0.36, 1.8, 7.2] and up[4]["status"] == "active"
    assert [item["full_consumption_wh"] for item in up[:4]] == [0, 1_000, 5_000, 20_000]
    down = (await query(server, {**base, "sortKey": "total_cost_incl_vat", "sortDescending": True}))["items"]
    assert [item["id"] for item in down] == [up[4]["id"], *[item["id"] for item in reversed(up[:4])]]
    tiles = []
    for page in (1, 2, 3):
        tiles += (await query(server, {**base, "sortKey": "totalCostInclVat", "sortDescending": False,
                                       "limit": 2, "page": page}))["items"]
    assert [item["id"] for item in tiles] == [item["id"] for item in up]
    async with server.api() as api:
        r = await api.post(QUERY + ".csv", json={**base, "sortKey": "totalCostInclVat", "sortDescending": False})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [int(row["id"]) for row in rows] == [item["id"] for item in up]


@pytest.mark.parametrize("body, field", [
    ({"sortKey": "nonsense"}, "sortKey"),
    ({"sort_key": "userNames"}, "sort_key"),
    ({"sortKey": 3}, "sortKey"),
    ({"sortkey": "timestampStart"}, "sortkey"),  # not a key of either spelling
    ({"sortDescending": "yes"}, "sortDescending"),
    ({"chargerIDs": "CP-1"}, "chargerIDs"),
    ({"page": 0, "limit": 5}, "page"),
])
async def test_bad_seed_bodies_are_422_naming_the_key(server, body, field):
    async with server.api() as api:
        r = await api.post(QUERY, json=body)
    assert r.status_code == 422, r.text
    assert field in str(r.json()["error"]["details"])
