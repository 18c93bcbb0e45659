"""The load generator: several processes of raw WebSocket stations (``wsclient``), pinned away
from the server's core, each reporting the CPU it used so that a reader can see it was not the
bottleneck.

The parent hands every worker a ``Job`` (what its stations do) over a pipe and drives them in
step: ``prepare`` (connect, and for some jobs boot and open a transaction), then ``run`` (the
timed part), then ``close``. Every loop is bounded by a deadline.
"""

import asyncio
import multiprocessing
import os
import random
import resource
import time
from dataclasses import dataclass, field

from bench import messages, wsclient

#: Handshakes a worker has in flight at once while connecting its stations.
CONNECT_CONCURRENCY = 256


@dataclass
class Job:
    """What one worker's stations do. ``kind``:
    - ``load``: boot, open a transaction, then send meter values as fast as answered;
    - ``idle``: connect and stay connected;
    - ``storm``: connect, boot and send status all at once when told to run (timed);
    - ``answer``: connect, boot, then answer every command with ``reply``;
    - ``starts``: each station waits a random moment within ``duration``, then connects, boots and
      opens a transaction with its own tag (a depot whose power came back; timed per start).
    """

    kind: str
    host: str
    port: int
    stations: list[str]
    version: str = "1.6"
    duration: float = 5.0
    timeout: float = 120.0  # the bound of every phase
    reply: bytes = b'{"status":"Accepted"}'
    cpus: set[int] | None = None


@dataclass
class Report:
    """What a worker measured in its timed phase."""

    stations: int = 0
    connected: int = 0
    messages: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)  # per call (load), boot (storm) or start (starts)
    elapsed: float = 0.0  # seconds from the start signal to the last answer
    cpu: float = 0.0  # CPU seconds the worker used in the timed phase
    accepted: int = 0
    all_accepted: float = 0.0  # seconds from the start signal to the last Accepted boot (storm) or start (starts)
    calls_answered: int = 0


# --- the worker process ------------------------------------------------------------------------

