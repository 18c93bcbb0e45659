"""What every command shares: settings and logging, the few services a small command needs (built
when first used, not the whole runtime), the schema brought up to date, errors as one line, and
output as tab-separated columns or JSON lines."""

import asyncio
import logging
import sys
from functools import cached_property
from pathlib import Path

import orjson

from wattson.settings import Settings, get_settings

MIGRATIONS = Path(__file__).parent.parent / "db" / "migrations" / "versions"


def prepare() -> Settings:
    from wattson.observability.logging import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    for chatty in ("alembic", "httpx"):  # a line per migration step, per request: not what a command prints
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return settings


def fail(message: str):
    sys.exit(f"wattson: {message}")


class Services:
    """The services of one command, each built on first use on one database connection pool."""

    def __init__(self, settings: Settings):
        from wattson.db import Database

        self.settings = settings
        self.db = Database(settings.database_url)

    @cached_property
    def access(self):
        from wattson.access.service import AccessService

        return AccessService(self.db)

    @cached_property
    def stations(self):
        from wattson.stations.service import StationService

        s = self.settings
        return StationService(self.db, s.auto_register, tls=bool(s.tls_cert), client_ca=bool(s.tls_client_ca))

    @cached_property
    def locations(self):
        from wattson.locations.service import LocationService

        return LocationService(self.db)

    @cached_property
    def sessions(self):
        from wattson.sessions.service import SessionService

        return SessionService(self.db, self.access)

    @cached_property
    def operators(self):
        from wattson.operators.service import OperatorService

        return OperatorService(self.db)


def run(settings: Settings, action) -> None:
    """Run ``action(services)`` on an up-to-date schema; a domain error ends the command with
    its message (exit 1), not a traceback."""
    from wattson.errors import WattsonError

    async def go():
        services = Services(settings)
        try:
            await up_to_date(services.db)
            await action(services)
        finally:
            await services.db.dispose()

    try:
        asyncio.run(go())
    except WattsonError as error:
        fail(error.message)


async def up_to_date(db) -> None:
    """Migrate unless the database is at the newest revision already. Whether it is, is read
    without alembic (its import and script scan cost more than the rest of a small command):
    revision ids are the migration files' four-digit prefixes; any doubt migrates."""
    from sqlalchemy import text

    newest = max(p.name[:4] for p in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    try:
        async with db.engine.connect() as conn:
            found = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except Exception:  # noqa: BLE001 - no table yet (a new database), or unreadable: alembic decides
        found = []
    if found != [newest]:
        from wattson.db.migrate import upgrade

        await upgrade(db)


def rows(items: list[dict], as_json: bool) -> None:
    """Print ``items`` as JSON lines, or as tab-separated values without a header (for ``cut``
    and ``awk``; the columns are the dicts' values in order)."""
    for item in items:
        if as_json:
            print(orjson.dumps(item, default=str).decode())
        else:
            print("\t".join("-" if v is None else str(v) for v in item.values()))


def document(item: dict) -> None:
    """One record, as indented JSON."""
    print(orjson.dumps(item, default=str, option=orjson.OPT_INDENT_2).decode())
