"""Session query benchmark: ``POST /api/v1/sessions/query`` over HTTP on a filled database.

1. Creates a fresh database (an SQLite file in a temporary directory, or a PostgreSQL database on
   the given server, dropped afterwards) and applies the migrations.
2. Fills it in bulk (core INSERTs in batches, no ORM objects): 50 locations, 40 driver groups,
   2,000 drivers with a tag each, 200 charge points with 2 EVSEs, and N sessions over the last
   year (about 1 in 10 without a driver, the ones started in the last hours still active).
3. Starts ``wattson serve`` on it and times typical query bodies with httpx over one kept-alive
   connection: a few warm-up requests, then ``--repeat`` timed ones per case; p50 and p95 in ms.
   ``GET /api/v1/sessions?charge_point_id=`` (the cursor list) is timed as the baseline.
"""

import argparse
import asyncio
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from bench.servers import database, pg_admin

CHARGERS, EVSES_PER_CHARGER, LOCATIONS, GROUPS, DRIVERS = 200, 2, 50, 40, 2000
BATCH = 10_000
DEFAULT_PG = os.environ.get("WATTSON_BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/postgres")


def add_parser(sub) -> None:
    p = sub.add_parser("sessions-query", help="time POST /api/v1/sessions/query on N sessions",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=100_000, help="sessions to insert (default 100000)")
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--repeat", type=int, default=30, help="timed requests per case (default 30)")
    p.add_argument("--postgres-url", default=DEFAULT_PG,
                   help="a PostgreSQL server database to connect to for CREATE/DROP DATABASE "
                        "(default $WATTSON_BENCH_POSTGRES_URL or %(default)s)")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(run=run)


def run(args) -> None:
    started = time.monotonic()
    with database(args.backend, args.postgres_url) as url:
        t = time.monotonic()
        asyncio.run(_fill(url, args.sessions, random.Random(args.seed)))
        print(f"# {args.backend}: {args.sessions:,} sessions inserted in {time.monotonic() - t:.1f} s", flush=True)
        with _server(url) as (base_url, key):
            rows = _measure(base_url, key, args.repeat, args.sessions)
    print(f"# total {time.monotonic() - started:.0f} s")
    return rows


# --- the database ------------------------------------------------------------------------------

def charger_id(i: int) -> str:
    return f"BENCH-CP-{i:04d}"


def tag_uid(i: int) -> str:
    return f"BENCHTAG{i:06d}"


async def _fill(url: str, sessions: int, rnd: random.Random) -> None:
    from sqlalchemy import insert, text

    from wattson.access.models import Driver, DriverGroup, IdToken
    from wattson.db import Database
    from wattson.db.migrate import upgrade
    from wattson.locations.models import Location
    from wattson.settings import async_database_url
    from wattson.stations.models import ChargePoint, Evse

    db = Database(async_database_url(url))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        await upgrade(db)
        async with db.engine.begin() as conn:
            async def bulk(model, rows):
                for i in range(0, len(rows), BATCH):
                    await conn.execute(insert(model), rows[i:i + BATCH])

            await bulk(Location, [{"id": i, "name": f"Site {i:02d}", "city": "Oslo", "time_zone": "Europe/Oslo",
                                   "created_at": now, "updated_at": now} for i in range(1, LOCATIONS + 1)])
            await bulk(DriverGroup, [{"id": i, "name": f"Group {i:02d}", "created_at": now, "updated_at": now}
                                     for i in range(1, GROUPS + 1)])
            await bulk(Driver, [{"id": i, "name": f"Driver {i:04d}", "email": f"d{i}@example.com",
                                 "home_group_id": rnd.randint(1, GROUPS) if rnd.random() < 0.9 else None,
                                 "created_at": now, "updated_at": now} for i in range(1, DRIVERS + 1)])
            await bulk(IdToken, [{"id": i, "uid": tag_uid(i), "type": "ISO14443", "status": "Accepted",
                                  "driver_id": i, "invoicable": False, "created_at": now, "updated_at": now}
                                 for i in range(1, DRIVERS + 1)])
            await bulk(ChargePoint, [{"id": charger_id(i), "location_id": i % LOCATIONS + 1,
                                      "registration_status": "Accepted", "admin_status": "enabled",
                                      "security_profile": 0, "network_status": "offline", "created_at": now,
                                      "updated_at": now} for i in range(1, CHARGERS + 1)])
            await bulk(Evse, [{"id": (i - 1) * EVSES_PER_CHARGER + n, "charge_point_id": charger_id(i), "number": n,
                               "admin_status": "enabled", "allows_reservation": True, "created_at": now,
                               "updated_at": now}
                              for i in range(1, CHARGERS + 1) for n in range(1, EVSES_PER_CHARGER + 1)])
            await _fill_sessions(conn, db.dialect, sessions, int(now.timestamp()), rnd.randrange(1, 1_000_000))
            if db.dialect == "postgresql":
                for table in ("locations", "driver_groups", "drivers", "id_tokens", "evses"):
                    await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                            f"(SELECT max(id) FROM {table}))"))
                await conn.execute(text("SELECT setval(pg_get_serial_sequence('sessions', 'id'), :n)"),
                                   {"n": sessions})
        if db.dialect == "postgresql":
            # What autovacuum does shortly after a bulk load: statistics for the planner, and the
            # visibility map that lets it read an index without visiting the table.
            await pg_admin(url, "VACUUM ANALYZE")
    finally:
        await db.dispose()


