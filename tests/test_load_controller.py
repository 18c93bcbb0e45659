"""The load controller end to end (loadmgmt/controller.py, docs/smart-charging.md "Profiles and
fail-safe"): real servers with the worker in-process, raw OCPP 1.6 and 2.0.1 stations on a
circuit, and a station built with the ``ocpp`` library; every profile they receive is checked
against the circuit's limit as it arrives."""

import asyncio
import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from ocpp.v201 import ChargePoint as ChargePoint201, call as call201, call_result as result201

from conftest import READY_BOUND_S, start_server, unique, until
from fixture_failures import started_once
from ocpp_client import station

SETTINGS = {"command_timeout": "5", "loadmgmt_interval_s": "30", "loadmgmt_hold_s": "600"}
V16, V201 = ("ocpp1.6",), ("ocpp2.0.1",)


def iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def load_server(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp(f"load-{request.param}"), request.param,
                                                  **SETTINGS))


@pytest.fixture(scope="module")
def sqlite_load_server(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("load"), "sqlite", **SETTINGS))


class Circuit:
    """A circuit's limit, and the TxProfile limits in force on it as the stations received them."""

    def __init__(self, limit_a: float):
        self.limit_a = limit_a
        self.in_force: dict[tuple[str, int], float] = {}  # (station, EVSE) → the latest TxProfile's limit
        self.worst = 0.0
        self.excess: list[dict] = []  # the moments its limit was exceeded

    def received(self, key: tuple[str, int], limit: float) -> None:
        """A TxProfile arrived: it holds from now on, so the sum must fit at once (decreases come
        first). Checked by the test at the end: an assertion here would end the station's answers."""
        self.in_force[key] = limit
        self.worst = max(self.worst, sum(self.in_force.values()))
        if self.worst > self.limit_a + 1e-6:
            self.excess.append(dict(self.in_force))

    def ended(self, key: tuple[str, int]) -> None:
        self.in_force.pop(key, None)


def profile_of(version: str, payload: dict) -> tuple[int, str, str | None, float, str, list]:
    """(EVSE, purpose, transaction id, first limit, unit, periods) of a SetChargingProfile."""
    if version == "1.6":
        profile, evse = payload["csChargingProfiles"], payload["connectorId"]
        schedule = profile["chargingSchedule"]
    else:
        profile, evse = payload["chargingProfile"], payload["evseId"]
        schedule = profile["chargingSchedule"][0]
    tx = profile.get("transactionId")
    periods = schedule["chargingSchedulePeriod"]
    return (evse, profile["chargingProfilePurpose"], None if tx is None else str(tx), periods[0]["limit"],
            schedule["chargingRateUnit"], periods)


