"""The `wattson` command line against a real SQLite file."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli

MIGRATIONS = Path(__file__).parent.parent / "wattson" / "db" / "migrations" / "versions"


def env_for(tmp_path) -> dict:
    return {**os.environ, "WATTSON_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def test_db_upgrade_and_current(tmp_path):
    env = env_for(tmp_path)
    assert "empty" in run_cli(env, "db", "current")
    head = sorted(p.name[:4] for p in MIGRATIONS.glob("[0-9]*.py"))[-1]
    assert f"database at revision {head}" in run_cli(env, "db", "upgrade")
    assert run_cli(env, "db", "current").strip() == head


def test_api_key_create_list_revoke(tmp_path):
    env = env_for(tmp_path)
    out = run_cli(env, "api-keys", "create", "--name", "ci", "--role", "operator")
    key = out.strip().splitlines()[-1]
    assert key.startswith("wsk_") and len(key) > 40
    listed = run_cli(env, "api-keys", "list")
    assert "ci\toperator" in listed and key not in listed
    run_cli(env, "api-keys", "revoke", "1")
    assert "revoked" in run_cli(env, "api-keys", "list")


def test_charge_points_and_tags(tmp_path):
    env = env_for(tmp_path)
    run_cli(env, "charge-points", "add", "CP-CLI", "--registration-status", "Pending")
    assert "CP-CLI\tPending\tnever_connected\t-" in run_cli(env, "charge-points", "list")
    run_cli(env, "id-tokens", "add", "TAG-CLI", "--expires-at", "2031-05-01T00:00:00", "--parent-id-tag", "P")
    assert "TAG-CLI\tAccepted\t2031-05-01 00:00:00+00:00\tP\t-" in run_cli(env, "id-tokens", "list")
    run_cli(env, "id-tokens", "set-status", "TAG-CLI", "Blocked")
    (token,) = [json.loads(line) for line in run_cli(env, "id-tokens", "list", "--json").splitlines()]
    assert (token["uid"], token["status"], token["parent_id_tag"]) == ("TAG-CLI", "Blocked", "P")
    assert run_cli(env, "id-tokens", "list", "--status", "Accepted") == ""


def test_errors_are_messages_not_tracebacks(tmp_path):
    env = env_for(tmp_path)
    run_cli(env, "charge-points", "add", "CP-DUP")
    for args in (["charge-points", "add", "CP-DUP"], ["api-keys", "create", "--name", " ", "--role", "admin"],
                 ["api-keys", "revoke", "42"]):
        result = subprocess.run([sys.executable, "-m", "wattson", *args], env=env, capture_output=True, text=True)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("wattson: ")
    bad = subprocess.run([sys.executable, "-m", "wattson", "api-keys", "create", "--name", "x", "--role", "root"],
                         env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def _refused(env: dict, *args: str) -> str:
    """``wattson serve`` that must exit at once with a message (not a traceback); its stderr."""
    result = subprocess.run([sys.executable, "-m", "wattson", "serve", "--port", "0", *args], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr


def test_serve_refuses_a_schema_behind_when_it_may_not_migrate(tmp_path):
    env = {**env_for(tmp_path), "WATTSON_MIGRATE_ON_START": "false"}
    run_cli(env, "db", "upgrade", "0013")
    assert "schema is at revision 0013" in _refused(env) and "wattson db upgrade" in _refused(env)


def test_serve_refuses_a_cluster_role_without_a_bus_and_a_bus_it_cannot_reach(tmp_path):
    env = env_for(tmp_path)
    for role in ("gateway", "api", "worker"):
        assert "set WATTSON_BUS_URL" in _refused(env, "--role", role)
    unreachable = {**env, "WATTSON_BUS_URL": "nats://127.0.0.1:1"}  # nothing listens on port 1
    assert "the bus at nats://127.0.0.1:1 (WATTSON_BUS_URL) cannot be reached" in _refused(unreachable)


def refused(env: dict, *args: str, stdin: str | None = None) -> str:
    """A command that must fail with a one-line message, not a traceback; its stderr."""
    result = subprocess.run([sys.executable, "-m", "wattson", *args], env=env, capture_output=True, text=True,
                            input=stdin, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr, (result.stdout, result.stderr)
    return result.stderr


def test_help_and_parsing_import_no_runtime():
    """`wattson --help` and the parser load argparse only: not the database layer, the web framework or the
    OCPP stack (what made every command slow); a small command loads its own services, not the runtime."""
    probe = ("import sys; from wattson.cli import _parser; _parser().parse_args(['sessions', 'list']); "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'fastapi', 'pydantic', 'uvicorn', "
             "'ocpp', 'alembic'}))")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "wattson", "--help"], capture_output=True, text=True).stdout
    for command in ("serve", "demo", "simulate", "charge-points", "locations", "id-tokens", "sessions", "commands",
                    "api-keys", "users"):
        assert f"    {command}" in help_text, command


def test_a_small_command_does_not_load_the_server(tmp_path):
    env = env_for(tmp_path)
    run_cli(env, "db", "upgrade")
    probe = ("import sys; from wattson.cli import main; main(['charge-points', 'list']); "
             "print(sorted(m for m in sys.modules if m in ('wattson.runtime', 'wattson.app', 'wattson.ocpp.gateway', "
             "'wattson.ocpi.service', 'uvicorn', 'alembic')))")
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_a_group_without_its_command_shows_the_group_help(tmp_path):
    result = subprocess.run([sys.executable, "-m", "wattson", "sessions"], env=env_for(tmp_path),
                            capture_output=True, text=True)
    assert result.returncode == 2 and "sessions commands" in result.stdout and "show" in result.stdout


def test_users_create_list_and_passwords(tmp_path):
    env = env_for(tmp_path)
    out = subprocess.run([sys.executable, "-m", "wattson", "users", "create", "--email", "Ops@Example.com", "--role",
                          "operator", "--password-stdin"], env=env, input="correct horse battery\n",
                         capture_output=True, text=True)
    assert out.returncode == 0 and "created operator 1 (ops@example.com, operator)" in out.stdout, out.stderr
    assert "password" not in out.stdout  # given, not printed
    generated = run_cli(env, "users", "create", "--email", "admin@example.com", "--role", "admin")
    password = generated.strip().splitlines()[-1].removeprefix("password (shown once): ")
    assert len(password) >= 10 and " " not in password
    listed = run_cli(env, "users", "list")
    assert "\tadmin@example.com\tadmin\t" in listed and "\tops@example.com\toperator\t" in listed
    assert password not in listed
    assert "exists" in refused(env, "users", "create", "--email", "ops@example.com", "--role", "viewer",
                               "--password-stdin", stdin="another password 1\n")
    assert "10 to 256 characters" in refused(env, "users", "create", "--email", "x@example.com", "--role", "viewer",
                                             "--password-stdin", stdin="short\n")
    assert "no password on standard input" in refused(env, "users", "create", "--email", "y@example.com", "--role",
                                                      "viewer", "--password-stdin", stdin="")
    assert "not an email address" in refused(env, "users", "create", "--email", "nobody", "--role", "viewer")
    assert "invalid choice" in refused(env, "users", "create", "--email", "z@example.com", "--role", "root")
    changed = run_cli(env, "users", "set-password", "--email", "ops@example.com")
    assert "new password set for ops@example.com" in changed and "password (shown once): " in changed
    assert "no operator" in refused(env, "users", "set-password", "--email", "ghost@example.com")


def test_locations_and_charge_points_there(tmp_path):
    env = env_for(tmp_path)
    added = run_cli(env, "locations", "add", "Garage", "--street", "Nádražní", "--city", "Praha", "--country", "CZ",
                    "--time-zone", "Europe/Prague")
    assert "added location 1 (Garage, Europe/Prague)" in added
    run_cli(env, "charge-points", "add", "CP-AT", "--location", "1", "--name", "Bay 1")
    assert run_cli(env, "locations", "list").splitlines() == ["1\tGarage\tPraha\tCZE\tEurope/Prague\tCP-AT"]
    location = json.loads(run_cli(env, "locations", "show", "1"))
    assert (location["street"], location["charge_point_ids"]) == ("Nádražní", ["CP-AT"])
    station = json.loads(run_cli(env, "charge-points", "show", "CP-AT"))
    assert (station["name"], station["location_id"], station["evses"]) == ("Bay 1", 1, [])
    assert run_cli(env, "charge-points", "list", "--location", "1").startswith("CP-AT\t")
    assert "time zone" in refused(env, "locations", "add", "Bad", "--time-zone", "Mars/Olympus").lower()
    assert "country" in refused(env, "locations", "add", "Bad", "--country", "XX").lower()
    assert "location 9" in refused(env, "charge-points", "add", "CP-NOWHERE", "--location", "9")
    assert "not found" in refused(env, "locations", "show", "9")
    run_cli(env, "charge-points", "delete", "CP-AT")
    assert "not found" in refused(env, "charge-points", "show", "CP-AT")


def test_sessions_list_and_show(sqlite_server):
    env = {**sqlite_server.env}
    assert "not found" in refused(env, "sessions", "show", "999999")
    assert all(len(line.split("\t")) == 9 for line in run_cli(env, "sessions", "list", "--limit", "5").splitlines())


@pytest.mark.parametrize("args, message", [
    (["commands", "send", "CP-X", "reset", "type"], "is not FIELD=VALUE"),
    (["commands", "send", "CP-X", "reset", "--body", "[1]"], "must be a JSON object"),
    (["commands", "send", "CP-X", "reset", "--body", "{"], "not JSON"),
    (["commands", "send", "CP-X", "reset", "keys:=[1"], "not JSON"),
])
def test_command_bodies_are_checked_before_anything_is_sent(tmp_path, args, message):
    assert message in refused({**env_for(tmp_path), "WATTSON_API_KEY": "wsk_x"}, *args)


def test_commands_need_a_key_and_a_server(tmp_path):
    env = env_for(tmp_path)
    assert "an API key is needed" in refused(env, "commands", "send", "CP-X", "reset")
    assert "cannot reach the server at http://127.0.0.1:1" in refused(
        env, "commands", "send", "CP-X", "reset", "--url", "http://127.0.0.1:1", "--api-key", "wsk_x")


async def test_commands_send_and_list_through_the_api(sqlite_server):
    from wattson.sim import SimStation, StationConfig

    cp = await sqlite_server.add_station()
    env = {**sqlite_server.env, "WATTSON_API_KEY": sqlite_server.api_key}
    url = ["--url", sqlite_server.http_url]
    async with SimStation(StationConfig(cp, sqlite_server.ws_url, connectors=1, id_tags=[])) as sim:
        await sim.wait_until(lambda: sim.accepted.is_set(), timeout=120)
        answer = json.loads(await _cli(env, "commands", "send", cp, "data-transfer", "vendor_id=Wattson", "data=hi",
                                       *url))
        assert answer["status"] == "Accepted" and answer["response"]["data"] == "hi"
        config = json.loads(await _cli(env, "commands", "send", cp, "get-configuration", "keys:=[\"NoSuchKey\"]",
                                       *url))
        assert config["response"]["unknownKey"] == ["NoSuchKey"]
        listed = (await _cli(env, "commands", "list", cp, *url)).splitlines()
        assert [line.split("\t")[1] for line in listed] == ["get-configuration", "data-transfer"]
    offline = await asyncio.to_thread(refused, env, "commands", "send", cp, "reset", *url)
    assert "409 station_offline" in offline
    unknown = await asyncio.to_thread(refused, {**env, "WATTSON_API_KEY": "wsk_wrong"}, "commands", "list", cp, *url)
    assert unknown.startswith("wattson: 401")


async def _cli(env: dict, *args: str) -> str:
    return await asyncio.to_thread(run_cli, env, *args)