#: Per-field pseudo-random numbers from the row number, the same in SQLite and PostgreSQL:
#: ((n + seed) * multiplier) mod a prime near 2^32, one multiplier per field.
_PRIME = 4294967291
_FIELDS = {"cp": 2654435761, "evse": 2246822519, "age": 3266489917, "len": 668265263, "power": 374761393,
           "slow": 1181783497, "anon": 3294380857, "driver": 2870177450, "meter": 1597334677}


def _h(field: str, dialect: str) -> str:
    return f"((CAST(n + :seed AS BIGINT) * {_FIELDS[field]}) % {_PRIME})"


async def _fill_sessions(conn, dialect: str, sessions: int, now: int, seed: int) -> None:
    """Insert ``sessions`` rows with one INSERT … SELECT over a generated series (a recursive CTE
    on SQLite, generate_series on PostgreSQL), with the session table's indexes dropped during the
    load and built again afterwards: a million rows take seconds rather than minutes. Started over
    the last 365 days, 10 minutes to 16 hours long (mostly short), 1 in 10 with an unknown tag."""
    from sqlalchemy import text

    h = {f: _h(f, dialect) for f in _FIELDS}
    pg = dialect == "postgresql"
    pad = (lambda expr, width: f"lpad(({expr})::text, {width}, '0')") if pg else \
          (lambda expr, width: f"printf('%0{width}d', {expr})")
    stamp = (lambda epoch: f"to_timestamp({epoch})") if pg else \
            (lambda epoch: f"strftime('%Y-%m-%d %H:%M:%S', {epoch}, 'unixepoch') || '.000000'")
    series = ("SELECT n FROM generate_series(1, :sessions) AS n" if pg else
              "SELECT n FROM seq")
    recursive = "" if pg else "seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :sessions), "
    # base: the random draws; timed: start, stop and energy from them
    sql = f"""
    WITH RECURSIVE {recursive}
    base AS (
        SELECT n, 1 + {h['cp']} % {CHARGERS} AS cp, 1 + {h['evse']} % {EVSES_PER_CHARGER} AS evse,
               :now - {h['age']} % 31536000 AS started,
               60 * (10 + ({h['len']} % 1000) * ({h['len']} % 1000) * ({h['len']} % 1000) * 950 / 1000000000) AS secs,
               {h['power']} % 11000 AS watts, {h['slow']} % 3 = 0 AS slow,
               CASE WHEN {h['anon']} % 10 = 0 THEN NULL ELSE 1 + {h['driver']} % {DRIVERS} END AS driver,
               {h['meter']} % 1000000 AS meter
        FROM ({series}) AS s),
    timed AS (
        SELECT base.*, started + secs AS stopped, started + secs > :now AS active,
               CAST(watts * secs / 3600 * (CASE WHEN slow THEN 0.3 ELSE 1 END) AS INTEGER) AS energy
        FROM base)
    INSERT INTO sessions (id, charge_point_id, evse_id, evse, connector, transaction_id, id_tag, driver_id,
                          location_id, auth_status, status, started_at, stopped_at, meter_start, meter_stop,
                          meter_last, meter_last_at, energy_wh, stop_reason, created_at, updated_at)
    SELECT n, 'BENCH-CP-' || {pad('cp', 4)}, (cp - 1) * {EVSES_PER_CHARGER} + evse, evse, 1, CAST(n AS TEXT),
           CASE WHEN driver IS NULL THEN 'ANON' || {pad('n % 500', 4)} ELSE 'BENCHTAG' || {pad('driver', 6)} END,
           driver, cp % {LOCATIONS} + 1, CASE WHEN driver IS NULL THEN 'Invalid' ELSE 'Accepted' END,
           CASE WHEN active THEN 'active' ELSE 'finished' END, {stamp('started')},
           CASE WHEN active THEN NULL ELSE {stamp('stopped')} END, meter,
           CASE WHEN active THEN NULL ELSE meter + energy END, meter + energy,
           {stamp('CASE WHEN active THEN :now ELSE stopped END')}, energy,
           CASE WHEN active THEN NULL ELSE 'Local' END, {stamp('started')},
           {stamp('CASE WHEN active THEN :now ELSE stopped END')}
    FROM timed"""
    if pg:
        sql = sql.replace("WITH RECURSIVE", "WITH")
    indexes = await _drop_indexes(conn, pg)
    await conn.execute(text(sql), {"sessions": sessions, "now": now, "seed": seed})
    for statement in indexes:
        await conn.execute(text(statement))