class Managed:
    """A raw station that answers the controller: SetChargingProfile Accepted (a TxProfile
    Rejected if ``refuse``, a NotSupported CALLERROR if it is "NotSupported"), GetCompositeSchedule
    with what it was sent, anything else ``{}`` (or what ``answers`` says)."""

    def __init__(self, st, cp: str, version: str, circuit: Circuit, refuse: bool | str = False, hold_s: int = 600):
        self.st, self.cp, self.version, self.circuit = st, cp, version, circuit
        self.refuse, self.hold_s = refuse, hold_s
        self.wrong: list = []  # what a station should not have been sent
        self.profiles: list[tuple] = []
        self.tx: dict[int, str] = {}  # EVSE → its running transaction
        self.limits: dict[int, tuple[float, str, str]] = {}  # EVSE → (limit, unit, transaction) of its TxProfile
        self.defaults: list[float] = []  # the TxDefaultProfile limits received
        self.composites = 0
        self.cleared: list[int] = []  # ClearChargingProfile ids
        self.answers: dict = {}  # action → its answer, for the calls a test scripts
        self.task = asyncio.create_task(self._answer())

    async def _answer(self) -> None:
        while True:
            frame = await self.st.calls.get()
            action, payload = frame[2], frame[3]
            if action == "SetChargingProfile":
                evse, purpose, tx, limit, unit, _ = received = profile_of(self.version, payload)
                self.profiles.append(received)
                if purpose == "TxProfile" and self.refuse == "NotSupported":  # a CALLERROR
                    await self.st.ws.send(json.dumps([4, frame[1], "NotSupported", "no smart charging here", {}]))
                    continue
                if purpose == "TxProfile" and self.refuse:
                    await self.st.answer(frame, {"status": "Rejected"})
                    continue
                if purpose == "TxProfile":
                    self.limits[evse] = (limit, unit, tx)
                    self.circuit.received((self.cp, evse), limit)
                else:
                    assert (evse, purpose) == (0, "TxDefaultProfile")
                    periods = received[5]  # nothing for one hold, then the share
                    if periods[0] != {"startPeriod": 0, "limit": 0.0} or periods[1]["startPeriod"] != self.hold_s:
                        self.wrong.append(periods)  # noted: an assertion would end the answers
                    self.defaults.append(periods[-1]["limit"])
                await self.st.answer(frame, {"status": "Accepted"})
            elif action == "GetCompositeSchedule":
                self.composites += 1
                evse = payload.get("connectorId", payload.get("evseId"))
                limit, unit, _ = self.limits[evse]
                schedule = {"chargingRateUnit": unit, "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}
                if self.version == "1.6":
                    await self.st.answer(frame, {"status": "Accepted", "connectorId": evse, "scheduleStart": iso(),
                                                 "chargingSchedule": schedule})
                else:
                    await self.st.answer(frame, {"status": "Accepted", "schedule": {
                        "evseId": evse, "duration": payload["duration"], "scheduleStart": iso(), **schedule}})
            elif action == "ClearChargingProfile":
                self.cleared.append(payload["chargingProfileId" if self.version != "1.6" else "id"])
                await self.st.answer(frame, {"status": "Accepted"})
            else:
                await self.st.answer(frame, self.answers.get(action, {}))

    async def boot(self) -> None:
        if self.version == "1.6":
            await self.st.ok("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
            await self.st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})
        else:
            await self.st.ok("BootNotification", {"reason": "PowerUp",
                                                  "chargingStation": {"vendorName": "V", "model": "M"}})
            await self.st.ok("StatusNotification", {"timestamp": iso(), "connectorStatus": "Available", "evseId": 1,
                                                    "connectorId": 1})

    async def start(self, tag: str) -> str:
        if self.version == "1.6":
            answer = await self.st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                           "timestamp": iso()})
            tx = str(answer["transactionId"])
        else:
            tx = unique("TX")
            await self.st.ok("TransactionEvent", {
                "eventType": "Started", "timestamp": iso(), "triggerReason": "Authorized", "seqNo": 0,
                "transactionInfo": {"transactionId": tx}, "evse": {"id": 1, "connectorId": 1},
                "idToken": {"idToken": tag, "type": "ISO14443"}})
        self.tx[1] = tx
        return tx

    async def stop(self) -> None:
        tx = self.tx.pop(1)
        self.limits.pop(1, None)
        self.circuit.ended((self.cp, 1))
        if self.version == "1.6":
            await self.st.ok("StopTransaction", {"transactionId": int(tx), "meterStop": 1000, "timestamp": iso()})
        else:
            await self.st.ok("TransactionEvent", {
                "eventType": "Ended", "timestamp": iso(), "triggerReason": "StopAuthorized", "seqNo": 1,
                "transactionInfo": {"transactionId": tx, "stoppedReason": "Local"},
                "evse": {"id": 1, "connectorId": 1}})

    def limit(self) -> float | None:
        """The limit of EVSE 1's TxProfile for its running transaction (one may come before the
        test has read the transaction id from the answer)."""
        limit, _, tx = self.limits.get(1, (None, None, None))
        return limit if tx is not None and tx == self.tx.get(1) else None

    def close(self) -> None:
        self.task.cancel()


