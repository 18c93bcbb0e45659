"""Starts opened together (sessions/start_writer.py): a batch answers as the one-by-one rules do
(a tag twice in one batch, a resent start, an older session still open, a token only a fallback
knows) and costs a few statements whatever its size. Real SQLite and PostgreSQL, starts submitted
at once so that they share batches."""

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from conftest import _postgres_admin, _postgres_database
from wattson.access.models import IdToken
from wattson.access.rules import ACCEPTED, CONCURRENT_TX, AuthResult
from wattson.db.migrate import upgrade
from wattson.runtime import build_services
from wattson.sessions.models import Session
from wattson.sessions.service import STOP_NOT_RECEIVED
from wattson.sessions.transactions import STARTED, TxEvent
from wattson.settings import Settings, async_database_url
from wattson.stations.models import ChargePoint

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'w.db'}"
        return
    name = f"wattson_sw_{uuid.uuid4().hex[:8]}"
    yield _postgres_database(name)
    _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def services(database_url):
    services = build_services(Settings(database_url=async_database_url(database_url)))
    await upgrade(services.db)
    yield services
    await services.db.dispose()


async def _add(services, stations: list[str], tags: list[str]) -> None:
    async with services.db.session() as s:
        s.add_all([ChargePoint(id=cp, registration_status="Accepted", admin_status="enabled", security_profile=0,
                               network_status="online") for cp in stations])
        s.add_all([IdToken(uid=tag) for tag in tags])


def _start(services, cp: str, tag: str | None, at: datetime = T0, meter: int = 0):
    return services.sessions.start(cp, evse=1, connector=1, id_tag=tag, meter_start=meter, timestamp=at)


def _started(cp: str, tag: str, tx: str, at: datetime = T0) -> TxEvent:
    return TxEvent(transaction_id=tx, event_type=STARTED, seq_no=0, timestamp=at, trigger_reason="Authorized",
                   evse=1, connector=1, id_tag=tag, charging_state="Charging")


async def _sessions(services, cp: str) -> list[Session]:
    async with services.db.session() as s:
        return list(await s.scalars(select(Session).where(Session.charge_point_id == cp).order_by(Session.id)))


async def test_a_batch_costs_a_few_statements_whatever_its_size(services):
    stations = [f"SW-{i:03d}" for i in range(100)]
    await _add(services, stations, [f"TAG-{cp}" for cp in stations])
    statements = []
    event.listen(services.db.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    opened = await asyncio.gather(*(_start(services, cp, f"TAG-{cp}") for cp in stations[:50]),
                                  *(services.transactions.record(cp, _started(cp, f"TAG-{cp}", f"TX-{cp}"))
                                    for cp in stations[50:]))
    sessions = [x for x, _ in opened[:50]]
    assert [auth.status for _, auth in opened[:50]] + [auth.status for auth in opened[50:]] == [ACCEPTED] * 100
    assert sorted(int(x.transaction_id) for x in sessions) == sorted(x.id for x in sessions)
    # One by one, each start took a dozen look-ups; batched, a batch takes about as many. (The rows
    # themselves are inserted one statement each where the driver cannot take many at once.)
    lookups = [x for x in statements if not x.lstrip().startswith("INSERT")]
    assert len(lookups) < 50, lookups
    async with services.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Session)) == 100
        assert await s.scalar(select(func.count()).where(Session.id_tag.is_(None))) == 0


async def test_a_tag_started_twice_at_once_is_accepted_once(services):
    await _add(services, ["SW-A", "SW-B", "SW-C"], ["SHARED"])
    answers = await asyncio.gather(
        _start(services, "SW-A", "SHARED"), _start(services, "SW-B", "SHARED"),
        services.transactions.record("SW-C", _started("SW-C", "SHARED", "TX-C")))
    statuses = sorted([answers[0][1].status, answers[1][1].status, answers[2].status])
    assert statuses == [ACCEPTED, CONCURRENT_TX, CONCURRENT_TX]


async def test_a_start_resent_at_once_gets_the_same_transaction(services):
    await _add(services, ["SW-R"], ["TAG-R"])
    first, again = await asyncio.gather(_start(services, "SW-R", "TAG-R"), _start(services, "SW-R", "TAG-R"))
    assert first[0].transaction_id == again[0].transaction_id
    assert again[1].status == ACCEPTED  # the session's own tag does not count against itself
    assert len(await _sessions(services, "SW-R")) == 1


async def test_a_start_over_an_open_session_closes_it(services):
    await _add(services, ["SW-O"], ["TAG-O1", "TAG-O2"])
    old, _ = await _start(services, "SW-O", "TAG-O1")
    new, auth = await _start(services, "SW-O", "TAG-O2", at=T0 + timedelta(minutes=5), meter=100)
    assert auth.status == ACCEPTED
    first, second = await _sessions(services, "SW-O")
    assert (first.id, first.status, first.stop_reason) == (old.id, "finished", STOP_NOT_RECEIVED)
    assert (second.id, second.status) == (new.id, "active")


async def test_a_token_only_a_fallback_knows_is_asked_of_it(services):
    await _add(services, ["SW-F"], [])
    asked = []

    async def partner(uid: str, charge_point_id: str) -> AuthResult | None:
        asked.append((uid, charge_point_id))
        return AuthResult(ACCEPTED) if uid == "ROAMING" else None

    services.access.add_fallback(partner)
    (session, auth), = await asyncio.gather(_start(services, "SW-F", "ROAMING"))
    assert (auth.status, session.auth_status, asked) == (ACCEPTED, ACCEPTED, [("ROAMING", "SW-F")])

