"""Reservations as a resource: made with ReserveNow, ended by CancelReservation or by the session
that uses them, shown as expired once their time has passed.

Real HTTP against a real server, a raw station answering the central system's CALLs by hand.
"""

import asyncio
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from conftest import READY_BOUND_S
from ocpp_client import now
from test_commands import error_of, no_call, online, receive_call
from wattson.stations.reservations import effective_status

LATER = "2030-05-01T10:00:00Z"


def reserve(api, cp_id: str, body: dict) -> asyncio.Task:
    return asyncio.create_task(api.post(f"/api/v1/charge-points/{cp_id}/reservations", json=body))


async def reserved(st, api, cp_id: str, body: dict, answer: str = "Accepted"):
    """POST a reservation, play the station answering ``answer``; (HTTP response, ReserveNow frame)."""
    http = reserve(api, cp_id, body)
    frame = await receive_call(st, http)
    assert frame[2] == "ReserveNow", frame
    await st.answer(frame, {"status": answer})
    return await http, frame


async def listed(api, **params) -> list[dict]:
    r = await api.get("/api/v1/reservations", params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


# --- effective_status -------------------------------------------------------------------------

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("stored, expires_at, shown", [
    ("active", T0 + timedelta(seconds=1), "active"),
    ("active", T0, "expired"),
    ("active", T0 - timedelta(hours=1), "expired"),
    ("cancelled", T0 - timedelta(hours=1), "cancelled"),
    ("used", T0 - timedelta(hours=1), "used"),
    ("rejected", T0 + timedelta(hours=1), "rejected"),
])
def test_effective_status(stored, expires_at, shown):
    assert effective_status(SimpleNamespace(status=stored, expires_at=expires_at), T0) == shown


# --- over HTTP --------------------------------------------------------------------------------

async def test_an_accepted_reservation_is_active_and_listed(server):
    async with online(server) as (cp, st, api):
        r, frame = await reserved(st, api, cp, {"evse": 1, "id_tag": "R1", "expires_at": "2030-05-01T12:00:00+02:00",
                                                "parent_id_tag": "FLEET"})
        assert r.status_code == 201, r.text
        body = r.json()
        assert frame[3] == {"connectorId": 1, "expiryDate": "2030-05-01T10:00:00.000Z", "idTag": "R1",
                            "reservationId": body["id"], "parentIdTag": "FLEET"}
        assert body["status"] == "active" and body["charge_point_id"] == cp and body["evse"] == 1
        assert body["id_tag"] == "R1" and body["parent_id_tag"] == "FLEET" and body["session_id"] is None
        assert datetime.fromisoformat(body["expires_at"]) == datetime(2030, 5, 1, 10, tzinfo=timezone.utc)
        command = (await api.get(f"/api/v1/commands/{body['command_id']}")).json()
        assert command["name"] == "reserve-now" and command["status"] == "Accepted"

        assert (await api.get(f"/api/v1/reservations/{body['id']}")).json() == body
        assert [x["id"] for x in await listed(api, charge_point_id=cp)] == [body["id"]]
        assert [x["id"] for x in await listed(api, charge_point_id=cp, status="active", id_tag="R1")] == [body["id"]]
        assert await listed(api, charge_point_id=cp, status="cancelled") == []
        assert await listed(api, charge_point_id=cp, id_tag="OTHER") == []


async def test_the_list_pages_newest_first(server):
    async with online(server) as (cp, st, api):
        ids = []
        for n in range(3):
            r, _ = await reserved(st, api, cp, {"id_tag": f"P{n}", "expires_at": LATER})
            ids.append(r.json()["id"])
        r = await api.get("/api/v1/reservations", params={"charge_point_id": cp, "limit": 2})
        first = r.json()
        assert [x["id"] for x in first["data"]] == ids[:0:-1] and first["next_cursor"]
        r = await api.get("/api/v1/reservations", params={"charge_point_id": cp, "limit": 2,
                                                          "cursor": first["next_cursor"]})
        assert [x["id"] for x in r.json()["data"]] == [ids[0]] and r.json()["next_cursor"] is None


@pytest.mark.parametrize("answer", ["Occupied", "Rejected", "Faulted", "Unavailable"])
async def test_a_refused_reservation_is_409_and_recorded_rejected(server, answer):
    async with online(server) as (cp, st, api):
        r, frame = await reserved(st, api, cp, {"id_tag": "R2", "expires_at": LATER}, answer)
        error = error_of(r, 409, "conflict")
        assert error["details"]["station_status"] == answer
        reservation = error["details"]["reservation"]
        assert reservation["id"] == frame[3]["reservationId"] and reservation["status"] == "rejected"
        assert [x["status"] for x in await listed(api, charge_point_id=cp)] == ["rejected"]
        assert [x["id"] for x in await listed(api, charge_point_id=cp, status="rejected")] == [reservation["id"]]


async def test_cancel_sends_cancel_reservation_and_cancels(server):
    async with online(server) as (cp, st, api):
        r, _ = await reserved(st, api, cp, {"evse": 1, "id_tag": "R3", "expires_at": LATER})
        reservation_id = r.json()["id"]
        http = asyncio.create_task(api.delete(f"/api/v1/reservations/{reservation_id}"))
        frame = await receive_call(st, http)
        assert frame[2:] == ["CancelReservation", {"reservationId": reservation_id}]
        await st.answer(frame, {"status": "Accepted"})
        r = await http
        assert r.status_code == 204, r.text
        assert (await api.get(f"/api/v1/reservations/{reservation_id}")).json()["status"] == "cancelled"
        # Cancelled is final: a second cancel sends nothing.
        error = error_of(await api.delete(f"/api/v1/reservations/{reservation_id}"), 409, "conflict")
        assert error["details"] == {"status": "cancelled"}
        await no_call(st, 0.3)


async def test_a_refused_cancel_is_409_and_keeps_it_active(server):
    async with online(server) as (cp, st, api):
        r, _ = await reserved(st, api, cp, {"id_tag": "R4", "expires_at": LATER})
        reservation_id = r.json()["id"]
        http = asyncio.create_task(api.delete(f"/api/v1/reservations/{reservation_id}"))
        frame = await receive_call(st, http)
        await st.answer(frame, {"status": "Rejected"})
        error = error_of(await http, 409, "conflict")
        assert error["details"]["station_status"] == "Rejected"
        assert (await api.get(f"/api/v1/reservations/{reservation_id}")).json()["status"] == "active"


async def test_a_start_with_the_reservation_uses_it(server):
    async with online(server) as (cp, st, api):
        tag = await server.add_tag()
        r, _ = await reserved(st, api, cp, {"evse": 1, "id_tag": tag, "expires_at": LATER})
        reservation_id = r.json()["id"]
        await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": now(),
                                         "reservationId": reservation_id})
        (session,) = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]
        used = (await api.get(f"/api/v1/reservations/{reservation_id}")).json()
        assert used["status"] == "used" and used["session_id"] == session["id"]
        assert [x["id"] for x in await listed(api, charge_point_id=cp, status="used")] == [reservation_id]
        error_of(await api.delete(f"/api/v1/reservations/{reservation_id}"), 409, "conflict")