async def new_circuit(server, limit_a: float, *charge_point_ids: str) -> int:
    async with server.api() as api:
        r = await api.post("/api/v1/circuits", json={"name": unique("circuit"), "max_current_a": limit_a})
        assert r.status_code == 201, r.text
        circuit_id = r.json()["id"]
        for cp in charge_point_ids:
            r = await api.patch(f"/api/v1/charge-points/{cp}", json={"circuit_id": circuit_id})
            assert r.status_code == 200, r.text
    return circuit_id


async def session_id(server, cp: str) -> int:
    async with server.api() as api:
        return (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"][0]["id"]


async def history(server, cp: str) -> list[dict]:
    async with server.api() as api:
        r = await api.get(f"/api/v1/sessions/{await session_id(server, cp)}/charging-profiles")
        assert r.status_code == 200, r.text
        return r.json()


async def test_sessions_on_a_32_a_circuit_share_it_and_a_stop_gives_the_rest_to_the_others(load_server):
    server, circuit = load_server, Circuit(32.0)
    cps = [await server.add_station() for _ in range(3)]
    versions = ["1.6", "2.0.1", "1.6"]
    circuit_id = await new_circuit(server, 32, *cps)
    async with station(server.ws_url, cps[0], V16) as a, station(server.ws_url, cps[1], V201) as b, \
            station(server.ws_url, cps[2], V16) as c:
        stations = [Managed(st, cp, version, circuit) for st, cp, version in zip((a, b, c), cps, versions)]
        for s in stations:
            await s.boot()
        # each placed station's fail-safe: 32 A over the 3 EVSEs placed on the circuit (higher while the
        # others' EVSEs were not known yet: they become known with their StatusNotifications)
        await until(lambda: all(s.defaults[-1:] == [10.6] for s in stations), "the fail-safe profiles")

        await stations[0].start(await server.add_tag())
        await until(lambda: stations[0].limit() == 32.0, "the first session gets the whole circuit")
        await stations[1].start(await server.add_tag())
        await until(lambda: [s.limit() for s in stations[:2]] == [16.0, 16.0], "two share it")
        await stations[2].start(await server.add_tag())
        await until(lambda: [s.limit() for s in stations] == [10.6, 10.6, 10.6], "three share it")

        await stations[2].stop()
        await until(lambda: [s.limit() for s in stations[:2]] == [16.0, 16.0], "a stop gives the rest to the others")
        assert circuit.excess == [] and circuit.worst <= 32.0
        assert [s.wrong for s in stations] == [[], [], []]
        # what the history says of the first station: each change, accepted and verified
        records = await history(server, cps[0])
        assert [r["limit_a"] for r in records] == [32.0, 16.0, 10.6, 16.0]
        assert all(r["status"] == "accepted" and r["verified"] is True and r["purpose"] == "TxProfile"
                   for r in records)
        assert records[0]["unit"] == "A" and records[0]["phases"] == 3 and records[0]["composite_limit"] == 32.0
        async with server.api() as api:
            load = (await api.get(f"/api/v1/circuits/{circuit_id}/load")).json()
        assert sorted((e["limit_a"], e["source"]) for e in load["evses"]) == [(16.0, "controller")] * 2
        # nothing more comes while nothing changes: only changes beyond the threshold are sent
        sent = sum(len(s.profiles) for s in stations)
        await asyncio.sleep(3)  # several looks of the controller (one a second)
        assert sum(len(s.profiles) for s in stations) == sent
        for s in stations[:2]:
            await s.stop()
        for s in stations:
            s.close()


async def test_a_station_that_rejects_its_profile_is_recorded_and_counted_at_its_maximum(sqlite_load_server):
    server, circuit = sqlite_load_server, Circuit(48.0)
    refusing, obeying = await server.add_station(), await server.add_station()
    circuit_id = await new_circuit(server, 48, refusing, obeying)
    async with station(server.ws_url, refusing, V201) as x, station(server.ws_url, obeying, V16) as y:
        rx = Managed(x, refusing, "2.0.1", circuit, refuse=True)
        ry = Managed(y, obeying, "1.6", circuit)
        for s in (rx, ry):
            await s.boot()
        await rx.start(await server.add_tag())
        await until(lambda: any(p[1] == "TxProfile" for p in rx.profiles), "the refusing station is sent its profile")
        records = await until(lambda: history(server, refusing), "its refusal recorded")
        assert records[0]["status"] == "rejected" and "Rejected" in records[0]["reason"]
        await ry.start(await server.add_tag())
        # the refused EVSE counts at its maximum (32 A): 16 A are left for the other
        await until(lambda: ry.limit() == 16.0, "the other gets what the refused one leaves")
        async with server.api() as api:
            load = (await api.get(f"/api/v1/circuits/{circuit_id}/load")).json()
        assert {(e["charge_point_id"], e["managed"]) for e in load["evses"]} == {(refusing, False), (obeying, True)}
        assert [p for p in rx.profiles if p[1] == "TxProfile"][1:] == []  # not asked again in its session
        await rx.stop()
        await until(lambda: ry.limit() == 32.0, "the refusing station's stop frees its share")
        await ry.stop()
        rx.close()
        ry.close()


async def test_a_station_that_answers_a_callerror_is_recorded_with_it(sqlite_load_server):
    server, circuit = sqlite_load_server, Circuit(40.0)
    refusing, obeying = await server.add_station(), await server.add_station()
    await new_circuit(server, 40, refusing, obeying)
    async with station(server.ws_url, refusing, V16) as x, station(server.ws_url, obeying, V201) as y:
        rx = Managed(x, refusing, "1.6", circuit, refuse="NotSupported")
        ry = Managed(y, obeying, "2.0.1", circuit)
        for s in (rx, ry):
            await s.boot()
        await rx.start(await server.add_tag())
        records = await until(lambda: history(server, refusing), "its refusal recorded")
        assert records[0]["status"] == "rejected" and records[0]["reason"] == "NotSupported: no smart charging here"
        await ry.start(await server.add_tag())
        await until(lambda: ry.limit() == 8.0, "40 A less the refused EVSE's 32 A")
        await rx.stop()
        await ry.stop()
        rx.close()
        ry.close()


async def test_a_station_back_from_a_lost_connection_gets_its_fail_safe_and_its_limit_again(sqlite_load_server):
    server, circuit = sqlite_load_server, Circuit(20.0)
    cp = await server.add_station()
    await new_circuit(server, 20, cp)
    async with station(server.ws_url, cp, V16) as st:
        managed = Managed(st, cp, "1.6", circuit)
        await managed.boot()
        await until(lambda: managed.defaults == [20.0], "the fail-safe on boot")
        await managed.start(await server.add_tag())
        await until(lambda: managed.limit() == 20.0, "its limit")
        _, _, _, _, _, periods = managed.profiles[-1]
        # the live profile falls to the fail-safe share after WATTSON_LOADMGMT_HOLD_S
        assert periods == [{"startPeriod": 0, "limit": 20.0, "numberPhases": 3},
                           {"startPeriod": 600, "limit": 20.0, "numberPhases": 3}]
        managed.close()
        tx = managed.tx[1]
    async with station(server.ws_url, cp, V16) as st:  # back, without a boot: a 1.6 station may do that
        again = Managed(st, cp, "1.6", Circuit(20.0))
        again.tx[1] = tx
        await until(lambda: again.defaults == [20.0] and again.limit() == 20.0, "both sent again")
        await again.stop()
        again.close()


async def test_the_profiles_are_sent_again_after_a_restart(tmp_path):
    circuit = Circuit(32.0)
    first = start_server(tmp_path, "sqlite", **SETTINGS)
    server = next(first)
    cps = [await server.add_station(), await server.add_station()]
    await new_circuit(server, 32, *cps)
    txs = []
    async with station(server.ws_url, cps[0], V16) as a, station(server.ws_url, cps[1], V201) as b:
        running = [Managed(a, cps[0], "1.6", circuit), Managed(b, cps[1], "2.0.1", circuit)]
        for s in running:
            await s.boot()
            txs.append(await s.start(await server.add_tag()))
        await until(lambda: [s.limit() for s in running] == [16.0, 16.0], "both at 16 A")
        for s in running:
            s.close()
    assert next(first, None) is None  # stopped, its log without a traceback

    second = start_server(tmp_path, "sqlite", **SETTINGS)
    server = next(second)
    try:
        circuit = Circuit(32.0)
        async with station(server.ws_url, cps[0], V16) as a, station(server.ws_url, cps[1], V201) as b:
            back = [Managed(a, cps[0], "1.6", circuit), Managed(b, cps[1], "2.0.1", circuit)]
            for s, tx in zip(back, txs):
                s.tx[1] = tx
            await until(lambda: [s.limit() for s in back] == [16.0, 16.0] and all(s.defaults for s in back),
                        "the allocation and the fail-safes restored")
            for s in back:
                await s.stop()
                s.close()
    finally:
        assert next(second, None) is None


async def test_a_station_that_takes_only_watts_is_sent_watts_and_one_taken_off_its_circuit_is_cleared(
        sqlite_load_server):
    server = sqlite_load_server
    cp = await server.add_station()
    await new_circuit(server, 16, cp)
    async with station(server.ws_url, cp, V201) as st:
        managed = Managed(st, cp, "2.0.1", Circuit(16 * 230 * 3))
        managed.answers["GetVariables"] = {"getVariableResult": [{
            "attributeStatus": "Accepted", "component": {"name": "SmartChargingCtrlr"},
            "variable": {"name": "RateUnit"}, "attributeValue": "W"}]}
        await managed.boot()
        await until(lambda: managed.defaults == [16.0], "the fail-safe in A while the unit is not known")
        async with server.api() as api:  # the device model learns the station's rate unit
            r = await api.post(f"/api/v1/charge-points/{cp}/commands/get-variables",
                               json={"variables": [{"component": "SmartChargingCtrlr", "variable": "RateUnit"}]})
            assert r.json()["state"] == "completed", r.text
        await managed.start(await server.add_tag())
        await until(lambda: managed.limit() == 11040.0, "16 A × 230 V × 3 phases, in W")
        assert managed.limits[1][1] == "W"
        await until(lambda: managed.defaults[-1:] == [11040.0], "the fail-safe again, in W")
        records = await until(lambda: history(server, cp), "the record")
        assert (records[0]["limit_a"], records[0]["limit"], records[0]["unit"]) == (16.0, 11040.0, "W")
        assert records[0]["verified"] is True
        async with server.api() as api:
            r = await api.patch(f"/api/v1/charge-points/{cp}", json={"circuit_id": None})
            assert r.status_code == 200, r.text
        # the next full round (WATTSON_LOADMGMT_INTERVAL_S) takes Wattson's profiles off the station
        await until(lambda: sorted(managed.cleared) == [18000, 18001], "the profiles cleared")
        await managed.stop()
        managed.close()


async def test_a_live_profile_is_refreshed_before_its_hold_runs_out_without_a_new_history_row(tmp_path):
    servers = start_server(tmp_path, "sqlite", **{**SETTINGS, "loadmgmt_hold_s": "4"})
    server = next(servers)
    try:
        cp = await server.add_station()
        await new_circuit(server, 32, cp)
        async with station(server.ws_url, cp, V16) as st:
            managed = Managed(st, cp, "1.6", Circuit(32.0), hold_s=4)
            await managed.boot()
            await managed.start(await server.add_tag())
            await until(lambda: managed.limit() == 32.0, "its limit")
            first = len(managed.profiles)
            # half a hold later the same limit again, and its tail four seconds on from then
            await until(lambda: len(managed.profiles) >= first + 2, "two refreshes")
            for _, purpose, _, limit, _, periods in managed.profiles[first:]:
                assert (purpose, limit) == ("TxProfile", 32.0) and periods[1]["startPeriod"] == 4
            records = await history(server, cp)
            assert len(records) == 1 and records[0]["refreshed_at"] > records[0]["sent_at"]
            assert managed.wrong == [] and managed.defaults == [32.0]
            await managed.stop()
            managed.close()
    finally:
        assert next(servers, None) is None


@pytest.fixture
def load_cluster(request, tmp_path):
    """A gateway, an API and a worker process on PostgreSQL and NATS (tests/test_cluster.py)."""
    from test_cluster import _cluster

    yield from started_once(request, _cluster(tmp_path, ("gateway", "api", "worker"), **SETTINGS))


async def test_in_a_cluster_the_worker_sends_the_profiles_through_the_gateway_holding_the_station(load_cluster):
    cluster = load_cluster
    gateway, api_node = cluster.nodes[0], cluster.nodes[1]
    server = SimpleNamespace(api=lambda: cluster.api(api_node))
    cp, tag = unique(), unique("TAG")
    async with server.api() as api:
        assert (await api.post("/api/v1/charge-points", json={"id": cp})).status_code == 201
        assert (await api.post("/api/v1/id-tokens", json={"uid": tag})).status_code == 201
    await new_circuit(server, 32, cp)
    async with station(gateway.ws_url, cp, V16) as st:
        managed = Managed(st, cp, "1.6", Circuit(32.0))
        await managed.boot()
        await until(lambda: managed.defaults == [32.0], "the fail-safe, from the worker")
        await managed.start(tag)
        await until(lambda: managed.limit() == 32.0, "the TxProfile, from the worker")
        records = await until(lambda: history(server, cp), "the record")
        assert (records[0]["status"], records[0]["verified"]) == ("accepted", True)
        await managed.stop()
        managed.close()


class LibraryStation(ChargePoint):
    """The ``ocpp`` library validates what it receives against the schemas before answering."""

    profiles: list

    @on(Action.set_charging_profile)
    async def on_set_charging_profile(self, connector_id, cs_charging_profiles, **_):
        self.profiles.append((connector_id, cs_charging_profiles))
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.get_composite_schedule)
    async def on_get_composite_schedule(self, connector_id, duration, charging_rate_unit=None, **_):
        tx = [p for c, p in self.profiles if c == connector_id and p["charging_profile_purpose"] == "TxProfile"]
        period = tx[-1]["charging_schedule"]["charging_schedule_period"][0]
        return call_result.GetCompositeSchedule(status="Accepted", connector_id=connector_id, schedule_start=iso(),
                                                charging_schedule={"chargingRateUnit": "A", "chargingSchedulePeriod": [
                                                    {"startPeriod": 0, "limit": float(period["limit"])}]})


