"""Stations told what charging costs (station_cost/, docs/station-cost.md), end to end: real
servers, raw stations on the wire.

The tariff: ENERGY 0.40/kWh + 21 % VAT (0.484), FLAT 1.00 + 21 % (1.21). 5 kWh so far cost
2.00 + 0.42 + 1.21 = 3.63; 8 kWh at the end 3.20 + 0.67 + 1.21 = 5.08.
"""

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import READY_BOUND_S, start_server, unique, until
from fixture_failures import started_once
from ocpp_client import station

#: long enough for several rounds of a 1 s update interval: what must not come would have come by then
QUIET_S = 4.0


def iso(seconds_ago: float = 0) -> str:
    moment = datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tariff_body(tariff_id: str) -> dict:
    return {"id": tariff_id, "currency": "EUR", "type": "REGULAR",
            "tariff_alt_text": [{"language": "en", "text": "0.484 EUR/kWh + 1.21 EUR per session"}],
            "elements": [{"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 21, "step_size": 1},
                                               {"type": "FLAT", "price": 1.00, "vat": 21, "step_size": 1}]}]}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cost_server(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp(f"cost-{request.param}"), request.param,
                                                  cost_update_s="1", command_timeout="3"))


@pytest.fixture(scope="module")
def sqlite_cost_server(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("cost"), "sqlite", cost_update_s="1",
                                                  command_timeout="3"))


async def priced_station(server, priced: bool = True) -> tuple[str, str]:
    """A registered station with its own tariff (or none) and a token: (station, token)."""
    cp, tag = await server.add_station(), await server.add_tag()
    if priced:
        tariff = unique("T")
        async with server.api() as api:
            assert (await api.post("/api/v1/tariffs", json=tariff_body(tariff))).status_code == 201
            r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff, "charge_point_id": cp})
            assert r.status_code == 201, r.text
    return cp, tag


def energy(wh: int, as_text: bool = False) -> list[dict]:
    """A register reading: a number in 2.x, a string in 1.6 (``as_text``)."""
    return [{"timestamp": iso(), "sampledValue": [{"value": str(wh) if as_text else wh,
                                                    "measurand": "Energy.Active.Import.Register"}]}]


def tx_event(tx: str, kind: str, seq: int, trigger: str, wh: int, **extra) -> dict:
    return {"eventType": kind, "timestamp": iso(), "triggerReason": trigger, "seqNo": seq,
            "transactionInfo": {"transactionId": tx, **({"stoppedReason": "Local"} if kind == "Ended" else {})},
            "evse": {"id": 1, "connectorId": 1}, "meterValue": energy(wh), **extra}