async def test_a_start_naming_another_stations_reservation_uses_nothing(server):
    async with online(server) as (cp, st, api):
        r, _ = await reserved(st, api, cp, {"id_tag": "R5", "expires_at": LATER})
        reservation_id = r.json()["id"]
        async with online(server) as (_, other, _api):
            await other.ok("StartTransaction", {"connectorId": 1, "idTag": "R5", "meterStart": 0,
                                                "timestamp": now(), "reservationId": reservation_id})
        assert (await api.get(f"/api/v1/reservations/{reservation_id}")).json()["status"] == "active"


async def test_an_active_reservation_past_its_expiry_is_shown_expired(server):
    async with online(server) as (cp, st, api):
        soon = (datetime.now(timezone.utc) + timedelta(seconds=5)).isoformat()  # time to make it, even if busy
        r, _ = await reserved(st, api, cp, {"id_tag": "R6", "expires_at": soon})
        assert r.status_code == 201 and r.json()["status"] == "active", r.text
        reservation_id = r.json()["id"]
        await asyncio.sleep(max(0.0, (datetime.fromisoformat(soon) - datetime.now(timezone.utc)).total_seconds())
                            + 0.2)
        assert (await api.get(f"/api/v1/reservations/{reservation_id}")).json()["status"] == "expired"
        assert [x["id"] for x in await listed(api, charge_point_id=cp, status="expired")] == [reservation_id]
        assert await listed(api, charge_point_id=cp, status="active") == []
        error = error_of(await api.delete(f"/api/v1/reservations/{reservation_id}"), 409, "conflict")
        assert error["details"] == {"status": "expired"}
        await no_call(st, 0.3)


