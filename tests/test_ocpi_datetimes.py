"""OCPI DateTimes: one format out (UTC, Z, at most milliseconds: OCPI's string(25)), and list
filters whose date_from/date_to mix a zone and none (none is UTC, as OCPI says) answered, not 500."""

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from conftest import READY_BOUND_S, unique
from ocpi_peer import check, header, register, running_peer
from wattson.ocpi.transport import OcpiError, iso, page_request, with_iso_times


def test_one_format_without_microseconds():
    at = datetime(2026, 12, 3, 10, 0, 0, 123456, tzinfo=timezone.utc)
    assert iso(at) == "2026-12-03T10:00:00.123Z"
    assert iso(at.replace(microsecond=0)) == "2026-12-03T10:00:00Z"
    assert iso(at.replace(microsecond=999)) == "2026-12-03T10:00:00Z"  # cut, never rounded up
    assert iso(datetime(2026, 12, 3, 11, 0, 0, 500000, tzinfo=timezone(timedelta(hours=1)))) == \
        "2026-12-03T10:00:00.500Z"
    assert iso(datetime(2026, 12, 3, 10, 0)) == "2026-12-03T10:00:00Z"  # no zone: UTC
    assert iso("2026-12-03T10:00:00.123456+00:00") == "2026-12-03T10:00:00.123Z"
    assert max(len(iso(at + timedelta(microseconds=us))) for us in range(0, 10**6, 997)) <= 25


def test_stored_bodies_get_the_same_format_at_any_depth():
    body = {"start_date_time": "2026-12-03T10:00:00.123456Z", "end_date_time": None, "last_updated": "not a time",
            "charging_periods": [{"start_date_time": "2026-12-03T10:00:00.654321+00:00", "dimensions": []}],
            "tariffs": [{"id": "T", "last_updated": "2026-12-03T09:59:59.999999Z"}], "total_energy": 1.5}
    assert with_iso_times(body) == {
        "start_date_time": "2026-12-03T10:00:00.123Z", "end_date_time": None, "last_updated": "not a time",
        "charging_periods": [{"start_date_time": "2026-12-03T10:00:00.654Z", "dimensions": []}],
        "tariffs": [{"id": "T", "last_updated": "2026-12-03T09:59:59.999Z"}], "total_energy": 1.5}


def test_paging_compares_zoned_and_zoneless_times_in_utc():
    zoned = datetime(2026, 12, 3, 10, 30, tzinfo=timezone(timedelta(hours=1)))  # 09:30 UTC
    page = page_request(datetime(2026, 12, 3, 9, 0), zoned, None, None, 100)
    assert page.date_from == datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    assert page.date_to == datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)
    with pytest.raises(OcpiError):  # 10:00 UTC is after 09:30 UTC
        page_request(datetime(2026, 12, 3, 10, 0), zoned, None, None, 100)


async def test_list_endpoints_take_a_zoned_and_a_zoneless_bound_together(server):
    async with running_peer() as peer, server.api() as api, \
            httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as ocpi:
        tariff_id = unique("Z")
        r = await api.post("/api/v1/tariffs", json={"id": tariff_id, "currency": "EUR", "elements": [
            {"price_components": [{"type": "FLAT", "price": 1, "step_size": 1}]}]})
        assert r.status_code == 201, r.text
        await register(server, peer, api)
        auth = header(peer.wattson_token)
        now = datetime.now(timezone.utc)
        before = (now - timedelta(hours=1)).replace(tzinfo=None).isoformat(timespec="seconds")  # UTC, no zone
        after = (now + timedelta(hours=1)).astimezone(timezone(timedelta(hours=2))).isoformat(timespec="seconds")
        for module in ("locations", "tariffs", "sessions", "cdrs"):
            for params in ({"date_from": before, "date_to": after}, {"date_from": after.replace("+02:00", "Z"),
                                                                    "date_to": before}):
                r = await ocpi.get(f"/ocpi/2.2.1/{module}", headers=auth, params=params)
                assert r.status_code in (200, 400), (module, params, r.status_code, r.text)
                check("Envelope", r.json())
        r = await ocpi.get("/ocpi/2.2.1/tariffs", headers=auth, params={"date_from": before, "date_to": after})
        assert r.status_code == 200 and r.json()["status_code"] == 1000
        [tariff] = [t for t in r.json()["data"] if t["id"] == tariff_id]
        check("Tariff", tariff)
        assert len(tariff["last_updated"]) <= 25 and tariff["last_updated"].endswith("Z")
        # A zoneless bound is UTC: "now + 1 h" written without a zone is after "now - 1 h" in +02:00
        # (which, read as local time, it would not be on a machine east of UTC).
        late = (now + timedelta(hours=1)).replace(tzinfo=None).isoformat(timespec="seconds")
        early = (now - timedelta(hours=1)).astimezone(timezone(timedelta(hours=2))).isoformat(timespec="seconds")
        r = await ocpi.get("/ocpi/2.2.1/tariffs", headers=auth, params={"date_from": late, "date_to": early})
        assert r.status_code == 400 and r.json()["status_code"] == 2001, r.text
        r = await ocpi.get("/ocpi/2.2.1/tariffs", headers=auth, params={"date_from": early, "date_to": late})
        assert tariff_id in [t["id"] for t in r.json()["data"]]
        r = await ocpi.get("/ocpi/2.2.1/tariffs", headers=auth,
                           params={"date_from": "9999-12-31T23:59:59-01:00", "date_to": before})
        assert r.status_code == 400 and r.json()["status_code"] == 2001, r.text
