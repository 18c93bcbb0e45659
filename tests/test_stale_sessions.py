"""Sessions whose stop will not come are closed by the policy (sessions/stale.py), never while the
stop may still be on its way, and a stop that comes after all has the last word. The rule on its
own, the sweep on SQLite and PostgreSQL, and a real server closing a session of a real station."""

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from conftest import READY_BOUND_S, start_server
from fixture_failures import started_once
from ocpp_client import now, station
from test_start_writer import _add, database_url, services  # noqa: F401 - fixtures
from wattson.sessions.models import Session
from wattson.sessions.stale import AVAILABLE_WITHOUT_STOP, STATION_VANISHED, Facts, StalePolicy, stale_reason
from wattson.stations.models import ChargePoint, Connector, StationEvent
from wattson.stations.service import StationService

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)
POLICY = StalePolicy(available_after=timedelta(minutes=15), vanished_after=timedelta(days=7))


def facts(**changes) -> Facts:
    base = dict(started_at=T0, last_reading_at=T0 + timedelta(minutes=30), network_status="online",
                connected_at=T0 - timedelta(hours=1), last_seen=T0 + timedelta(minutes=59),
                connector_status="Available", connector_status_at=T0 + timedelta(minutes=40))
    return Facts(**{**base, **changes})


# --- the rule -------------------------------------------------------------------------------------
def test_a_connector_available_for_a_while_without_a_stop_closes_its_session():
    assert stale_reason(facts(), POLICY, T0 + timedelta(minutes=56)) == AVAILABLE_WITHOUT_STOP
    assert stale_reason(facts(), POLICY, T0 + timedelta(minutes=54)) is None  # not 15 minutes yet


@pytest.mark.parametrize("change", [
    {"connector_status": "Charging"},
    {"connector_status": None},
    {"connector_status_at": T0 + timedelta(minutes=20)},  # before the last reading: not about this session
    {"connected_at": T0 + timedelta(hours=1, minutes=55)},  # just reconnected: its queue may still come
    {"connected_at": None},
])
def test_a_session_is_kept_while_its_stop_may_still_come(change):
    assert stale_reason(facts(**change), POLICY, T0 + timedelta(hours=2)) is None


def test_a_station_gone_longer_than_the_policy_closes_its_sessions():
    gone = facts(network_status="offline", last_seen=T0 + timedelta(hours=1))
    assert stale_reason(gone, POLICY, T0 + timedelta(days=7, hours=1)) == STATION_VANISHED
    assert stale_reason(gone, POLICY, T0 + timedelta(days=6)) is None
    assert stale_reason(facts(network_status="never_connected", last_seen=None), POLICY,
                        T0 + timedelta(days=8)) == STATION_VANISHED


def test_a_policy_switched_off_closes_nothing():
    never = StalePolicy(available_after=None, vanished_after=None)
    assert stale_reason(facts(), never, T0 + timedelta(days=30)) is None
    assert stale_reason(facts(network_status="offline"), never, T0 + timedelta(days=30)) is None


# --- the sweep, on both databases -----------------------------------------------------------------
async def _open(services, cp: str, *, online: bool, status: str | None, status_at: datetime | None) -> Session:
    await _add(services, [cp], [f"TAG-{cp}"])
    session, _ = await services.sessions.start(cp, evse=1, connector=1, id_tag=f"TAG-{cp}", meter_start=100,
                                               timestamp=T0)
    async with services.db.session() as s:
        await s.execute(update(ChargePoint).where(ChargePoint.id == cp).values(
            network_status="online" if online else "offline", connected_at=T0 - timedelta(hours=1),
            last_seen=T0 + timedelta(minutes=5)))
        if status is not None:
            connector = await StationService.ensure_connector(s, cp, 1, 1)
            connector.hardware_status, connector.status_at = status, status_at
    return session


async def test_the_sweep_closes_what_the_policy_says_and_a_late_stop_still_counts(services):
    services.stale.policy = POLICY
    freed = await _open(services, "ST-FREE", online=True, status="Available", status_at=T0 + timedelta(minutes=10))
    busy = await _open(services, "ST-BUSY", online=True, status="Charging", status_at=T0 + timedelta(minutes=10))
    gone = await _open(services, "ST-GONE", online=False, status=None, status_at=None)
    assert await services.stale.sweep(now=T0 + timedelta(hours=1)) == [freed.id]
    assert sorted(await services.stale.sweep(now=T0 + timedelta(days=8))) == [gone.id]
    async with services.db.session() as s:
        rows = {x.id: x for x in await s.scalars(select(Session))}
        events = [(e.charge_point_id, e.data["reason"]) for e in await s.scalars(
            select(StationEvent).where(StationEvent.kind == "session_closed_stale"))]
    assert (rows[freed.id].status, rows[freed.id].stop_reason) == ("finished", AVAILABLE_WITHOUT_STOP)
    assert (rows[gone.id].status, rows[gone.id].stop_reason) == ("finished", STATION_VANISHED)
    assert rows[busy.id].status == "active"
    assert sorted(events) == [("ST-FREE", AVAILABLE_WITHOUT_STOP), ("ST-GONE", STATION_VANISHED)]
    late = await services.sessions.stop("ST-FREE", freed.transaction_id, meter_stop=900,
                                        timestamp=T0 + timedelta(minutes=9), reason="EVDisconnected")
    assert (late.status, late.stop_reason, late.energy_wh) == ("finished", "EVDisconnected", 800)


# --- a real server ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick_policy_server(request, tmp_path_factory):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("stale"), "sqlite",
                                                  stale_session_available_s="1", stale_session_sweep_s="0.5"))


async def test_a_station_that_reports_available_without_stopping_gets_its_session_closed(quick_policy_server):
    server = quick_policy_server
    cp, tag = await server.add_station(), await server.add_tag()
    async with station(server.ws_url, cp) as st, server.api() as api:
        await st.boot()
        started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": now()})
        await asyncio.sleep(1.5)  # connected for longer than the policy's second
        await st.ok("StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError",
                                           "timestamp": now()})
        deadline = time.monotonic() + READY_BOUND_S
        while True:
            session = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"][0]
            if session["status"] == "finished" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert (session["transaction_id"], session["status"], session["stop_reason"]) == \
            (str(started["transactionId"]), "finished", AVAILABLE_WITHOUT_STOP)
