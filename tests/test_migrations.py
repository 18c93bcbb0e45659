"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and every revision can be undone and redone: a model change without its migration fails here."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from conftest import _postgres_admin, _postgres_database
from wattson.db import Database
from wattson.db.migrate import current, downgrade, upgrade
from wattson.db.models import metadata
from wattson.settings import async_database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"wattson_migrations_{uuid.uuid4().hex[:8]}"
    url = _postgres_database(name)
    yield url
    _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _differences(db: Database) -> list:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))


async def test_migrations_match_the_models_and_run_both_ways(database_url):
    db = Database(async_database_url(database_url))
    try:
        await upgrade(db)
        head = await current(db)
        assert await _differences(db) == []
        await downgrade(db, "base")
        assert await current(db) is None
        await upgrade(db)
        assert await current(db) == head and await _differences(db) == []
    finally:
        await db.dispose()
