"""The simulator obeys charging profiles, both versions, against a real `wattson serve`: after a
SetChargingProfile sent through the commands API its meter values (Current.Import per phase,
Power.Active.Import) follow the limit, fall back when the profile ends, pause below 6 A, and
GetCompositeSchedule answers the composite. Also what it reports per phase, without a server."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from conftest import READY_BOUND_S, until
from wattson.sim import SimStation, StationConfig
from wattson.sim.meter import VOLTAGE, Ev, readings
from wattson.sim.profiles import usable_w

VERSIONS = ["1.6", "2.0.1"]
STATION_W = 22_000  # three phases of 32 A: well above the limits the tests set
TOLERANCE_A = 0.8  # the simulated EV's noise (1.5 %) and rounding to 0.1 A


def test_current_is_reported_per_phase_the_outlet_has():
    import random

    three = Ev(random.Random(1), 3)
    three.advance(30, 6_900)  # past the ramp: 10 A on each of three phases
    currents = [r for r in readings(["Current.Import"], 0, three, 3)]
    assert [r.phase for r in currents] == ["L1", "L2", "L3"]
    assert all(abs(r.value - 10.0) < TOLERANCE_A for r in currents)
    one = [r.phase for r in readings(["Current.Import", "Power.Active.Import"], 0, Ev(random.Random(1), 1), 1)]
    assert one == ["L1", None]
    assert [r.phase for r in readings(["Current.Import"], 0, None, 3)] == ["L1", "L2", "L3"]  # 0 A, no EV


def test_below_six_amperes_per_phase_the_ev_pauses():
    assert usable_w(5.9 * 3 * VOLTAGE, 3) == 0.0
    assert usable_w(6 * 3 * VOLTAGE, 3) == 6 * 3 * VOLTAGE
    assert usable_w(6 * VOLTAGE, 1) == 6 * VOLTAGE and usable_w(6 * VOLTAGE, 3) == 0.0


async def _charging(server, version: str):
    """A started simulated station with a remote-started session on EVSE 1 whose EV could take the
    station's full 22 kW; (station, session, api client)."""
    cp = await server.add_station()
    tag = await server.add_tag()
    sim = SimStation(StationConfig(cp, server.ws_url, ocpp=version, connectors=1, id_tags=[], meter_interval=0.5,
                                   max_power_w=STATION_W, session_duration=(3600, 3600), seed=5))
    sim.start()
    await asyncio.wait_for(sim.accepted.wait(), READY_BOUND_S)
    api = server.api()
    r = await api.post(f"/api/v1/charge-points/{cp}/commands/remote-start", json={"id_tag": tag, "evse": 1})
    assert r.json()["status"] == "Accepted", r.text
    await sim.wait_until(lambda: sim.connectors[1].transaction is not None, timeout=READY_BOUND_S)
    ev = sim.connectors[1].transaction.ev
    ev.onboard_max_w, ev.capacity_wh, ev.soc = 22_000, 1_000_000, 20.0  # no EV limit, no taper

    async def active():
        r = await api.get("/api/v1/sessions", params={"charge_point_id": cp, "status": "active"})
        found = r.json()["data"]
        return found[0] if found and found[0]["transaction_id"] else None

    return sim, await until(active, "the session recorded"), api


async def _latest_reading(api, session_id: int, since: datetime) -> dict | None:
    """The newest meter reading after ``since``: measurand (phase) -> value."""
    detail = (await api.get(f"/api/v1/sessions/{session_id}")).json()
    values = [v for v in detail["meter_values"] if datetime.fromisoformat(v["timestamp"]) > since
              and v["measurand"] in ("Current.Import", "Power.Active.Import")]
    if not values:
        return None
    newest = max(v["timestamp"] for v in values)
    return {(v["measurand"], v["phase"]): v["numeric"] for v in values if v["timestamp"] == newest}


