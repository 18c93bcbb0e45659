"""Station-initiated messages are persisted and visible through the API."""

import asyncio
from datetime import datetime, timedelta, timezone

from ocpp_client import now, station


def ago(minutes: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(minutes=minutes)).isoformat(timespec="milliseconds")


async def get(server, path: str, **params) -> dict:
    async with server.api() as api:
        r = await api.get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()


async def test_status_notifications(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        before = await get(server, f"/api/v1/charge-points/{cp}")
        assert before["hardware_status"] is None and before["evses"] == []  # null until reported
        await st.ok("StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available",
                                           "timestamp": now()})
        await st.ok("StatusNotification", {"connectorId": 2, "errorCode": "GroundFailure", "status": "Faulted",
                                           "info": "RCD tripped", "vendorId": "Acme", "vendorErrorCode": "E42"})
        await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})
    cp_out = await get(server, f"/api/v1/charge-points/{cp}")
    assert cp_out["hardware_status"] == "Available"
    evses = {e["number"]: e for e in cp_out["evses"]}
    assert sorted(evses) == [1, 2]
    (conn2,) = evses[2]["connectors"]
    assert (conn2["number"], conn2["hardware_status"], conn2["error_code"]) == (1, "Faulted", "GroundFailure")
    history = (await get(server, f"/api/v1/charge-points/{cp}/status-history"))["data"]
    assert [(h["evse"], h["status"]) for h in history] == [(1, "Available"), (2, "Faulted"), (None, "Available")]
    assert history[1]["info"] == "RCD tripped" and history[1]["vendor_error_code"] == "E42"


async def test_meter_values_keep_every_measurand_phase_unit_and_context(server):
    cp = await server.add_station()
    tag = await server.add_tag()
    sampled = [
        {"value": "1.200", "measurand": "Energy.Active.Import.Register", "unit": "kWh",
         "context": "Sample.Clock", "location": "Outlet"},
        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
        {"value": "10.4", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
        {"value": "10.6", "measurand": "Current.Import", "unit": "A", "phase": "L2"},
        {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
        {"value": "54", "measurand": "SoC", "unit": "Percent", "location": "EV"},
        {"value": "31.5", "measurand": "Temperature", "unit": "Celsius", "location": "Body"},
    ]
    async with station(server.ws_url, cp) as st:
        await st.boot()
        start = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000,
                                                 "timestamp": ago(10)})
        tx = start["transactionId"]
        await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx,
                                    "meterValue": [{"timestamp": ago(5), "sampledValue": sampled}]})
        # The station's main meter, outside any transaction.
        await st.ok("MeterValues", {"connectorId": 0, "meterValue": [
            {"timestamp": ago(4), "sampledValue": [{"value": "99000", "context": "Sample.Clock"}]}]})
        await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 1500, "timestamp": ago(1),
                                        "reason": "Local", "transactionData": [
                                            {"timestamp": ago(10), "sampledValue": [
                                                {"value": "1000", "context": "Transaction.Begin"}]},
                                            {"timestamp": ago(1), "sampledValue": [
                                                {"value": "1500", "context": "Transaction.End"}]}]})
    (session,) = (await get(server, "/api/v1/sessions", charge_point_id=cp))["data"]
    detail = await get(server, f"/api/v1/sessions/{session['id']}")
    values = detail["meter_values"]
    assert len(values) == len(sampled) + 2
    assert [v["context"] for v in values][0] == "Transaction.Begin"
    assert values[-1]["context"] == "Transaction.End"
    by_key = {(v["measurand"], v["phase"]): v for v in values}
    assert by_key[("Current.Import", "L2")]["numeric"] == 10.6
    assert by_key[("SoC", None)]["location"] == "EV" and by_key[("SoC", None)]["unit"] == "Percent"
    assert by_key[("Temperature", None)]["unit"] == "Celsius"
    assert detail["energy_wh"] == 500 and detail["meter_stop"] == 1500


