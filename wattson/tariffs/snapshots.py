"""Tariff snapshots: the tariff as a session took it at its start, stored once per version.

A session keeps its own copy of its tariff (``sessions.tariff_snapshot``, what prices it); the same
copy is also stored once in ``tariff_snapshots`` however many sessions took it, found by the
SHA-256 of its canonical JSON, so that ``GET /api/v1/tariff-snapshots/{id}`` can show it and a
session can name it (``sessions.tariff_snapshot_id``).
"""

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.db.one_of import one_of
from wattson.db.paging import by_id
from wattson.tariffs.models import TariffSnapshot


def digest(snapshot: dict) -> str:
    """The identity of a copy: equal copies, equal digests (keys sorted, no spaces). Migration 0030
    computed the digests of the copies stored before it the same way."""
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


async def snapshot_ids(s: AsyncSession, snapshots: list[dict | None]) -> list[int | None]:
    """The snapshot id of each copy (None for None), in the caller's transaction: copies stored
    before are found by digest (one statement), new ones inserted. A copy another process inserts
    at the same moment is skipped by the unique digest (``ON CONFLICT DO NOTHING``) and read back."""
    digests = [None if x is None else digest(x) for x in snapshots]
    wanted = {d: x for d, x in zip(digests, snapshots) if d is not None}
    if not wanted:
        return [None] * len(snapshots)
    found = dict((await s.execute(select(TariffSnapshot.digest, TariffSnapshot.id)
                                  .where(one_of(s, TariffSnapshot.digest, wanted)))).all())
    missing = [d for d in wanted if d not in found]
    if missing:
        insert = pg_insert if s.bind.dialect.name == "postgresql" else sqlite_insert
        now = utcnow()
        await s.execute(insert(TariffSnapshot).on_conflict_do_nothing(), [
            {"digest": d, "tariff_id": str(wanted[d].get("id", ""))[:36], "body": wanted[d], "created_at": now}
            for d in missing])
        found.update((await s.execute(select(TariffSnapshot.digest, TariffSnapshot.id)
                                      .where(one_of(s, TariffSnapshot.digest, missing)))).all())
    return [None if d is None else found[d] for d in digests]


class TariffSnapshotService:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, snapshot_id: int) -> TariffSnapshot:
        async with self.db.session() as s:
            return await get_or_404(s, TariffSnapshot, snapshot_id, "tariff snapshot")

    async def find(self, limit: int, after_id: int | None = None, tariff_id: str | None = None) -> list[TariffSnapshot]:
        """In id order (the order they were first taken), optionally of one tariff's versions."""
        async with self.db.session() as s:
            return list(await s.scalars(by_id(TariffSnapshot, limit, after_id, tariff_id=tariff_id)))
