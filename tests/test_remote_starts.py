"""A remote start is recognised in the transaction it starts (sessions/remote_starts.py): 2.x by
the remoteStartId its events repeat, even without an idToken; 1.6 by the token of a remote start
the station accepted a little earlier. And a 2.x session ended without a chargingState no longer
shows the last one."""

from ocpp_client import now
from test_commands import online as online_1_6, receive_call, send
from test_commands_v201 import online, round_trip


async def _session(api, cp: str) -> dict:
    sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]
    assert len(sessions) == 1, sessions
    return sessions[0]


async def test_a_remote_started_transaction_without_id_token_takes_the_commands_token(server):
    tag = await server.add_tag()
    async with online(server) as (cp, st, api):
        frame, record = await round_trip(st, api, cp, "remote-start", {"id_tag": tag, "evse": 1},
                                         {"status": "Accepted"})
        remote_start_id = frame[3]["remoteStartId"]
        reply = await st.ok("TransactionEvent", {
            "eventType": "Started", "timestamp": now(), "triggerReason": "RemoteStart", "seqNo": 0,
            "transactionInfo": {"transactionId": "tx-remote", "remoteStartId": remote_start_id},
            "evse": {"id": 1, "connectorId": 1}})
        assert reply == {}  # nothing to answer: the station sent no idToken
        session = await _session(api, cp)
        assert (session["id_tag"], session["auth_status"], session["remote_start_id"]) == \
            (tag, "Accepted", remote_start_id)


async def test_an_unknown_remote_start_id_leaves_the_token_unknown(server):
    async with online(server) as (cp, st, api):
        await st.ok("TransactionEvent", {
            "eventType": "Started", "timestamp": now(), "triggerReason": "RemoteStart", "seqNo": 0,
            "transactionInfo": {"transactionId": "tx-stranger", "remoteStartId": 424242},
            "evse": {"id": 1, "connectorId": 1}})
        session = await _session(api, cp)
        assert (session["id_tag"], session["remote_start_id"]) == (None, 424242)


async def test_a_1_6_start_after_a_remote_start_records_it(server):
    tag, other = await server.add_tag(), await server.add_tag()
    async with online_1_6(server) as (cp, st, api):
        http = send(api, cp, "remote-start", {"id_tag": tag, "evse": 1})
        frame = await receive_call(st, http)
        await st.answer(frame, {"status": "Accepted"})
        record = (await http).json()
        await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": now()})
        await st.ok("StartTransaction", {"connectorId": 2, "idTag": other, "meterStart": 0, "timestamp": now()})
        sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]
        started = {x["id_tag"]: x["remote_start_id"] for x in sessions}
        assert started == {tag: record["params"]["remote_start_id"], other: None}


async def test_a_session_ended_without_charging_state_stops_showing_charging(server):
    tag = await server.add_tag()
    async with online(server) as (cp, st, api):
        base = {"transactionInfo": {"transactionId": "tx-state", "chargingState": "Charging"},
                "evse": {"id": 1, "connectorId": 1}}
        await st.ok("TransactionEvent", {**base, "eventType": "Started", "timestamp": now(),
                                         "triggerReason": "Authorized", "seqNo": 0,
                                         "idToken": {"idToken": tag, "type": "ISO14443"}})
        assert (await _session(api, cp))["charging_state"] == "Charging"
        await st.ok("TransactionEvent", {"eventType": "Ended", "timestamp": now(), "triggerReason": "EVDeparted",
                                         "seqNo": 1, "transactionInfo": {"transactionId": "tx-state"}})
        session = await _session(api, cp)
        assert (session["status"], session["charging_state"]) == ("finished", None)
