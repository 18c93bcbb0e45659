"""A station built with the `ocpp` library's own v201 (and v21) ChargePoint class, not Wattson's
simulator, completes boot → authorise → TransactionEvent Started/Updated/Ended, and the session
appears in the API with the right energy, exactly like a 1.6 one."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint as ChargePoint201, call as call201, call_result as result201
from ocpp.v21 import ChargePoint as ChargePoint21, call as call21, call_result as result21


def ts(offset_s: int = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=offset_s)).isoformat()


def meter(offset_s: int, kwh: float, context: str) -> list[dict]:
    return [{"timestamp": ts(offset_s), "sampled_value": [
        {"value": kwh, "measurand": "Energy.Active.Import.Register", "context": context,
         "unit_of_measure": {"unit": "kWh"}},
        {"value": 11000, "measurand": "Power.Active.Import", "context": context, "unit_of_measure": {"unit": "W"}},
        {"value": 16.1, "measurand": "Current.Import", "phase": "L1", "context": context},
        {"value": 231, "measurand": "Voltage", "phase": "L1-N", "context": context}]}]


class Station201(ChargePoint201):
    @on("RequestStopTransaction")
    async def on_request_stop(self, transaction_id, **_):
        self.stop_requested = transaction_id
        return result201.RequestStopTransaction(status="Accepted")


class Station21(ChargePoint21):
    @on("RequestStopTransaction")
    async def on_request_stop(self, transaction_id, **_):
        self.stop_requested = transaction_id
        return result21.RequestStopTransaction(status="Accepted")


VERSIONS = {"ocpp2.0.1": (Station201, call201), "ocpp2.1": (Station21, call21)}


@pytest.mark.parametrize("subprotocol", VERSIONS)
async def test_library_station_full_transaction(server, subprotocol):
    station_class, call = VERSIONS[subprotocol]
    cp_id = await server.add_station()
    tag = await server.add_tag()
    tx = f"tx-{cp_id}"
    async with websockets.connect(f"{server.ws_url}/{cp_id}", subprotocols=[subprotocol]) as ws:
        assert ws.subprotocol == subprotocol
        cp = station_class(cp_id, ws)
        runner = asyncio.create_task(cp.start())
        boot = await cp.call(call.BootNotification(
            charging_station={"model": "DC150", "vendor_name": "Acme", "serial_number": "SN-7",
                              "firmware_version": "4.0.2"}, reason="PowerUp"))
        assert boot.status == "Accepted" and boot.interval == 120
        await cp.call(call.StatusNotification(timestamp=ts(), connector_status="Occupied", evse_id=1,
                                              connector_id=1))
        auth = await cp.call(call.Authorize(id_token={"id_token": tag, "type": "ISO14443"}))
        assert auth.id_token_info["status"] == "Accepted"

        def event(kind, seq, offset_s, trigger, info, **extra):
            return call.TransactionEvent(event_type=kind, timestamp=ts(offset_s), trigger_reason=trigger,
                                         seq_no=seq, transaction_info={"transaction_id": tx, **info}, **extra)

        started = await cp.call(event("Started", 0, -600, "Authorized", {"charging_state": "Charging"},
                                      evse={"id": 1, "connector_id": 1},
                                      id_token={"id_token": tag, "type": "ISO14443"},
                                      meter_value=meter(-600, 12.0, "Transaction.Begin")))
        assert started.id_token_info["status"] == "Accepted"
        for seq, minute, kwh in ((1, -5, 13.5), (2, -1, 15.25)):
            await cp.call(event("Updated", seq, minute * 60, "MeterValuePeriodic", {"charging_state": "Charging"},
                                meter_value=meter(minute * 60, kwh, "Sample.Periodic")))
        async with server.api() as api:
            live = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"][0]
            assert (live["status"], live["energy_wh"], live["charging_state"]) == ("active", 3250, "Charging")
            stop = await api.post(f"/api/v1/charge-points/{cp_id}/commands/remote-stop",
                                  json={"session_id": live["id"]})
            assert stop.status_code == 200 and stop.json()["status"] == "Accepted", stop.text
        assert cp.stop_requested == tx
        await cp.call(event("Ended", 3, 0, "RemoteStop", {"charging_state": "EVConnected",
                                                          "stopped_reason": "Remote"},
                            meter_value=meter(0, 15.5, "Transaction.End")))
        runner.cancel()

    async with server.api() as api:
        sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"]
        station = (await api.get(f"/api/v1/charge-points/{cp_id}")).json()
        events = (await api.get(f"/api/v1/sessions/{sessions[0]['id']}/transaction-events")).json()
    assert len(sessions) == 1
    s = sessions[0]
    assert (s["status"], s["energy_wh"], s["meter_start"], s["meter_stop"]) == ("finished", 3500, 12_000, 15_500)
    assert (s["evse"], s["connector"], s["id_tag"], s["auth_status"]) == (1, 1, tag, "Accepted")
    assert (s["transaction_id"], s["start_reason"], s["stop_reason"]) == (tx, "Authorized", "Remote")
    assert [(e["seq_no"], e["event_type"]) for e in events] == [(0, "started"), (1, "updated"), (2, "updated"),
                                                                 (3, "ended")]
    assert station["ocpp_version"] == subprotocol.removeprefix("ocpp")
    assert (station["vendor"], station["model"], station["serial_number"], station["firmware_version"]) == \
        ("Acme", "DC150", "SN-7", "4.0.2")
    assert station["evses"][0]["connectors"][0]["hardware_status"] == "Occupied"
