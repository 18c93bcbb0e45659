"""Consumption statistics and availability benchmark, on a million sessions.

1. A fresh database (SQLite file or PostgreSQL database) filled as the session query benchmark
   fills it (``sessions_query._fill``: one INSERT … SELECT over a generated series, the sessions'
   indexes built afterwards): N sessions over the last year at 200 charge points, 50 locations;
   300 more charge points make 1,000 EVSEs, and each EVSE gets ``--reports`` status reports over
   one month (the same kind of INSERT … SELECT; Faulted about 1 in 20, else Charging/Available).
   Electricity rates: a default fixed rate, and a time-of-use rate at locations 1–25 (their
   sessions are each priced on their own; the others' cost is energy × price in SQL).
2. ``wattson serve`` on it: ``GET /api/v1/statistics/consumption`` per day for a month (200 days
   back) per location (one location with the fixed rate, one with time of use, all 50), per
   charge point, and per hour for one location; p50 and p95 in ms over ``--repeat`` requests.
3. ``DowntimeService.availability_many`` for the 1,000 EVSEs over that month, in process.

    python -m bench statistics [--sessions 1000000] [--backend sqlite|postgresql]
"""

import argparse
import asyncio
import random
import statistics
import time
from datetime import datetime, timedelta, timezone

import httpx

from bench import sessions_query
from bench.servers import DEFAULT_PG, database, pg_admin

EXTRA_CHARGERS = 300  # beside sessions_query's 200: 1,000 EVSEs of 2 each
TOU_LOCATIONS = range(1, 26)


def add_parser(sub) -> None:
    p = sub.add_parser("statistics", help="time GET /api/v1/statistics/consumption and availability_many on N sessions",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=1_000_000, help="sessions to insert (default 1000000)")
    p.add_argument("--reports", type=int, default=1000, help="status reports per EVSE in the month (default 1000)")
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--repeat", type=int, default=20, help="timed requests per case (default 20)")
    p.add_argument("--postgres-url", default=DEFAULT_PG)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(run=lambda args: print_results(run(args)))


