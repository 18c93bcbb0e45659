"""Id tokens, drivers, driver groups and charger groups over the HTTP API: CRUD, validation, paging."""

import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from conftest import unique
from wattson.access.schemas import email_syntax
from wattson.api.types import as_utc, no_nul
from wattson.access.service import _check_window
from wattson.errors import Invalid

BIG = 2**31  # one past the largest id


# --- pure rules ---------------------------------------------------------------------------
def test_times_without_zone_are_utc_and_others_are_converted():
    assert as_utc(datetime(2030, 1, 1)) == datetime(2030, 1, 1, tzinfo=timezone.utc)
    cet = timezone(timedelta(hours=1))
    assert as_utc(datetime(2030, 1, 1, 1, tzinfo=cet)).tzinfo is timezone.utc
    assert as_utc(datetime(2030, 1, 1, 1, tzinfo=cet)) == datetime(2030, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        as_utc(datetime(1, 1, 1, tzinfo=cet))  # before year 1 in UTC


def test_email_syntax():
    for good in ("a@b.fi", "first.last+tag@mail.example.com", None):
        assert email_syntax(good) == good
    for bad in ("", "a", "a@b", "@b.fi", "a@.fi", "a@b.", "a b@c.fi", "a@@b.fi", "a@b..fi"):
        with pytest.raises(ValueError):
            email_syntax(bad)


def test_no_nul():
    assert no_nul("abc") == "abc" and no_nul(None) is None
    with pytest.raises(ValueError):
        no_nul("a\x00b")


def test_validity_window():
    t = datetime(2030, 1, 1, tzinfo=timezone.utc)
    _check_window(None, None)
    _check_window(t, None)
    _check_window(None, t)
    _check_window(t, t + timedelta(seconds=1))
    for expires in (t, t - timedelta(days=1)):
        with pytest.raises(Invalid) as error:
            _check_window(t, expires)
        assert error.value.details[0]["field"] == "expires_at"


# --- helpers ------------------------------------------------------------------------------
def assert_invalid(r: httpx.Response, field: str):
    """A 422 in the error body whose details name ``field``."""
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error", r.text
    fields = [d["field"] for d in error["details"] or []]
    assert any(f == field or f.endswith("." + field) for f in fields), (field, r.text)


def assert_error(r: httpx.Response, status: int, code: str):
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"], r.text


async def collect(api: httpx.AsyncClient, path: str, limit: int = 2, **params) -> list[dict]:
    """Every item of a list, page by page; checks that pages do not overlap."""
    items, cursor = [], None
    while True:
        r = await api.get(path, params={"limit": limit, **params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["data"]) <= limit
        items += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    ids = [item["id"] for item in items]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    return items


async def new_driver(api, **body) -> dict:
    r = await api.post("/api/v1/drivers", json={"name": "Driver " + unique("D"), **body})
    assert r.status_code == 201, r.text
    return r.json()


async def new_group(api, kind: str, **body) -> dict:
    r = await api.post(f"/api/v1/{kind}", json={"name": unique("G"), **body})
    assert r.status_code == 201, r.text
    return r.json()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- id tokens ----------------------------------------------------------------------------
async def test_id_token_crud(server):
    async with server.api() as api:
        driver = await new_driver(api)
        uid = unique("TAG")
        r = await api.post("/api/v1/id-tokens", json={
            "uid": uid, "type": "eMAID", "visual_number": "FI-WAT-000123", "status": "Accepted",
            "valid_from": "2026-01-01T00:00:00", "expires_at": "2030-01-01T02:00:00+02:00",
            "parent_id_tag": "FLEET-1", "invoicable": True, "driver_id": driver["id"]})
        assert r.status_code == 201, r.text
        token = r.json()
        assert {k: token[k] for k in ("uid", "type", "visual_number", "status", "parent_id_tag", "invoicable",
                                      "driver_id")} == {
            "uid": uid, "type": "eMAID", "visual_number": "FI-WAT-000123", "status": "Accepted",
            "parent_id_tag": "FLEET-1", "invoicable": True, "driver_id": driver["id"]}
        assert token["valid_from"] == "2026-01-01T00:00:00Z" and token["expires_at"] == "2030-01-01T00:00:00Z"
        assert token["updated_at"] and token["created_at"]

        # defaults
        plain = (await api.post("/api/v1/id-tokens", json={"uid": unique("TAG")})).json()
        assert (plain["type"], plain["status"], plain["invoicable"], plain["driver_id"], plain["visual_number"]) == \
            ("ISO14443", "Accepted", False, None, None)

        assert (await api.get(f"/api/v1/id-tokens/{token['id']}")).json() == token

        # PATCH: only what is sent changes; null clears
        r = await api.patch(f"/api/v1/id-tokens/{token['id']}", json={"status": "Blocked", "visual_number": None,
                                                                         "driver_id": None})
        assert r.status_code == 200, r.text
        patched = r.json()
        assert (patched["status"], patched["visual_number"], patched["driver_id"]) == ("Blocked", None, None)
        assert (patched["uid"], patched["type"], patched["invoicable"], patched["expires_at"]) == \
            (uid, "eMAID", True, token["expires_at"])
        assert utc(patched["updated_at"]) > utc(token["updated_at"])
        r = await api.patch(f"/api/v1/id-tokens/{token['id']}", json={"driver_id": driver["id"], "uid": uid + "X"})
        assert (r.json()["driver_id"], r.json()["uid"]) == (driver["id"], uid + "X")
        r = await api.patch(f"/api/v1/id-tokens/{token['id']}", json={})
        assert r.status_code == 200 and r.json()["uid"] == uid + "X"

        # DELETE
        assert (await api.delete(f"/api/v1/id-tokens/{token['id']}")).status_code == 204
        assert_error(await api.get(f"/api/v1/id-tokens/{token['id']}"), 404, "not_found")
        assert_error(await api.delete(f"/api/v1/id-tokens/{token['id']}"), 404, "not_found")
        assert_error(await api.patch(f"/api/v1/id-tokens/{token['id']}", json={"status": "Accepted"}), 404,
                     "not_found")


async def test_id_token_validation_and_conflicts(server):
    async with server.api() as api:
        taken = await server.add_tag()
        token = (await api.post("/api/v1/id-tokens", json={"uid": unique("TAG"), "valid_from": "2030-01-01T00:00:00Z"}
                                )).json()
        url = f"/api/v1/id-tokens/{token['id']}"

        # 409: a uid in use, on create and on rename
        assert_error(await api.post("/api/v1/id-tokens", json={"uid": taken}), 409, "conflict")
        assert_error(await api.patch(url, json={"uid": taken}), 409, "conflict")
        assert (await api.patch(url, json={"uid": token["uid"]})).status_code == 200  # its own uid is no conflict

        # 422 naming the field
        cases = [
            ({"uid": ""}, "uid"), ({"uid": "x" * 37}, "uid"), ({"uid": "a\u0000b"}, "uid"), ({}, "uid"),
            ({"uid": "ok", "type": "Barcode"}, "type"), ({"uid": "ok", "status": "ConcurrentTx"}, "status"),
            ({"uid": "ok", "valid_from": "soon"}, "valid_from"),
            ({"uid": "ok", "valid_from": "0001-01-01T00:00:00+01:00"}, "valid_from"),
            ({"uid": "ok", "expires_at": "9999-12-31T23:59:59-01:00"}, "expires_at"),
            ({"uid": "ok", "valid_from": "2030-01-02T00:00:00Z", "expires_at": "2030-01-01T00:00:00Z"}, "expires_at"),
            ({"uid": "ok", "valid_from": "2030-01-01T00:00:00Z", "expires_at": "2030-01-01T00:00:00Z"}, "expires_at"),
            ({"uid": "ok", "driver_id": 987654321}, "driver_id"), ({"uid": "ok", "driver_id": BIG}, "driver_id"),
            ({"uid": "ok", "driver_id": "one"}, "driver_id"), ({"uid": "ok", "invoicable": "perhaps"}, "invoicable"),
            ({"uid": "ok", "visual_number": "v" * 65}, "visual_number"),
            ({"uid": "ok", "parent_id_tag": "p" * 37}, "parent_id_tag"), ({"uid": "ok", "colour": "red"}, "colour"),
        ]
        for body, field in cases:
            assert_invalid(await api.post("/api/v1/id-tokens", json=body), field)
        for body, field in [({"uid": None}, "uid"), ({"status": None}, "status"), ({"type": None}, "type"),
                            ({"invoicable": None}, "invoicable"), ({"status": "Lost"}, "status"),
                            ({"expires_at": "2029-12-31T00:00:00Z"}, "expires_at"),  # before the stored valid_from
                            ({"valid_from": "2031-01-01T00:00:00Z", "expires_at": "2030-06-01T00:00:00Z"},
                             "expires_at"),
                            ({"driver_id": 987654321}, "driver_id"), ({"uid": "x\u0000"}, "uid"),
                            ({"id": 5}, "id")]:
            assert_invalid(await api.patch(url, json=body), field)
        # clearing valid_from makes an earlier expiry fine
        r = await api.patch(url, json={"valid_from": None, "expires_at": "2029-12-31T00:00:00Z"})
        assert r.status_code == 200 and r.json()["valid_from"] is None

        # ids out of range or not numbers are 422; unknown ones 404
        for path in (f"/api/v1/id-tokens/{BIG}", "/api/v1/id-tokens/0", "/api/v1/id-tokens/abc"):
            assert_invalid(await api.get(path), "token_id")
        assert_error(await api.get("/api/v1/id-tokens/987654321"), 404, "not_found")
        assert_invalid(await api.get("/api/v1/id-tokens", params={"uid": "a\u0000"}), "uid")
        assert_invalid(await api.get("/api/v1/id-tokens", params={"driver_id": BIG}), "driver_id")
        assert_invalid(await api.get("/api/v1/id-tokens", params={"status": "Lost"}), "status")
        r = await api.patch(url, content=b"{nope", headers={"content-type": "application/json"})
        assert r.status_code == 422


async def test_id_token_filters_and_lookup_by_uid(server):
    async with server.api() as api:
        driver = await new_driver(api)
        uids = [unique("TAG") for _ in range(5)]
        for i, uid in enumerate(uids):
            r = await api.post("/api/v1/id-tokens", json={"uid": uid, "driver_id": driver["id"],
                                                          "status": "Blocked" if i % 2 else "Accepted"})
            assert r.status_code == 201
        (found,) = (await api.get("/api/v1/id-tokens", params={"uid": uids[2]})).json()["data"]
        assert found["uid"] == uids[2] and found["driver_id"] == driver["id"]
        assert (await api.get("/api/v1/id-tokens", params={"uid": "NO-SUCH-TAG"})).json() == \
            {"data": [], "next_cursor": None}
        mine = await collect(api, "/api/v1/id-tokens", driver_id=driver["id"])
        assert [t["uid"] for t in mine] == uids
        blocked = await collect(api, "/api/v1/id-tokens", limit=1, driver_id=driver["id"], status="Blocked")
        assert [t["uid"] for t in blocked] == [uids[1], uids[3]]
        everything = await collect(api, "/api/v1/id-tokens", limit=50)
        assert set(uids) <= {t["uid"] for t in everything}
        assert {t["status"] for t in await collect(api, "/api/v1/id-tokens", limit=50, status="Blocked")} == \
            {"Blocked"}


# --- driver groups ------------------------------------------------------------------------
async def test_driver_groups(server):
    async with server.api() as api:
        ext = unique("EXT")
        r = await api.post("/api/v1/driver-groups", json={"name": "  Employees  ", "external_id": ext})
        assert r.status_code == 201, r.text
        group = r.json()
        assert (group["name"], group["external_id"]) == ("Employees", ext)
        url = f"/api/v1/driver-groups/{group['id']}"
        assert (await api.get(url)).json() == group
        r = await api.patch(url, json={"name": "Staff", "external_id": None})
        assert (r.json()["name"], r.json()["external_id"]) == ("Staff", None)
        assert (await api.patch(url, json={"external_id": ext})).json()["external_id"] == ext
        (listed,) = (await api.get("/api/v1/driver-groups", params={"external_id": ext})).json()["data"]
        assert listed["id"] == group["id"]
        others = [await new_group(api, "driver-groups") for _ in range(3)]
        ids = [g["id"] for g in await collect(api, "/api/v1/driver-groups")]
        assert {group["id"], *(g["id"] for g in others)} <= set(ids)

        for body, field in [({}, "name"), ({"name": ""}, "name"), ({"name": "   "}, "name"),
                            ({"name": "x" * 256}, "name"), ({"name": "a\u0000"}, "name"),
                            ({"name": "n", "external_id": "e" * 101}, "external_id"),
                            ({"name": "n", "external_id": ""}, "external_id"), ({"name": "n", "kind": 1}, "kind")]:
            assert_invalid(await api.post("/api/v1/driver-groups", json=body), field)
        assert_invalid(await api.patch(url, json={"name": None}), "name")
        assert_invalid(await api.get(f"/api/v1/driver-groups/{BIG}"), "group_id")
        assert_error(await api.get("/api/v1/driver-groups/987654321"), 404, "not_found")
        assert_error(await api.patch("/api/v1/driver-groups/987654321", json={"name": "x"}), 404, "not_found")

        # deleting a group leaves its drivers, with no home group
        driver = await new_driver(api, home_group_id=group["id"])
        assert driver["home_group"] == {"id": group["id"], "name": "Staff"}
        assert (await api.delete(url)).status_code == 204
        assert_error(await api.get(url), 404, "not_found")
        assert_error(await api.delete(url), 404, "not_found")
        assert (await api.get(f"/api/v1/drivers/{driver['id']}")).json()["home_group"] is None


# --- charger groups -----------------------------------------------------------------------
async def test_charger_groups_and_members(server):
    cp1, cp2 = await server.add_station(), await server.add_station()
    async with server.api() as api:
        r = await api.post("/api/v1/charger-groups", json={"name": "Depot", "external_id": "DEPOT-1"})
        assert r.status_code == 201, r.text
        group = r.json()
        assert group["charge_point_ids"] == [] and group["external_id"] == "DEPOT-1"
        url = f"/api/v1/charger-groups/{group['id']}"

        for cp in (cp2, cp1, cp1):  # idempotent
            r = await api.put(f"{url}/charge-points/{cp}")
            assert r.status_code == 200, r.text
        assert r.json()["charge_point_ids"] == sorted([cp1, cp2])
        assert (await api.get(url)).json()["charge_point_ids"] == sorted([cp1, cp2])
        (listed,) = (await api.get("/api/v1/charger-groups", params={"charge_point_id": cp1})).json()["data"]
        assert listed["id"] == group["id"] and listed["charge_point_ids"] == sorted([cp1, cp2])

        other = await new_group(api, "charger-groups")
        await api.put(f"/api/v1/charger-groups/{other['id']}/charge-points/{cp1}")
        in_groups = await collect(api, "/api/v1/charger-groups", limit=1, charge_point_id=cp1)
        assert [g["id"] for g in in_groups] == [group["id"], other["id"]]

        assert_error(await api.put(f"{url}/charge-points/NO-SUCH-CP"), 404, "not_found")
        assert_error(await api.put(f"/api/v1/charger-groups/987654321/charge-points/{cp1}"), 404, "not_found")
        assert_invalid(await api.put(f"{url}/charge-points/a%00b"), "charge_point_id")
        assert_invalid(await api.put(f"{url}/charge-points/{'x' * 49}"), "charge_point_id")

        r = await api.delete(f"{url}/charge-points/{cp2}")
        assert r.status_code == 200 and r.json()["charge_point_ids"] == [cp1]
        assert_error(await api.delete(f"{url}/charge-points/{cp2}"), 404, "not_found")

        r = await api.patch(url, json={"name": "Depot North"})
        assert (r.json()["name"], r.json()["external_id"], r.json()["charge_point_ids"]) == \
            ("Depot North", "DEPOT-1", [cp1])
        assert_invalid(await api.patch(url, json={"name": ""}), "name")
        assert_invalid(await api.patch(url, json={"charge_point_ids": [cp1]}), "charge_point_ids")
        assert_invalid(await api.post("/api/v1/charger-groups", json={"external_id": "x"}), "name")

        assert (await api.delete(url)).status_code == 204
        assert_error(await api.get(url), 404, "not_found")
        assert (await api.get(f"/api/v1/charge-points/{cp1}")).status_code == 200  # chargers stay
        (left,) = (await api.get("/api/v1/charger-groups", params={"charge_point_id": cp1})).json()["data"]
        assert left["id"] == other["id"]


# --- drivers ------------------------------------------------------------------------------
async def test_driver_crud(server):
    async with server.api() as api:
        home = await new_group(api, "driver-groups", name="Home team")
        ext = unique("EMP")
        r = await api.post("/api/v1/drivers", json={"name": "Ada Lovelace", "email": "ada@example.com",
                                                    "external_id": ext, "home_group_id": home["id"]})
        assert r.status_code == 201, r.text
        driver = r.json()
        assert {k: driver[k] for k in ("name", "email", "external_id", "home_group", "tags")} == {
            "name": "Ada Lovelace", "email": "ada@example.com", "external_id": ext,
            "home_group": {"id": home["id"], "name": "Home team"}, "tags": []}
        url = f"/api/v1/drivers/{driver['id']}"

        tag = await server.add_tag(driver_id=driver["id"], visual_number="CARD-1", invoicable=True)
        got = (await api.get(url)).json()
        (t,) = got["tags"]
        assert (t["uid"], t["visual_number"], t["invoicable"], t["status"]) == (tag, "CARD-1", True, "Accepted")

        r = await api.patch(url, json={"email": "ADA@example.org", "home_group_id": None})
        assert r.status_code == 200, r.text
        assert (r.json()["email"], r.json()["home_group"], r.json()["name"], r.json()["external_id"]) == \
            ("ADA@example.org", None, "Ada Lovelace", ext)
        assert len(r.json()["tags"]) == 1
        r = await api.patch(url, json={"home_group_id": home["id"], "external_id": ext})  # its own: no conflict
        assert r.status_code == 200 and r.json()["home_group"]["id"] == home["id"]

        # external_id is unique among drivers
        assert_error(await api.post("/api/v1/drivers", json={"name": "Copy", "external_id": ext}), 409, "conflict")
        other = await new_driver(api, external_id=unique("EMP"))
        assert_error(await api.patch(f"/api/v1/drivers/{other['id']}", json={"external_id": ext}), 409, "conflict")
        assert (await api.patch(f"/api/v1/drivers/{other['id']}", json={"external_id": None})).status_code == 200
        assert (await api.post("/api/v1/drivers", json={"name": "No ext"})).status_code == 201  # many without one
        assert (await api.post("/api/v1/drivers", json={"name": "No ext"})).status_code == 201

        for body, field in [({}, "name"), ({"name": ""}, "name"), ({"name": " "}, "name"),
                            ({"name": "x" * 256}, "name"),
                            ({"name": "n", "email": "nope"}, "email"), ({"name": "n", "email": "a@b"}, "email"),
                            ({"name": "n", "email": "a b@c.fi"}, "email"),
                            ({"name": "n", "email": "a@b.fi\u0000"}, "email"),
                            ({"name": "n", "external_id": "e" * 101}, "external_id"),
                            ({"name": "n", "home_group_id": 987654321}, "home_group_id"),
                            ({"name": "n", "home_group_id": BIG}, "home_group_id"),
                            ({"name": "n", "home_group_id": -1}, "home_group_id"),
                            ({"name": "n", "tags": []}, "tags")]:
            assert_invalid(await api.post("/api/v1/drivers", json=body), field)
        for body, field in [({"name": None}, "name"), ({"email": "x"}, "email"),
                            ({"home_group_id": 987654321}, "home_group_id")]:
            assert_invalid(await api.patch(url, json=body), field)
        assert_error(await api.get("/api/v1/drivers/987654321"), 404, "not_found")
        assert_error(await api.patch("/api/v1/drivers/987654321", json={"name": "x"}), 404, "not_found")
        assert_invalid(await api.get("/api/v1/drivers/x"), "driver_id")

        # deleting a driver keeps their tags, with no driver
        assert (await api.delete(url)).status_code == 204
        assert_error(await api.get(url), 404, "not_found")
        assert_error(await api.delete(url), 404, "not_found")
        (kept,) = (await api.get("/api/v1/id-tokens", params={"uid": tag})).json()["data"]
        assert kept["driver_id"] is None
        assert_invalid(await api.patch(f"/api/v1/id-tokens/{kept['id']}", json={"driver_id": driver["id"]}),
                       "driver_id")


async def test_driver_filters_and_pagination(server):
    async with server.api() as api:
        group = await new_group(api, "driver-groups")
        email = f"{unique('m').lower()}@example.com"
        drivers = [await new_driver(api, home_group_id=group["id"], external_id=unique("EXT"),
                                    email=email if i == 1 else None) for i in range(5)]
        await new_driver(api)  # in no group
        listed = await collect(api, "/api/v1/drivers", limit=2, home_group_id=group["id"])
        assert [d["id"] for d in listed] == [d["id"] for d in drivers]
        assert all(d["home_group"]["id"] == group["id"] for d in listed)
        (by_ext,) = (await api.get("/api/v1/drivers", params={"external_id": drivers[3]["external_id"]})).json()["data"]
        assert by_ext["id"] == drivers[3]["id"]
        (by_email,) = (await api.get("/api/v1/drivers", params={"email": email.upper()})).json()["data"]
        assert by_email["id"] == drivers[1]["id"]
        assert (await api.get("/api/v1/drivers", params={"home_group_id": 987654321})).json()["data"] == []
        everyone = await collect(api, "/api/v1/drivers", limit=7)
        assert {d["id"] for d in drivers} <= {d["id"] for d in everyone}
        assert_invalid(await api.get("/api/v1/drivers", params={"home_group_id": "x"}), "home_group_id")
        assert_invalid(await api.get("/api/v1/drivers", params={"limit": 501}), "limit")
        assert_invalid(await api.get("/api/v1/drivers", params={"cursor": "garbage"}), "cursor")
        assert_invalid(await api.get("/api/v1/drivers", params={"email": "a\u0000"}), "email")


async def test_viewer_reads_but_cannot_write(server):
    async with server.api() as admin:
        viewer = (await admin.post("/api/v1/api-keys", json={"name": "viewer", "role": "viewer"})).json()["key"]
        operator = (await admin.post("/api/v1/api-keys", json={"name": "ops", "role": "operator"})).json()["key"]
        driver = await new_driver(admin)
        dgroup = await new_group(admin, "driver-groups")
        cgroup = await new_group(admin, "charger-groups")
        tag = (await admin.post("/api/v1/id-tokens", json={"uid": unique("TAG")})).json()
    cp = await server.add_station()
    reads = ["/api/v1/drivers", f"/api/v1/drivers/{driver['id']}", "/api/v1/driver-groups",
             f"/api/v1/driver-groups/{dgroup['id']}", "/api/v1/charger-groups",
             f"/api/v1/charger-groups/{cgroup['id']}",
             "/api/v1/access-rights", "/api/v1/id-tokens", f"/api/v1/id-tokens/{tag['id']}",
             f"/api/v1/charge-points/{cp}/authorized-drivers"]
    writes = [("POST", "/api/v1/drivers", {"name": "x"}), ("PATCH", f"/api/v1/drivers/{driver['id']}", {"name": "y"}),
              ("DELETE", f"/api/v1/drivers/{driver['id']}", None), ("POST", "/api/v1/driver-groups", {"name": "x"}),
              ("PATCH", f"/api/v1/driver-groups/{dgroup['id']}", {"name": "y"}),
              ("DELETE", f"/api/v1/driver-groups/{dgroup['id']}", None),
              ("POST", "/api/v1/charger-groups", {"name": "x"}),
              ("PATCH", f"/api/v1/charger-groups/{cgroup['id']}", {"name": "y"}),
              ("DELETE", f"/api/v1/charger-groups/{cgroup['id']}", None),
              ("PUT", f"/api/v1/charger-groups/{cgroup['id']}/charge-points/{cp}", None),
              ("DELETE", f"/api/v1/charger-groups/{cgroup['id']}/charge-points/{cp}", None),
              ("POST", "/api/v1/access-rights", {"driver_group_id": dgroup["id"], "charger_group_id": cgroup["id"]}),
              ("DELETE", "/api/v1/access-rights/1", None),
              ("POST", "/api/v1/id-tokens", {"uid": unique("TAG")}),
              ("PATCH", f"/api/v1/id-tokens/{tag['id']}", {"status": "Blocked"}),
              ("DELETE", f"/api/v1/id-tokens/{tag['id']}", None)]
    async with server.api(viewer) as v:
        for path in reads:
            assert (await v.get(path)).status_code == 200, path
        for method, path, body in writes:
            r = await v.request(method, path, json=body)
            assert_error(r, 403, "forbidden")
    async with httpx.AsyncClient(base_url=server.http_url) as anon:
        assert_error(await anon.get("/api/v1/drivers"), 401, "unauthorized")
    async with server.api(operator) as o:  # an operator may write
        assert (await o.patch(f"/api/v1/drivers/{driver['id']}", json={"name": "By ops"})).status_code == 200
        assert (await o.put(f"/api/v1/charger-groups/{cgroup['id']}/charge-points/{cp}")).status_code == 200


async def test_every_new_endpoint_is_documented_with_examples(server):
    async with httpx.AsyncClient(base_url=server.http_url) as anon:
        spec = (await anon.get("/api/openapi.json")).json()
    paths = spec["paths"]
    expected = {
        "/api/v1/id-tokens": {"get", "post"}, "/api/v1/id-tokens/{token_id}": {"get", "patch", "delete"},
        "/api/v1/drivers": {"get", "post"}, "/api/v1/drivers/{driver_id}": {"get", "patch", "delete"},
        "/api/v1/driver-groups": {"get", "post"}, "/api/v1/driver-groups/{group_id}": {"get", "patch", "delete"},
        "/api/v1/charger-groups": {"get", "post"}, "/api/v1/charger-groups/{group_id}": {"get", "patch", "delete"},
        "/api/v1/charger-groups/{group_id}/charge-points/{charge_point_id}": {"put", "delete"},
        "/api/v1/access-rights": {"get", "post"}, "/api/v1/access-rights/{right_id}": {"get", "delete"},
        "/api/v1/charge-points/{charge_point_id}/authorized-drivers": {"get"},
    }
    schemas = spec["components"]["schemas"]
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
        for method in methods & {"post", "patch"}:
            ref = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            schema = schemas[ref.rsplit("/", 1)[1]]
            assert schema.get("examples") and schema.get("additionalProperties") is False, (path, method)


async def test_external_id_stays_unique_under_concurrent_writes(server):
    """No unique index backs drivers.external_id: the service must serialise its check and write."""
    ext = unique("RACE")
    async with server.api() as api:
        answers = await asyncio.gather(*(api.post("/api/v1/drivers", json={"name": f"Racer {i}", "external_id": ext})
                                         for i in range(8)))
        assert sorted(r.status_code for r in answers) == [201] + [409] * 7, [r.text for r in answers]
        assert len((await api.get("/api/v1/drivers", params={"external_id": ext})).json()["data"]) == 1
