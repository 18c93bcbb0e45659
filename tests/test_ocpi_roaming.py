"""Roaming end to end: an eMSP (tests/ocpi_peer.py: an httpx client and a loopback server)
registers, pulls locations and tariffs, pushes a token, starts a session on a station with
START_SESSION, receives the command result, the session updates and the CDR at its receiver
endpoints, pulls sessions (across pages) and CDRs; a NEVER-whitelisted token is authorised in real
time. Every OCPI object is checked against tests/ocpi_schemas."""

import asyncio
import time
from datetime import datetime, timedelta, timezone

import httpx

from conftest import READY_BOUND_S, unique, until
from ocpp_client import now, station
from ocpi_peer import check, header, register, running_peer


def token(uid: str, whitelist: str = "ALWAYS") -> dict:
    return {"country_code": "DE", "party_id": "EMS", "uid": uid, "type": "RFID", "contract_id": f"DE-EMS-{uid}"[:36],
            "issuer": "Test eMSP", "valid": True, "whitelist": whitelist, "last_updated": now()}


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def times_of(value) -> list[str]:
    """Every string of ``value``, at any depth, that reads as a date and time."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in times_of(v)]
    if isinstance(value, list):
        return [t for v in value for t in times_of(v)]
    return [value] if isinstance(value, str) and len(value) > 18 and value[4:5] == "-" and value[10:11] == "T" else []


def assert_ocpi_times(value) -> None:
    """OCPI DateTime is string(25): UTC with a Z, never microseconds (a CDR carries a dozen)."""
    times = times_of(value)
    assert times and all(len(t) <= 25 and t.endswith("Z") for t in times), times


async def roaming_site(api) -> tuple[int, str, int, str]:
    """A published location with one charge point (EVSE 1, a Type 2 socket) and its own tariff."""
    r = await api.post("/api/v1/locations", json={
        "name": "Harbour", "street": "Kade", "house_number": "7", "city": "Amsterdam", "postal_code": "1011AB",
        "country": "NL", "latitude": 52.37, "longitude": 4.89, "time_zone": "Europe/Amsterdam",
        "opening_hours": {"twentyfourseven": True}, "parking_type": "ON_STREET"})
    location_id = r.json()["id"]
    cp_id = unique()
    assert (await api.post("/api/v1/charge-points", json={"id": cp_id, "location_id": location_id})).status_code == 201
    r = await api.post(f"/api/v1/charge-points/{cp_id}/evses", json={
        "number": 1, "current_type": "AC", "max_power_w": 11000, "phases": 3,
        "connectors": [{"number": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE"}]})
    assert r.status_code == 201, r.text
    evse_uid = r.json()["id"]
    tariff_id = unique("T")
    r = await api.post("/api/v1/tariffs", json={"id": tariff_id, "currency": "EUR", "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 21, "step_size": 1}]}]})
    assert r.status_code == 201, r.text
    assert (await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff_id,
                                                               "location_id": location_id})).status_code == 201
    return location_id, cp_id, evse_uid, tariff_id


async def test_an_emsp_roams_on_wattson(server):
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    async with running_peer() as peer, server.api() as api, \
            httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as ocpi:
        location_id, cp_id, evse_uid, tariff_id = await roaming_site(api)
        await register(server, peer, api)
        auth = header(peer.wattson_token)

        # Pull: our location, with its EVSE (offline: UNKNOWN) and the tariff that applies there.
        r = await ocpi.get("/ocpi/2.2.1/locations", headers=auth, params={"date_from": iso(since)})
        [location] = [x for x in r.json()["data"] if x["id"] == str(location_id)]
        check("Location", location)
        assert (location["country_code"], location["party_id"], location["country"]) == ("NL", "WAT", "NLD")
        [evse] = location["evses"]
        assert evse["uid"] == str(evse_uid) and evse["status"] == "UNKNOWN"
        assert evse["connectors"][0]["tariff_ids"] == [tariff_id]
        r = await ocpi.get(f"/ocpi/2.2.1/locations/{location_id}/{evse_uid}/1", headers=auth)
        check("Connector", r.json()["data"])
        r = await ocpi.get(f"/ocpi/2.2.1/tariffs", headers=auth, params={"date_from": iso(since)})
        [tariff] = [t for t in r.json()["data"] if t["id"] == tariff_id]
        check("Tariff", tariff)

        # Push tokens: one whitelisted, one to be authorised in real time.
        uid, realtime_uid = unique("R")[:20], unique("N")[:20]
        r = await ocpi.put(f"/ocpi/2.2.1/tokens/DE/EMS/{uid}", headers=auth, json=token(uid))
        assert r.status_code == 201 and r.json()["status_code"] == 1000, r.text
        assert (await ocpi.put(f"/ocpi/2.2.1/tokens/DE/EMS/{uid}", headers=auth, json=token(uid))).status_code == 200
        assert (await ocpi.put(f"/ocpi/2.2.1/tokens/DE/EMS/{realtime_uid}", headers=auth,
                               json=token(realtime_uid, "NEVER"))).status_code == 201
        r = await ocpi.patch(f"/ocpi/2.2.1/tokens/DE/EMS/{uid}", headers=auth,
                             json={"visual_number": "CARD-1", "last_updated": now()})
        assert r.json()["status_code"] == 1000, r.text
        r = await ocpi.get(f"/ocpi/2.2.1/tokens/DE/EMS/{uid}", headers=auth)
        check("Token", r.json()["data"])
        assert r.json()["data"]["visual_number"] == "CARD-1"

        async with station(server.ws_url, cp_id) as st:
            await st.boot()
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})
            pushed = await peer.wait_for("PUT", f"/receiver/locations/NL/WAT/{location_id}",
                                         lambda x: x["body"]["evses"][0]["status"] == "AVAILABLE")
            check("Location", pushed["body"])

            # START_SESSION: accepted at once, the station's answer follows at response_url.
            r = await ocpi.post("/ocpi/2.2.1/commands/START_SESSION", headers=auth, json={
                "response_url": f"{peer.url}/2.2.1/commands/start-1", "token": token(uid),
                "location_id": str(location_id), "evse_uid": str(evse_uid), "authorization_reference": "REF-1"})
            check("CommandResponse", r.json()["data"])
            assert r.json()["data"]["result"] == "ACCEPTED", r.text
            call = await st.next_call()
            assert call[2] == "RemoteStartTransaction" and call[3]["idTag"] == uid and call[3]["connectorId"] == 1
            await st.answer(call, {"status": "Accepted"})
            result = await peer.wait_for("POST", "/commands/start-1")
            check("CommandResult", result["body"])
            assert result["body"]["result"] == "ACCEPTED"

            started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": uid, "meterStart": 0,
                                                       "timestamp": now()})
            assert started["idTagInfo"]["status"] == "Accepted"
            # no energy yet: PENDING (seed 002; tests/test_ocpi_seed_statuses.py)
            pending = await peer.wait_for("PUT", "/receiver/sessions/NL/WAT/", lambda x: x["body"]["status"] == "PENDING")
            session = pending["body"]
            check("Session", session)
            assert session["cdr_token"] == {"country_code": "DE", "party_id": "EMS", "uid": uid, "type": "RFID",
                                            "contract_id": f"DE-EMS-{uid}"[:36]}
            assert (session["auth_method"], session["authorization_reference"]) == ("COMMAND", "REF-1")
            assert (session["location_id"], session["evse_uid"], session["connector_id"]) == \
                   (str(location_id), str(evse_uid), "1")
            assert pending["headers"]["ocpi-to-party-id"] == "EMS"

            tx = started["transactionId"]
            await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": now(),
                        "sampledValue": [{"value": "5000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]})
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 5000, "timestamp": now()})
            completed = await peer.wait_for("PUT", f"/receiver/sessions/NL/WAT/{session['id']}",
                                            lambda x: x["body"]["status"] == "COMPLETED")
            check("Session", completed["body"])
            assert completed["body"]["kwh"] == 5 and completed["body"]["total_cost"]["excl_vat"] == 1.5
            cdr = (await peer.wait_for("POST", "/receiver/cdrs"))["body"]
            check("CDR", cdr)
            assert_ocpi_times(cdr)
            assert cdr["session_id"] == session["id"] and cdr["total_cost"]["excl_vat"] == 1.5
            assert cdr["cdr_token"]["party_id"] == "EMS" and cdr["authorization_reference"] == "REF-1"
            assert cdr["tariffs"][0]["id"] == tariff_id and cdr["tariffs"][0]["party_id"] == "WAT"

            # A whitelisted token presented at the station: a second roaming session (WHITELIST).
            assert (await st.ok("Authorize", {"idTag": uid}))["idTagInfo"]["status"] == "Accepted"
            second = await st.ok("StartTransaction", {"connectorId": 1, "idTag": uid, "meterStart": 5000,
                                                      "timestamp": now()})
            await st.ok("StopTransaction", {"transactionId": second["transactionId"], "meterStop": 6000,
                                            "timestamp": now()})

            # NEVER: the eMSP is asked in real time; its authorization_reference follows the session.
            assert (await st.ok("Authorize", {"idTag": realtime_uid}))["idTagInfo"]["status"] == "Accepted"
            asked = peer.received("POST", f"/tokens/{realtime_uid}/authorize")
            assert asked and asked[0]["query"] == "type=RFID"
            check("LocationReferences", asked[0]["body"])
            peer.authorize_answer = {"allowed": "BLOCKED"}
            other = unique("N")[:20]
            await ocpi.put(f"/ocpi/2.2.1/tokens/DE/EMS/{other}", headers=auth, json=token(other, "NEVER"))
            assert (await st.ok("Authorize", {"idTag": other}))["idTagInfo"]["status"] == "Blocked"
            before = len(peer.requests)

        # The station went away: its EVSE is pushed as UNKNOWN.
        await peer.wait_for("PUT", f"/receiver/locations/NL/WAT/{location_id}",
                            lambda x: x["body"]["evses"][0]["status"] == "UNKNOWN" and peer.requests.index(x) >= before)

        # Pull the partner's sessions page by page, following the Link header.
        url, seen = f"/ocpi/2.2.1/sessions?date_from={iso(since)}&limit=1", []
        deadline = time.monotonic() + READY_BOUND_S  # the second session is linked by the push worker (~1 s)
        while (await ocpi.get(url, headers=auth)).headers["X-Total-Count"] != "2":
            assert time.monotonic() < deadline, "the partner's second session was never listed"
            await asyncio.sleep(0.2)
        while url:
            r = await ocpi.get(url, headers=auth)
            assert r.headers["X-Total-Count"] == "2" and r.headers["X-Limit"] == "100"
            seen += r.json()["data"]
            link = r.headers.get("Link")
            url = link.split(">")[0].removeprefix("<").removeprefix(server.http_url) if link else None
            if link:
                assert link.endswith('rel="next"') and "date_from=" in link
        assert [s["status"] for s in seen] == ["COMPLETED", "COMPLETED"]
        assert {s["auth_method"] for s in seen} == {"COMMAND", "WHITELIST"}
        for item in seen:
            check("Session", item)
        r = await ocpi.get("/ocpi/2.2.1/cdrs", headers=auth, params={"date_from": iso(since)})
        assert r.headers["X-Total-Count"] == "2"
        for item in r.json()["data"]:
            check("CDR", item)
            assert_ocpi_times(item)

        # Another eMSP sees none of them.
        async with running_peer() as stranger:
            await register(server, stranger, api)
            r = await ocpi.get("/ocpi/2.2.1/sessions", headers=header(stranger.wattson_token),
                               params={"date_from": iso(since)})
            assert r.json()["data"] == [] and r.headers["X-Total-Count"] == "0"


async def test_tariffs_page_with_link_headers_keeping_the_filters(server):
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    async with running_peer() as peer, server.api() as api, \
            httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as ocpi:
        ids = [unique("P") for _ in range(3)]
        for tariff_id in ids:
            r = await api.post("/api/v1/tariffs", json={"id": tariff_id, "currency": "EUR", "elements": [
                {"price_components": [{"type": "FLAT", "price": 1, "step_size": 1}]}]})
            assert r.status_code == 201
        until = datetime.now(timezone.utc) + timedelta(seconds=1)
        await register(server, peer, api)
        auth = header(peer.wattson_token)
        r = await ocpi.get("/ocpi/2.2.1/tariffs", headers=auth,
                           params={"date_from": iso(since), "date_to": iso(until), "limit": 2})
        assert r.headers["X-Total-Count"] == "3"
        assert [t["id"] for t in r.json()["data"]] == ids[:2]
        link = r.headers["Link"]
        assert "offset=2" in link and "limit=2" in link and "date_to=" in link and link.endswith('; rel="next"')
        r = await ocpi.get(link.split(">")[0][1:].removeprefix(server.http_url), headers=auth)
        assert [t["id"] for t in r.json()["data"]] == ids[2:] and "Link" not in r.headers
        r = await ocpi.get("/ocpi/2.2.1/tariffs", headers=auth, params={"date_from": iso(until)})
        assert r.json()["data"] == [] and r.headers["X-Total-Count"] == "0"


async def test_pushes_wait_in_the_outbox_while_the_partner_is_down(server):
    async with running_peer() as peer, server.api() as api:
        partner = await register(server, peer, api)
        peer.fail_pushes = True
        tariff_id = unique("D")
        r = await api.post("/api/v1/tariffs", json={"id": tariff_id, "currency": "EUR", "elements": [
            {"price_components": [{"type": "FLAT", "price": 2, "step_size": 1}]}]})
        assert r.status_code == 201
        refused = await peer.wait_for("PUT", f"/receiver/tariffs/NL/WAT/{tariff_id}")
        assert refused["body"]["id"] == tariff_id

        async def refusal_recorded():  # the partner answered before the outbox row was written
            r = await api.get("/api/v1/ocpi/outbox", params={"partner_id": partner["id"], "status": "pending"})
            [queued] = [x for x in r.json()["data"] if x["object_key"] == f"tariff:{tariff_id}"]
            return queued["attempts"] >= 1 and queued
        queued = await until(refusal_recorded, "the refused push recorded in the outbox")
        assert "503" in queued["last_error"]
        # The tariff changes while the partner is down: the retry carries the latest version.
        body = {"currency": "EUR", "elements": [{"price_components": [{"type": "FLAT", "price": 3, "step_size": 1}]}]}
        assert (await api.put(f"/api/v1/tariffs/{tariff_id}", json=body)).status_code == 200
        peer.fail_pushes = False
        delivered = await peer.wait_for(
            "PUT", f"/receiver/tariffs/NL/WAT/{tariff_id}",
            lambda x: x["body"]["elements"][0]["price_components"][0]["price"] == 3 and
            not any(y is x for y in peer.requests[:peer.requests.index(refused) + 1]))
        check("Tariff", delivered["body"])

        async def outbox_statuses() -> set:
            r = await api.get("/api/v1/ocpi/outbox", params={"partner_id": partner["id"]})
            return {x["status"] for x in r.json()["data"] if x["object_key"] == f"tariff:{tariff_id}"}
        deadline = time.monotonic() + READY_BOUND_S  # marked sent once the partner's answer is in
        while (statuses := await outbox_statuses()) != {"sent"}:
            assert time.monotonic() < deadline, f"the delivered tariff stays {statuses} in the outbox"
            await asyncio.sleep(0.1)
        # Deleting it is pushed as DELETE.
        assert (await api.delete(f"/api/v1/tariffs/{tariff_id}")).status_code == 204
        await peer.wait_for("DELETE", f"/receiver/tariffs/NL/WAT/{tariff_id}")
