"""OCPP 2.0.1 / 2.1 station messages over a raw WebSocket: transactions (order, repeats, lost
events), authorisation answers, the device model, notifications, and bad input."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from ocpp_client import station


def ts(offset_s: float = 0) -> str:
    at = datetime.now(timezone.utc) + timedelta(seconds=offset_s)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


BOOT = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}


def energy(offset_s: float, wh: float, context: str = "Sample.Periodic", **unit) -> list[dict]:
    value = {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register"}
    if unit:
        value["unitOfMeasure"] = unit
    return [{"timestamp": ts(offset_s), "sampledValue": [value]}]


def tx_event(tx: str, kind: str, seq: int, offset_s: float, trigger: str = "MeterValuePeriodic", *,
             wh: float | None = None, evse: int | None = 1, tag: str | None = None, **extra) -> dict:
    info = {"transactionId": tx, **extra.pop("info", {})}
    event = {"eventType": kind, "timestamp": ts(offset_s), "triggerReason": trigger, "seqNo": seq,
             "transactionInfo": info, **extra}
    if wh is not None:
        context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(kind, "Sample.Periodic")
        event["meterValue"] = energy(offset_s, wh, context)
    if evse is not None:
        event["evse"] = {"id": evse, "connectorId": 1}
    if tag is not None:
        event["idToken"] = {"idToken": tag, "type": "ISO14443"}
    return event


async def sessions_of(server, cp: str) -> list[dict]:
    async with server.api() as api:
        return (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]


@pytest.fixture(params=["ocpp2.0.1", "ocpp2.1"])
def subprotocol(request):
    return request.param


async def test_a_transaction_maps_onto_a_session(server, subprotocol):
    cp, tag = await server.add_station(), await server.add_tag()
    async with station(server.ws_url, cp, (subprotocol,)) as st:
        await st.ok("BootNotification", BOOT)
        started = await st.ok("TransactionEvent", tx_event("T1", "Started", 0, -900, "Authorized", wh=1000,
                                                           tag=tag, info={"chargingState": "Charging"}))
        assert started == {"idTokenInfo": {"status": "Accepted"}}
        assert await st.ok("TransactionEvent", tx_event("T1", "Updated", 1, -300, wh=4000)) == {}
        [live] = await sessions_of(server, cp)
        assert (live["status"], live["energy_wh"], live["charging_state"], live["start_reason"]) == \
            ("active", 3000, "Charging", "Authorized")
        await st.ok("TransactionEvent", tx_event("T1", "Ended", 2, 0, "EVCommunicationLost", wh=6500,
                                                 info={"stoppedReason": "EVDisconnected", "chargingState": "Idle"}))
    [done] = await sessions_of(server, cp)
    assert (done["status"], done["energy_wh"], done["meter_start"], done["meter_stop"]) == ("finished", 5500, 1000,
                                                                                           6500)
    assert (done["stop_reason"], done["charging_state"], done["id_tag"]) == ("EVDisconnected", "Idle", tag)


async def test_repeated_events_are_applied_once(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        await st.ok("TransactionEvent", tx_event("T1", "Started", 0, -600, "CablePluggedIn", wh=0))
        update = tx_event("T1", "Updated", 1, -300, wh=2000, info={"chargingState": "Charging"})
        for _ in range(3):  # the response was lost, the station sends it again
            assert await st.ok("TransactionEvent", update) == {}
        # The same seqNo with other content is still a repeat: the first one counts.
        assert await st.ok("TransactionEvent", {**update, "meterValue": energy(-299, 9999)}) == {}
    [session] = await sessions_of(server, cp)
    async with server.api() as api:
        events = (await api.get(f"/api/v1/sessions/{session['id']}/transaction-events")).json()
    assert [e["seq_no"] for e in events] == [0, 1]
    assert session["energy_wh"] == 2000


async def test_a_late_lower_numbered_update_is_applied_once(server):
    """An Updated event numbered below the highest applied one is new unless it was stored: the
    fast path looks it up rather than taking it for a repeat."""
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        await st.ok("TransactionEvent", tx_event("T2", "Started", 0, -900, "CablePluggedIn", wh=0))
        await st.ok("TransactionEvent", tx_event("T2", "Updated", 3, -100, wh=4000, info={"chargingState": "Charging"}))
        late = tx_event("T2", "Updated", 2, -500, wh=1500, offline=True, info={"chargingState": "SuspendedEV"})
        for _ in range(2):
            assert await st.ok("TransactionEvent", late) == {}
        [session] = await sessions_of(server, cp)
        async with server.api() as api:
            events = (await api.get(f"/api/v1/sessions/{session['id']}/transaction-events")).json()
    assert [e["seq_no"] for e in events] == [0, 2, 3]
    assert (session["energy_wh"], session["charging_state"]) == (4000, "Charging")  # the highest seqNo's state


async def test_offline_events_arriving_out_of_order_give_the_same_session(server):
    """Queued events replayed late and out of order: state follows seqNo, energy follows time."""
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        # The Started event itself is late: an Updated opens the session first.
        await st.ok("TransactionEvent", tx_event("T9", "Updated", 1, -1800, wh=3000, offline=True,
                                                 info={"chargingState": "Charging"}))
        await st.ok("TransactionEvent", tx_event("T9", "Ended", 3, -600, "StopAuthorized", wh=8000, offline=True,
                                                 info={"stoppedReason": "Local", "chargingState": "EVConnected"}))
        await st.ok("TransactionEvent", tx_event("T9", "Updated", 2, -1200, wh=5000, offline=True,
                                                 info={"chargingState": "SuspendedEV"}))
        await st.ok("TransactionEvent", tx_event("T9", "Started", 0, -2400, "CablePluggedIn", wh=1000, offline=True,
                                                 info={"chargingState": "EVConnected"}))
    [s] = await sessions_of(server, cp)
    assert (s["status"], s["meter_start"], s["meter_stop"], s["energy_wh"]) == ("finished", 1000, 8000, 7000)
    assert s["charging_state"] == "EVConnected"  # from the highest seqNo, not the last to arrive
    assert s["start_reason"] == "CablePluggedIn" and s["stop_reason"] == "Local"
    started_at = datetime.fromisoformat(s["started_at"])
    stopped_at = datetime.fromisoformat(s["stopped_at"])
    assert timedelta(seconds=1795) < stopped_at - started_at < timedelta(seconds=1805)
    async with server.api() as api:
        events = (await api.get(f"/api/v1/sessions/{s['id']}/transaction-events")).json()
    assert [e["seq_no"] for e in events] == [0, 1, 2, 3] and all(e["offline"] for e in events)


async def test_a_lost_ended_is_closed_by_the_next_transaction_and_repaired_if_it_arrives(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        await st.ok("TransactionEvent", tx_event("A", "Started", 0, -3600, "CablePluggedIn", wh=100))
        await st.ok("TransactionEvent", tx_event("A", "Updated", 1, -3000, wh=2100))
        await st.ok("TransactionEvent", tx_event("B", "Started", 0, -600, "CablePluggedIn", wh=5000))
        by_tx = {s["transaction_id"]: s for s in await sessions_of(server, cp)}
        assert by_tx["A"]["status"] == "finished" and by_tx["A"]["stop_reason"] == "EndedNotReceived"
        assert by_tx["A"]["energy_wh"] == 2000 and by_tx["B"]["status"] == "active"
        async with server.api() as api:
            kinds = [e["kind"] for e in (await api.get(f"/api/v1/charge-points/{cp}/events")).json()["data"]]
        assert "transaction_end_missing" in kinds
        # The lost Ended turns up after all: it has the last word.
        await st.ok("TransactionEvent", tx_event("A", "Ended", 2, -2900, "EVDeparted", wh=2300,
                                                 info={"stoppedReason": "EVDisconnected"}))
    by_tx = {s["transaction_id"]: s for s in await sessions_of(server, cp)}
    assert (by_tx["A"]["stop_reason"], by_tx["A"]["energy_wh"]) == ("EVDisconnected", 2200)


async def test_energy_in_kwh_with_a_multiplier_and_a_started_event_without_reading(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        await st.ok("TransactionEvent", tx_event("T1", "Started", 0, -600, "EVDetected"))
        # 12.5 kWh as 1.25 with multiplier 1; then 0.0155 MWh (kWh with multiplier 3... in Wh: 15500).
        await st.ok("TransactionEvent", {**tx_event("T1", "Updated", 1, -300),
                                         "meterValue": energy(-300, 1.25, unit="kWh", multiplier=1)})
        await st.ok("TransactionEvent", {**tx_event("T1", "Ended", 2, 0, "StopAuthorized"),
                                         "meterValue": energy(0, 15.5, "Transaction.End", unit="Wh", multiplier=3)})
    [s] = await sessions_of(server, cp)
    # Without a Transaction.Begin reading, the earliest reading of the transaction is its start.
    assert (s["meter_start"], s["meter_stop"], s["energy_wh"]) == (12500, 15500, 3000)
    async with server.api() as api:
        values = (await api.get(f"/api/v1/sessions/{s['id']}")).json()["meter_values"]
    assert [v["value"] for v in values] == ["12.5", "15500"] and [v["unit"] for v in values] == ["kWh", "Wh"]


async def test_authorisation_answers_say_why(server, subprotocol):
    cp = await server.add_station()
    ok, blocked = await server.add_tag(), await server.add_tag(status="Blocked")
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    not_yet = await server.add_tag(valid_from=future)
    async with station(server.ws_url, cp, (subprotocol,)) as st:
        await st.ok("BootNotification", BOOT)

        async def status(tag, kind="ISO14443"):
            reply = await st.ok("Authorize", {"idToken": {"idToken": tag, "type": kind}})
            return reply["idTokenInfo"]["status"]

        assert await status(ok) == "Accepted"
        assert await status(blocked) == "Blocked"
        assert await status(not_yet) == "NotAtThisTime"
        assert await status("NEVER-SEEN") == "Unknown"
        assert await status("", "NoAuthorization") == "Invalid"
        await st.ok("TransactionEvent", tx_event("T1", "Started", 0, 0, "Authorized", tag=ok, wh=0))
        assert await status(ok) == "ConcurrentTx"


async def test_a_charger_outside_the_drivers_groups_is_not_at_this_location(server):
    cp = await server.add_station()
    async with server.api() as api:
        group = (await api.post("/api/v1/charger-groups", json={"name": f"private {cp}"})).json()
        assert (await api.put(f"/api/v1/charger-groups/{group['id']}/charge-points/{cp}")).status_code in (200, 204)
    tag = await server.add_tag()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        reply = await st.ok("Authorize", {"idToken": {"idToken": tag, "type": "ISO14443"}})
    assert reply["idTokenInfo"]["status"] == "NotAtThisLocation"


async def test_notify_report_fills_the_device_model(server):
    cp = await server.add_station()
    report = [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "variableAttribute": [{"type": "Actual", "value": "300", "mutability": "ReadWrite", "persistent": True}],
         "variableCharacteristics": {"dataType": "integer", "unit": "s", "minLimit": 1, "supportsMonitoring": False}},
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"},
         "variableAttribute": [{"type": "Actual", "value": "0", "mutability": "ReadOnly"},
                               {"type": "MaxSet", "value": "22000", "mutability": "ReadOnly"}],
         "variableCharacteristics": {"dataType": "decimal", "unit": "W", "maxLimit": 22000,
                                     "supportsMonitoring": True}},
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
         "variableAttribute": [{"mutability": "WriteOnly"}],
         "variableCharacteristics": {"dataType": "string", "supportsMonitoring": False}},
    ]
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        for seq, part in enumerate((report[:2], report[2:])):
            assert await st.ok("NotifyReport", {"requestId": 7, "generatedAt": ts(), "seqNo": seq,
                                                "tbc": seq == 0, "reportData": part}) == {}
        # A later report of the same attribute updates it instead of adding a row.
        changed = {**report[0], "variableAttribute": [{"type": "Actual", "value": "60", "mutability": "ReadWrite"}]}
        await st.ok("NotifyReport", {"requestId": 8, "generatedAt": ts(), "seqNo": 0, "reportData": [changed]})
    async with server.api() as api:
        everything = (await api.get(f"/api/v1/charge-points/{cp}/variables")).json()["data"]
        first = (await api.get(f"/api/v1/charge-points/{cp}/variables", params={"limit": 2})).json()
        rest = (await api.get(f"/api/v1/charge-points/{cp}/variables",
                              params={"limit": 2, "cursor": first["next_cursor"]})).json()
        evse = (await api.get(f"/api/v1/charge-points/{cp}/variables", params={"evse": 1})).json()["data"]
        heartbeat = (await api.get(f"/api/v1/charge-points/{cp}/variables",
                                   params={"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"})).json()
    assert len(everything) == 4
    assert [v["id"] for v in first["data"] + rest["data"]] == [v["id"] for v in everything]
    assert sorted(v["attribute_type"] for v in evse) == ["Actual", "MaxSet"]
    [hb] = heartbeat["data"]
    assert (hb["value"], hb["unit"], hb["data_type"], hb["min_limit"], hb["persistent"]) == ("60", "s", "integer",
                                                                                          1, True)
    [password] = [v for v in everything if v["variable"] == "BasicAuthPassword"]
    assert password["value"] is None and password["mutability"] == "WriteOnly"


async def test_notifications_are_kept_as_station_events(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        assert await st.ok("NotifyEvent", {"generatedAt": ts(), "seqNo": 0, "eventData": [
            {"eventId": 1, "timestamp": ts(-5), "trigger": "Delta", "actualValue": "true",
             "eventNotificationType": "HardWiredNotification", "component": {"name": "Connector",
                                                                               "evse": {"id": 1, "connectorId": 1}},
             "variable": {"name": "Problem"}},
            {"eventId": 2, "timestamp": ts(-4), "trigger": "Alerting", "actualValue": "61",
             "eventNotificationType": "HardWiredMonitor", "component": {"name": "TemperatureSensor"},
             "variable": {"name": "Temperature"}}]}) == {}
        assert await st.ok("SecurityEventNotification", {"type": "TamperDetectionActivated",
                                                         "timestamp": ts()}) == {}
        assert await st.ok("FirmwareStatusNotification", {"status": "Installing", "requestId": 3}) == {}
        assert await st.ok("LogStatusNotification", {"status": "Uploaded", "requestId": 4}) == {}
        assert await st.ok("DataTransfer", {"vendorId": "com.acme", "messageId": "x", "data": {"a": 1}}) == \
            {"status": "UnknownVendorId"}  # recorded all the same
        assert await st.ok("NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "EMS"}, "evseId": 1}) == {}
        assert await st.ok("ClearedChargingLimit", {"chargingLimitSource": "EMS"}) == {}
        assert await st.ok("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {
            "requestedEnergyTransfer": "AC_three_phase"}}) == {"status": "Rejected", "statusInfo": {
                "reasonCode": "NoTransaction", "additionalInfo": "no transaction runs on EVSE 1: a TxProfile needs one"}}
        assert (await st.ok("GetCertificateStatus", {"ocspRequestData": {
            "hashAlgorithm": "SHA256", "issuerNameHash": "a" * 64, "issuerKeyHash": "b" * 64, "serialNumber": "01",
            "responderURL": "http://127.0.0.1:9/"}}))["status"] == "Failed"  # loopback: refused, never asked
        assert await st.ok("ReservationStatusUpdate", {"reservationId": 777, "reservationUpdateStatus": "Expired"}) == {}
    async with server.api() as api:
        events = (await api.get(f"/api/v1/charge-points/{cp}/events", params={"limit": 50})).json()["data"]
        station_row = (await api.get(f"/api/v1/charge-points/{cp}")).json()
    kinds = [e["kind"] for e in events]
    for kind in ("event", "security_event", "firmware_status", "log_status", "data_transfer", "charging_limit",
                 "charging_limit_cleared", "ev_charging_needs", "certificate_status_request", "reservation_status"):
        assert kind in kinds, kind
    assert kinds.count("event") == 2
    assert (station_row["firmware_status"], station_row["diagnostics_status"]) == ("Installing", "Uploaded")


async def test_2_1_answers_ev_charging_needs_with_its_own_status(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp, ("ocpp2.1",)) as st:
        await st.ok("BootNotification", BOOT)
        reply = await st.ok("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {
            "requestedEnergyTransfer": "AC_three_phase"}})
    assert (reply["status"], reply["statusInfo"]["reasonCode"]) == ("NoChargingProfile", "NoTransaction")


async def test_meter_values_outside_a_transaction(server, subprotocol):
    cp = await server.add_station()
    async with station(server.ws_url, cp, (subprotocol,)) as st:
        await st.ok("BootNotification", BOOT)
        assert await st.ok("MeterValues", {"evseId": 0, "meterValue": energy(0, 123456)}) == {}
    assert await sessions_of(server, cp) == []


@pytest.mark.parametrize("payload, code", [
    ({"eventType": "Started", "timestamp": "2026-01-01T00:00:00Z", "seqNo": 0,
      "transactionInfo": {"transactionId": "X"}}, "OccurrenceConstraintViolation"),  # no triggerReason
    ({"eventType": "Begun", "timestamp": "2026-01-01T00:00:00Z", "seqNo": 0, "triggerReason": "Authorized",
      "transactionInfo": {"transactionId": "X"}}, "PropertyConstraintViolation"),
    ({"eventType": "Started", "timestamp": "2026-01-01T00:00:00Z", "seqNo": 0, "triggerReason": "Authorized",
      "transactionInfo": {"transactionId": "X"}, "evse": {"id": 0}}, "PropertyConstraintViolation"),
    ({"eventType": "Started", "timestamp": "2026-01-01T00:00:00Z", "seqNo": 2**40, "triggerReason": "Authorized",
      "transactionInfo": {"transactionId": "X"}}, "PropertyConstraintViolation"),
    ({"eventType": "Started", "timestamp": "yesterday", "seqNo": 0, "triggerReason": "Authorized",
      "transactionInfo": {"transactionId": "X"}}, "PropertyConstraintViolation"),
])
async def test_bad_transaction_events_get_the_right_error(sqlite_server, payload, code):
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        reply = await st.call("TransactionEvent", payload)
    assert reply[0] == 4 and reply[2] == code, reply


async def test_a_2_1_token_longer_than_wattson_stores_is_refused_clearly(sqlite_server):
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp, ("ocpp2.1",)) as st:
        await st.ok("BootNotification", BOOT)
        reply = await st.call("Authorize", {"idToken": {"idToken": "x" * 100, "type": "ISO14443"}})
    assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation" and "36" in reply[3]


async def test_a_pending_station_may_only_send_what_pending_allows(sqlite_server):
    cp = await sqlite_server.add_station(registration_status="Pending")
    async with station(sqlite_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        assert (await st.ok("BootNotification", BOOT))["status"] == "Pending"
        reply = await st.call("Authorize", {"idToken": {"idToken": "A", "type": "ISO14443"}})
        assert reply[0] == 4 and reply[2] == "SecurityError"
        # B02.FR.09: a report nobody asked for is refused too (test_protocol_answers.py: asked for).
        reply = await st.call("NotifyReport", {"requestId": 1, "generatedAt": ts(), "seqNo": 0})
        assert reply[0] == 4 and reply[2] == "SecurityError"


async def test_unsupported_2_1_messages_are_answered_not_supported(sqlite_server):
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp, ("ocpp2.1",)) as st:
        await st.ok("BootNotification", BOOT)
        reply = await st.call("NotifyDERAlarm", {"controlType": "FreqDroop", "timestamp": ts()})
    assert reply[0] == 4 and reply[2] == "NotSupported"


async def test_values_read_and_written_join_the_device_model(server):
    cp = await server.add_station()
    hb = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    size = {"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage", "instance": "GetReport"}}
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st, server.api() as api:
        await st.ok("BootNotification", BOOT)

        async def answer(result: dict):
            frame = await st.next_call()
            await st.answer(frame, result)
            return frame

        get = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/ocpp/GetVariables",
                                           json={"getVariableData": [hb, size]}))
        await answer({"getVariableResult": [{**hb, "attributeStatus": "Accepted", "attributeValue": "300"},
                                            {**size, "attributeStatus": "UnknownVariable"}]})
        assert (await get).status_code == 200
        put = asyncio.create_task(api.post(f"/api/v1/charge-points/{cp}/ocpp/SetVariables", json={
            "setVariableData": [{**hb, "attributeValue": "60"}, {**size, "attributeValue": "10"}]}))
        await answer({"setVariableResult": [{**hb, "attributeStatus": "RebootRequired"},
                                            {**size, "attributeStatus": "Rejected"}]})
        assert (await put).status_code == 200
        rows = (await api.get(f"/api/v1/charge-points/{cp}/variables")).json()["data"]
    assert [(r["component"], r["variable"], r["value"], r["source"]) for r in rows] == \
        [("OCPPCommCtrlr", "HeartbeatInterval", "60", "set")]


async def test_stations_of_both_versions_writing_at_once_are_all_stored(server):
    """Meter values of 1.6 and 2.0.1 transactions and of no transaction, sent at the same time, go
    through the same batches: each lands in its own session, and each session ends at its last
    reading."""
    tag = await server.add_tag()
    messages = 15

    async def old_station() -> str:
        cp = await server.add_station()
        async with station(server.ws_url, cp) as st:
            await st.ok("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": ts(-60)}))["transactionId"]
            for n in range(1, messages + 1):
                await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
                    {"timestamp": ts(-60 + n), "sampledValue": [{"value": str(100 * n)}]}]})
        return cp

    async def new_station() -> str:
        cp = await server.add_station()
        async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
            await st.ok("BootNotification", BOOT)
            await st.ok("TransactionEvent", tx_event("T", "Started", 0, -60, "CablePluggedIn", wh=0))
            for n in range(1, messages + 1):
                await st.ok("TransactionEvent", tx_event("T", "Updated", n, -60 + n, wh=200 * n))
                await st.ok("MeterValues", {"evseId": 0, "meterValue": energy(-60 + n, 5000 + n)})  # no transaction
        return cp

    stations = await asyncio.gather(*(old_station() for _ in range(3)), *(new_station() for _ in range(3)))
    async with server.api() as api:
        for cp, wh_per_message in zip(stations, [100] * 3 + [200] * 3):
            [session] = await sessions_of(server, cp)
            assert session["energy_wh"] == wh_per_message * messages, cp
            detail = (await api.get(f"/api/v1/sessions/{session['id']}")).json()
            assert len(detail["meter_values"]) == messages + (wh_per_message == 200), cp  # 2.x: Started's too