async def test_live_energy_follows_the_latest_reading(server):
    cp = await server.add_station()
    tag = await server.add_tag()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 20_000,
                                               "timestamp": ago(30)}))["transactionId"]

        async def reading(minutes_ago: float, wh: str):
            await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
                {"timestamp": ago(minutes_ago), "sampledValue": [{"value": wh}]}]})

        await reading(20, "21000")
        await reading(10, "23500")
        await reading(15, "22000")  # a late, older reading must not move energy backwards
        (session,) = (await get(server, "/api/v1/sessions", charge_point_id=cp))["data"]
        assert session["status"] == "active"
        assert (session["energy_wh"], session["meter_last"]) == (3500, 23_500)


async def test_data_transfer_diagnostics_and_firmware_are_recorded(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        reply = await st.ok("DataTransfer", {"vendorId": "com.acme", "messageId": "kWhPrice", "data": "0.31"})
        assert reply["status"] == "UnknownVendorId"  # no handler registered for it; recorded all the same
        await st.ok("DiagnosticsStatusNotification", {"status": "Uploading"})
        await st.ok("DiagnosticsStatusNotification", {"status": "Uploaded"})
        await st.ok("FirmwareStatusNotification", {"status": "Downloading"})
        await st.ok("FirmwareStatusNotification", {"status": "Installed"})
    cp_out = await get(server, f"/api/v1/charge-points/{cp}")
    assert (cp_out["diagnostics_status"], cp_out["firmware_status"]) == ("Uploaded", "Installed")
    events = (await get(server, f"/api/v1/charge-points/{cp}/events"))["data"]
    kinds = [e["kind"] for e in reversed(events)]
    assert kinds == ["boot", "data_transfer", "diagnostics_status", "diagnostics_status", "firmware_status",
                     "firmware_status"]
    transfer = next(e for e in events if e["kind"] == "data_transfer")
    assert transfer["data"] == {"vendorId": "com.acme", "messageId": "kWhPrice", "data": "0.31"}


async def test_sessions_list_newest_first_with_cursor(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        for connector, minutes in enumerate((50, 40, 30, 20, 10), 1):  # five at once: five connectors
            tag = await server.add_tag()
            await st.ok("StartTransaction", {"connectorId": connector, "idTag": tag, "meterStart": 0,
                                             "timestamp": ago(minutes)})
    seen, cursor = [], None
    while True:
        params = {"charge_point_id": cp, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await get(server, "/api/v1/sessions", **params)
        seen += [s["started_at"] for s in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)
    assert len((await get(server, "/api/v1/sessions", charge_point_id=cp, status="active"))["data"]) == 5
    assert (await get(server, "/api/v1/sessions", charge_point_id=cp, status="finished"))["data"] == []


async def test_many_stations_in_parallel(server):
    """Twenty stations run a session each at the same time; every one is persisted intact."""
    tag_ids = [await server.add_tag() for _ in range(20)]
    cps = [await server.add_station() for _ in range(20)]

    async def run(cp: str, tag: str):
        async with station(server.ws_url, cp) as st:
            await st.boot()
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": ago(3)}))["transactionId"]
            for i in range(1, 6):
                await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
                    {"timestamp": ago(3 - i * 0.4), "sampledValue": [{"value": str(i * 100)}]}]})
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 600, "timestamp": ago(0)})

    await asyncio.gather(*(run(cp, tag) for cp, tag in zip(cps, tag_ids)))
    for cp in cps:
        (s,) = (await get(server, "/api/v1/sessions", charge_point_id=cp))["data"]
        assert (s["status"], s["energy_wh"]) == ("finished", 600)
        assert len((await get(server, f"/api/v1/sessions/{s['id']}"))["meter_values"]) == 5


