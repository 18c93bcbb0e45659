"""Sampling profiles of a server under load with py-spy, summarised as text.

``Recording`` runs ``py-spy record`` on the server's pid for the length of a run; ``summary``
reads the collapsed stacks it wrote and lists where the samples were: by layer (transport, event
loop, database driver, Wattson's own code), by function alone (self) and including what it called
(total).

Two things py-spy gets wrong here are set apart: aiosqlite's thread waiting for work (blocked in
``SimpleQueue.get``, which py-spy does not see as idle) is not work, and a thread waiting for the
GIL is sampled in whatever line it waits at, so SQLite's thread binding parameters shows up as
time in the event loop's Python code.
"""

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path


class Recording:
    """``py-spy record`` of one process for ``seconds``, written to DIR/NAME.txt with a summary."""

    def __init__(self, pid: int, directory: str, name: str, seconds: float):
        self.pid, self.seconds = pid, seconds
        self.out = Path(directory) / f"{name}.txt"
        self.proc = None

    def start(self) -> None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([spy, "record", "--pid", str(self.pid), "--duration", str(int(self.seconds)),
                                      "--rate", "250", "--format", "raw", "--nonblocking", "--output", str(self.out)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=_off_server_core)

    def finish(self) -> None:
        self.proc.wait(timeout=self.seconds + 30)
        if self.out.exists():
            self.out.with_suffix(".summary.txt").write_text(summary(self.out))


def _off_server_core() -> None:
    """py-spy shares the generator's cores, not the server's."""
    from bench.servers import generator_cpus

    cpus = generator_cpus()
    if cpus:
        os.sched_setaffinity(0, cpus)


#: A sample's layer: the first of these its stack matches (innermost frame, or anywhere in it).
LAYERS = (
    ("SQLite thread waiting for work (idle)", lambda stack, leaf: "aiosqlite/core.py:59)" in leaf),
    ("SQLite thread at work (SQLite's C code, binding rows)", lambda stack, leaf: "_connection_worker_thread" in stack),
    ("SQLAlchemy and the database drivers, on the event loop", lambda stack, leaf: any(
        x in stack for x in ("sqlalchemy/", "aiosqlite/", "asyncpg/"))),
    ("event loop (uvloop's C code: sockets, callbacks)", lambda stack, leaf: leaf.startswith("Runner.run ")),
    ("WebSocket transport (uvicorn, websockets)", lambda stack, leaf: "websockets/" in leaf or "uvicorn/" in leaf),
    ("schema validation", lambda stack, leaf: "validation.py" in stack),
    ("Wattson's own code", lambda stack, leaf: "wattson/" in leaf),
    ("other (asyncio, standard library)", lambda stack, leaf: True),
)


def summary(path: Path, top: int = 40) -> str:
    own, total, layers, samples = Counter(), Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():  # not a "stack count" line
            continue
        n = int(count)
        samples += n
        raw = stack.split(";")
        layers[next(name for name, matches in LAYERS if matches(stack, raw[-1]))] += n
        frames = [_short(f) for f in raw]
        own[frames[-1]] += n
        for f in set(frames):
            total[f] += n
    lines = [f"{samples} samples", "", "%       layer"]
    lines += [f"{100 * n / samples:6.1f}  {name}" for name, n in layers.most_common()]
    lines += ["", "self %  function"]
    lines += [f"{100 * n / samples:6.1f}  {f}" for f, n in own.most_common(top)]
    lines += ["", "total %  function (including callees)"]
    lines += [f"{100 * n / samples:6.1f}  {f}" for f, n in total.most_common(top)]
    return "\n".join(lines) + "\n"


def _short(frame: str) -> str:
    """``func (path/to/module.py:12)`` -> ``func (module.py)``: one entry per function."""
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.split(':')[0]).name})" if where else name


if __name__ == "__main__":
    print(summary(Path(sys.argv[1])))
