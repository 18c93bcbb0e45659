"""Migration 0030 stores the tariff copies of the sessions already there as snapshots, once per
distinct copy, names them on those sessions with the digest the running code computes (so a new
session taking the same version names the same snapshot), and undoing it drops them again."""

import json

from sqlalchemy import text

from test_migrations import database_url  # noqa: F401 (the fixture: SQLite and PostgreSQL)
from wattson.db import Database
from wattson.db.migrate import downgrade, upgrade
from wattson.settings import async_database_url
from wattson.tariffs.snapshots import digest

NOW = "'2026-03-01 09:00:00'"
V1 = {"id": "T-1", "currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.3}]}],
      "last_updated": "2026-02-01T00:00:00Z"}
V2 = {**V1, "elements": [{"price_components": [{"type": "ENERGY", "price": 0.4}]}],
      "last_updated": "2026-02-15T00:00:00Z"}


async def test_0030_names_the_snapshots_of_stored_sessions(database_url):  # noqa: F811
    db = Database(async_database_url(database_url))
    try:
        await upgrade(db, "0029")
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO charge_points (id, registration_status, admin_status, "
                                    "security_profile, network_status, created_at, updated_at) "
                                    f"VALUES ('CP-S', 'Accepted', 'enabled', 0, 'offline', {NOW}, {NOW})"))
            for id_, snapshot in ((1, V1), (2, V2), (3, V1), (4, None)):
                await conn.execute(text(
                    "INSERT INTO sessions (id, charge_point_id, evse, connector, status, started_at, meter_start, "
                    f"energy_wh, tariff_snapshot, created_at, updated_at) VALUES (:id, 'CP-S', 1, 1, 'finished', "
                    f"{NOW}, 0, 0, :snapshot, {NOW}, {NOW})"),
                    {"id": id_, "snapshot": None if snapshot is None else json.dumps(snapshot)})
        await upgrade(db)
        async with db.engine.connect() as conn:
            named = dict((await conn.execute(text("SELECT id, tariff_snapshot_id FROM sessions"))).all())
            stored = {row[0]: row[1:] for row in await conn.execute(text(
                "SELECT id, digest, tariff_id, body FROM tariff_snapshots"))}
        assert named[1] == named[3] != named[2] and named[4] is None
        assert len(stored) == 2
        for session, version in ((1, V1), (2, V2)):
            found_digest, tariff_id, body = stored[named[session]]
            body = json.loads(body) if isinstance(body, str) else body
            assert (found_digest, tariff_id, body) == (digest(version), "T-1", version)
        await downgrade(db, "0029")
        async with db.engine.connect() as conn:
            columns = await conn.execute(text("SELECT * FROM sessions"))
            assert "tariff_snapshot_id" not in columns.keys()
        await upgrade(db)
    finally:
        await db.dispose()