async def test_a_station_built_with_the_ocpp_library_acknowledges_the_profiles(sqlite_load_server):
    server = sqlite_load_server
    cp_id, tag = await server.add_station(), await server.add_tag()
    await new_circuit(server, 25, cp_id)
    async with websockets.connect(f"{server.ws_url}/{cp_id}", subprotocols=["ocpp1.6"],
                                  open_timeout=READY_BOUND_S) as ws:
        cp = LibraryStation(cp_id, ws)
        cp.profiles = []
        runner = asyncio.create_task(cp.start())
        await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="AC22"))
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        await until(lambda: cp.profiles, "the fail-safe")
        start = await cp.call(call.StartTransaction(connector_id=1, id_tag=tag, meter_start=0, timestamp=iso()))
        await until(lambda: any(p["charging_profile_purpose"] == "TxProfile" for _, p in cp.profiles), "its TxProfile")
        default = cp.profiles[0]
        assert default[0] == 0 and default[1]["charging_profile_purpose"] == "TxDefaultProfile"
        assert default[1]["charging_schedule"]["charging_schedule_period"] == [
            {"start_period": 0, "limit": 0}, {"start_period": 600, "limit": 25.0}]
        connector, tx_profile = next((c, p) for c, p in cp.profiles if p["charging_profile_purpose"] == "TxProfile")
        assert connector == 1 and tx_profile["transaction_id"] == start.transaction_id
        records = await until(lambda: history(server, cp_id), "the record")
        assert (records[0]["status"], records[0]["limit_a"]) == ("accepted", 25.0)
        await until(lambda: _verified(server, cp_id), "the composite schedule checked")
        await cp.call(call.StopTransaction(meter_stop=10, timestamp=iso(), transaction_id=start.transaction_id))
        runner.cancel()


