"""The event stream, GET /api/v1/events/stream, over real HTTP from a real server on SQLite and
PostgreSQL: raw OCPP 1.6 stations connect, boot and report statuses, and a listener reads their
events as Server-Sent Events (id: the outbox id, data: the delivery body); the filters by type
and station; resuming after an id with Last-Event-ID or ?after=; keep-alive comments; a key or a
dashboard login needed, unknown types refused. And the feed's rule for ids that commit late."""

import asyncio
from contextlib import asynccontextmanager

import httpx
import orjson
import pytest

from conftest import READY_BOUND_S, start_server, unique
from dashboard_kit import logged_in
from fixture_failures import started_once
from ocpp_client import now, station
from wattson.webhooks.stream import Gap, release

PATH = "/api/v1/events/stream"


def test_ids_are_released_in_order_and_a_gap_is_waited_for_a_while():
    assert release(10, [11, 12, 13], None, now=100.0) == (13, None)
    assert release(10, [], None, now=100.0) == (10, None)
    # 12 is not committed yet: 11 goes out, 13 waits for it
    cursor, gap = release(10, [11, 13], None, now=100.0, grace=5)
    assert (cursor, gap) == (11, Gap(12, 100.0))
    assert release(11, [13], gap, now=104.9, grace=5) == (11, gap)  # still within the grace
    assert release(11, [12, 13], gap, now=104.9, grace=5) == (13, None)  # it came
    assert release(11, [13, 14], gap, now=105.0, grace=5) == (14, None)  # it never will (rolled back)
    # a later gap gets its own grace, from when it is first seen
    cursor, gap = release(11, [13, 15], gap, now=105.0, grace=5)
    assert (cursor, gap) == (13, Gap(14, 105.0))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stream_server(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp(f"stream-{request.param}"), request.param,
                                                  event_stream_keepalive_s="1", event_stream_poll_s="0.2",
                                                  heartbeat_interval="120"))


class Reader:
    """The messages of one open stream: ``next()`` the next event (its SSE id and the body)."""

    def __init__(self, response: httpx.Response):
        self.response, self.lines = response, response.aiter_lines()
        self.comments: list[str] = []

    async def message(self) -> dict:
        """The next message with data (comments are kept in ``comments``)."""
        fields: dict = {}
        while True:
            line = await asyncio.wait_for(anext(self.lines), READY_BOUND_S)
            if line == "":
                if "data" in fields:
                    return fields
                fields = {}  # e.g. the retry: line
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    async def next(self) -> tuple[int, dict]:
        fields = await self.message()
        return int(fields["id"]), orjson.loads(fields["data"])

    async def until(self, predicate) -> tuple[int, dict]:
        while True:
            event_id, body = await self.next()
            if predicate(body):
                return event_id, body


@asynccontextmanager
async def listening(client: httpx.AsyncClient, headers: dict | None = None, **params):
    async with client.stream("GET", PATH, params=params, headers=headers or {}) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Reader(response)


async def boot(server, cp_id: str):
    """A registered station connects, boots and reports a connector Available, then goes."""
    async with station(server.ws_url, cp_id) as st:
        assert (await st.boot())["status"] == "Accepted"
        await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available",
                                           "timestamp": now()})


