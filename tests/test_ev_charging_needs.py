"""ISO 15118 charging needs end to end (OCPP 2.x K15–K17) against a real `wattson serve`.

A simulated 2.0.1 station tells its EV's departure and energy (NotifyEVChargingNeeds); Wattson
answers Accepted where a tariff applies or the EVSE is on a circuit, plans a schedule and sends it
as the transaction's TxProfile; the station's current follows it and the EV's own schedule
(NotifyEVChargingSchedule) is accepted. A raw station plays the renegotiations: an EV schedule
beyond the offer is Rejected and a new offer follows (K16.FR.07/08), new needs get a new schedule
(K17); without a tariff or circuit the answer stays the honest refusal.
"""

import asyncio
import sys
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from conftest import READY_BOUND_S, unique, until
from ocpp_client import now, station
from wattson.sim import SimStation, StationConfig

TOLERANCE_A = 0.8


def flat_tariff(tariff_id: str) -> dict:
    return {"id": tariff_id, "currency": "EUR", "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.30, "step_size": 1}]}]}


def cheap_later_tariff(tariff_id: str, cheap_from: datetime, cheap_until: datetime) -> dict:
    """Dear now, cheap between the two times of day (UTC: the station has no location)."""
    return {"id": tariff_id, "currency": "EUR", "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.10, "step_size": 1}],
         "restrictions": {"start_time": cheap_from.strftime("%H:%M"), "end_time": cheap_until.strftime("%H:%M")}},
        {"price_components": [{"type": "ENERGY", "price": 0.45, "step_size": 1}]}]}


async def priced_station(api, tariff: dict, max_amperage_a: int | None = None) -> str:
    cp = unique()
    assert (await api.post("/api/v1/charge-points", json={"id": cp})).status_code == 201
    if max_amperage_a is not None:
        r = await api.post(f"/api/v1/charge-points/{cp}/evses", json={"number": 1, "max_amperage_a": max_amperage_a})
        assert r.status_code == 201, r.text
    if tariff is not None:
        assert (await api.post("/api/v1/tariffs", json=tariff)).status_code == 201
        r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff["id"], "charge_point_id": cp})
        assert r.status_code == 201, r.text
    return cp


async def answers(api, cp: str, action: str) -> list[dict]:
    """What Wattson answered the station's ``action`` calls, oldest first (its OCPP message log)."""
    r = await api.get(f"/api/v1/charge-points/{cp}/ocpp-log", params={"action": action})
    frames = [orjson.loads(f["frame"]) for f in r.json()["frames"]
              if f["direction"] == "out" and f["type"] == "CALLRESULT"]
    return [frame[2] for frame in reversed(frames)]


async def profiles_sent(api, cp: str) -> list[dict]:
    r = await api.get(f"/api/v1/charge-points/{cp}/commands")
    return [c for c in reversed(r.json()["data"]) if c["name"] == "set-charging-profile"]


async def profiles_answered(api, cp: str) -> list[dict]:
    """The set-charging-profile commands, once every one of them has its outcome."""
    sent = await profiles_sent(api, cp)
    return sent if sent and all(c["state"] != "pending" for c in sent) else []


async def simulated(server, api, cp: str, tag: str, needs: tuple[float, float]) -> tuple[SimStation, dict]:
    """A 2.0.1 station whose EV tells ``needs``, charging a remote-started session; (station, session)."""
    sim = SimStation(StationConfig(cp, server.ws_url, ocpp="2.0.1", connectors=1, id_tags=[], meter_interval=0.5,
                                   max_power_w=22_000, session_duration=(3600, 3600), seed=3, charging_needs=needs))
    sim.start()
    await asyncio.wait_for(sim.accepted.wait(), READY_BOUND_S)
    r = await api.post(f"/api/v1/charge-points/{cp}/commands/remote-start", json={"id_tag": tag, "evse": 1})
    assert r.json()["status"] == "Accepted", r.text
    await sim.wait_until(lambda: sim.connectors[1].transaction is not None, timeout=READY_BOUND_S)
    ev = sim.connectors[1].transaction.ev
    ev.capacity_wh, ev.soc = 1_000_000, 20.0  # no taper while the test looks

    async def active():
        r = await api.get("/api/v1/sessions", params={"charge_point_id": cp, "status": "active"})
        found = r.json()["data"]
        return found[0] if found and found[0]["transaction_id"] else None

    return sim, await until(active, "the session recorded")