async def next_of(st, action: str, timeout: float = READY_BOUND_S) -> list:
    """The next call of ``action`` from the central system (others are answered empty)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await st.next_call(max(deadline - loop.time(), 0.01))
        if frame[2] == action:
            return frame
        await st.answer(frame, {})


async def none_of(st, action: str) -> None:
    """No call of ``action`` comes within QUIET_S."""
    with pytest.raises(TimeoutError):
        frame = await next_of(st, action, QUIET_S)
        raise AssertionError(f"unexpected {frame}")


async def cdr_of(server, cp: str) -> dict:
    async with server.api() as api:
        sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]
        cdrs = (await api.get("/api/v1/cdrs", params={"session_id": sessions[0]["id"]})).json()["data"]
    assert len(cdrs) == 1
    return cdrs[0]


async def test_a_201_station_hears_the_running_cost_and_gets_the_cdrs_total_at_the_end(cost_server):
    cp, tag = await priced_station(cost_server)
    async with station(cost_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {"vendorName": "V", "model": "M"}})
        started = await st.ok("TransactionEvent", tx_event("TX1", "Started", 0, "Authorized", 0,
                                                           idToken={"idToken": tag, "type": "ISO14443"}))
        assert "totalCost" not in started  # 2.0.1: only when charging has ended
        assert await st.ok("TransactionEvent", tx_event("TX1", "Updated", 1, "MeterValuePeriodic", 5000)) == {}
        while True:  # the running cost, every second, until it has the 5 kWh (I02.FR.01)
            call = await next_of(st, "CostUpdated")
            assert call[3]["transactionId"] == "TX1"
            await st.answer(call, {})
            if call[3]["totalCost"] == 3.63:
                break
            assert call[3]["totalCost"] in (1.21, 3.63)  # before the reading was priced: the flat fee
        ended = await st.ok("TransactionEvent", tx_event("TX1", "Ended", 2, "StopAuthorized", 8000))
        cdr = await cdr_of(cost_server, cp)
        assert cdr["total_incl_vat"] == 5.08
        assert ended["totalCost"] == cdr["total_incl_vat"]  # I03: the CDR's own figure
        assert ended["updatedPersonalMessage"] == {"format": "UTF8", "content": "Total 5.08 EUR for 8.000 kWh"}


async def test_a_station_that_answers_not_implemented_is_sent_no_more(sqlite_cost_server):
    server = sqlite_cost_server
    cp, tag = await priced_station(server)
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {"vendorName": "V", "model": "M"}})
        await st.ok("TransactionEvent", tx_event("TX2", "Started", 0, "Authorized", 0,
                                                 idToken={"idToken": tag, "type": "ISO14443"}))
        call = await next_of(st, "CostUpdated")
        await st.ws.send(json.dumps([4, call[1], "NotImplemented", "no display", {}]))
        async with server.api() as api:
            async def refused():
                events = (await api.get(f"/api/v1/charge-points/{cp}/events")).json()["data"]
                return [e for e in events if e["kind"] == "cost_updates_refused"]
            found = await until(refused, "the refusal recorded")
            assert found[0]["data"]["error_code"] == "NotImplemented"
        await none_of(st, "CostUpdated")
        ended = await st.ok("TransactionEvent", tx_event("TX2", "Ended", 1, "StopAuthorized", 2000))
        assert ended["totalCost"] == 2.18  # the answer still says the total: 2 kWh 0.97, flat 1.21


async def test_without_a_tariff_there_is_no_cost_to_tell(sqlite_cost_server):
    server = sqlite_cost_server
    cp, tag = await priced_station(server, priced=False)
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {"vendorName": "V", "model": "M"}})
        await st.ok("TransactionEvent", tx_event("TX3", "Started", 0, "Authorized", 0,
                                                 idToken={"idToken": tag, "type": "ISO14443"}))
        await st.ok("TransactionEvent", tx_event("TX3", "Updated", 1, "MeterValuePeriodic", 3000))
        await none_of(st, "CostUpdated")
        ended = await st.ok("TransactionEvent", tx_event("TX3", "Ended", 2, "StopAuthorized", 4000))
        assert "totalCost" not in ended and "updatedPersonalMessage" not in ended


async def boot_16(st, california: bool | None, server, cp: str) -> None:
    """Boot; with ``california`` not None, the operator reads the station's configuration, which
    says whether it does California pricing."""
    await st.boot()
    if california is None:
        return
    async with server.api() as api:
        asked = asyncio.ensure_future(api.post(f"/api/v1/charge-points/{cp}/commands/get-configuration", json={}))
        call = await st.next_call()
        assert call[2] == "GetConfiguration"
        await st.answer(call, {"configurationKey": [
            {"key": "CustomDisplayCostAndPrice", "readonly": True, "value": "true" if california else "false"},
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"}]})
        assert (await asked).status_code == 200
        variables = (await api.get(f"/api/v1/charge-points/{cp}/variables",
                                   params={"variable": "CustomDisplayCostAndPrice"})).json()["data"]
        assert [(v["component"], v["value"]) for v in variables] == [
            ("OCPP16Configuration", "true" if california else "false")]


def data_of(frame: list) -> tuple[str, dict]:
    payload = frame[3]
    assert payload["vendorId"] == "org.openchargealliance.costmsg"
    return payload["messageId"], json.loads(payload["data"])


async def test_a_california_16_station_gets_running_and_final_costs(sqlite_cost_server):
    server = sqlite_cost_server
    cp, tag = await priced_station(server)
    async with station(server.ws_url, cp) as st:
        await boot_16(st, True, server, cp)
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                               "timestamp": iso()}))["transactionId"]
        first = await next_of(st, "DataTransfer")
        assert data_of(first) == ("SetUserPrice", {"idToken": tag, "priceText": "0.484 EUR/kWh + 1.21 EUR per session"})
        await st.answer(first, {"status": "Accepted"})
        await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": energy(5000, True)})
        while True:
            call = await next_of(st, "DataTransfer")
            await st.answer(call, {"status": "Accepted"})
            message, data = data_of(call)
            assert message == "RunningCost" and data["transactionId"] == tx and data["state"] == "Charging"
            assert data["chargingPrice"] == {"kWhPrice": 0.484, "flatFee": 1.21}
            if data["meterValue"] == 5000:
                assert data["cost"] == 3.63
                break
        await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 8000, "timestamp": iso()})
        cdr = await cdr_of(server, cp)
        while True:
            call = await next_of(st, "DataTransfer")
            await st.answer(call, {"status": "Accepted"})
            message, data = data_of(call)
            if message == "FinalCost":
                break
        assert data == {"transactionId": tx, "cost": cdr["total_incl_vat"], "priceText": "Total 5.08 EUR for 8.000 kWh"}
        assert cdr["total_incl_vat"] == 5.08
        await none_of(st, "DataTransfer")  # once


@pytest.mark.parametrize("california", [None, False])
async def test_a_16_station_not_announcing_california_pricing_gets_none(sqlite_cost_server, california):
    server = sqlite_cost_server
    cp, tag = await priced_station(server)
    async with station(server.ws_url, cp) as st:
        await boot_16(st, california, server, cp)
        tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                               "timestamp": iso()}))["transactionId"]
        await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": energy(5000, True)})
        await none_of(st, "DataTransfer")
        await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 8000, "timestamp": iso()})
        assert (await cdr_of(server, cp))["total_incl_vat"] == 5.08
        await none_of(st, "DataTransfer")


async def test_cost_updated_is_a_command_for_2x_only(sqlite_cost_server):
    server = sqlite_cost_server
    cp16, cp201 = await server.add_station(), await server.add_station()
    async with station(server.ws_url, cp16) as st16, station(server.ws_url, cp201, ("ocpp2.0.1",)) as st201:
        await st16.boot()
        await st201.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {"vendorName": "V", "model": "M"}})
        async with server.api() as api:
            r = await api.post(f"/api/v1/charge-points/{cp16}/commands/cost-updated",
                               json={"transaction_id": "7", "total_cost": "1.50"})
            assert r.status_code == 422 and r.json()["error"]["code"] == "command_not_supported", r.text
            r = await api.post(f"/api/v1/charge-points/{cp201}/commands/cost-updated",
                               json={"transaction_id": "T", "total_cost": "-1"})
            assert r.status_code == 422, r.text
            asked = asyncio.ensure_future(api.post(f"/api/v1/charge-points/{cp201}/commands/cost-updated",
                                                   json={"transaction_id": "T", "total_cost": "1.50"}))
            call = await st201.next_call()
            assert call[2:] == ["CostUpdated", {"totalCost": 1.5, "transactionId": "T"}]
            await st201.answer(call, {})
            r = await asked
            assert r.status_code == 200 and r.json()["state"] == "completed", r.text


@pytest.fixture(scope="module")
def cost_cluster(request, tmp_path_factory):
    from test_cluster import _cluster
    yield from started_once(request, _cluster(tmp_path_factory.mktemp("cost-cluster"), ("gateway", "api", "worker"),
                                              cost_update_s="1"))


async def test_in_a_cluster_the_worker_reaches_the_station_through_the_bus(cost_cluster):
    from test_cluster import api_node, gateways, online
    cluster = cost_cluster
    tag, tariff, cp = unique("TAG"), unique("T"), unique("CL")
    async with cluster.api(api_node(cluster)) as api:
        assert (await api.post("/api/v1/charge-points", json={"id": cp})).status_code == 201
        assert (await api.post("/api/v1/id-tokens", json={"uid": tag})).status_code == 201
        assert (await api.post("/api/v1/tariffs", json=tariff_body(tariff))).status_code == 201
        r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff, "charge_point_id": cp})
        assert r.status_code == 201, r.text
        async with station(gateways(cluster)[0].ws_url, cp, ("ocpp2.0.1",)) as st:
            await st.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {"vendorName": "V", "model": "M"}})
            await online(api, cp)
            await st.ok("TransactionEvent", tx_event("TXC", "Started", 0, "Authorized", 0,
                                                     idToken={"idToken": tag, "type": "ISO14443"}))
            await st.ok("TransactionEvent", tx_event("TXC", "Updated", 1, "MeterValuePeriodic", 5000))
            while True:
                call = await next_of(st, "CostUpdated")
                await st.answer(call, {})
                if call[3] == {"totalCost": 3.63, "transactionId": "TXC"}:
                    break
            ended = await st.ok("TransactionEvent", tx_event("TXC", "Ended", 2, "StopAuthorized", 8000))
            assert ended["totalCost"] == 5.08
        history = (await api.get(f"/api/v1/charge-points/{cp}/commands")).json()["data"]
        assert [x for x in history if x["action"] == "CostUpdated"] == []  # not an operator's command


@pytest.fixture(scope="module")
def hourly_cost_server(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("cost-hourly"), "sqlite",
                                                  cost_update_s="3600", command_timeout="3"))


async def test_a_rate_change_brings_an_update_before_the_interval(hourly_cost_server):
    """An hour between updates, but the price changes 3 s into the session (min_duration): the
    station hears the cost at the change, then not again."""
    server = hourly_cost_server
    cp, tag = await server.add_station(), await server.add_tag()
    tariff = unique("T")
    async with server.api() as api:
        r = await api.post("/api/v1/tariffs", json={"id": tariff, "currency": "EUR", "type": "REGULAR", "elements": [
            {"price_components": [{"type": "ENERGY", "price": 0.50, "step_size": 1}],
             "restrictions": {"min_duration": 3}},
            {"price_components": [{"type": "ENERGY", "price": 0.40, "step_size": 1}]}]})
        assert r.status_code == 201, r.text
        r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff, "charge_point_id": cp})
        assert r.status_code == 201, r.text
    async with station(server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {"vendorName": "V", "model": "M"}})
        await st.ok("TransactionEvent", tx_event("TXR", "Started", 0, "Authorized", 0,
                                                 idToken={"idToken": tag, "type": "ISO14443"}))
        await st.ok("TransactionEvent", tx_event("TXR", "Updated", 1, "MeterValuePeriodic", 1000))
        call = await next_of(st, "CostUpdated")
        await st.answer(call, {})
        assert call[3]["transactionId"] == "TXR"
        await none_of(st, "CostUpdated")