async def test_a_station_s_events_arrive_as_they_happen(stream_server):
    cp_id = await stream_server.add_station()
    async with stream_server.api() as client, listening(client, charge_point_id=cp_id) as events:
        await boot(stream_server, cp_id)
        seen = []
        while "charge_point.disconnected" not in [b["type"] for _, b in seen]:
            seen.append(await events.next())
    types = [body["type"] for _, body in seen]
    assert types.index("charge_point.connected") < types.index("charge_point.booted") < types.index(
        "charge_point.disconnected"), types
    assert "evse.status_changed" in types
    ids = [event_id for event_id, _ in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    uids = [body["id"] for _, body in seen]
    assert all(uid.startswith("evt_") for uid in uids) and len(set(uids)) == len(uids)
    booted = next(body for _, body in seen if body["type"] == "charge_point.booted")
    assert set(booted) == {"id", "type", "created_at", "data"}
    assert booted["data"]["id"] == cp_id and booted["created_at"].endswith("Z")


async def test_filters_by_type_and_station(stream_server):
    quiet, loud = await stream_server.add_station(), await stream_server.add_station()
    async with stream_server.api() as client, listening(client, types="charge_point.booted,evse.status_changed",
                                                        charge_point_id=loud) as events:
        await boot(stream_server, quiet)  # nothing of this one
        await boot(stream_server, loud)
        _, first = await events.next()
        _, second = await events.next()
    assert first["type"] == "charge_point.booted" and first["data"]["id"] == loud
    assert second["type"] == "evse.status_changed"
    async with stream_server.api() as client, listening(client, types="*", charge_point_id=loud) as events:
        await boot(stream_server, loud)
        assert (await events.next())[1]["type"] == "charge_point.connected"  # * is all


async def test_resumes_after_the_last_event_id(stream_server):
    cp_id = await stream_server.add_station()
    async with stream_server.api() as client:
        async with listening(client, charge_point_id=cp_id) as events:
            await boot(stream_server, cp_id)
            seen = [await events.next()]
            while seen[-1][1]["type"] != "charge_point.disconnected":
                seen.append(await events.next())
        assert len(seen) >= 4
        # the connection broke after the first: the rest again, from the outbox, in order
        async with listening(client, {"Last-Event-ID": str(seen[0][0])}, charge_point_id=cp_id) as events:
            again = [await events.next() for _ in seen[1:]]
        assert again == seen[1:]
        # ?after= does the same for a script's first connection; the header wins over it
        async with listening(client, charge_point_id=cp_id, after=seen[1][0]) as events:
            assert await events.next() == seen[2]
        async with listening(client, {"Last-Event-ID": str(seen[2][0])}, charge_point_id=cp_id,
                             after=seen[0][0]) as events:
            assert await events.next() == seen[3]
        # then it goes on live
        async with listening(client, {"Last-Event-ID": str(seen[-1][0])}, charge_point_id=cp_id) as events:
            await boot(stream_server, cp_id)
            event_id, body = await events.next()
            assert event_id > seen[-1][0] and body["type"] == "charge_point.connected"


async def test_keep_alive_comments_in_the_quiet(stream_server):
    async with stream_server.api() as client, listening(client, charge_point_id=unique()) as events:
        while not events.comments:  # the server sends one a second here (WATTSON_EVENT_STREAM_KEEPALIVE_S=1)
            line = await asyncio.wait_for(anext(events.lines), READY_BOUND_S)
            if line.startswith(":"):
                events.comments.append(line)
        assert events.comments[0] == ": keep-alive"


async def test_a_dashboard_login_is_enough(stream_server):
    cp_id = await stream_server.add_station()
    async with logged_in(stream_server, "viewer") as browser, listening(browser, charge_point_id=cp_id) as events:
        await boot(stream_server, cp_id)
        assert (await events.next())[1]["type"] == "charge_point.connected"


async def test_refused_without_a_key_and_for_unknown_types(stream_server):
    async with httpx.AsyncClient(base_url=stream_server.http_url, timeout=READY_BOUND_S) as anonymous:
        r = await anonymous.get(PATH)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        r = await anonymous.get(PATH, headers={"Authorization": "Bearer wsk_not-a-key"})
        assert r.status_code == 401
    async with stream_server.api() as client:
        r = await client.get(PATH, params={"types": "session.started,session.exploded"})
        assert r.status_code == 422 and "session.exploded" in r.json()["error"]["message"]
        r = await client.get(PATH, headers={"Last-Event-ID": "evt_123"})
        assert r.status_code == 422 and "Last-Event-ID" in r.json()["error"]["message"]
        r = await client.get(PATH, params={"after": "-1"})
        assert r.status_code == 422
        r = await client.get(PATH, params={"charge_point_id": "x" * 101})
        assert r.status_code == 422
