"""The README's first command: `wattson demo` (what `make run` starts) shows sessions within 30 s."""

import os
import re
import subprocess
import sys
import time

import httpx

from conftest import READY_BOUND_S, free_port


def test_demo_creates_sessions_within_30_seconds(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATTSON_")}  # the defaults, as on a fresh clone
    proc = subprocess.Popen([sys.executable, "-m", "wattson", "demo", "--port", str(port), "--stations", "2"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        key = None
        deadline = time.monotonic() + READY_BOUND_S
        while key is None:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "demo exited:\n" + "".join(output)
            output.append(line)
            match = re.search(r"API key\s+(wsk_\S+)", line)
            key = match and match.group(1)
            assert time.monotonic() < deadline, "no API key printed:\n" + "".join(output)
        headers = {"Authorization": f"Bearer {key}"}
        sessions = []
        while not sessions:
            assert time.monotonic() < deadline, f"no session within {READY_BOUND_S} s"
            time.sleep(0.5)
            sessions = httpx.get(f"http://127.0.0.1:{port}/api/v1/sessions", headers=headers).json()["data"]
        stations = httpx.get(f"http://127.0.0.1:{port}/api/v1/charge-points", headers=headers).json()["data"]
        assert {s["id"] for s in stations} == {"SIM-0001", "SIM-0002"}
        assert all(s["network_status"] == "online" for s in stations)
        assert sessions[0]["id_tag"].startswith("SIM-TAG-")
        assert (tmp_path / "wattson.db").exists()  # the embedded default: a file in the working directory
    finally:
        proc.terminate()
        proc.wait(15)
    rest = proc.stdout.read()
    assert "Traceback" not in "".join(output) + rest, "".join(output) + rest
