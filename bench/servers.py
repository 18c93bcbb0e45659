"""Server processes under measurement: ``wattson serve`` and the baselines, each pinned to its own
core with ``taskset`` where the machine has more than one, plus what /proc says about them."""

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

DEFAULT_PG = os.environ.get("WATTSON_BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/postgres")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cores() -> int:
    return len(os.sched_getaffinity(0))


def server_cpus() -> set[int]:
    """The server gets the first core."""
    return {min(os.sched_getaffinity(0))}


def generator_cpus() -> set[int] | None:
    """Every other core goes to the load generator; on one core they share it."""
    rest = os.sched_getaffinity(0) - server_cpus()
    return rest or None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Proc:
    """A running server: its pid and port, and how to read its CPU time and memory."""

    popen: subprocess.Popen
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime, all threads

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process on this machine (the server's backends included): the
    database's share of a run, read the same way as the server's. 0 where there is none."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        name, _, rest = text.partition("(")[2].rpartition(")")
        if name.startswith("postgres"):
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def on_server_core() -> list[str]:
    """The command prefix that pins a process to the server's core (none on one core)."""
    if cores() > 1 and shutil.which("taskset"):
        return ["taskset", "-c", ",".join(map(str, sorted(server_cpus())))]
    return []


@contextmanager
def process(args: list[str], env: dict | None = None, ready=None, name: str = "server"):
    """Start ``args`` pinned to the server core and wait until ``ready(port)`` or the port accepts."""
    port = free_port()
    args = [a.replace("{port}", str(port)) for a in args]
    log = Path(tempfile.mkstemp(prefix=f"wattson-bench-{name}-", suffix=".log")[1])
    with open(log, "w") as out:
        popen = subprocess.Popen(on_server_core() + args, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 preexec_fn=_raise_fd_limit)
    proc = Proc(popen, port, log)
    try:
        deadline = time.monotonic() + 60
        while not (ready or _accepts)(port):
            if popen.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield proc
    finally:
        popen.terminate()
        try:
            popen.wait(15)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
        log.unlink(missing_ok=True)


def _raise_fd_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wattson_env(url: str, **settings: str) -> dict:
    return {**os.environ, "WATTSON_DATABASE_URL": url, "WATTSON_LOG_LEVEL": "warning",
            **{f"WATTSON_{k.upper()}": str(v) for k, v in settings.items()}}


@contextmanager
def wattson(url: str, **settings: str):
    """``wattson serve`` on the database at ``url`` (already migrated and filled)."""
    env = wattson_env(url, **settings)
    with process([sys.executable, "-m", "wattson", "serve", "--port", "{port}"], env, _healthy, "wattson") as proc:
        yield proc


@contextmanager
def baseline(kind: str, uvloop: bool = False):
    args = [sys.executable, "-m", "bench.baselines", kind, "--port", "{port}"] + (["--uvloop"] if uvloop else [])
    with process(args, name=kind) as proc:
        yield proc


# --- databases -----------------------------------------------------------------------------------

@contextmanager
def database(backend: str, admin_url: str = DEFAULT_PG):
    """A fresh, empty database: an SQLite file in a temporary directory, or a PostgreSQL database
    ``wattson_bench_<random>`` created on ``admin_url``'s server; removed afterwards."""
    if backend == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="wattson-bench-"))
        try:
            yield f"sqlite:///{tmp / 'bench.db'}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    name = f"wattson_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def pg_admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def register_stations(url: str, ids: list[str], api_key_role: str | None = None,
                            tags: list[str] = ()) -> str | None:
    """Migrate the database, register ``ids`` (one set-based INSERT) and ``tags`` (accepted id
    tokens), and optionally create an API key, whose secret is returned."""
    from sqlalchemy import insert

    from wattson.access.models import IdToken
    from wattson.access.service import AccessService
    from wattson.db import Database, utcnow
    from wattson.db.migrate import upgrade
    from wattson.settings import async_database_url
    from wattson.stations.models import ChargePoint

    db = Database(async_database_url(url))
    try:
        await upgrade(db)
        now = utcnow()
        async with db.engine.begin() as conn:
            for i in range(0, len(ids), 10_000):
                await conn.execute(insert(ChargePoint), [
                    {"id": cp, "registration_status": "Accepted", "admin_status": "enabled", "security_profile": 0,
                     "network_status": "offline", "created_at": now, "updated_at": now}
                    for cp in ids[i:i + 10_000]])
            if tags:
                await conn.execute(insert(IdToken), [{"uid": uid, "type": "ISO14443", "status": "Accepted",
                                                      "invoicable": False, "created_at": now, "updated_at": now}
                                                     for uid in tags])
        if api_key_role:
            _, secret = await AccessService(db).create_api_key("bench", api_key_role)
            return secret
        return None
    finally:
        await db.dispose()


async def stored_meter_values(url: str) -> int:
    """The rows in ``meter_values``: what the server stored (one per meterValue element)."""
    from sqlalchemy import func, select

    from wattson.db import Database
    from wattson.sessions.models import MeterValue
    from wattson.settings import async_database_url

    db = Database(async_database_url(url))
    try:
        async with db.session() as s:
            return await s.scalar(select(func.count()).select_from(MeterValue))
    finally:
        await db.dispose()