async def test_status_history_and_events_page_with_a_cursor(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        for status in ("Available", "Preparing", "Charging", "Finishing", "Available"):
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": status})
        for n in range(3):
            await st.ok("DataTransfer", {"vendorId": "com.acme", "data": str(n)})
    for path, expected in (("status-history", 5), ("events", 4)):
        seen, cursor = [], None
        while True:
            page = await get(server, f"/api/v1/charge-points/{cp}/{path}", limit=2, **({"cursor": cursor} if cursor else {}))
            seen += [item["id"] for item in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == expected and seen == sorted(seen, reverse=True), (path, seen)


async def test_resent_meter_values_are_stored_once(server):
    """A 1.6 station that got no answer sends the same MeterValues again (no sequence number to
    tell): each instant's samples are stored once, in a session or on the main meter, and so is
    a resent StopTransaction's transactionData."""
    cp = await server.add_station()
    tag = await server.add_tag()
    at, later = ago(5), ago(4)
    reading = {"connectorId": 1, "meterValue": [
        {"timestamp": at, "sampledValue": [{"value": "1200", "measurand": "Energy.Active.Import.Register"},
                                           {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"}]},
        {"timestamp": later, "sampledValue": [{"value": "1300"}]}]}
    async with station(server.ws_url, cp) as st:
        await st.boot()
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000,
                                               "timestamp": ago(10)}))["transactionId"]
        for _ in range(3):
            await st.ok("MeterValues", {**reading, "transactionId": tx})
        main = {"connectorId": 0, "meterValue": [{"timestamp": at, "sampledValue": [{"value": "99000"}]}]}
        await st.ok("MeterValues", main)
        await st.ok("MeterValues", main)
        # Another reading at the same instant is not a repeat.
        await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
            {"timestamp": at, "sampledValue": [{"value": "31", "measurand": "SoC", "unit": "Percent"}]}]})
        stop = {"transactionId": tx, "meterStop": 1500, "timestamp": ago(1), "reason": "Local",
                "transactionData": [{"timestamp": ago(1), "sampledValue": [{"value": "1500",
                                                                           "context": "Transaction.End"}]}]}
        await st.ok("StopTransaction", stop)
        await st.ok("StopTransaction", stop)
    (session,) = (await get(server, "/api/v1/sessions", charge_point_id=cp))["data"]
    values = (await get(server, f"/api/v1/sessions/{session['id']}"))["meter_values"]
    assert sorted((v["measurand"], v["value"]) for v in values) == sorted([
        ("Energy.Active.Import.Register", "1200"), ("Power.Active.Import", "7200"),
        ("Energy.Active.Import.Register", "1300"), ("SoC", "31"), ("Energy.Active.Import.Register", "1500")])
    assert session["energy_wh"] == 500


async def test_a_new_start_closes_the_unstopped_session_on_its_connector(server):
    """A 1.6 station that never stops a transaction (a real fleet simulator after a ConcurrentTx
    answer) and starts another on the same connector: the older session is closed at its last
    reading with a reason that says so, the new one is accepted, and a StopTransaction that turns
    up late for the older one still has the last word."""
    cp = await server.add_station()
    tag = await server.add_tag()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        first = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000,
                                                 "timestamp": ago(30)})
        await st.ok("MeterValues", {"connectorId": 1, "transactionId": first["transactionId"], "meterValue": [
            {"timestamp": ago(20), "sampledValue": [{"value": "1800"}]}]})
        second = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 5000,
                                                  "timestamp": ago(10)})
        assert second["idTagInfo"]["status"] == "Accepted"
        old, new = sorted((await get(server, "/api/v1/sessions", charge_point_id=cp))["data"], key=lambda x: x["id"])
        assert (old["status"], old["stop_reason"], old["energy_wh"]) == ("finished", "StopNotReceived", 800)
        assert new["status"] == "active"
        events = (await get(server, f"/api/v1/charge-points/{cp}/events"))["data"]
        assert any(e["kind"] == "transaction_stop_missing" for e in events)
        await st.ok("StopTransaction", {"transactionId": first["transactionId"], "meterStop": 1900,
                                        "timestamp": ago(15), "reason": "EVDisconnected"})
    late = await get(server, f"/api/v1/sessions/{old['id']}")
    assert (late["stop_reason"], late["energy_wh"]) == ("EVDisconnected", 900)