async def _draws(api, session_id: int, amperes: float, what: str) -> dict:
    """Wait until the station reports ``amperes`` on each of its three phases, with the matching power."""
    since = datetime.now(timezone.utc)

    async def check():
        reading = await _latest_reading(api, session_id, since)
        if reading is None or len([k for k in reading if k[0] == "Current.Import"]) != 3:
            return None
        currents = [reading[("Current.Import", phase)] for phase in ("L1", "L2", "L3")]
        power = reading.get(("Power.Active.Import", None))
        if all(abs(c - amperes) <= TOLERANCE_A for c in currents) and power is not None \
                and abs(power - amperes * 3 * VOLTAGE) <= TOLERANCE_A * 3 * VOLTAGE:
            return reading
        return None

    return await until(check, what)


def _profile(session: dict, limit_a: float, duration_s: int | None = None) -> dict:
    schedule = {"charging_rate_unit": "A", "start_schedule": datetime.now(timezone.utc).isoformat(),
                "periods": [{"start_period": 0, "limit": limit_a}]}
    if duration_s is not None:
        schedule["duration"] = duration_s
    return {"evse": 1, "profile": {"id": 41, "stack_level": 3, "purpose": "TxProfile", "kind": "Absolute",
                                   "transaction_id": session["transaction_id"], "schedule": schedule}}


@pytest.mark.parametrize("version", VERSIONS)
async def test_meter_values_follow_the_profile_and_fall_back_when_it_ends(sqlite_server, version):
    sim, session, api = await _charging(sqlite_server, version)
    cp = session["charge_point_id"]
    try:
        await _draws(api, session["id"], STATION_W / (3 * VOLTAGE), "the EV at the station's maximum")
        r = await api.post(f"/api/v1/charge-points/{cp}/commands/set-charging-profile",
                           json=_profile(session, 10, duration_s=40))
        assert r.json()["status"] == "Accepted", r.text
        await _draws(api, session["id"], 10, "10 A per phase under the profile")

        r = await api.post(f"/api/v1/charge-points/{cp}/commands/get-composite-schedule",
                           json={"evse": 1, "duration": 600, "charging_rate_unit": "A"})
        command = r.json()
        assert command["status"] == "Accepted", command
        schedule = command["response"]["chargingSchedule" if version == "1.6" else "schedule"]
        periods = schedule["chargingSchedulePeriod"]
        assert (schedule["chargingRateUnit"], periods[0]["limit"]) == ("A", 10.0)
        # the profile ends within the 600 s asked about: the composite says the station maximum after it
        assert periods[-1]["limit"] == round(STATION_W / (3 * VOLTAGE), 1) and 0 < periods[-1]["startPeriod"] <= 40

        await _draws(api, session["id"], STATION_W / (3 * VOLTAGE), "back at the maximum once the profile ended")
    finally:
        await sim.stop()
        await api.aclose()


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_limit_below_six_amperes_pauses_the_ev(sqlite_server, version):
    sim, session, api = await _charging(sqlite_server, version)
    cp = session["charge_point_id"]
    try:
        r = await api.post(f"/api/v1/charge-points/{cp}/commands/set-charging-profile", json=_profile(session, 4))
        assert r.json()["status"] == "Accepted", r.text
        await _draws(api, session["id"], 0, "paused: 0 A on every phase")
        await sim.wait_until(lambda: sim.status(1) == "SuspendedEVSE", timeout=READY_BOUND_S)

        async def shown_suspended():
            if version == "1.6":
                station = (await api.get(f"/api/v1/charge-points/{cp}")).json()
                return station["evses"][0]["connectors"][0]["hardware_status"] == "SuspendedEVSE"
            detail = (await api.get(f"/api/v1/sessions/{session['id']}")).json()
            return detail["charging_state"] == "SuspendedEVSE"

        await until(shown_suspended, "the pause reported to Wattson")
        r = await api.post(f"/api/v1/charge-points/{cp}/commands/set-charging-profile", json=_profile(session, 8))
        assert r.json()["status"] == "Accepted", r.text
        await _draws(api, session["id"], 8, "charging again at 8 A")
        await sim.wait_until(lambda: sim.status(1) == "Charging", timeout=READY_BOUND_S)
    finally:
        await sim.stop()
        await api.aclose()