def run(args) -> dict:
    """{"backend", "insert_s", "cases": [(case, p50 ms, p95 ms, rows)], "availability": (p50, p95, EVSEs) or None}."""
    with database(args.backend, args.postgres_url) as url:
        t = time.monotonic()
        if args.backend == "postgresql":
            asyncio.run(_pg_bulk_load(url, args.postgres_url, args.sessions, args.seed))
        else:
            asyncio.run(sessions_query._fill(url, args.sessions, random.Random(args.seed)))
        inserted = time.monotonic() - t
        print(f"# statistics {args.backend}: {args.sessions:,} sessions inserted in {inserted:.1f} s", flush=True)
        month = _month()
        t = time.monotonic()
        evse_ids = asyncio.run(_fill_more(url, month, args.reports))
        print(f"# statistics {args.backend}: {len(evse_ids):,} EVSEs, {len(evse_ids) * args.reports:,} status "
              f"reports and the rates inserted in {time.monotonic() - t:.1f} s", flush=True)
        with sessions_query._server(url) as (base_url, key):
            cases = _measure(base_url, key, args.repeat, month)
        availability = asyncio.run(_availability(url, evse_ids, month, max(3, args.repeat // 4)))
    return {"backend": args.backend, "sessions": args.sessions, "insert_s": inserted, "cases": cases,
            "availability": availability}


async def _pg_bulk_load(url: str, admin_url: str, sessions: int, seed: int) -> None:
    """``sessions_query._fill`` as pg_restore loads a table: its connections in replica mode, so
    that no per-row trigger runs — the foreign key checks (four look-ups a row, which took 85 µs
    of every row) and the statement trigger counting ``session_days``; the rows refer to what the
    fill made just before. The day counts are then made in one GROUP BY, as the trigger keeps them
    (migration 0013: the UTC day, one shard), and the database set back to normal."""
    from sqlalchemy import text

    from wattson.db import Database
    from wattson.settings import async_database_url

    name = url.rsplit("/", 1)[1]
    await pg_admin(admin_url, f'ALTER DATABASE "{name}" SET session_replication_role = replica')
    await pg_admin(admin_url, f'ALTER DATABASE "{name}" SET maintenance_work_mem = \'256MB\'')  # index builds
    try:
        await sessions_query._fill(url, sessions, random.Random(seed))
    finally:
        await pg_admin(admin_url, f'ALTER DATABASE "{name}" RESET session_replication_role')
        await pg_admin(admin_url, f'ALTER DATABASE "{name}" RESET maintenance_work_mem')
    db = Database(async_database_url(url))
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM session_days"))
            await conn.execute(text("INSERT INTO session_days (day, shard, sessions) SELECT "
                                    "(started_at AT TIME ZONE 'UTC')::date, 0, count(*) FROM sessions GROUP BY 1"))
    finally:
        await db.dispose()


def _month() -> tuple[datetime, datetime]:
    start = (datetime.now(timezone.utc) - timedelta(days=200)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=30)


async def _fill_more(url: str, month: tuple[datetime, datetime], reports: int) -> list[int]:
    """The extra charge points and EVSEs, the status reports, the electricity rates; the EVSE ids."""
    from sqlalchemy import insert, select, text

    from wattson.db import Database
    from wattson.electricity.models import ElectricityRate, ElectricityRateLocation
    from wattson.settings import async_database_url
    from wattson.stations.models import ChargePoint, Evse

    db = Database(async_database_url(url))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    pg = db.dialect == "postgresql"
    try:
        async with db.engine.begin() as conn:
            first = sessions_query.CHARGERS + 1
            ids = [f"BENCH-CP-{i:04d}" for i in range(first, first + EXTRA_CHARGERS)]
            await conn.execute(insert(ChargePoint), [
                {"id": cp, "location_id": i % sessions_query.LOCATIONS + 1, "registration_status": "Accepted",
                 "admin_status": "enabled", "security_profile": 0, "network_status": "offline", "created_at": now,
                 "updated_at": now} for i, cp in enumerate(ids, first)])
            base = sessions_query.CHARGERS * sessions_query.EVSES_PER_CHARGER
            await conn.execute(insert(Evse), [
                {"id": base + 2 * n + k, "charge_point_id": cp, "number": k, "admin_status": "enabled",
                 "allows_reservation": True, "created_at": now, "updated_at": now}
                for n, cp in enumerate(ids) for k in (1, 2)])
            start, end = (int(t.timestamp()) for t in month)
            stamp = ("to_timestamp({})" if pg else "strftime('%Y-%m-%d %H:%M:%S', {}, 'unixepoch') || '.000000'")
            series = ("generate_series(1, :reports) AS k" if pg else "seq")
            recursive = ("" if pg else
                         "RECURSIVE seq(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM seq WHERE k < :reports), ")
            at = f"(:start + (k - 1) * {(end - start) // max(reports, 1)} + (e.id * 7919 + k * 104729) % 600)"
            await conn.execute(text(f"""
                WITH {recursive}x AS (SELECT 1 AS one)
                INSERT INTO status_events (charge_point_id, evse, connector, status, error_code, timestamp, received_at)
                SELECT e.charge_point_id, e.number, 1,
                       CASE WHEN (e.id * 31 + k * 17) % 20 = 0 THEN 'Faulted'
                            WHEN k % 2 = 0 THEN 'Charging' ELSE 'Available' END,
                       CASE WHEN (e.id * 31 + k * 17) % 20 = 0 THEN 'GroundFailure' ELSE 'NoError' END,
                       {stamp.format(at)}, {stamp.format(at)}
                FROM evses AS e CROSS JOIN {series}"""), {"reports": reports, "start": start})
            rate = await conn.execute(insert(ElectricityRate).returning(ElectricityRate.id), [
                {"name": "Grid", "currency": "EUR", "price_per_kwh": "0.24", "periods": [], "time_zone": "UTC",
                 "is_default": True, "created_at": now, "updated_at": now},
                {"name": "Time of use", "currency": "EUR", "price_per_kwh": "0.31", "time_zone": "Europe/Oslo",
                 "periods": [{"weekdays": [1, 2, 3, 4, 5], "from": "00:00", "to": "06:00", "price_per_kwh": "0.12"},
                             {"weekdays": [6, 7], "from": "00:00", "to": "24:00", "price_per_kwh": "0.18"}],
                 "is_default": False, "created_at": now, "updated_at": now}])
            tou = rate.scalars().all()[1]
            await conn.execute(insert(ElectricityRateLocation), [{"rate_id": tou, "location_id": i}
                                                                  for i in TOU_LOCATIONS])
            evse_ids = list((await conn.execute(select(Evse.id).order_by(Evse.id))).scalars())
        if pg:
            await pg_admin(url, "VACUUM ANALYZE")
        return evse_ids
    finally:
        await db.dispose()


def _cases(month: tuple[datetime, datetime]) -> list[tuple[str, dict]]:
    window = {"from": month[0].isoformat(), "to": month[1].isoformat(), "time_zone": "Europe/Oslo"}
    return [
        ("per day, a month, 1 location (fixed rate)", {"group_by": "location", "location_id": 40, **window}),
        ("per day, a month, 1 location (time of use)", {"group_by": "location", "location_id": 3, **window}),
        ("per day, a month, per location (all 50)", {"group_by": "location", **window}),
        ("per day, a month, per charge point (all)", {"group_by": "charge_point", **window}),
        ("per day, a month, per charge point of 1 location", {"group_by": "charge_point", "location_id": 40,
                                                              **window}),
        ("per hour, a month, 1 location (fixed rate)", {"group_by": "location", "interval": "hour",
                                                        "location_id": 40, **window}),
    ]


def _measure(base_url: str, key: str, repeat: int, month) -> list[tuple[str, float, float, int]]:
    results = []
    print(f"{'case':52} {'p50 ms':>8} {'p95 ms':>8} {'rows':>6}")
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
        for name, params in _cases(month):
            for _ in range(2):
                response = client.get("/api/v1/statistics/consumption", params=params)
                if response.status_code != 200:
                    raise SystemExit(f"{name}: HTTP {response.status_code} {response.text[:500]}")
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                response = client.get("/api/v1/statistics/consumption", params=params)
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.text[:500]
            rows = len(response.json()["data"])
            p50, p95 = statistics.median(times), sessions_query._p95(times)
            print(f"{name:52} {p50:8.1f} {p95:8.1f} {rows:>6}", flush=True)
            results.append((name, p50, p95, rows))
    return results


async def _availability(url: str, evse_ids: list[int], month, repeat: int) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, EVSEs figured) of ``availability_many`` for every EVSE over the month."""
    from wattson.db import Database
    from wattson.downtime.service import DowntimeService
    from wattson.settings import async_database_url

    db = Database(async_database_url(url))
    try:
        service = DowntimeService(db)
        figures = await service.availability_many(evse_ids, *month)  # warm-up
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            figures = await service.availability_many(evse_ids, *month)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        await db.dispose()
    p50, p95 = statistics.median(times), sessions_query._p95(times)
    print(f"{'availability_many, ' + str(len(figures)) + ' EVSEs, a month':52} {p50:8.1f} {p95:8.1f}", flush=True)
    return p50, p95, len(figures)


def print_results(result: dict) -> None:
    print(render([result]))


def render(results: list[dict]) -> str:
    """The report's section: one table per backend."""
    lines = ["## Consumption statistics and availability", "",
             "`GET /api/v1/statistics/consumption` over HTTP (bench/statistics.py) and `availability_many` in process: "
             "sessions over a year (50 locations, 200 charge points with sessions), 1,000 EVSEs with their status "
             "reports for the month measured; p50/p95 of each case.", ""]
    for r in results:
        lines += [f"**{r['backend']}**: {r['sessions']:,} sessions inserted in {r['insert_s']:.1f} s", "",
                  "| case | p50 ms | p95 ms | rows |", "|---|---:|---:|---:|"]
        lines += [f"| {name} | {p50:.1f} | {p95:.1f} | {rows} |" for name, p50, p95, rows in r["cases"]]
        if r["availability"]:
            p50, p95, count = r["availability"]
            lines.append(f"| availability_many, {count:,} EVSEs over the month | {p50:.1f} | {p95:.1f} | {count} |")
        lines.append("")
    return "\n".join(lines)
