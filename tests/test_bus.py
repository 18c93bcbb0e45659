"""The bus's rules without I/O (subjects, event kinds), the worker lock on a real PostgreSQL, and
presence by node: what a cluster of processes relies on (tests/test_cluster.py runs the whole)."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from conftest import until
from test_nodes import db  # noqa: F401 - fixture: a migrated PostgreSQL database
from wattson.bus.subjects import Subjects, event_kind, token
from wattson.cluster.models import Node
from wattson.cluster.nodes import Nodes, myself
from wattson.cluster.singleton import WorkerLock
from wattson.stations.models import ChargePoint
from wattson.db import utcnow
from wattson.stations.service import StationService

T_OLD = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_every_identity_gets_a_single_token_subject_of_its_own():
    subjects = Subjects("t1")
    assert subjects.command("CP-1") == "t1.cmd.CP-1"
    for tricky in ("a.b", "a*", "a>", "a%2E", "*", ">", "a.>"):
        assert len(subjects.command(tricky).split(".")) == 3
        assert not {"*", ">"} & set(token(tricky))
    assert token("a.b") != token("a%2Eb")  # "%" is encoded too: no two identities share a token
    assert token("a%2Eb") == "a%252Eb"
    assert subjects.event("session.started", "CP.1") == "t1.evt.session.started.CP%2E1"
    assert subjects.events() == "t1.evt.>" and subjects.events("status") == "t1.evt.status.*"
    assert subjects.stream == "T1_EVENTS"
    for bad in ("", "a.b", "a b", "x" * 33, "a*"):
        with pytest.raises(ValueError):
            Subjects(bad)


def test_what_a_station_said_becomes_an_event_only_when_it_is_news():
    assert event_kind("BootNotification", {}) == "boot"
    assert event_kind("StatusNotification", {}) == "status"
    assert event_kind("StartTransaction", {}) == "session.started"
    assert event_kind("StopTransaction", {}) == "session.ended"
    assert event_kind("TransactionEvent", {"eventType": "Updated"}) == "session.updated"
    assert event_kind("TransactionEvent", {"eventType": "Ended"}) == "session.ended"
    assert event_kind("TransactionEvent", {"eventType": "Nonsense"}) is None
    assert event_kind("Heartbeat", {}) is None and event_kind("Authorize", {}) is None


async def test_one_lock_holder_at_a_time_and_a_standby_takes_over(db):  # noqa: F811
    running = []

    def lock(name: str) -> WorkerLock:
        async def acquired():
            running.append(name)

        async def lost():
            running.remove(name)
        return WorkerLock(db, 0.05, acquired, lost)

    first, second = lock("first"), lock("second")
    first.start()
    await until(lambda: first.held, "the first lock held")
    second.start()
    await asyncio.sleep(0.3)  # several of the standby's tries
    assert running == ["first"] and not second.held
    await first.stop()  # lets go: its connection is closed, not pooled with the lock still on it
    await until(lambda: second.held, "the standby took the lock")
    assert running == ["second"]
    await second.stop()
    assert running == []


async def test_stations_of_a_node_gone_go_offline_and_a_late_disconnect_changes_nothing(db):  # noqa: F811
    here, there = StationService(db, auto_register=True), StationService(db, auto_register=True)
    here.writer.node_id, there.writer.node_id = "node-here", "node-there"
    assert await here.connect("CP-A", "1.6") == "Accepted"
    assert await here.connect("CP-MOVES", "1.6") == "Accepted"
    assert await there.connect("CP-B", "1.6") == "Accepted"
    assert await there.connect("CP-MOVES", "1.6") == "Accepted"  # it moved: "there" holds it now
    await here.disconnect("CP-MOVES")  # the old connection's end, seen late

    async def status() -> dict:
        async with db.session() as s:
            return dict((await s.execute(select(ChargePoint.id, ChargePoint.network_status))).all())
    assert await status() == {"CP-A": "online", "CP-B": "online", "CP-MOVES": "online"}
    assert await here.release_nodes(["node-here"]) == 1  # "here" died: only its own station
    assert await status() == {"CP-A": "offline", "CP-B": "online", "CP-MOVES": "online"}
    assert await there.release_orphans(["node-there"]) == 0  # at a start-up: nothing else is orphaned
    await here.reclaim(["CP-A"])  # it was only cut off, and is back
    assert (await status())["CP-A"] == "online"


async def test_a_node_taken_for_gone_takes_its_lease_back(db):  # noqa: F811
    nodes = Nodes(db, myself(bus=True), timedelta(seconds=3))
    told = []

    async def renewed(live, lost):
        told.append((live, lost))
    nodes.renewed.append(renewed)
    await nodes.join()
    await nodes.leave()  # as if another process had deleted our expired row
    async with db.session() as s:  # and one that died long ago
        s.add(Node(id="dead-1", host="far", pid=1, bus=True, started_at=T_OLD, heartbeat_at=T_OLD))
    await nodes._renew()
    assert told == [(["dead-1"], True)]
    async with db.session() as s:
        assert list(await s.scalars(nodes.live())) == [nodes.me.id]
    await nodes.leave()


async def test_an_api_process_allows_the_profiles_its_gateways_terminate(db):  # noqa: F811
    """In a cluster the API process has no TLS listener of its own: the live gateways' leases say
    whether stations can use security profiles 2 and 3."""
    from wattson.errors import Invalid

    api = StationService(db)
    nodes = Nodes(db, myself(bus=True, role="api"), timedelta(seconds=30))
    api.gateways_tls = nodes.gateways_tls
    with pytest.raises(Invalid, match="profile 2 needs TLS"):
        await api.create("CP-TLS", security_profile=2, password="a-long-enough-password")
    async with db.session() as s:
        s.add(Node(id="gw-1", host="far", pid=1, bus=True, role="gateway", tls=True, client_ca=False,
                   started_at=utcnow(), heartbeat_at=utcnow()))
        s.add(Node(id="api-2", host="far", pid=2, bus=True, role="api", tls=True, client_ca=True,
                   started_at=utcnow(), heartbeat_at=utcnow()))  # not a gateway: no station reaches it
    assert (await api.create("CP-TLS", security_profile=2, password="a-long-enough-password")).security_profile == 2
    with pytest.raises(Invalid, match="needs client certificates"):
        await api.update("CP-TLS", security_profile=3)