async def reported_amperes(api, session_id: int) -> list[float] | None:
    """The per-phase currents of the session's newest meter reading."""
    values = [v for v in (await api.get(f"/api/v1/sessions/{session_id}")).json()["meter_values"]
              if v["measurand"] == "Current.Import"]
    if not values:
        return None
    newest = max(v["timestamp"] for v in values)
    return [v["numeric"] for v in values if v["timestamp"] == newest]


async def test_needs_answered_accepted_and_the_station_charges_by_the_schedule(sqlite_server):
    server = sqlite_server
    tag = await server.add_tag()
    async with server.api() as api:
        cp = await priced_station(api, flat_tariff(unique("T")), max_amperage_a=8)
        sim, session = await simulated(server, api, cp, tag, (4 * 3600, 10_000))
        try:
            (answer, *_) = await until(lambda: answers(api, cp, "NotifyEVChargingNeeds"), "the needs answered")
            assert answer == {"status": "Accepted"}
            (sent, *_) = await until(lambda: profiles_answered(api, cp), "the schedule sent and answered")
            assert (sent["state"], sent["status"]) == ("completed", "Accepted")
            profile = sent["params"]["profile"]
            assert (profile["purpose"], profile["kind"], profile["transaction_id"]) == \
                ("TxProfile", "Absolute", session["transaction_id"])
            # one price: nothing to gain by waiting, so the EVSE's 8 A from the start
            assert [(p["start_period"], p["limit"]) for p in profile["schedule"]["periods"]] == [(0, 8.0)]
            (call,) = [p for a, p in sim.received if a == "SetChargingProfile"]
            assert call["chargingProfile"]["transactionId"] == session["transaction_id"]

            async def follows():
                currents = await reported_amperes(api, session["id"])
                return currents if currents and len(currents) == 3 and \
                    all(abs(c - 8) <= TOLERANCE_A for c in currents) else None

            await until(follows, "the station's current at the schedule's 8 A")
            (schedule_answer, *_) = await until(lambda: answers(api, cp, "NotifyEVChargingSchedule"),
                                                "the EV's own schedule answered")
            assert schedule_answer == {"status": "Accepted"}  # K16.FR.06: within the offer

            async def recorded():
                rows = (await api.get(f"/api/v1/sessions/{session['id']}/charging-needs")).json()
                return rows if rows and rows[0]["ev_schedule_status"] and rows[0]["profile_status"] else None

            (row,) = await until(recorded, "the needs, the offer and the EV's schedule recorded")
            assert (row["status"], row["transfer_mode"], row["energy_wh"]) == ("Accepted", "AC_three_phase", 10_000)
            assert (row["profile_status"], row["ev_schedule_status"], row["command_id"]) == \
                ("Accepted", "Accepted", sent["id"])
            assert [(p["start_s"], p["limit"]) for p in row["plan"]["periods"]] == [(0, 8.0)]
            assert row["plan"]["feasible"] and row["ev_schedule"]["periods"][0]["limit"] <= 8
            assert (await api.get("/api/v1/sessions/999999999/charging-needs")).status_code == 404
        finally:
            await sim.stop()


