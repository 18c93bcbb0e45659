"""Bad input from stations is answered (with the right OCPP 1.6 error code) and harms nothing:
not the connection, not other stations, not the server. Stations that lose their connection,
retry, replay or send queued messages late leave consistent data behind."""

import asyncio
import time
from datetime import datetime, timedelta, timezone

import httpx
import orjson
import pytest
import websockets

from conftest import READY_BOUND_S, start_server
from fixture_failures import started_once
from ocpp_client import now, station


# --- helpers ------------------------------------------------------------------------------------
def ago(minutes: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(minutes=minutes)).isoformat(timespec="milliseconds")


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


async def get(server, path: str, **params) -> dict:
    async with server.api() as api:
        r = await api.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def sessions_of(server, cp_id: str) -> list[dict]:
    return (await get(server, "/api/v1/sessions", charge_point_id=cp_id))["data"]


async def wait_for(fetch, predicate, timeout: float = READY_BOUND_S):
    """Poll ``fetch()`` until ``predicate`` holds on its result; that result."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if predicate(value):
            return value
        assert time.monotonic() < deadline, f"state never reached; last: {value}"
        await asyncio.sleep(0.05)


def assert_error(reply: list, code: str, unique_id: str) -> None:
    assert reply[0] == 4, f"expected CALLERROR {code}, got {reply}"
    assert (reply[1], reply[2]) == (unique_id, code), f"expected {code} for {unique_id!r}, got {reply}"
    assert isinstance(reply[3], str) and isinstance(reply[4], dict), reply


async def still_works(st) -> None:
    """The connection answers a Heartbeat (and, as call() checks, nothing else came first)."""
    assert "currentTime" in await st.ok("Heartbeat", {})


async def health(server) -> dict:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as client:
        r = await client.get("/health")
    assert r.status_code == 200
    return r.json()


def frame(unique_id, action, payload) -> str:
    return orjson.dumps([2, unique_id, action, payload]).decode()


# --- malformed frames ---------------------------------------------------------------------------
MALFORMED = [
    # (frame, code, unique id of the answer)
    ("not json", "FormationViolation", "-1"),
    ("", "FormationViolation", "-1"),
    ('[2, "m1", "Heartbeat", {}', "FormationViolation", "-1"),  # truncated
    ("[" * 5000 + "]" * 5000, "FormationViolation", "-1"),  # deeper than the parser allows
    ('{"a": 1}', "ProtocolError", "-1"),
    ('"Heartbeat"', "ProtocolError", "-1"),
    ("[]", "ProtocolError", "-1"),
    ("[2]", "ProtocolError", "-1"),
    ('[2, 5, "Heartbeat", {}]', "ProtocolError", "-1"),  # the id is not a string: not recoverable
    ('[2, null, "Heartbeat", {}]', "ProtocolError", "-1"),
    ('[2, "m2", "Heartbeat"]', "ProtocolError", "m2"),
    ('[2, "m3", "Heartbeat", {}, {}]', "ProtocolError", "m3"),
    ('[2, "m4", 17, {}]', "ProtocolError", "m4"),  # the action is not a string
    ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', "ProtocolError", "x" * 37),  # id longer than 36
    ('[9, "m5", "Heartbeat", {}]', "ProtocolError", "m5"),
    ('["2", "m6", "Heartbeat", {}]', "ProtocolError", "m6"),
    ('[2, "m7", "Heartbeat", []]', "FormationViolation", "m7"),
    ('[2, "m8", "Heartbeat", "{}"]', "FormationViolation", "m8"),
    ('[2, "m9", "Heartbeat", null]', "FormationViolation", "m9"),
]


async def test_malformed_frames_are_answered_and_harm_nothing(server):
    victim, bystander = await server.add_station(), await server.add_station()
    async with station(server.ws_url, victim) as st, station(server.ws_url, bystander) as other:
        await st.boot()
        await other.boot()
        for text, code, unique_id in MALFORMED:
            assert_error(await st.send_raw(text), code, unique_id)
            await still_works(st)
            await still_works(other)
        assert other.ws.state is websockets.protocol.State.OPEN
        assert st.ws.state is websockets.protocol.State.OPEN
    assert (await health(server))["status"] == "ok"


async def test_unknown_and_central_system_actions(server):
    cp_id = await server.add_station()
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        assert_error(await st.send_raw(frame("a1", "Teleport", {})), "NotImplemented", "a1")
        assert_error(await st.send_raw(frame("a2", "TransactionEvent", {})), "NotImplemented", "a2")  # 2.0.1 only
        # 1.6 actions that only the central system sends:
        assert_error(await st.send_raw(frame("a3", "Reset", {"type": "Hard"})), "NotSupported", "a3")
        assert_error(await st.send_raw(frame("a4", "RemoteStartTransaction", {"idTag": "T"})), "NotSupported", "a4")
        assert_error(await st.send_raw(frame("a5", "GetConfiguration", {})), "NotSupported", "a5")
        await still_works(st)


async def test_response_schema_names_are_not_actions(server):
    """"HeartbeatResponse" names a schema, not an action: unknown (NotImplemented), not NotSupported."""
    cp_id = await server.add_station()
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        reply = await st.send_raw(frame("r1", "HeartbeatResponse", {"currentTime": now()}))
        await still_works(st)
    assert_error(reply, "NotImplemented", "r1")


# --- schema violations --------------------------------------------------------------------------
BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
METER = {"connectorId": 1, "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "1"}]}]}
START = {"connectorId": 1, "idTag": "TAG-X", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}
SCHEMA_VIOLATIONS = [
    ("BootNotification", {"chargePointVendor": "V"}, "OccurenceConstraintViolation"),
    ("BootNotification", {**BOOT, "chargePointVendor": "V" * 21}, "TypeConstraintViolation"),
    ("BootNotification", {**BOOT, "chargePointModel": 5}, "TypeConstraintViolation"),
    ("BootNotification", {**BOOT, "color": "red"}, "FormationViolation"),
    ("Heartbeat", {"now": True}, "FormationViolation"),
    ("StatusNotification", {**STATUS, "status": "Sleeping"}, "PropertyConstraintViolation"),
    ("StatusNotification", {**STATUS, "errorCode": "Meltdown"}, "PropertyConstraintViolation"),
    ("StatusNotification", {**STATUS, "connectorId": "1"}, "TypeConstraintViolation"),
    ("StatusNotification", {"connectorId": 1, "errorCode": "NoError"}, "OccurenceConstraintViolation"),
    ("StatusNotification", {**STATUS, "timestamp": "yesterday"}, "PropertyConstraintViolation"),
    ("StatusNotification", {**STATUS, "info": "i" * 51}, "TypeConstraintViolation"),
    ("MeterValues", {**METER, "meterValue": [{"timestamp": "last tuesday", "sampledValue": [{"value": "1"}]}]},
     "PropertyConstraintViolation"),
    ("MeterValues", {**METER, "meterValue": []}, "PropertyConstraintViolation"),
    ("MeterValues", {**METER, "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [
        {"value": "1", "measurand": "Happiness"}]}]}, "PropertyConstraintViolation"),
    ("MeterValues", {"connectorId": 1}, "OccurenceConstraintViolation"),
    ("StartTransaction", {**START, "connectorId": 0}, "PropertyConstraintViolation"),
    ("StartTransaction", {**START, "idTag": "T" * 21}, "TypeConstraintViolation"),
    ("StartTransaction", {**START, "meterStart": 1.5}, "TypeConstraintViolation"),
    ("StopTransaction", {"transactionId": 1, "timestamp": "2026-01-01T00:00:00Z"}, "OccurenceConstraintViolation"),
    ("StopTransaction", {"transactionId": 1, "meterStop": 1, "timestamp": "2026-01-01T00:00:00Z",
                         "reason": "Boredom"}, "PropertyConstraintViolation"),
    ("Authorize", {}, "OccurenceConstraintViolation"),
    ("Authorize", {"idTag": ["T"]}, "TypeConstraintViolation"),
    ("DataTransfer", {"vendorId": "V" * 256}, "TypeConstraintViolation"),
]


async def test_schema_violations_are_answered_with_the_1_6_code(server):
    victim, bystander = await server.add_station(), await server.add_station()
    async with station(server.ws_url, victim) as st, station(server.ws_url, bystander) as other:
        await st.boot()
        await other.boot()
        for n, (action, payload, code) in enumerate(SCHEMA_VIOLATIONS):
            assert_error(await st.send_raw(frame(f"s{n}", action, payload)), code, f"s{n}")
            await still_works(st)
            await still_works(other)
    # Nothing of the invalid messages was stored.
    assert await sessions_of(server, victim) == []
    assert (await get(server, f"/api/v1/charge-points/{victim}/status-history"))["data"] == []
    cp = await get(server, f"/api/v1/charge-points/{victim}")
    assert (cp["vendor"], cp["model"]) == ("TestVendor", "T1")  # the valid boot, not the broken ones
    assert (await health(server))["status"] == "ok"


# --- replies to nothing -------------------------------------------------------------------------
async def test_replies_to_no_outstanding_call_are_ignored(server):
    cp_id = await server.add_station()
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        await st.ws.send(orjson.dumps([3, "nobody-asked", {"status": "Accepted"}]).decode())
        await st.ws.send(orjson.dumps([4, "nobody-asked-either", "GenericError", "oops", {}]).decode())
        await st.ws.send(orjson.dumps([4, "minimal", "GenericError", "oops"]).decode())
        # Broken replies are not answered either: OCPP-J answers calls only.
        for broken in ('[3, "short"]', '[3, "list", []]', '[4, "short"]', '[4, "code", 5, "x", {}]', '[3, 5, {}]'):
            await st.ws.send(broken)
        # The next reply on the wire is the Heartbeat's (call() checks the id): nothing answered the strays.
        await still_works(st)
        assert st.replies.empty() and st.calls.empty()
        assert st.ws.state is websockets.protocol.State.OPEN


# --- binary frames: refused with 1003 (OCPP-J is text), see test_malformed_frames.py -------------


# --- a burst ------------------------------------------------------------------------------------
def garbage(n: int) -> tuple[str | bytes, tuple]:
    """Bad frame number ``n`` and the (MessageTypeId, id, code) of its answer."""
    i = f"g{n}"
    kinds = [
        ("{{{", (4, "-1", "FormationViolation")),
        ("[]", (4, "-1", "ProtocolError")),
        (f'[2, "{i}"]', (4, i, "ProtocolError")),
        (f'[7, "{i}", "Heartbeat", {{}}]', (4, i, "ProtocolError")),
        (frame(i, "Heartbeat", []), (4, i, "FormationViolation")),
        (frame(i, "Nope", {}), (4, i, "NotImplemented")),
        (frame(i, "Reset", {"type": "Soft"}), (4, i, "NotSupported")),
        (frame(i, "StatusNotification", {**STATUS, "status": "Sleeping"}), (4, i, "PropertyConstraintViolation")),
        (frame(i, "BootNotification", {"chargePointVendor": "V"}), (4, i, "OccurenceConstraintViolation")),
        ("\x00\x01\x02", (4, "-1", "FormationViolation")),
    ]
    return kinds[n % len(kinds)]


async def test_burst_of_garbage_and_heartbeats_is_answered_in_order(server):
    cp_id = await server.add_station()
    frames, expected = [], []
    for n in range(200):
        text, answer = garbage(n)
        frames.append(text)
        expected.append(answer)
        if n % 5 == 4:
            frames.append(frame(f"h{n}", "Heartbeat", {}))
            expected.append((3, f"h{n}", None))
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        for text in frames:  # all sent before any answer is read
            await st.ws.send(text)
        replies = [await asyncio.wait_for(st.replies.get(), READY_BOUND_S) for _ in frames]
        got = [(r[0], r[1], r[2] if r[0] == 4 else None) for r in replies]
        assert got == expected
        assert all("currentTime" in r[2] for r in replies if r[0] == 3)
        await still_works(st)
        assert st.replies.empty()
    assert (await health(server))["status"] == "ok"


# --- sessions under unreliable connections ------------------------------------------------------
async def test_start_transaction_retried_after_a_lost_response(server):
    cp_id = await server.add_station()
    tag = await server.add_tag()
    start = {"connectorId": 1, "idTag": tag, "meterStart": 4200, "timestamp": ago(3)}
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        first = await st.ok("StartTransaction", start)
    # The station never saw the answer; it reconnects and sends the same StartTransaction again.
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        again = await st.ok("StartTransaction", start)
        third = await st.ok("StartTransaction", start)
    assert first["transactionId"] == again["transactionId"] == third["transactionId"]
    assert first["idTagInfo"]["status"] == again["idTagInfo"]["status"] == "Accepted"  # not ConcurrentTx
    (session,) = await sessions_of(server, cp_id)
    assert session["transaction_id"] == str(first["transactionId"])
    assert (session["status"], session["meter_start"]) == ("active", 4200)


async def test_stop_of_unknown_transaction_is_answered_and_recorded(server):
    cp_id = await server.add_station()
    tag = await server.add_tag()
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        with_tag = await st.ok("StopTransaction", {"transactionId": 987654, "meterStop": 5000, "timestamp": ago(2),
                                                   "idTag": tag, "reason": "Local"})
        assert with_tag["idTagInfo"]["status"] == "Accepted"
        without_tag = await st.ok("StopTransaction", {"transactionId": 987655, "meterStop": 10,
                                                      "timestamp": ago(1)})
        assert "idTagInfo" not in without_tag
        await still_works(st)
    events = (await get(server, f"/api/v1/charge-points/{cp_id}/events"))["data"]
    unknown = {e["data"]["transaction_id"]: e for e in events if e["kind"] == "unknown_transaction"}
    assert set(unknown) == {"987654", "987655"}
    assert unknown["987654"]["data"]["meter_stop"] == 5000
    assert unknown["987654"]["data"]["id_tag"] == tag
    assert await sessions_of(server, cp_id) == []


async def test_disconnect_mid_session_then_queued_messages(server):
    cp_id = await server.add_station()
    tag = await server.add_tag()
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 10_000,
                                               "timestamp": ago(20)}))["transactionId"]
        await st.ws.close()
    await wait_for(lambda: get(server, f"/api/v1/charge-points/{cp_id}"), lambda cp: cp["network_status"] == "offline")
    (session,) = await sessions_of(server, cp_id)
    assert session["status"] == "active" and session["stopped_at"] is None  # a lost connection ends nothing

    meter_at, stop_at = ago(10), ago(5)
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
            {"timestamp": meter_at, "sampledValue": [{"value": "12.5", "unit": "kWh"}]}]})
        (live,) = await sessions_of(server, cp_id)
        assert (live["status"], live["energy_wh"], live["meter_last"]) == ("active", 2500, 12_500)
        stop = await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 13_750, "timestamp": stop_at,
                                               "idTag": tag, "reason": "PowerLoss"})
        assert stop["idTagInfo"]["status"] == "Accepted"
        (done,) = await sessions_of(server, cp_id)
        assert done["status"] == "finished"
        assert parse_utc(done["stopped_at"]) == parse_utc(stop_at)
        assert (done["meter_stop"], done["energy_wh"], done["stop_reason"]) == (13_750, 3750, "PowerLoss")

        # The same stop again (its answer was lost too), or a garbled one: nothing changes.
        await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 13_750, "timestamp": stop_at,
                                        "idTag": tag, "reason": "PowerLoss"})
        again = await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 99_999, "timestamp": now(),
                                                "reason": "Local"})
        assert again == {}
    (after,) = await sessions_of(server, cp_id)
    assert after == done
    events = (await get(server, f"/api/v1/charge-points/{cp_id}/events"))["data"]
    assert not [e for e in events if e["kind"] == "unknown_transaction"]


async def test_replayed_older_status_goes_to_history_only(server):
    cp_id = await server.add_station()
    newer, older = ago(1), ago(6)
    async with station(server.ws_url, cp_id) as st:
        await st.boot()
        for connector in (0, 1):
            await st.ok("StatusNotification", {"connectorId": connector, "errorCode": "NoError",
                                               "status": "Unavailable" if connector == 0 else "Charging",
                                               "timestamp": newer})
            await st.ok("StatusNotification", {"connectorId": connector, "errorCode": "NoError",
                                               "status": "Available", "timestamp": older})
    cp = await get(server, f"/api/v1/charge-points/{cp_id}")
    (connector,) = cp["evses"][0]["connectors"]
    assert (connector["hardware_status"], parse_utc(connector["status_at"])) == ("Charging", parse_utc(newer))
    assert (cp["hardware_status"], parse_utc(cp["status_at"])) == ("Unavailable", parse_utc(newer))
    history = (await get(server, f"/api/v1/charge-points/{cp_id}/status-history"))["data"]
    assert [(h["evse"], h["status"], parse_utc(h["timestamp"])) for h in history] == [
        (1, "Available", parse_utc(older)), (1, "Charging", parse_utc(newer)),
        (None, "Available", parse_utc(older)), (None, "Unavailable", parse_utc(newer))]


# --- values in range for the schema but not for the server --------------------------------------
# The 1.6 schemas bound neither integers nor most strings, and a date-time may be valid yet not
# representable in UTC. Each must be answered (stored, or refused with a constraint violation),
# never end in InternalError with a traceback in the log.
EDGE_CASES = {
    "timestamp-9999-minus-1h": ("StatusNotification", {**STATUS, "timestamp": "9999-12-31T23:59:59-01:00"}),
    "timestamp-0001-plus-1h": ("StatusNotification", {**STATUS, "timestamp": "0001-01-01T00:00:00+01:00"}),
    "connectorId-2^31": ("StatusNotification", {**STATUS, "connectorId": 2**31}),
    "connectorId-2^63": ("StatusNotification", {**STATUS, "connectorId": 2**63}),
    "reservationId-2^40": ("StartTransaction", {**START, "idTag": "EDGE-RES", "reservationId": 2**40,
                                                "timestamp": "2026-01-01T00:00:01Z"}),
    "meterStop-2^63": ("StopTransaction", {"transactionId": None, "meterStop": 2**63,
                                           "timestamp": "2026-01-01T00:10:00Z"}),
    "nul-in-status-info": ("StatusNotification", {**STATUS, "info": "a\u0000b"}),
    "nul-in-idTag": ("Authorize", {"idTag": "x\u0000y"}),
    "nul-in-vendor": ("BootNotification", {**BOOT, "chargePointVendor": "V\u0000"}),
    "sampled-value-3000-chars": ("MeterValues", {**METER, "meterValue": [
        {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "7" * 3000}]}]}),
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def edge_server(request, tmp_path_factory):
    """A server of its own: these tests check its log themselves, case by case, so that one
    failing case is reported as that case and does not fail the shared server's teardown."""
    run = started_once(request, start_server(tmp_path_factory.mktemp(f"edge-{request.param}"), request.param))
    yield next(run)
    try:
        next(run)
    except StopIteration:
        pass
    except AssertionError:
        pass  # a traceback in its log: already reported by the case that caused it


@pytest.mark.parametrize("case", list(EDGE_CASES))
async def test_out_of_range_values_are_answered_without_internal_error(edge_server, case):
    action, payload = EDGE_CASES[case]
    cp_id = await edge_server.add_station()
    async with station(edge_server.ws_url, cp_id) as st:
        await st.boot()
        if payload.get("transactionId", 0) is None:  # stop a transaction that exists
            tx = await st.ok("StartTransaction", {**START, "idTag": "EDGE-STOP"})
            payload = {**payload, "transactionId": tx["transactionId"]}
        log_start = edge_server.log.stat().st_size
        reply = await st.call(action, payload)
        await still_works(st)
        with open(edge_server.log, errors="replace") as log:
            log.seek(log_start)
            logged = log.read()
    raised = [line for line in logged.splitlines() if line and not line[0].isspace()
              and ("Error" in line.split(":")[0] or "Exception" in line.split(":")[0])]
    assert "Traceback" not in logged, f"{action} {case} answered {reply}; the server raised: {raised}"
    assert reply[0] == 3 or reply[2] in ("PropertyConstraintViolation", "TypeConstraintViolation"), \
        f"{action} {case}: {reply}"
