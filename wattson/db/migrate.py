"""Alembic migrations, run from code: at start-up and by ``wattson db upgrade``."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from wattson.db.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK = 0x57A7750  # advisory lock id: several processes starting at once migrate one at a time


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        await conn.run_sync(_run, db.url, "upgrade", revision)


async def downgrade(db: Database, revision: str) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_run, db.url, "downgrade", revision)


async def current(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


def _run(connection, url: str, direction: str, revision: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    getattr(command, direction)(cfg, revision)


def head() -> str:
    """The revision this release's schema is at."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _current(connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
