"""Sampling profiles of a server under load with py-spy, summarised as text.

``Recording`` runs ``py-spy record`` on the server's pid for the length of a run; ``summary``
reads the collapsed stacks it wrote and lists where the samples were: by function alone (self)
and including what it called (total).
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


def summary(path: Path, top: int = 40) -> str:
    own, total, samples = Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():  # not a "stack count" line
            continue
        n = int(count)
        samples += n
        frames = [_short(f) for f in stack.split(";")]
        own[frames[-1]] += n
        for f in set(frames):
            total[f] += n
    lines = [f"{samples} samples", "", "self %  function"]
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