async def test_a_cheaper_stretch_later_makes_the_ev_wait_for_it(sqlite_server):
    server = sqlite_server
    tag = await server.add_tag()
    start = datetime.now(timezone.utc)
    cheap_from = (start + timedelta(hours=2)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    async with server.api() as api:
        cp = await priced_station(api, cheap_later_tariff(unique("T"), cheap_from, cheap_from + timedelta(hours=2)))
        sim, session = await simulated(server, api, cp, tag, (6 * 3600, 5_000))
        try:
            (sent, *_) = await until(lambda: profiles_sent(api, cp), "the schedule sent")
            periods = sent["params"]["profile"]["schedule"]["periods"]
            start_schedule = datetime.fromisoformat(sent["params"]["profile"]["schedule"]["start_schedule"])
            assert periods[0] == {"start_period": 0, "limit": 0.0, "number_phases": 3}  # dear now: wait
            charging = [p for p in periods if p["limit"] > 0]
            first = start_schedule + timedelta(seconds=charging[0]["start_period"])
            assert abs((first - cheap_from).total_seconds()) <= 60  # from the cheap stretch on
            assert charging[0]["limit"] >= 6 and periods[-1]["limit"] == charging[0]["limit"]  # open after departure

            async def paused():
                currents = await reported_amperes(api, session["id"])
                return currents and all(c == 0 for c in currents) and sim.status(1) == "SuspendedEVSE"

            await until(paused, "the EV paused until the cheap stretch")
        finally:
            await sim.stop()


async def test_without_a_tariff_or_circuit_the_answer_says_why(sqlite_server):
    server = sqlite_server
    tag = await server.add_tag()
    async with server.api() as api:
        cp = await priced_station(api, None)
        sim, _ = await simulated(server, api, cp, tag, (3600, 5_000))
        try:
            (answer, *_) = await until(lambda: answers(api, cp, "NotifyEVChargingNeeds"), "the needs answered")
            assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == "NoPlan"
            assert "no circuit" in answer["statusInfo"]["additionalInfo"]
            assert await profiles_sent(api, cp) == []
        finally:
            await sim.stop()


async def next_profile(st) -> list:
    """The next SetChargingProfile Wattson sends; running costs (CostUpdated) on the way are acknowledged."""
    while True:
        call = await st.next_call()
        if call[2] == "SetChargingProfile":
            return call
        await st.answer(call, {} if call[2] == "CostUpdated" else {"status": "Accepted"})


async def test_on_a_circuit_the_offer_stays_within_the_allocation(sqlite_server):
    server = sqlite_server
    tag = await server.add_tag()
    async with server.api() as api:
        cp = await priced_station(api, None)  # no tariff: the circuit alone makes a schedule possible
        r = await api.post("/api/v1/circuits", json={"name": unique("garage"), "max_current_a": 9})
        assert r.status_code == 201, r.text
        r = await api.patch(f"/api/v1/charge-points/{cp}", json={"circuit_id": r.json()["id"]})
        assert r.status_code == 200, r.text
        sim, session = await simulated(server, api, cp, tag, (2 * 3600, 8_000))
        try:
            (answer, *_) = await until(lambda: answers(api, cp, "NotifyEVChargingNeeds"), "the needs answered")
            assert answer == {"status": "Accepted"}
            (sent, *_) = await until(lambda: profiles_sent(api, cp), "the schedule sent")
            limits = [p["limit"] for p in sent["params"]["profile"]["schedule"]["periods"]]
            assert limits and all(0 < limit <= 9 for limit in limits)  # the circuit's 9 A, never the EVSE's 32

            async def within_circuit():
                currents = await reported_amperes(api, session["id"])
                return currents if currents and len(currents) == 3 and \
                    all(abs(c - 9) <= TOLERANCE_A for c in currents) else None

            await until(within_circuit, "the station charging at the circuit's 9 A")
        finally:
            await sim.stop()


async def test_wattson_simulate_shows_the_k15_flow(sqlite_server):
    """The demo's way: `wattson simulate --charging-needs HOURS,KWH` against a priced station."""
    server = sqlite_server
    tag = await server.add_tag()
    async with server.api() as api:
        prefix = unique("K15") + "-"
        cp = f"{prefix}0001"
        assert (await api.post("/api/v1/charge-points", json={"id": cp})).status_code == 201
        tariff = flat_tariff(unique("T"))
        assert (await api.post("/api/v1/tariffs", json=tariff)).status_code == 201
        await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff["id"], "charge_point_id": cp})
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "wattson", "simulate", "--url", server.ws_url, "--ocpp", "2.0.1", "--prefix", prefix,
            "--connectors", "1", "--meter-interval", "1", "--id-tag", tag, "--charging-needs", "4,10", "--quiet",
            env=server.env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            (answer, *_) = await until(lambda: answers(api, cp, "NotifyEVChargingNeeds"), "the needs answered")
            assert answer == {"status": "Accepted"}
            (sent, *_) = await until(lambda: profiles_sent(api, cp), "the schedule sent")
            assert await until(lambda: _completed(api, sent["id"]), "the schedule answered") == "Accepted"
        finally:
            proc.terminate()
            _, errors = await proc.communicate()
        assert b"Traceback" not in errors, errors.decode()