async def test_station_errors_and_silence_are_502_and_504(server):
    async with online(server) as (cp, st, api):
        http = reserve(api, cp, {"id_tag": "R7", "expires_at": LATER})
        frame = await receive_call(st, http)
        await st.ws.send(f'[4, "{frame[1]}", "NotSupported", "no reservations here", {{}}]')
        error = error_of(await http, 502, "station_error")
        assert error["details"]["action"] == "ReserveNow"
        r = await reserve(api, cp, {"id_tag": "R7", "expires_at": LATER})  # never answered
        error_of(r, 504, "station_timeout")
        assert await listed(api, charge_point_id=cp) == []  # nothing the station agreed to


async def test_not_found_invalid_and_offline(server):
    async with online(server) as (cp, st, api):
        error_of(await api.get("/api/v1/reservations/2147483647"), 404, "not_found")
        error_of(await api.delete("/api/v1/reservations/2147483647"), 404, "not_found")
        error_of(await api.get("/api/v1/reservations/2147483648"), 422, "validation_error")
        r = await api.post("/api/v1/charge-points/CP-nowhere/reservations", json={"id_tag": "T", "expires_at": LATER})
        error_of(r, 404, "not_found")
        for body, field in [({"id_tag": "T", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
                            ({"id_tag": "T"}, "expires_at"),
                            ({"id_tag": "", "expires_at": LATER}, "id_tag"),
                            ({"id_tag": "T", "expires_at": LATER, "evse": -1}, "evse"),
                            ({"id_tag": "T", "expires_at": LATER, "reservation_id": 5}, "reservation_id")]:
            error = error_of(await api.post(f"/api/v1/charge-points/{cp}/reservations", json=body),
                             422, "validation_error")
            assert any(d["field"].endswith(field) for d in error["details"]), (body, error)
        error_of(await api.get("/api/v1/reservations", params={"status": "pending"}), 422, "validation_error")
        await no_call(st, 0.2)
        r, _ = await reserved(st, api, cp, {"id_tag": "T", "expires_at": LATER})
        reservation_id = r.json()["id"]
    async with server.api() as api:  # the station has gone
        deadline = time.monotonic() + READY_BOUND_S
        while (await api.get(f"/api/v1/charge-points/{cp}")).json()["network_status"] != "offline":
            assert time.monotonic() < deadline, "the server did not notice the disconnection"
            await asyncio.sleep(0.05)
        r = await api.post(f"/api/v1/charge-points/{cp}/reservations", json={"id_tag": "T", "expires_at": LATER})
        error_of(r, 409, "station_offline")
        error_of(await api.delete(f"/api/v1/reservations/{reservation_id}"), 409, "station_offline")
        assert (await api.get(f"/api/v1/reservations/{reservation_id}")).json()["status"] == "active"


async def test_viewer_reads_but_cannot_write(server):
    async with online(server) as (cp, st, api):
        r, _ = await reserved(st, api, cp, {"id_tag": "R8", "expires_at": LATER})
        reservation_id = r.json()["id"]
        created = await api.post("/api/v1/api-keys", json={"name": "v", "role": "viewer"})
        assert created.status_code == 201, created.text
        async with server.api(created.json()["key"]) as viewer:
            error_of(await viewer.post(f"/api/v1/charge-points/{cp}/reservations",
                                       json={"id_tag": "T", "expires_at": LATER}), 403, "forbidden")
            error_of(await viewer.delete(f"/api/v1/reservations/{reservation_id}"), 403, "forbidden")
            assert (await viewer.get(f"/api/v1/reservations/{reservation_id}")).status_code == 200
            assert [x["id"] for x in await listed(viewer, charge_point_id=cp)] == [reservation_id]
        await no_call(st, 0.2)
