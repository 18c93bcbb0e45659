"""Metrics, readiness and JSON logs, seen as an operator sees them: /metrics scraped over HTTP
while stations connect, call and get commands; /health/ready with the database there and gone;
the server's log lines parsed as JSON (docs/operations.md)."""

import asyncio

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import READY_BOUND_S, start_server, until
from fixture_failures import started_once
from ocpp_client import station
from test_database_outage import proxied_server  # noqa: F401 - the fixture

NODE = "node-under-test"


@pytest.fixture(scope="module")
def observed(request, tmp_path_factory):
    """A server of its own, so that its counts are exactly what these tests did; JSON logs."""
    yield from started_once(request, start_server(tmp_path_factory.mktemp("observed"), "sqlite", node_id=NODE,
                                                  log_format="json", command_timeout="10"))


async def scrape(server) -> dict[tuple, float]:
    """(sample name, sorted labels without node) -> value; every sample must carry this node's label."""
    async with httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as anon:  # no key
        r = await anon.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            labels = dict(s.labels)
            node = labels.pop("node", None)
            if s.name.startswith("wattson_"):
                assert node is not None, s
                samples[(s.name, tuple(sorted(labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_follow_stations_messages_and_commands(observed):
    before = await scrape(observed)
    assert value(before, "wattson_stations_connected") == 0
    assert all(node_label == NODE for node_label in await node_labels(observed))
    v16, v201 = await observed.add_station(), await observed.add_station()
    async with station(observed.ws_url, v16) as st, station(observed.ws_url, v201, ("ocpp2.0.1",)) as st2:
        await st.boot()
        await st.ok("Heartbeat", {})
        await st.ok("Heartbeat", {})
        assert (await st.call("NoSuchAction", {}))[2] == "NotImplemented"
        assert (await st.call("NoSuchActionEither", {}))[2] == "NotImplemented"
        await st2.ok("BootNotification", {"chargingStation": {"model": "T1", "vendorName": "TestVendor"},
                                          "reason": "PowerUp"})
        during = await scrape(observed)
        assert value(during, "wattson_stations_connected") == 2
        assert value(during, "wattson_ocpp_messages_total", version="1.6", action="BootNotification") == 1
        assert value(during, "wattson_ocpp_messages_total", version="1.6", action="Heartbeat") == 2
        assert value(during, "wattson_ocpp_messages_total", version="2.0.1", action="BootNotification") == 1
        # Names no handler knows share one series: a station cannot make new ones.
        assert value(during, "wattson_ocpp_messages_total", version="1.6", action="other") == 2
        assert not [k for k in during if ("action", "NoSuchAction") in k[1]]
        assert value(during, "wattson_ocpp_errors_total", version="1.6", action="other", code="NotImplemented") == 2
        assert value(during, "wattson_ocpp_handler_seconds_count", version="1.6", action="Heartbeat") == 2
        assert value(during, "wattson_ocpp_handler_seconds_bucket", version="1.6", action="Heartbeat", le="+Inf") == 2
        assert value(during, "wattson_ocpp_handler_seconds_sum", version="1.6", action="Heartbeat") > 0

        async with observed.api() as api:  # a command's round trip through the bus to the station and back
            http = asyncio.create_task(api.post(f"/api/v1/charge-points/{v16}/commands/reset", json={"type": "soft"}))
            call = await st.next_call()
            assert call[2] == "Reset"
            await st.answer(call, {"status": "Accepted"})
            assert (await http).status_code == 200, (await http).text
        after = await scrape(observed)
        trips = dict(action="Reset", outcome="completed")
        assert value(after, "wattson_bus_round_trip_seconds_count", **trips) == 1
        assert value(after, "wattson_bus_round_trip_seconds_sum", **trips) > 0
        assert value(after, "wattson_bus_round_trip_seconds_bucket", le="+Inf", **trips) == 1

    async def gone():
        return value(await scrape(observed), "wattson_stations_connected") == 0
    await until(gone, "both stations counted as disconnected")


async def node_labels(server) -> set[str]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as anon:
        text = (await anon.get("/metrics")).text
    return {dict(s.labels)["node"] for f in text_string_to_metric_families(text) for s in f.samples
            if s.name.startswith("wattson_")}


async def test_database_pool_use_is_reported(server):
    async with server.api() as api:  # some units of work first
        assert (await api.get("/api/v1/charge-points")).status_code == 200
    samples = await scrape(server)
    size, open_, in_use = (value(samples, f"wattson_db_pool_{n}") for n in ("size", "open", "checked_out"))
    assert size == (1 if server.backend == "sqlite" else 10)  # SQLite: one connection; PostgreSQL: the default
    assert 1 <= open_ and 0 <= in_use <= open_, samples


async def test_ready_and_metrics_need_no_key(observed):
    async with httpx.AsyncClient(base_url=observed.http_url, timeout=READY_BOUND_S) as anon:
        r = await anon.get("/health/ready")
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "ready", "checks": {"database": "ok"}}
        assert (await anon.get("/health")).json()["status"] == "ok"


async def test_json_logs_name_the_station_and_the_message(observed):
    cp = await observed.add_station()
    async with station(observed.ws_url, cp) as st:
        await st.boot()
        reply = await st.call("NoSuchAction", {})
    message_id = reply[1]

    def lines() -> list[dict]:
        return [orjson.loads(line) for line in observed.log.read_text().splitlines() if line.strip()]

    async def logged():  # every line is one JSON object; find the one about the refused call
        return [line for line in lines() if line.get("message_id") == message_id]
    (line,) = await until(logged, "a log line about the call")
    assert line["station_id"] == cp and line["level"] == "INFO" and "NotImplemented" in line["message"]
    assert {"time", "logger"} <= line.keys()
    connected = [line for line in lines() if line.get("station_id") == cp and "connected" in line["message"]]
    assert connected and "message_id" not in connected[0]
    assert any(line["logger"] == "uvicorn.error" for line in lines())  # the server's own lines too


async def test_ready_answers_503_while_the_database_is_gone(proxied_server):
    server, proxy = proxied_server
    async with httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as anon:
        assert (await anon.get("/health/ready")).status_code == 200
        proxy.cut()
        r = await anon.get("/health/ready")
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["status"] == "unavailable" and body["checks"]["database"] != "ok", body
        assert (await anon.get("/health")).status_code == 200  # alive all the same
        assert (await anon.get("/metrics")).status_code == 200
        proxy.restore()

        async def back():
            return (await anon.get("/health/ready")).status_code == 200
        await until(back, "ready again once the database is back")