async def _completed(api, command_id: str) -> str | None:
    command = (await api.get(f"/api/v1/commands/{command_id}")).json()
    return command["status"] if command["state"] == "completed" else None


def raw_needs(energy_wh: int, hours: float = 4) -> dict:
    departure = (datetime.now(timezone.utc) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
    return {"evseId": 1, "maxScheduleTuples": 10, "chargingNeeds": {
        "requestedEnergyTransfer": "AC_three_phase", "departureTime": departure,
        "acChargingParameters": {"energyAmount": energy_wh, "evMinCurrent": 6, "evMaxCurrent": 16,
                                 "evMaxVoltage": 400}}}


@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])
async def test_renegotiation_by_the_ev_and_an_ev_schedule_beyond_the_offer(server, subprotocol):
    tag = await server.add_tag()
    async with server.api() as api:
        cp = await priced_station(api, flat_tariff(unique("T")), max_amperage_a=32)
    async with station(server.ws_url, cp, (subprotocol,)) as st:
        await st.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "T", "vendorName": "V"}})
        tx = unique("TX")
        await st.ok("TransactionEvent", {
            "eventType": "Started", "timestamp": now(), "triggerReason": "Authorized", "seqNo": 0,
            "transactionInfo": {"transactionId": tx, "chargingState": "Charging"},
            "idToken": {"idToken": tag, "type": "ISO14443"}, "evse": {"id": 1, "connectorId": 1}})
        assert await st.ok("NotifyEVChargingNeeds", raw_needs(20_000)) == {"status": "Accepted"}  # K15.FR.03
        call = await next_profile(st)
        profile = call[3]["chargingProfile"]
        assert (call[3]["evseId"], profile["chargingProfilePurpose"], profile["transactionId"]) == (1, "TxProfile", tx)
        (schedule,) = profile["chargingSchedule"]  # K15.FR.07: one schedule, within maxScheduleTuples
        assert len(schedule["chargingSchedulePeriod"]) <= 10
        assert schedule["chargingSchedulePeriod"][0]["limit"] == 16  # the EV's maximum under the EVSE's 32 A
        await st.answer(call, {"status": "Accepted"})

        def ev_schedule(limit_a: float) -> dict:
            return {"timeBase": schedule["startSchedule"], "evseId": 1, "chargingSchedule": {
                "id": schedule["id"], "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_a}]}}

        refused = await st.ok("NotifyEVChargingSchedule", ev_schedule(20))  # K16.FR.07: beyond the offer
        assert refused["status"] == "Rejected" and refused["statusInfo"]["reasonCode"] == "OutOfLimits"
        again = await next_profile(st)  # K16.FR.08: a new offer
        assert again[3]["chargingProfile"]["transactionId"] == tx
        await st.answer(again, {"status": "Accepted"})
        assert await st.ok("NotifyEVChargingSchedule", ev_schedule(12)) == {"status": "Accepted"}

        assert await st.ok("NotifyEVChargingNeeds", raw_needs(5_000, hours=1)) == {"status": "Accepted"}  # K17
        renewed = await next_profile(st)
        await st.answer(renewed, {"status": "Rejected"})
        schedule = renewed[3]["chargingProfile"]["chargingSchedule"][0]
        for _ in range(3):  # an EV that keeps asking for more gets three new offers for these needs ...
            assert (await st.ok("NotifyEVChargingSchedule", ev_schedule(30)))["status"] == "Rejected"
            await st.answer(await next_profile(st), {"status": "Accepted"})
        assert (await st.ok("NotifyEVChargingSchedule", ev_schedule(30)))["status"] == "Rejected"
        async with server.api() as api:
            async def six_sent():
                sent = await profiles_sent(api, cp)
                return sent if len(sent) == 6 and all(c["state"] == "completed" for c in sent) else None

            sent = await until(six_sent, "six schedules sent and answered")
            assert [c["status"] for c in sent] == ["Accepted", "Accepted", "Rejected"] + ["Accepted"] * 3
            with pytest.raises(TimeoutError):  # ... and then the last offer stands
                await asyncio.wait_for(next_profile(st), 3)
            events = (await api.get(f"/api/v1/charge-points/{cp}/events", params={"limit": 50})).json()["data"]
            kinds = [e["kind"] for e in events]
            assert kinds.count("ev_charging_needs") == 2 and kinds.count("ev_charging_schedule") == 6


@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])
async def test_odd_needs_are_answered_and_planned_without_a_fault(sqlite_server, subprotocol):
    """Needs a real EV should not send still get a schedule the station can take (or the refusal):
    no current, no energy, a departure gone by, DC without a power, a bound of 0 periods; 2.1's
    bidirectional mode is planned in W."""
    server = sqlite_server
    tag = await server.add_tag()
    async with server.api() as api:
        cp = await priced_station(api, flat_tariff(unique("T")))
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    odd = [
        {"requestedEnergyTransfer": "AC_single_phase", "acChargingParameters": {
            "energyAmount": -5, "evMinCurrent": 0, "evMaxCurrent": 0, "evMaxVoltage": 0}},
        {"requestedEnergyTransfer": "AC_three_phase", "departureTime": past, "acChargingParameters": {
            "energyAmount": 10_000, "evMinCurrent": 40, "evMaxCurrent": 10, "evMaxVoltage": 400}},
        {"requestedEnergyTransfer": "DC", "dcChargingParameters": {"evMaxCurrent": 100, "evMaxVoltage": 400}},
        {"requestedEnergyTransfer": "AC_three_phase"},
    ]
    if subprotocol == "ocpp2.1":
        odd.append({"requestedEnergyTransfer": "AC_BPT", "acChargingParameters": {
            "energyAmount": 1000, "evMinCurrent": 6, "evMaxCurrent": 16, "evMaxVoltage": 400}})
    async with station(server.ws_url, cp, (subprotocol,)) as st:
        await st.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "T", "vendorName": "V"}})
        assert await st.ok("NotifyEVChargingNeeds", {"evseId": 7, "chargingNeeds": odd[-1]}) != {"status": "Accepted"}
        await st.ok("TransactionEvent", {
            "eventType": "Started", "timestamp": now(), "triggerReason": "Authorized", "seqNo": 0,
            "transactionInfo": {"transactionId": unique("TX")}, "idToken": {"idToken": tag, "type": "ISO14443"},
            "evse": {"id": 1, "connectorId": 1}})
        units = []
        for needs in odd:
            answer = await st.ok("NotifyEVChargingNeeds", {"evseId": 1, "maxScheduleTuples": 0, "chargingNeeds": needs})
            assert answer == {"status": "Accepted"}, needs
            call = await next_profile(st)
            (schedule,) = call[3]["chargingProfile"]["chargingSchedule"]
            units.append((schedule["chargingRateUnit"], schedule["chargingSchedulePeriod"][0]["limit"]))
            await st.answer(call, {"status": "Accepted"})
    assert units[0] == ("A", 0)  # no current the EV can take: paused
    assert units[1] == ("A", 0)  # a minimum above its maximum: paused
    assert units[2][0] == "W" and units[2][1] > 0  # DC: in W
    assert units[3][0] == "A" and units[3][1] == 32  # nothing known of the EV: the EVSE's 32 A
