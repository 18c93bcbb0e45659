"""Wattson's station simulator against a real server: it charges, and answers commands."""

import asyncio
import io
import re
import time

from conftest import READY_BOUND_S, unique
from wattson.sim import SimStation, StationConfig, run_stations
from wattson.sim.report import Session, View, events, progress


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


# --- what `wattson simulate` prints (sim/report.py) ----------------------------------------------
def view(online=True, sessions=None, registers=None, completed=0, station_id="SIM-0001"):
    return View(station_id, "1.6", online, sessions or {}, registers or {1: 1000.0, 2: 0.0}, completed)


class FakeTransaction:
    def __init__(self, stop_reason=None):
        self.stop_reason = stop_reason


def test_report_tells_connect_charge_stop_and_disconnect():
    tx = FakeTransaction()
    charging = view(sessions={1: Session("TAG-1", 1000, tx)})
    assert events(None, view(online=False)) == []
    assert events(view(online=False), view()) == ["SIM-0001 connected (OCPP 1.6)"]
    assert events(view(), charging) == ["SIM-0001 connector 1 charging for TAG-1"]
    tx.stop_reason = "EVDisconnected"
    assert events(charging, view(registers={1: 3500.0, 2: 0.0}, completed=1)) == [
        "SIM-0001 connector 1 stopped (EVDisconnected): 2.50 kWh for TAG-1"]
    assert events(view(), view(online=False)) == ["SIM-0001 disconnected"]


def test_report_tells_a_new_session_on_the_same_connector_as_a_stop_and_a_start():
    first, second = Session("TAG-1", 0, FakeTransaction("Local")), Session("TAG-2", 500, FakeTransaction())
    before, after = view(sessions={2: first}, registers={2: 500.0}), view(sessions={2: second}, registers={2: 500.0})
    assert events(before, after) == ["SIM-0001 connector 2 stopped (Local): 0.50 kWh for TAG-1",
                                     "SIM-0001 connector 2 charging for TAG-2"]
    assert events(after, after) == []


def test_progress_line_sums_the_fleet():
    fleet = [view(sessions={1: Session("T", 0, FakeTransaction())}, completed=2),
             view(online=False, completed=1, station_id="SIM-0002")]
    assert progress(fleet, 12_340) == "1/2 online, 1 charging, 3 sessions done, 12.3 kWh delivered"
    assert progress(fleet[1:], 0) == "0/1 online, 0 charging, 1 session done, 0.0 kWh delivered"


class Captured(io.StringIO):
    def isatty(self):
        return False


async def test_run_stations_reports_what_the_stations_do(server):
    prefix = unique("REP") + "-"
    await server.add_station(f"{prefix}0001")
    tag = await server.add_tag()
    out, stop = Captured(), asyncio.Event()
    runner = asyncio.create_task(run_stations(server.ws_url, 1, prefix=prefix, id_tags=[tag], meter_interval=0.3,
                                              session_gap=(0.1, 0.2), session_duration=(0.5, 0.8),
                                              stop_event=stop, report=out, report_every=0.2))
    try:
        await poll(_async(lambda: "stopped (" in out.getvalue()))
        text = out.getvalue()
        assert f"{prefix}0001 connected (OCPP 1.6)" in text
        assert f"charging for {tag}" in text
        await poll(_async(lambda: re.search(r"1/1 online, \d+ charging, [1-9]\d* sessions? done", out.getvalue())))
    finally:
        stop.set()
        await asyncio.wait_for(runner, READY_BOUND_S)


async def test_stations_without_automatic_sessions_charge_only_when_started(server):
    prefix = unique("MAN") + "-"
    cp = f"{prefix}0001"
    await server.add_station(cp)
    tag = await server.add_tag()
    out, stop = Captured(), asyncio.Event()
    runner = asyncio.create_task(run_stations(server.ws_url, 1, prefix=prefix, id_tags=[], connectors=1,
                                              meter_interval=0.3, stop_event=stop, report=out))
    try:
        await poll(_async(lambda: f"{cp} connected" in out.getvalue()))
        async with server.api() as api:
            r = await api.post(f"/api/v1/charge-points/{cp}/commands/remote-start", json={"id_tag": tag, "evse": 1})
            assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
            await poll(_async(lambda: f"{cp} connector 1 charging for {tag}" in out.getvalue()))

            async def recorded():
                return (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]

            sessions = await poll(recorded)
            assert [s["id_tag"] for s in sessions] == [tag]  # none of its own before or beside it
    finally:
        stop.set()
        await asyncio.wait_for(runner, READY_BOUND_S)


def _async(check):
    async def run():
        return check()
    return run