def _worker(pipe, job: Job) -> None:
    if job.cpus:
        os.sched_setaffinity(0, job.cpus)
    raise_fd_limit()
    import uvloop

    uvloop.install()
    asyncio.run(_work(pipe, job))


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _work(pipe, job: Job) -> None:
    proto = messages.VERSIONS[job.version]
    report = Report(stations=len(job.stations))
    path = "/ocpp/"
    stations: dict[str, wsclient.Station] = {}
    transactions: dict[str, object] = {}
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one(name: str) -> wsclient.Station | None:
        async with gate:
            try:
                st = await wsclient.connect(job.host, job.port, path + name, proto.subprotocol, job.timeout,
                                            job.reply if job.kind == "answer" else None)
            except (OSError, asyncio.TimeoutError, wsclient.HandshakeFailed) as error:
                report.errors.append(f"{name}: connect: {type(error).__name__} {error}")
                return None
        stations[name] = st
        return st

    async def call(st: wsclient.Station, frame: bytes) -> bytes:
        return await asyncio.wait_for(st.call(frame), job.timeout)

    async def prepare_one(name: str) -> None:
        st = await open_one(name)
        if st is None or job.kind == "idle":
            return
        try:
            await call(st, proto.boot(1))
            if job.kind == "load":
                transactions[name] = proto.transaction_id(await call(st, proto.start(2, name)), name)
        except (OSError, asyncio.TimeoutError) as error:
            report.errors.append(f"{name}: prepare: {type(error).__name__} {error}")

    async def storm_one(name: str, started: float) -> None:
        st = await open_one(name)
        if st is None:
            return
        try:
            t = time.perf_counter()
            reply = await call(st, proto.boot(1))
            report.latencies_ms.append((time.perf_counter() - t) * 1000)
            if b'"Accepted"' not in reply:
                report.errors.append(f"{name}: boot answered {reply[:200]!r}")
                return
            report.accepted += 1
            report.all_accepted = max(report.all_accepted, time.perf_counter() - started)
            for n, connector in enumerate((0, 1) if job.version == "1.6" else (1,)):
                reply = await call(st, proto.status(2 + n, connector))
                if not reply.startswith(b"[3,"):
                    report.errors.append(f"{name}: status answered {reply[:200]!r}")
            report.elapsed = max(report.elapsed, time.perf_counter() - started)
        except (OSError, asyncio.TimeoutError) as error:
            report.errors.append(f"{name}: {type(error).__name__} {error}")

    async def start_one(name: str, started: float) -> None:
        await asyncio.sleep(random.uniform(0, job.duration))
        st = await open_one(name)
        if st is None:
            return
        try:
            reply = await call(st, proto.boot(1))
            if b'"Accepted"' not in reply:
                report.errors.append(f"{name}: boot answered {reply[:200]!r}")
                return
            t = time.perf_counter()
            reply = await call(st, proto.start(2, name, messages.tag(name)))
            report.latencies_ms.append((time.perf_counter() - t) * 1000)
            if not proto.started(reply):
                report.errors.append(f"{name}: start answered {reply[:200]!r}")
                return
            report.accepted += 1
            report.all_accepted = max(report.all_accepted, time.perf_counter() - started)
        except (OSError, asyncio.TimeoutError) as error:
            report.errors.append(f"{name}: {type(error).__name__} {error}")

    async def load_one(st: wsclient.Station, tx, end: float) -> float:
        seq, unique_id = 1, 10
        latencies, errors = report.latencies_ms, report.errors
        perf = time.perf_counter
        sample = proto.sampler(tx)
        while True:
            t = perf()
            if t >= end:
                return t
            reply = await st.call(sample(unique_id, seq))  # bounded by the wait_for around the run
            done = perf()
            latencies.append((done - t) * 1000)
            if not reply.startswith(b"[3,"):
                errors.append(reply[:200].decode(errors="replace"))
            seq += 1
            unique_id += 1

    # prepare
    await _recv(pipe, "prepare")
    if job.kind not in ("storm", "starts"):
        await asyncio.gather(*(prepare_one(name) for name in job.stations))
    report.connected = len(stations)
    pipe.send(("prepared", len(stations), report.errors[:20]))

    # run (or close at once)
    if (await _recv(pipe, "run", "close"))[0] == "close":
        return await _close(pipe, stations)
    cpu, started = time.process_time(), time.perf_counter()
    if job.kind == "load":
        ends = await asyncio.wait_for(asyncio.gather(*(load_one(stations[n], transactions[n], started + job.duration)
                                                       for n in job.stations if n in transactions)), job.timeout)
        report.elapsed = max(ends, default=started) - started
    elif job.kind in ("storm", "starts"):
        one = storm_one if job.kind == "storm" else start_one
        try:
            await asyncio.wait_for(asyncio.gather(*(one(n, started) for n in job.stations)), job.timeout)
        except asyncio.TimeoutError:
            report.errors.append(f"the {job.kind} were not over after {job.timeout:g} s; "
                                 f"{report.stations - report.accepted} stations not answered")
        report.connected = len(stations)
    report.messages = len(report.latencies_ms)
    report.cpu = time.process_time() - cpu
    report.calls_answered = sum(st.calls_answered for st in stations.values())
    pipe.send(("ran", report))

    await _recv(pipe, "close")
    await _close(pipe, stations)


async def _close(pipe, stations: dict) -> None:
    for st in stations.values():
        st.close()
    await asyncio.sleep(0.2)
    pipe.send(("closed",))


async def _recv(pipe, *expected: str):
    loop = asyncio.get_running_loop()
    message = await loop.run_in_executor(None, pipe.recv)
    if message[0] not in expected:
        raise RuntimeError(f"worker expected {expected!r}, got {message!r}")
    return message


# --- the parent side ---------------------------------------------------------------------------

class Generator:
    """Worker processes for one measurement, used as a context manager."""

    def __init__(self, jobs: list[Job]):
        ctx = multiprocessing.get_context("spawn")
        self.pipes, self.procs = [], []
        for job in jobs:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(theirs, job), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)
        self.timeout = max(job.timeout for job in jobs) + 30

    def __enter__(self) -> "Generator":
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()

    def _all(self, command: str, expected: str) -> list:
        for pipe in self.pipes:
            pipe.send((command,))
        answers = []
        deadline = time.monotonic() + self.timeout
        for pipe in self.pipes:
            if not pipe.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"a load generator worker did not finish {command!r} in time")
            answer = pipe.recv()
            if answer[0] != expected:
                raise RuntimeError(f"worker answered {answer!r}")
            answers.append(answer)
        return answers

    def prepare(self) -> tuple[int, list[str]]:
        """Connect (and boot) every station; (stations connected, first errors)."""
        answers = self._all("prepare", "prepared")
        return sum(a[1] for a in answers), [e for a in answers for e in a[2]]

    def run(self) -> list[Report]:
        return [a[1] for a in self._all("run", "ran")]

    def close(self) -> None:
        self._all("close", "closed")


def split(stations: list[str], workers: int) -> list[list[str]]:
    return [stations[i::workers] for i in range(workers)]
