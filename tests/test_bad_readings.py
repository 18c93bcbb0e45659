"""Readings that are no usable number (NaN, Infinity, 1e400, -1e308, "abc", magnitude >= 1e15):
the message is accepted, every time it is resent, and the reading alone is dropped (not stored,
not used for energy), with a ``readings_dropped`` station event. Over real WebSockets, for every
measurand of each version, on SQLite and PostgreSQL."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import ocpp
import pytest

from ocpp_client import station

SCHEMAS = Path(ocpp.__file__).parent
MEASURANDS_16 = json.loads((SCHEMAS / "v16/schemas/MeterValues.json").read_text())[
    "properties"]["meterValue"]["items"]["properties"]["sampledValue"]["items"]["properties"]["measurand"]["enum"]
MEASURANDS_201 = json.loads((SCHEMAS / "v201/schemas/MeterValuesRequest.json").read_text())[
    "definitions"]["MeasurandEnumType"]["enum"]
#: 1.6 values are strings: each of these is no finite number below 1e15.
BAD_16 = ["NaN", "Infinity", "-Infinity", "1e400", "-1e308", "abc", "1e15", "", " 12", "1_000", "0x10"]
#: 2.x values are JSON numbers (orjson already refuses NaN and 1e400 as JSON): value, multiplier.
BAD_201 = [(-1e308, 0), (1e15, 0), (-123456789012345678, 0), (1.0, 15), (5, 20), (0, 1000), (1, -1000)]
BOOT_201 = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}


def ts(offset_s: float) -> str:
    at = datetime.now(timezone.utc) + timedelta(seconds=offset_s)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def get(server, path: str, **params) -> dict:
    async with server.api() as api:
        r = await api.get(f"/api/v1{path}", params=params)
        assert r.status_code == 200, r.text
        return r.json()


async def dropped_events(server, cp: str) -> list[dict]:
    events = (await get(server, f"/charge-points/{cp}/events", limit=100))["data"]
    return [e["data"] for e in events if e["kind"] == "readings_dropped"]


async def test_1_6_unusable_readings_are_dropped_and_the_message_accepted(server):
    cp, tag = await server.add_station(), await server.add_tag()
    async with station(server.ws_url, cp) as st:
        await st.boot()
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000,
                                               "timestamp": ts(-600)}))["transactionId"]
        for n, bad in enumerate(BAD_16):
            message = {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": ts(-500 + n), "sampledValue": [
                {"value": bad, "measurand": m} for m in MEASURANDS_16] + [
                {"value": "c2lnbmVk", "format": "SignedData"}]}]}
            for _ in range(2):  # a resend is answered the same: the station's queue moves on
                assert await st.ok("MeterValues", message) == {}, bad
        await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
            {"timestamp": ts(-100), "sampledValue": [{"value": "1400"}, {"value": "NaN", "measurand": "SoC"}]}]})
        stop = {"transactionId": tx, "meterStop": 1500, "timestamp": ts(-1), "transactionData": [
            {"timestamp": ts(-1), "sampledValue": [{"value": v, "context": "Transaction.End"} for v in BAD_16]}]}
        assert await st.ok("StopTransaction", stop) == {}
        # Outside a transaction (the station's own meter), too.
        assert await st.ok("MeterValues", {"connectorId": 0, "meterValue": [
            {"timestamp": ts(-1), "sampledValue": [{"value": "-1e308"}, {"value": "99000"}]}]}) == {}
    (session,) = (await get(server, "/sessions", charge_point_id=cp))["data"]
    assert (session["status"], session["energy_wh"], session["meter_stop"]) == ("finished", 500, 1500)
    values = (await get(server, f"/sessions/{session['id']}"))["meter_values"]
    assert sorted(v["value"] for v in values) == ["1400"] + ["c2lnbmVk"] * len(BAD_16)
    events = await dropped_events(server, cp)
    per_action = {}
    for e in events:
        per_action.setdefault(e["action"], []).append(len(e["readings"]))
    assert per_action["MeterValues"] == [1, 1] + [len(MEASURANDS_16)] * (2 * len(BAD_16))
    assert per_action["StopTransaction"] == [len(BAD_16)]
    reading = events[-1]["readings"][0]  # the oldest: the first bad value, first measurand
    assert (reading["measurand"], reading["value"], reading["reason"]) == (
        MEASURANDS_16[0], "NaN", "not a finite decimal number")
    assert "Traceback" not in server.log.read_text()


@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])
async def test_2_x_unusable_readings_are_dropped_and_the_message_accepted(server, subprotocol):
    cp, tag = await server.add_station(), await server.add_tag()

    def bad_values(offset_s: float) -> list[dict]:
        return [{"timestamp": ts(offset_s), "sampledValue": [
            {"value": value, "measurand": m, "unitOfMeasure": {"unit": "Wh", "multiplier": multiplier}}
            for m in MEASURANDS_201 for value, multiplier in BAD_201]}]

    def event(kind: str, seq: int, offset_s: float, meter: list[dict], **extra) -> dict:
        return {"eventType": kind, "timestamp": ts(offset_s), "triggerReason": "MeterValuePeriodic", "seqNo": seq,
                "transactionInfo": {"transactionId": "T1"}, "evse": {"id": 1, "connectorId": 1},
                "meterValue": meter, **extra}

    def energy(offset_s: float, wh: float, context: str) -> list[dict]:
        return [{"timestamp": ts(offset_s), "sampledValue": [{"value": wh, "context": context}]}]

    async with station(server.ws_url, cp, (subprotocol,)) as st:
        await st.ok("BootNotification", BOOT_201)
        started = event("Started", 0, -600, energy(-600, 1000, "Transaction.Begin"),
                        idToken={"idToken": tag, "type": "ISO14443"})
        assert (await st.ok("TransactionEvent", started))["idTokenInfo"]["status"] == "Accepted"
        update = event("Updated", 1, -300, bad_values(-300) + energy(-300, 1300, "Sample.Periodic"))
        for _ in range(2):  # a resend (same seqNo) is answered the same
            assert await st.ok("TransactionEvent", update) == {}
        ended = event("Ended", 2, -1, bad_values(-1) + energy(-1, 1700, "Transaction.End"),
                      transactionInfo={"transactionId": "T1", "stoppedReason": "Local"})
        assert await st.ok("TransactionEvent", ended) == {}
        assert await st.ok("MeterValues", {"evseId": 0, "meterValue": bad_values(-1)}) == {}
        # JSON itself has no NaN or Infinity; 1e400 is no double: the frame is refused, as any bad JSON.
        for text in ("NaN", "1e400"):
            frame = '[2,"x1","MeterValues",{"evseId":0,"meterValue":[{"timestamp":"%s","sampledValue":' \
                    '[{"value":%s}]}]}]' % (ts(0), text)
            reply = await st.send_raw(frame)
            assert reply[0] == 4 and reply[2] == "FormatViolation", reply
    (session,) = (await get(server, "/sessions", charge_point_id=cp))["data"]
    assert (session["status"], session["energy_wh"]) == ("finished", 700)
    values = (await get(server, f"/sessions/{session['id']}"))["meter_values"]
    assert sorted(v["value"] for v in values) == ["1000", "1300", "1700"]
    events = await dropped_events(server, cp)
    whole = len(MEASURANDS_201) * len(BAD_201)
    assert sorted((e["action"], len(e["readings"])) for e in events) == sorted(
        [("TransactionEvent", whole)] * 3 + [("MeterValues", whole)])
    shown = {r["value"] for e in events for r in e["readings"]}
    assert {"-1e+308", "5e20", "0e1000"} <= shown
    assert "Traceback" not in server.log.read_text()