class LibraryStation201(ChargePoint201):
    profiles: list

    @on("SetChargingProfile")
    async def on_set_charging_profile(self, evse_id, charging_profile, **_):
        self.profiles.append((evse_id, charging_profile))
        return result201.SetChargingProfile(status="Accepted")

    @on("GetCompositeSchedule")
    async def on_get_composite_schedule(self, duration, evse_id, charging_rate_unit=None, **_):
        tx = [p for e, p in self.profiles if e == evse_id and p["charging_profile_purpose"] == "TxProfile"]
        limit = tx[-1]["charging_schedule"][0]["charging_schedule_period"][0]["limit"]
        return result201.GetCompositeSchedule(status="Accepted", schedule={
            "evse_id": evse_id, "duration": duration, "schedule_start": iso(), "charging_rate_unit": "A",
            "charging_schedule_period": [{"start_period": 0, "limit": limit}]})


async def test_a_201_station_built_with_the_ocpp_library_acknowledges_the_profiles(sqlite_load_server):
    server = sqlite_load_server
    cp_id, tag = await server.add_station(), await server.add_tag()
    await new_circuit(server, 20, cp_id)
    async with websockets.connect(f"{server.ws_url}/{cp_id}", subprotocols=["ocpp2.0.1"],
                                  open_timeout=READY_BOUND_S) as ws:
        cp = LibraryStation201(cp_id, ws)
        cp.profiles = []
        runner = asyncio.create_task(cp.start())
        await cp.call(call201.BootNotification(charging_station={"model": "M", "vendor_name": "Acme"},
                                               reason="PowerUp"))
        await cp.call(call201.StatusNotification(timestamp=iso(), connector_status="Available", evse_id=1,
                                                 connector_id=1))
        await until(lambda: cp.profiles, "the fail-safe")
        tx = unique("tx")
        await cp.call(call201.TransactionEvent(
            event_type="Started", timestamp=iso(), trigger_reason="Authorized", seq_no=0,
            transaction_info={"transaction_id": tx}, evse={"id": 1, "connector_id": 1},
            id_token={"id_token": tag, "type": "ISO14443"}))
        await until(lambda: any(p["charging_profile_purpose"] == "TxProfile" for _, p in cp.profiles), "its TxProfile")
        evse, default = cp.profiles[0]
        assert evse == 0 and default["charging_profile_purpose"] == "TxDefaultProfile"
        assert default["charging_schedule"][0]["charging_schedule_period"] == [
            {"start_period": 0, "limit": 0.0}, {"start_period": 600, "limit": 20.0}]
        evse, tx_profile = next((e, p) for e, p in cp.profiles if p["charging_profile_purpose"] == "TxProfile")
        assert evse == 1 and tx_profile["transaction_id"] == tx
        assert tx_profile["charging_schedule"][0]["charging_schedule_period"][0]["limit"] == 20.0
        await until(lambda: _verified(server, cp_id), "the composite schedule checked")
        await cp.call(call201.TransactionEvent(
            event_type="Ended", timestamp=iso(), trigger_reason="StopAuthorized", seq_no=1,
            transaction_info={"transaction_id": tx, "stopped_reason": "Local"}))
        runner.cancel()


async def _verified(server, cp_id: str) -> bool:
    records = await history(server, cp_id)
    return bool(records) and records[0]["verified"] is True
