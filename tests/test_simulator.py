"""Wattson's station simulator against a real server: it charges, and answers commands."""

import asyncio
import time

from conftest import READY_BOUND_S, unique
from wattson.sim import SimStation, StationConfig, run_stations


async def poll(check, timeout: float = READY_BOUND_S, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(interval)


async def test_simulated_stations_charge_and_are_persisted(server):
    prefix = unique("SIM") + "-"
    ids = [f"{prefix}{i:04d}" for i in (1, 2, 3)]
    for cp in ids:
        await server.add_station(cp)
    tags = [await server.add_tag() for _ in range(6)]
    stop = asyncio.Event()
    runner = asyncio.create_task(run_stations(server.ws_url, 3, prefix=prefix, id_tags=tags, meter_interval=0.3,
                                              session_gap=(0.1, 0.3), session_duration=(1.0, 1.5),
                                              stop_event=stop))
    try:
        async with server.api() as api:
            async def finished_everywhere():
                done = []
                for cp in ids:
                    r = await api.get("/api/v1/sessions", params={"charge_point_id": cp, "status": "finished"})
                    done += [s for s in r.json()["data"] if s["auth_status"] == "Accepted"][:1]
                return done if len(done) == len(ids) else None

            finished = await poll(finished_everywhere)
            for s in finished:
                assert s["energy_wh"] == s["meter_stop"] - s["meter_start"] >= 0
                assert s["id_tag"] in tags and s["stop_reason"] in ("EVDisconnected", "Local")
                detail = (await api.get(f"/api/v1/sessions/{s['id']}")).json()
                measurands = {v["measurand"] for v in detail["meter_values"]}
                assert {"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import",
                        "Voltage"} <= measurands
            # Two connectors may authorise the same tag before either starts: the second start is
            # answered ConcurrentTx, and the station stops it at once. Nothing else is refused.
            for cp in ids:
                r = await api.get("/api/v1/sessions", params={"charge_point_id": cp, "status": "finished"})
                for s in r.json()["data"]:
                    assert (s["auth_status"], s["stop_reason"]) in (
                        ("Accepted", "EVDisconnected"), ("Accepted", "Local"), ("ConcurrentTx", "DeAuthorized"))
            station = (await api.get(f"/api/v1/charge-points/{ids[0]}")).json()
            assert (station["vendor"], station["network_status"], station["hardware_status"]) == \
                ("Wattson", "online", "Available")
            assert [e["number"] for e in station["evses"]] == [1, 2]
    finally:
        stop.set()
        await asyncio.wait_for(runner, READY_BOUND_S)


async def test_simulated_station_obeys_commands(server):
    cp = await server.add_station()
    tag = await server.add_tag()
    sim = SimStation(StationConfig(cp, server.ws_url, connectors=1, id_tags=[], meter_interval=0.3))
    sim.start()
    try:
        await asyncio.wait_for(sim.accepted.wait(), READY_BOUND_S)
        async with server.api() as api:
            async def command(name, body=None):
                r = await api.post(f"/api/v1/charge-points/{cp}/commands/{name}", json=body or {})
                assert r.status_code == 200, r.text
                return r.json()

            assert (await command("remote-start", {"id_tag": tag, "evse": 1}))["status"] == "Accepted"

            async def active():
                r = await api.get("/api/v1/sessions", params={"charge_point_id": cp, "status": "active"})
                return r.json()["data"]

            (session,) = await poll(active)
            assert session["id_tag"] == tag
            assert (await command("remote-stop", {"session_id": session["id"]}))["status"] == "Accepted"

            async def stopped():
                return (await api.get(f"/api/v1/sessions/{session['id']}")).json()["status"] == "finished"

            await poll(stopped)
            config = await command("get-configuration", {"keys": ["HeartbeatInterval", "NoSuchKey"]})
            assert config["response"]["unknownKey"] == ["NoSuchKey"]
            assert (await command("change-configuration", {"key": "NoSuchKey", "value": "1"}))["status"] == \
                "NotSupported"
            assert (await command("data-transfer", {"vendor_id": "Wattson", "data": "hi"}))["status"] == "Accepted"
            booted = (await api.get(f"/api/v1/charge-points/{cp}")).json()["booted_at"]
            assert (await command("reset", {"type": "soft"}))["status"] == "Accepted"

            async def rebooted():
                return (await api.get(f"/api/v1/charge-points/{cp}")).json()["booted_at"] != booted

            await poll(rebooted)
    finally:
        await sim.stop()
