"""An ISO 15118 EV's plan survives the load controller (docs/smart-charging.md, "ISO 15118 charging
needs"): a raw 2.0.1 station on a circuit with another station tells its EV's needs, gets a shaped
TxProfile (wait for the cheap stretch, then charge), and when a second session on the circuit lowers
its allocation, the controller's TxProfile keeps that shape, capped at the new allocation, instead
of a flat limit."""

from datetime import datetime, timedelta, timezone

import orjson

from conftest import start_server, unique, until
from ocpp_client import station
from test_ev_charging_needs import cheap_later_tariff, raw_needs
from test_load_controller import SETTINGS, V201, Circuit, Managed, new_circuit

#: a hold longer than the test, so that no refresh or fail-safe tail comes between the profiles compared
HOLD_S = 7200
CIRCUIT_A = 24.0  # one session: 24 A (the EV takes 16); two: 12 A each
SKEW_S = 3  # the plan is shifted to the moment each profile goes, to the second


async def profiles_to(server, cp: str) -> list[dict]:
    """The TxProfiles Wattson sent the station, oldest first (its OCPP message log)."""
    async with server.api() as api:
        r = await api.get(f"/api/v1/charge-points/{cp}/ocpp-log", params={"action": "SetChargingProfile"})
    frames = [orjson.loads(f["frame"]) for f in r.json()["frames"] if f["direction"] == "out" and f["type"] == "CALL"]
    return [frame[3]["chargingProfile"] for frame in reversed(frames)
            if frame[3]["chargingProfile"]["chargingProfilePurpose"] == "TxProfile"]


def instants(profile: dict) -> list[tuple[datetime, float]]:
    """(when, limit) of each period of a TxProfile's schedule."""
    (schedule,) = profile["chargingSchedule"]
    start = datetime.fromisoformat(schedule["startSchedule"].replace("Z", "+00:00"))
    return [(start + timedelta(seconds=p["startPeriod"]), p["limit"]) for p in schedule["chargingSchedulePeriod"]]


def capped(periods: list[tuple[datetime, float]], cap: float) -> list[tuple[datetime, float]]:
    merged: list[tuple[datetime, float]] = []
    for at, limit in periods:
        if not merged or merged[-1][1] != min(limit, cap):
            merged.append((at, min(limit, cap)))
    return merged


async def test_a_second_session_caps_the_ev_plan_instead_of_flattening_it(tmp_path):
    servers = start_server(tmp_path, "sqlite", **{**SETTINGS, "loadmgmt_hold_s": str(HOLD_S)})
    server = next(servers)
    try:
        tag = await server.add_tag()
        planned_cp, other_cp = unique("plan"), unique("other")
        cheap_from = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(second=0, microsecond=0)
        async with server.api() as api:
            for cp in (planned_cp, other_cp):
                assert (await api.post("/api/v1/charge-points", json={"id": cp})).status_code == 201
            tariff = cheap_later_tariff(unique("T"), cheap_from, cheap_from + timedelta(hours=2))
            assert (await api.post("/api/v1/tariffs", json=tariff)).status_code == 201
            r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff["id"],
                                                                   "charge_point_id": planned_cp})
            assert r.status_code == 201, r.text
        circuit = Circuit(CIRCUIT_A)
        await new_circuit(server, CIRCUIT_A, planned_cp, other_cp)
        async with station(server.ws_url, planned_cp, V201) as st1, station(server.ws_url, other_cp, V201) as st2:
            planned = Managed(st1, planned_cp, "2.0.1", circuit, hold_s=HOLD_S)
            other = Managed(st2, other_cp, "2.0.1", circuit, hold_s=HOLD_S)
            try:
                await planned.boot()
                await other.boot()
                await planned.start(tag)
                await until(lambda: planned.limit() == CIRCUIT_A, "the circuit's 24 A for the one session")
                assert await st1.ok("NotifyEVChargingNeeds", raw_needs(11_000, hours=5)) == {"status": "Accepted"}

                async def shaped():  # wait for the cheap stretch, then the EV's 16 A
                    sent = await profiles_to(server, planned_cp)
                    limits = [p["limit"] for p in sent[-1]["chargingSchedule"][0]["chargingSchedulePeriod"]]
                    return sent if limits[0] == 0 and 16 in limits else None

                plan = instants((await until(shaped, "the EV's plan sent"))[-1])
                first_charge = next(at for at, limit in plan if limit > 0)
                assert abs((first_charge - cheap_from).total_seconds()) <= 60
                count = len(await profiles_to(server, planned_cp))

                await other.start(tag)  # the allocation drops to 12 A each

                async def lowered_more(than: int):
                    sent = await profiles_to(server, planned_cp)
                    return sent[than:] if len(sent) > than else None

                (controller, *_) = await until(lambda: lowered_more(count), "the TxProfile for two sessions")
                got, expected = instants(controller), capped(plan, CIRCUIT_A / 2)
                assert len(got) == len(expected) > 1, (got, expected)  # the plan's shape, not a flat 12 A
                assert [limit for _, limit in got] == [limit for _, limit in expected]
                assert got[0][1] == 0.0 and max(limit for _, limit in got) == 12
                for (at, _), (planned_at, _) in zip(got[1:], expected[1:]):  # the same instants as planned
                    assert abs((at - planned_at).total_seconds()) <= SKEW_S, (got, expected)
                assert controller["transactionId"] == planned.tx[1] and controller["id"] == 18001
                await until(lambda: other.limit() == CIRCUIT_A / 2, "the other session's 12 A")

                # K16: the EV's own schedule is checked against this profile, the last one sent
                (schedule,) = controller["chargingSchedule"]
                offered = schedule["chargingSchedulePeriod"]

                def ev_schedule(periods: list[dict]) -> dict:
                    return {"timeBase": schedule["startSchedule"], "evseId": 1, "chargingSchedule": {
                        "id": schedule["id"], "chargingRateUnit": "A", "chargingSchedulePeriod": periods}}

                assert await st1.ok("NotifyEVChargingSchedule", ev_schedule(offered)) == {"status": "Accepted"}
                beyond = [{**p, "limit": 16.0 if p["limit"] else 0.0} for p in offered]  # the plan's 16 A
                assert (await st1.ok("NotifyEVChargingSchedule", ev_schedule(beyond)))["status"] == "Rejected"
                again = await until(lambda: lowered_more(count + 1), "a new offer (K16.FR.08)")
                assert max(limit for _, limit in instants(again[-1])) <= 12  # within the allocation
                assert not circuit.excess and not planned.wrong and not other.wrong
            finally:
                planned.close()
                other.close()
    finally:
        assert next(servers, None) is None  # stopped, its log without a traceback
