"""A station built with the `ocpp` library's own ChargePoint class (not Wattson's simulator)
completes a whole charging session, and the API shows it with the right energy."""

import asyncio
from datetime import datetime, timedelta, timezone

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action


class LibraryStation(ChargePoint):
    @on(Action.remote_stop_transaction)
    async def on_remote_stop(self, transaction_id, **_):
        self.remote_stop_for = transaction_id
        return call_result.RemoteStopTransaction(status="Accepted")


def ts(offset_s: int = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=offset_s)).isoformat()


async def test_library_station_full_session(server):
    cp_id = await server.add_station()
    tag = await server.add_tag()
    async with websockets.connect(f"{server.ws_url}/{cp_id}", subprotocols=["ocpp1.6"]) as ws:
        cp = LibraryStation(cp_id, ws)
        runner = asyncio.create_task(cp.start())
        boot = await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="AC22",
                                                   charge_point_serial_number="SN-1", firmware_version="1.2.3"))
        assert boot.status == "Accepted" and boot.interval == 120
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
        auth = await cp.call(call.Authorize(id_tag=tag))
        assert auth.id_tag_info["status"] == "Accepted"
        start = await cp.call(call.StartTransaction(connector_id=1, id_tag=tag, meter_start=12_000,
                                                    timestamp=ts(-600)))
        assert start.id_tag_info["status"] == "Accepted"
        tx = start.transaction_id
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        for minute, kwh in ((-5, "13.5"), (-1, "15.25")):
            await cp.call(call.MeterValues(connector_id=1, transaction_id=tx, meter_value=[{
                "timestamp": ts(minute * 60), "sampledValue": [
                    {"value": kwh, "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                    {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                    {"value": "16.1", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
                    {"value": "231", "measurand": "Voltage", "unit": "V", "phase": "L1-N"}]}]))
        async with server.api() as api:
            live = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"][0]
            assert live["status"] == "active" and live["energy_wh"] == 3250
        await cp.call(call.StopTransaction(meter_stop=15_500, timestamp=ts(), transaction_id=tx, id_tag=tag,
                                           reason="EVDisconnected"))
        runner.cancel()

    async with server.api() as api:
        sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"]
        station = (await api.get(f"/api/v1/charge-points/{cp_id}")).json()
    assert len(sessions) == 1
    s = sessions[0]
    assert (s["status"], s["energy_wh"], s["meter_start"], s["meter_stop"]) == ("finished", 3500, 12_000, 15_500)
    assert (s["evse"], s["connector"], s["id_tag"], s["stop_reason"]) == (1, 1, tag, "EVDisconnected")
    assert s["transaction_id"] == str(tx)
    assert (station["vendor"], station["model"], station["serial_number"], station["firmware_version"]) == \
        ("Acme", "AC22", "SN-1", "1.2.3")
    assert station["evses"][0]["connectors"][0]["hardware_status"] == "Charging"
