"""Stages: where a message's CPU goes inside Wattson, without the network.

100 stations' ``Connection`` objects are fed the throughput scenario's frames in process (the call
the gateway makes for every frame), with the real services and a real SQLite file, and the
process's CPU time per message (less what building the frames costs, measured apart) is measured
three times, each stage adding to the one before:

- ``frame``: parse, check the call against its schema, a handler that answers ``{}`` at once,
  check and build the answer;
- ``handler``: the real handler (payload to neutral samples, a transaction's event) with the
  durable write answered at once;
- ``stored``: everything, the group commit and SQLite's work included.

The differences are each stage's cost; the transport's (uvicorn, WebSocket frames, sockets) is
what ``echo-asgi`` costs per message in the throughput scenario. Each measurement runs in a
process of its own on the server's core.

    python -m bench stages [--duration 3] [--versions 1.6,2.0.1]
"""

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from bench import servers
from bench.messages import VERSIONS
from bench.wsclient import MASK

STAGES = ("frame", "handler", "stored")
STATIONS = 100


@dataclass
class Stage:
    version: str
    stage: str
    rate: float  # messages per second
    cpu_us: float  # process CPU per message (all threads)


def add_parser(sub) -> None:
    p = sub.add_parser("stages", help="CPU per message of each stage inside Wattson, without the network",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=3.0, help="seconds per stage (default 3)")
    p.add_argument("--versions", default="1.6,2.0.1")
    p.set_defaults(run=lambda args: print_results(measure(args)))


def measure(args) -> list[Stage]:
    results = []
    for version in args.versions.split(","):
        for stage in STAGES:
            out = subprocess.run([*servers.on_server_core(), sys.executable, "-m", "bench.stages", version, stage,
                                  str(args.duration)], capture_output=True, text=True, timeout=120 + args.duration)
            if out.returncode != 0:
                raise SystemExit(f"stage {stage} ({version}) failed:\n{out.stderr[-3000:]}")
            result = Stage(**json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"# stages {version:6} {stage:8} {result.rate:8.0f} msg/s  {result.cpu_us:6.1f} µs CPU per message",
                  flush=True)
            results.append(result)
    return results


def print_results(results: list[Stage]) -> None:
    print(f"{'OCPP':6} {'stage':8} {'msg/s':>8} {'µs/msg':>7}")
    for r in results:
        print(f"{r.version:6} {r.stage:8} {r.rate:8.0f} {r.cpu_us:7.1f}")


# --- the measuring process -------------------------------------------------------------------
def _payload(frame: bytes) -> bytes:
    """The JSON inside one of ``wsclient.encode``'s client frames."""
    length = frame[1] & 0x7F
    return frame[2 + {126: 2, 127: 8}.get(length, 0) + len(MASK):]


async def _measure(version: str, stage: str, duration: float) -> Stage:
    from wattson.ocpp.connection import Connection
    from wattson.runtime import Runtime
    from wattson.sessions.meter_writer import WRITTEN
    from wattson.settings import Settings
    from wattson.stations.service import Credentials

    folder = tempfile.mkdtemp(prefix="wattson-bench-stages-")
    runtime = Runtime(Settings(database_url=f"sqlite+aiosqlite:///{folder}/wattson.db", auto_register=True,
                               log_level="warning"))
    await runtime.start()
    messages = VERSIONS[version]
    protocol = next(p for p in runtime.gateway.protocols if p.version == version)

    async def ignore(*_) -> None:
        pass

    stations = []
    for i in range(STATIONS):
        identity = f"ST-{i:04d}"
        replies: list[str] = []

        async def keep(text: str, replies=replies) -> None:
            replies.append(text)

        registration = await runtime.services.stations.connect(identity, version, Credentials(None, False, False))
        conn = Connection(identity, protocol, registration, keep, ignore)
        await conn.receive(_payload(messages.boot(1)))
        await conn.receive(_payload(messages.start(2, identity)))
        sample = messages.sampler(messages.transaction_id(replies[-1].encode(), identity))
        stations.append((conn, sample, replies))

    if stage == "frame":
        async def answer_at_once(conn, payload: dict) -> dict:
            await asyncio.sleep(0)  # a handler that awaits, as the real ones do
            return {}
        for action in ("MeterValues", "TransactionEvent"):
            protocol.handlers[action] = answer_at_once
    elif stage == "handler":
        async def written_at_once(message):
            await asyncio.sleep(0)
            return WRITTEN if message.event is not None else None
        runtime.services.sessions.meter_writer.write = written_at_once

    count, running = [0], [True]

    async def station(conn: Connection, sample, replies: list[str]) -> None:
        seq = 1
        while running[0]:
            seq += 1
            await conn.receive(_payload(sample(seq, seq)))
            count[0] += 1
        if not replies[-1].startswith("[3,"):
            raise SystemExit(f"{conn.charge_point_id} was answered {replies[-1]}")

    building = _building_cost(stations[0][1])
    gc.freeze()  # as the server does after start-up
    tasks = [asyncio.create_task(station(*s)) for s in stations]
    await asyncio.sleep(min(1.0, duration))  # warm-up
    n, cpu, started = count[0], time.process_time(), time.monotonic()  # CPU of all the process's threads
    await asyncio.sleep(duration)
    n, elapsed, cpu = count[0] - n, time.monotonic() - started, time.process_time() - cpu
    running[0] = False
    await asyncio.gather(*tasks)
    await runtime.stop()
    return Stage(version, stage, rate=n / elapsed, cpu_us=1e6 * cpu / n - building)


def _building_cost(sample) -> float:
    """µs of CPU to build one frame: the load generator's work, done here in the same process."""
    n, started = 20_000, time.process_time()
    for seq in range(n):
        _payload(sample(seq, seq))
    return 1e6 * (time.process_time() - started) / n


def main() -> None:
    import uvloop

    version, stage, duration = sys.argv[1], sys.argv[2], float(sys.argv[3])
    result = uvloop.run(_measure(version, stage, duration))
    print(json.dumps(result.__dict__))


if __name__ == "__main__":
    main()
