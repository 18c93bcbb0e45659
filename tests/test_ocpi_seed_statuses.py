"""Seed 002 over OCPI: session status PENDING before the energy flows and RESERVATION for a session
started on a reservation, then ACTIVE; EVSE status PLANNED and REMOVED from the EVSE's lifecycle,
floor_level and parking_restrictions from its parking space; meter_id from the station's own meter
id (1.6 boot meterSerialNumber)."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import httpx
import pytest

from conftest import READY_BOUND_S, start_server, started_once, unique
from ocpp_client import now, station
from ocpi_peer import check, header, register, running_peer
from test_ocpi_roaming import iso, roaming_site, token
from wattson.ocpi.objects import evse_status, session_status
from wattson.stations.meters import meter_id


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def roaming_server(request, tmp_path_factory):
    """Running roaming sessions pushed every second (a 1.6 station's first energy reaches the
    partner with the next periodic push, WATTSON_OCPI_SESSION_UPDATE_INTERVAL)."""
    yield from started_once(request, start_server(tmp_path_factory.mktemp(f"seed002-{request.param}"), request.param,
                                                  command_timeout="3", ocpi_session_update_interval="1"))


def energy(tx: int, wh: int) -> dict:
    return {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": now(), "sampledValue": [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]}


async def test_pending_reservation_active_and_the_meter_id(roaming_server):
    server = roaming_server
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    async with running_peer() as peer, server.api() as api, \
            httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as ocpi:
        location_id, cp_id, evse_uid, _ = await roaming_site(api)
        await register(server, peer, api)
        auth = header(peer.wattson_token)
        uid = unique("P")[:20]
        assert (await ocpi.put(f"/ocpi/2.2.1/tokens/DE/EMS/{uid}", headers=auth, json=token(uid))).status_code == 201

        async with station(server.ws_url, cp_id) as st:
            await st.boot(meterSerialNumber="MID-0042-7")
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})

            # A whitelisted token starts: PENDING until energy flows, then ACTIVE.
            started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": uid, "meterStart": 1000,
                                                       "timestamp": now()})
            tx = started["transactionId"]
            pending = (await peer.wait_for("PUT", "/receiver/sessions/NL/WAT/",
                                           lambda x: x["body"]["status"] == "PENDING"))["body"]
            check("Session", pending)
            assert (pending["kwh"], pending["meter_id"]) == (0, "MID-0042-7")
            r = await ocpi.get(f"/ocpi/2.2.1/sessions", headers=auth, params={"date_from": iso(since)})
            assert [s["status"] for s in r.json()["data"] if s["id"] == pending["id"]] == ["PENDING"]
            await st.ok("MeterValues", energy(tx, 1000))  # no energy yet: still pending
            await st.ok("MeterValues", energy(tx, 1800))
            active = await peer.wait_for("PUT", f"/receiver/sessions/NL/WAT/{pending['id']}",
                                         lambda x: x["body"]["status"] == "ACTIVE")
            check("Session", active["body"])
            assert active["body"]["kwh"] == 0.8
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 1800, "timestamp": now()})
            cdr = (await peer.wait_for("POST", "/receiver/cdrs", lambda x: x["body"]["session_id"] == pending["id"]))
            check("CDR", cdr["body"])
            assert cdr["body"]["meter_id"] == "MID-0042-7"

            # RESERVE_NOW, then the driver arrives and starts on the reservation: RESERVATION
            # until energy flows.
            r = await ocpi.post("/ocpi/2.2.1/commands/RESERVE_NOW", headers=auth, json={
                "response_url": f"{peer.url}/2.2.1/commands/res-1", "token": token(uid),
                "expiry_date": iso(datetime.now(timezone.utc) + timedelta(hours=1)), "reservation_id": unique("RES"),
                "location_id": str(location_id), "evse_uid": str(evse_uid)})
            assert r.json()["data"]["result"] == "ACCEPTED", r.text
            call = await st.next_call()
            assert call[2] == "ReserveNow"
            await st.answer(call, {"status": "Accepted"})
            assert (await peer.wait_for("POST", "/commands/res-1"))["body"]["result"] == "ACCEPTED"
            started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": uid, "meterStart": 1800,
                                                       "timestamp": now(), "reservationId": call[3]["reservationId"]})
            tx = started["transactionId"]
            reserved = (await peer.wait_for("PUT", "/receiver/sessions/NL/WAT/",
                                            lambda x: x["body"]["status"] == "RESERVATION"))["body"]
            check("Session", reserved)
            assert reserved["id"] != pending["id"]
            await st.ok("MeterValues", energy(tx, 2500))
            await peer.wait_for("PUT", f"/receiver/sessions/NL/WAT/{reserved['id']}",
                                lambda x: x["body"]["status"] == "ACTIVE")
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 2500, "timestamp": now()})
            done = await peer.wait_for("PUT", f"/receiver/sessions/NL/WAT/{reserved['id']}",
                                       lambda x: x["body"]["status"] == "COMPLETED")
            assert done["body"]["meter_id"] == "MID-0042-7"


async def test_planned_and_retired_evses(server):
    async with running_peer() as peer, server.api() as api, \
            httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as ocpi:
        location_id, cp_id, evse_uid, _ = await roaming_site(api)
        await register(server, peer, api)
        auth = header(peer.wattson_token)

        async def status() -> str:
            r = await ocpi.get(f"/ocpi/2.2.1/locations/{location_id}/{evse_uid}", headers=auth)
            check("EVSE", r.json()["data"])
            return r.json()["data"]["status"]

        assert await status() == "UNKNOWN"  # commissioned, the station never connected
        for lifecycle, expected in (("planned", "PLANNED"), ("retired", "REMOVED"), ("commissioned", "UNKNOWN")):
            r = await api.patch(f"/api/v1/evses/{evse_uid}", json={"lifecycle": lifecycle, "admin_status": "disabled"
                                                                   if lifecycle == "retired" else "enabled"})
            assert r.status_code == 200 and r.json()["lifecycle"] == lifecycle, r.text
            assert await status() == expected, lifecycle
            pushed = await peer.wait_for("PUT", f"/receiver/locations/NL/WAT/{location_id}",
                                         lambda x: x["body"]["evses"][0]["status"] == expected)
            check("Location", pushed["body"])

        # where it stands: the bay's floor and type (OCPI floor_level, parking_restrictions)
        zone = (await api.post("/api/v1/charging-zones", json={"location_id": location_id, "name": "Level minus one",
                                                               "floor": "Level -1"})).json()
        bay = (await api.post("/api/v1/parking-spaces", json={"zone_id": zone["id"], "label": "B-1", "type": "disabled",
                                                              "floor": "-1", "evse_ids": [evse_uid]})).json()
        r = await ocpi.get(f"/ocpi/2.2.1/locations/{location_id}/{evse_uid}", headers=auth)
        check("EVSE", r.json()["data"])
        assert (r.json()["data"]["floor_level"], r.json()["data"]["parking_restrictions"]) == ("-1", ["DISABLED"])
        assert (await api.patch(f"/api/v1/parking-spaces/{bay['id']}", json={"type": "ev_only",
                                                                             "floor": None})).status_code == 200
        pushed = await peer.wait_for("PUT", f"/receiver/locations/NL/WAT/{location_id}",
                                     lambda x: x["body"]["evses"][0].get("parking_restrictions") == ["EV_ONLY"])
        assert "floor_level" not in pushed["body"]["evses"][0]  # the zone's "Level -1" is longer than OCPI's 4
        assert (await api.patch(f"/api/v1/parking-spaces/{bay['id']}", json={"type": "standard"})).status_code == 200
        r = await ocpi.get(f"/ocpi/2.2.1/locations/{location_id}/{evse_uid}", headers=auth)
        assert "parking_restrictions" not in r.json()["data"]

        r = await api.post(f"/api/v1/charge-points/{cp_id}/evses", json={
            "number": 2, "lifecycle": "planned",
            "connectors": [{"number": 1, "standard": "IEC_62196_T2", "format": "SOCKET"}]})
        assert r.status_code == 201 and r.json()["lifecycle"] == "planned", r.text
        r = await ocpi.get(f"/ocpi/2.2.1/locations/{location_id}", headers=auth)
        assert {e["uid"]: e["status"] for e in r.json()["data"]["evses"]} == {
            str(evse_uid): "UNKNOWN", str(r.json()["data"]["evses"][1]["uid"]): "PLANNED"}


# --- the rules, without I/O --------------------------------------------------------------------
def test_session_status_rules():
    def session(**fields):
        base = {"auth_status": "Accepted", "status": "active", "energy_wh": 0, "charging_state": None,
                "reservation_id": None}
        return SimpleNamespace(**{**base, **fields})
    assert session_status(session()) == "PENDING"
    assert session_status(session(charging_state="EVConnected")) == "PENDING"
    assert session_status(session(reservation_id=7)) == "RESERVATION"
    assert session_status(session(energy_wh=1)) == "ACTIVE"
    assert session_status(session(charging_state="Charging")) == "ACTIVE"  # 2.x: energy about to be reported
    assert session_status(session(reservation_id=7, energy_wh=10)) == "ACTIVE"
    assert session_status(session(status="finished")) == "COMPLETED"
    assert session_status(session(status="finished", energy_wh=0, reservation_id=7)) == "COMPLETED"
    assert session_status(session(auth_status="Invalid")) == "INVALID"


def test_lifecycle_outranks_every_other_evse_status():
    station = SimpleNamespace(admin_status="out_of_order", network_status="online", hardware_status=None)
    for lifecycle, expected in (("planned", "PLANNED"), ("retired", "REMOVED"), ("commissioned", "OUTOFORDER")):
        evse = SimpleNamespace(lifecycle=lifecycle, admin_status="enabled", connectors=[])
        assert evse_status(station, evse, False) == expected


def test_meter_id_rules():
    assert meter_id({"meterSerialNumber": "M-16"}, [("FiscalMetering", None, "F-1")], 1) == "M-16"
    assert meter_id({"meterType": "X"}, [], 1) is None and meter_id(None, [], 1) is None
    variables = [("ControlMetering", None, "C-0"), ("FiscalMetering", None, "F-0"), ("FiscalMetering", 2, "F-2"),
                 ("FiscalMetering", 1, "F-1")]
    assert meter_id(None, variables, 1) == "F-1"  # the session's EVSE's own meter
    assert meter_id(None, variables, 3) == "F-0"  # else the station's, fiscal before control
    assert meter_id(None, [("ControlMetering", None, "C-0"), ("FiscalMetering", 2, "F-2")], 1) == "C-0"
    assert meter_id(None, [("FiscalMetering", 1, ""), ("Connector", 1, "X")], 1) is None


async def test_a_201_station_reports_its_meter_in_the_device_model(roaming_server):
    """2.x: meter_id is the FiscalMetering SerialNumber of the session's EVSE (NotifyReport); the
    session is PENDING until a TransactionEvent says Charging."""
    server = roaming_server
    async with running_peer() as peer, server.api() as api, \
            httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as ocpi:
        _, cp_id, _, _ = await roaming_site(api)
        await register(server, peer, api)
        auth = header(peer.wattson_token)
        uid = unique("Q")[:20]
        assert (await ocpi.put(f"/ocpi/2.2.1/tokens/DE/EMS/{uid}", headers=auth, json=token(uid))).status_code == 201
        meter = lambda evse, value: {  # noqa: E731
            "component": {"name": "FiscalMetering", **({"evse": {"id": evse}} if evse else {})},
            "variable": {"name": "SerialNumber"}, "variableAttribute": [{"type": "Actual", "value": value}],
            "variableCharacteristics": {"dataType": "string", "supportsMonitoring": False}}
        async with station(server.ws_url, cp_id, subprotocols=("ocpp2.0.1",)) as st:
            await st.ok("BootNotification", {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"})
            await st.ok("NotifyReport", {"requestId": 1, "generatedAt": now(), "seqNo": 0,
                                         "reportData": [meter(None, "STATION-M"), meter(1, "EVSE1-M")]})
            event = {"timestamp": now(), "transactionInfo": {"transactionId": "TX-2X"},
                     "evse": {"id": 1, "connectorId": 1}}
            reply = await st.ok("TransactionEvent", {**event, "eventType": "Started", "triggerReason": "Authorized",
                                                     "seqNo": 0, "idToken": {"idToken": uid, "type": "ISO14443"}})
            assert reply["idTokenInfo"]["status"] == "Accepted"
            pending = (await peer.wait_for("PUT", "/receiver/sessions/NL/WAT/",
                                           lambda x: x["body"]["status"] == "PENDING"))["body"]
            check("Session", pending)
            assert pending["meter_id"] == "EVSE1-M"
            await st.ok("TransactionEvent", {**event, "timestamp": now(), "eventType": "Updated",
                                             "triggerReason": "ChargingStateChanged", "seqNo": 1,
                                             "transactionInfo": {"transactionId": "TX-2X", "chargingState": "Charging"}})
            active = await peer.wait_for("PUT", f"/receiver/sessions/NL/WAT/{pending['id']}",
                                         lambda x: x["body"]["status"] == "ACTIVE")
            check("Session", active["body"])
