"""The `wattson` command line against a real SQLite file."""

import os
import subprocess
import sys
from pathlib import Path

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
    assert "CP-CLI\tPending\tnever_connected" in run_cli(env, "charge-points", "list")
    run_cli(env, "id-tokens", "add", "TAG-CLI", "--expires-at", "2031-05-01T00:00:00", "--parent-id-tag", "P")
    assert "TAG-CLI\tAccepted\texpires 2031-05-01 00:00:00+00:00\tparent P" in run_cli(env, "id-tokens", "list")


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
