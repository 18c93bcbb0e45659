"""Two Wattson processes never share a database unknowingly (cluster/nodes.py): a second `wattson
serve` on a database in use refuses to start with a message and changes nothing, a crashed one's
restart is not held up, and a process elsewhere is waited for until its lease runs out."""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from conftest import READY_BOUND_S, _postgres_admin, _postgres_database, free_port
from ocpp_client import station
from wattson.cluster.models import Node
from wattson.cluster.nodes import Me, Nodes, SharedDatabase, clash, expired, known_dead, pid_alive
from wattson.db import Database
from wattson.db.migrate import upgrade
from wattson.settings import async_database_url

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


def node(**changes) -> Node:
    return Node(**{"id": "other-1", "host": "elsewhere", "pid": 1, "bus": False, "started_at": T0,
                   "heartbeat_at": T0, **changes})


def test_without_a_bus_no_other_process_may_run_and_with_one_only_bus_processes():
    alone, shared = Me("me", "here", 2, bus=False), Me("me", "here", 2, bus=True)
    assert "without a bus" in clash(alone, node())
    assert "without a bus" in clash(alone, node(bus=True))
    assert "without a bus" in clash(shared, node(bus=False))
    assert clash(shared, node(bus=True)) is None


def test_a_process_is_gone_when_its_pid_is_gone_here_or_its_lease_ran_out():
    assert known_dead(node(host="here", pid=7), "here", lambda pid: False)
    assert not known_dead(node(host="here", pid=7), "here", lambda pid: True)
    assert not known_dead(node(host="elsewhere"), "here", lambda pid: False)  # its pid means nothing here
    # a restarted container: same hostname, and its server is pid 1 again; the row is an earlier life
    assert known_dead(node(host="here", pid=1), "here", lambda pid: True, own_pid=1)
    assert expired(node(heartbeat_at=T0), T0 + timedelta(seconds=30), timedelta(seconds=30))
    assert not expired(node(heartbeat_at=T0), T0 + timedelta(seconds=29), timedelta(seconds=30))


def test_a_killed_process_is_gone_before_its_parent_reaps_it():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        assert pid_alive(proc.pid)
        proc.kill()
        deadline = time.monotonic() + READY_BOUND_S
        while pid_alive(proc.pid) and time.monotonic() < deadline:  # a zombie until waited for
            time.sleep(0.05)
        assert not pid_alive(proc.pid)
    finally:
        proc.wait()


# --- a second `wattson serve` -----------------------------------------------------------------------
async def test_a_second_server_on_the_same_database_refuses_and_changes_nothing(server):
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st, server.api() as api:
        await st.boot()
        second = subprocess.run([sys.executable, "-m", "wattson", "serve", "--port", str(free_port())],
                                env=server.env, capture_output=True, text=True, timeout=READY_BOUND_S)
        assert second.returncode != 0
        assert "not started: another Wattson process" in second.stderr, second.stderr
        assert "Traceback" not in second.stderr
        station_now = (await api.get(f"/api/v1/charge-points/{cp}")).json()
        assert station_now["network_status"] == "online"
        assert (await st.call("Heartbeat", {}))[0] == 3


# --- a process elsewhere, on PostgreSQL ---------------------------------------------------------------
@pytest.fixture
async def db():
    name = f"wattson_nodes_{uuid.uuid4().hex[:8]}"
    database = Database(async_database_url(await asyncio.to_thread(_postgres_database, name)))
    await upgrade(database)
    yield database
    await database.dispose()
    await asyncio.to_thread(_postgres_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _elsewhere(db: Database, heartbeat_at: datetime) -> None:
    async with db.session() as s:
        s.add(node(id="far-away-1", host="far-away", pid=os.getpid(), started_at=heartbeat_at,
                   heartbeat_at=heartbeat_at))


async def test_a_silent_process_elsewhere_is_waited_for_until_its_lease_runs_out(db):
    await _elsewhere(db, datetime.now(timezone.utc))
    lease = timedelta(seconds=3)
    await Nodes(db, Me("me-1", "here", os.getpid(), bus=False), lease).check()  # returns once it ran out
    async with db.session() as s:
        assert list(await s.scalars(select(Node.id))) == []


async def test_a_live_process_elsewhere_is_refused(db):
    await _elsewhere(db, datetime.now(timezone.utc))
    lease = timedelta(seconds=3)

    async def renew():
        while True:
            await asyncio.sleep(0.2)
            async with db.session() as s:
                (await s.get(Node, "far-away-1")).heartbeat_at = datetime.now(timezone.utc)

    renewing = asyncio.create_task(renew())
    try:
        with pytest.raises(SharedDatabase, match="far-away-1"):
            await Nodes(db, Me("me-2", "here", os.getpid(), bus=False), lease).check()
    finally:
        renewing.cancel()


async def test_the_later_of_two_processes_joining_at_once_gives_way(db):
    lease = timedelta(seconds=30)
    first, second = (Nodes(db, Me(f"me-{n}", "here", os.getpid(), bus=False), lease) for n in (1, 2))
    await first.join()
    try:
        with pytest.raises(SharedDatabase, match="me-1"):
            await second.join()
        async with db.session() as s:
            assert list(await s.scalars(select(Node.id))) == ["me-1"]
    finally:
        await first.leave()
    async with db.session() as s:
        assert list(await s.scalars(select(Node.id))) == []
