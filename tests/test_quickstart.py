"""The README's first commands. `wattson demo` (what `make run` starts) on a fresh directory: a
complete network whose driver page works at once, the dashboard address and login and an API key
printed, no warnings, sessions within seconds; a second run reuses the login and the key. And the
README's remote-start example, as written: a station simulated without sessions of its own,
started by the API."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import READY_BOUND_S, STARTUP_BOUND_S, free_port, run_cli

README = Path(__file__).parent.parent / "README.md"
FIELDS = {"dashboard": r"Dashboard\s+(http://\S+/)$", "login": r"Login\s+(\S+@\S+)\s+password (\S+)$",
          "key": r"API key\s+(wsk_\S+)$", "driver": r"Driver page\s+(http://\S+/driver/\S+)"}


def fresh_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("WATTSON_")}  # the defaults, as on a fresh clone


class Demo:
    """A running `wattson demo`: what its banner said, and all it printed."""

    def __init__(self, cwd: Path, port: int, stations: int = 2):
        self.proc = subprocess.Popen([sys.executable, "-m", "wattson", "demo", "--port", str(port), "--stations",
                                      str(stations)], cwd=cwd, env=fresh_env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.found: dict[str, tuple] = {}
        deadline = time.monotonic() + STARTUP_BOUND_S
        while "driver" not in self.found or "Press Ctrl+C" not in "".join(self.lines):
            line = self.proc.stdout.readline()
            assert line or self.proc.poll() is None, "demo exited:\n" + self.output
            self.lines.append(line)
            for name, pattern in FIELDS.items():
                if match := re.search(pattern, line.strip()):
                    self.found[name] = match.groups()
            assert time.monotonic() < deadline, "no banner printed:\n" + self.output

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> str:
        self.proc.terminate()
        self.proc.wait(30)
        self.lines.append(self.proc.stdout.read())
        return self.output


def test_demo_is_a_whole_network_at_once_and_a_second_run_reuses_its_login(tmp_path):
    port = free_port()
    demo = Demo(tmp_path, port)
    try:
        (dashboard,), (email, password), (key,), (driver,) = (demo.found[n] for n in FIELDS)
        assert dashboard == f"http://127.0.0.1:{port}/"
        assert email == "demo@wattson.local" and len(password) >= 10
        base, headers = dashboard.rstrip("/"), {"Authorization": f"Bearer {key}"}

        page = httpx.get(driver)  # the driver page of the EVSE kept free for card payments
        assert page.status_code == 200 and "Stationsplein" in page.text, page.text[:500]
        code = driver.rsplit("/", 1)[1]
        offer = httpx.get(f"{base}/driver/api/v1/charging_points/by_code/{code}").json()
        assert [p["name"] for p in offer["products"]] == ["Up to 30 minutes", "Up to 20 kWh"]
        assert offer["address"]["city"] == "Amsterdam"

        sessions = []
        deadline = time.monotonic() + READY_BOUND_S
        while not sessions:
            assert time.monotonic() < deadline, f"no session within {READY_BOUND_S} s"
            time.sleep(0.5)
            sessions = httpx.get(f"{base}/api/v1/sessions", headers=headers).json()["data"]
        assert sessions[0]["id_tag"].startswith("SIM-TAG-") and sessions[0]["location_id"] is not None
        stations = httpx.get(f"{base}/api/v1/charge-points", headers=headers).json()["data"]
        assert {s["id"] for s in stations} == {"SIM-0001", "SIM-0002", "PAY-0001"}
        evses = httpx.get(f"{base}/api/v1/evses", headers=headers).json()["data"]
        assert len(evses) == 5 and all(re.fullmatch(r"NL\*WAT\*E[A-Z0-9]+\*\d", e["evse_id"]) for e in evses)
        qr = httpx.get(f"{base}/api/v1/evses/{evses[0]['id']}/qr-code", headers=headers)
        assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
        location = httpx.get(f"{base}/api/v1/locations/{stations[0]['location_id']}", headers=headers).json()
        assert (location["time_zone"], location["street"]) == ("Europe/Amsterdam", "Stationsplein")
        # what the stations do, told as it happens
        deadline = time.monotonic() + READY_BOUND_S
        while "charging for SIM-TAG-" not in demo.output:
            assert time.monotonic() < deadline, demo.output
            demo.lines.append(demo.proc.stdout.readline())
    finally:
        first = demo.stop()
    assert "SIM-0001 connected (OCPP 1.6)" in first and "PAY-0001 connected" in first
    assert (tmp_path / "wattson.db").exists()  # the embedded default: a file in the working directory
    for bad in ("Traceback", "Warning", "WARNING"):  # nothing but Wattson's own lines
        assert bad not in first, first

    again = Demo(tmp_path, free_port())
    try:
        assert again.found["login"] == (email, password) and again.found["key"] == (key,)
    finally:
        second = again.stop()
    assert "Traceback" not in second and "WARNING" not in second, second  # nothing left over from the first
    env = {**fresh_env(), "WATTSON_DATABASE_URL": f"sqlite:///{tmp_path / 'wattson.db'}"}
    assert run_cli(env, "sessions", "list", "--status", "active") == ""  # stopping ended them, reason Local
    keys = run_cli(env, "api-keys", "list")
    assert [line.split("\t")[2] for line in keys.splitlines() if "\tdemo\t" in line] == ["admin"]  # one key, reused
    assert oct((tmp_path / "wattson.demo.json").stat().st_mode & 0o777) == "0o600"


@pytest.fixture
def readme_server(tmp_path):
    """`wattson serve` on a fresh SQLite file, as the README's "Using it" starts it."""
    port = free_port()
    env = {**fresh_env(), "WATTSON_DATABASE_URL": f"sqlite:///{tmp_path / 'readme.db'}", "WATTSON_PORT": str(port)}
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "wattson", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_BOUND_S
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        yield env, port
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_the_readme_remote_start_example_works_as_written(readme_server):
    env, port = readme_server
    text = README.read_text()
    for written in ("wattson simulate --url ws://127.0.0.1:8180/ocpp --stations 1 --prefix CP- --no-auto-sessions",
                    """-d '{"id_tag": "04A2B3C4D5E6F7", "evse": 1}'""", "/charge-points/CP-0001/commands/remote-start",
                    "wattson commands send CP-0001 remote-stop session_id=1"):
        assert written in text, written  # what this test runs is what the README says
    key = run_cli(env, "api-keys", "create", "--name", "me", "--role", "admin").strip().splitlines()[-1]
    station, tag = "CP-0001", "04A2B3C4D5E6F7"  # the README's, on a fresh database
    run_cli(env, "charge-points", "add", station)
    run_cli(env, "id-tokens", "add", tag)
    sim = subprocess.Popen([sys.executable, "-m", "wattson", "simulate", "--url", f"ws://127.0.0.1:{port}/ocpp",
                            "--stations", "1", "--prefix", "CP-", "--no-auto-sessions"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out = []
        deadline = time.monotonic() + READY_BOUND_S
        while not any("connected (OCPP 1.6)" in line for line in out):
            line = sim.stdout.readline()
            assert line or sim.poll() is None, "".join(out)
            out.append(line)
            assert time.monotonic() < deadline, "".join(out)
        curl = subprocess.run(["curl", "-s", "-X", "POST", "-H", f"Authorization: Bearer {key}", "-H",
                               "content-type: application/json", "-d", f'{{"id_tag": "{tag}", "evse": 1}}',
                               f"http://127.0.0.1:{port}/api/v1/charge-points/{station}/commands/remote-start"],
                              capture_output=True, text=True, timeout=READY_BOUND_S)
        assert '"status":"Accepted"' in curl.stdout.replace(" ", ""), curl.stdout + curl.stderr
        while not any(f"{station} connector 1 charging for {tag}" in line for line in out):
            line = sim.stdout.readline()
            assert line or sim.poll() is None, "".join(out)
            out.append(line)
            assert time.monotonic() < deadline, "".join(out)
        # the line after it: the CLI sends through the same API (WATTSON_PORT says where it runs)
        stop = subprocess.run([sys.executable, "-m", "wattson", "commands", "send", station, "remote-stop",
                               "session_id=1"], env={**env, "WATTSON_API_KEY": key}, capture_output=True, text=True,
                              timeout=READY_BOUND_S)
        assert stop.returncode == 0 and '"status": "Accepted"' in stop.stdout, stop.stdout + stop.stderr
        while not any(f"{station} connector 1 stopped (Remote)" in line for line in out):
            line = sim.stdout.readline()
            assert line or sim.poll() is None, "".join(out)
            out.append(line)
            assert time.monotonic() < deadline, "".join(out)
    finally:
        sim.terminate()
        sim.wait(30)