async def _drop_indexes(conn, pg: bool) -> list[str]:
    """Drop the sessions table's secondary indexes (as the database has them); their CREATE statements."""
    from sqlalchemy import text

    if pg:
        rows = (await conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'sessions' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = 'sessions'::regclass)"))).all()
    else:
        rows = (await conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' "
            "AND sql IS NOT NULL"))).all()
    for name, _ in rows:
        await conn.execute(text(f'DROP INDEX "{name}"'))
    return [statement for _, statement in rows]


# --- the server and the measurement --------------------------------------------------------------

@contextmanager
def _server(url: str):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "WATTSON_DATABASE_URL": url, "WATTSON_LOG_LEVEL": "warning"}
    created = subprocess.run([sys.executable, "-m", "wattson", "api-keys", "create", "--name", "bench",
                              "--role", "viewer"], env=env, capture_output=True, text=True, timeout=60, check=True)
    key = created.stdout.strip().splitlines()[-1]
    log = tempfile.NamedTemporaryFile("w+", prefix="wattson-bench-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "wattson", "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"wattson serve did not start:\n{Path(log.name).read_text()}")
            time.sleep(0.1)
        yield base, key
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        os.unlink(log.name)


def _cases(sessions: int) -> list[tuple[str, str, str, dict]]:
    """(name, method, path, body or params) of every timed case."""
    now = datetime.now(timezone.utc)
    month_start = (now - timedelta(days=200)).replace(microsecond=0)
    month = {"start_time": month_start.isoformat(), "start_time_search_end": (month_start + timedelta(days=30)).isoformat()}
    q = "/api/v1/sessions/query"
    deep = max(1, sessions // 2 // 50)  # half-way through the whole history
    return [
        ("no filter, page 1", "POST", q, {}),
        ("one charger", "POST", q, {"charger_ids": [charger_id(7)]}),
        ("20 drivers", "POST", q, {"driver_ids": list(range(100, 2000, 95))}),
        ("5 sites", "POST", q, {"site_ids": [3, 11, 19, 27, 35]}),
        ("3 rfid tags", "POST", q, {"rfid_tags": [tag_uid(5), tag_uid(500), tag_uid(1500)]}),
        ("a month (start window)", "POST", q, month),
        ("a month, stopped window", "POST", q, {"stop_time_search_begin": month["start_time"],
                                                "stop_time": month["start_time_search_end"]}),
        ("one charger, a month", "POST", q, {"charger_ids": [charger_id(7)], **month}),
        ("sort by energy", "POST", q, {"sort_key": "energy_wh"}),
        ("sort by duration asc", "POST", q, {"sort_key": "duration", "sort_descending": False}),
        ("sort by stopped_at", "POST", q, {"sort_key": "stopped_at"}),
        ("sort by charger", "POST", q, {"sort_key": "charge_point_id", "sort_descending": False}),
        (f"deep page ({deep} x 50)", "POST", q, {"page": deep}),
        ("limit 1000", "POST", q, {"limit": 1000}),
        ("CSV, a month", "POST", q + ".csv", month),
        ("baseline GET /sessions?charge_point_id=", "GET", "/api/v1/sessions", {"charge_point_id": charger_id(7)}),
        ("baseline GET /sessions", "GET", "/api/v1/sessions", {}),
    ]


def _measure(base_url: str, key: str, repeat: int, sessions: int) -> list[tuple[str, float, float, int, object]]:
    """(case, p50 ms, p95 ms, rows, total_records) of every case."""
    results = []
    print(f"{'case':44} {'p50 ms':>8} {'p95 ms':>8} {'rows':>7} {'total':>8}")
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        for name, method, path, body in _cases(sessions):
            def once() -> httpx.Response:
                if method == "GET":
                    return client.get(path, params=body)
                return client.post(path, json=body)

            for _ in range(3):
                response = once()
                if response.status_code != 200:
                    raise SystemExit(f"{name}: HTTP {response.status_code} {response.text[:500]}")
            times = []
            for _ in range(repeat if not path.endswith(".csv") else max(3, repeat // 6)):
                t = time.perf_counter()
                response = once()
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.text[:500]
            if path.endswith(".csv"):
                rows, total = response.text.count("\n") - 1, ""
            else:
                data = response.json()
                rows = len(data.get("items", data.get("data", [])))
                total = data.get("total_records", "")
            print(f"{name:44} {statistics.median(times):8.1f} {_p95(times):8.1f} {rows:>7} {total!s:>8}", flush=True)
            results.append((name, statistics.median(times), _p95(times), rows, total))
    return results


def _p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
