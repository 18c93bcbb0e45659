"""The deployment files (Dockerfile, compose.yaml, deploy/haproxy.cfg) against the code they run:
what can drift when settings, roles or services are renamed. Reads files only: no Docker, no network.
"""

import re
import shlex
from pathlib import Path

import yaml

from wattson.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
ROLES = {"all", "gateway", "api", "worker"}
PREFIX = Settings.model_config["env_prefix"]


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def command(service: dict) -> list[str]:
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def wattson_services() -> dict[str, dict]:
    """Services built from this repository: they run the ``wattson`` entry point."""
    return {name: s for name, s in compose()["services"].items() if "build" in s}


def servers() -> dict[str, dict]:
    return {name: s for name, s in wattson_services().items() if command(s)[:1] == ["serve"]}


def role(service: dict) -> str:
    cmd = command(service)
    return cmd[cmd.index("--role") + 1] if "--role" in cmd else "all"


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def haproxy_config() -> tuple[Path, str]:
    (mount,) = [v for v in compose()["services"]["haproxy"]["volumes"]
                if str(v).split(":")[1] == "/usr/local/etc/haproxy/haproxy.cfg"]
    path = ROOT / str(mount).split(":")[0]
    return path, path.read_text()


def sections(cfg: str) -> dict[str, list[str]]:
    """``"frontend public"`` -> its lines, comments dropped (the commented TLS variants are not in force)."""
    found, current = {}, None
    for raw in cfg.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            current = " ".join(line.split()[:2])
            found[current] = []
        elif current is not None:
            found[current].append(line.strip())
    return found


def backend_hosts(cfg: str, backend: str) -> set[str]:
    lines = sections(cfg)[f"backend {backend}"]
    return {line.split()[2].rsplit(":", 1)[0] for line in lines if line.startswith("server ")}


def test_every_wattson_variable_in_compose_is_a_setting():
    text = COMPOSE.read_text()
    named = set(re.findall(rf"\b{PREFIX}[A-Z0-9_]+", text))
    assert named, "compose.yaml names no WATTSON_ variable"
    fields = {name.upper() for name in Settings.model_fields}
    unknown = sorted(n for n in named if n[len(PREFIX):] not in fields)
    assert not unknown, f"not fields of wattson.settings.Settings: {unknown}"


def test_every_role_is_one_wattson_serves():
    roles = {name: role(s) for name, s in servers().items()}
    assert set(roles.values()) - ROLES == set(), roles
    assert {"gateway", "api", "worker"} <= set(roles.values()), roles
    for name, s in servers().items():
        cmd = command(s)
        if "--role" in cmd:
            assert cmd.count("--role") == 1 and cmd.index("--role") + 1 < len(cmd), (name, cmd)


def test_every_server_has_a_readiness_check_and_its_own_node_id():
    node_ids = {}
    for name, s in servers().items():
        check = s.get("healthcheck") or {}
        assert not check.get("disable"), name
        assert "/health/ready" in " ".join(map(str, check.get("test", []))), name
        node_ids[name] = environment(s).get(f"{PREFIX}NODE_ID")
        assert node_ids[name], f"{name}: no {PREFIX}NODE_ID"
    assert len(set(node_ids.values())) == len(node_ids), node_ids


def test_processes_sharing_the_database_have_the_bus():
    for name, s in servers().items():
        env = environment(s)
        assert env.get(f"{PREFIX}DATABASE_URL", "").startswith("postgresql"), name
        assert env.get(f"{PREFIX}BUS_URL", "").startswith("nats://"), name


def test_servers_wait_for_their_dependencies():
    services = compose()["services"]
    for name, s in servers().items():
        needs = s.get("depends_on") or {}
        for dependency in ("postgres", "nats"):
            assert needs.get(dependency, {}).get("condition") == "service_healthy", (name, dependency)
            assert "healthcheck" in services[dependency], dependency
        if "migrate" in services:
            assert needs["migrate"]["condition"] == "service_completed_successfully", name
    if "migrate" in services:
        assert command(services["migrate"])[:2] == ["db", "upgrade"]


def test_haproxy_routes_ocpp_to_the_gateways_and_the_rest_to_the_api():
    path, cfg = haproxy_config()
    assert path.is_file()
    by_role: dict[str, set[str]] = {}
    for name, s in servers().items():
        by_role.setdefault(role(s), set()).add(name)
    frontends = [lines for title, lines in sections(cfg).items() if title.startswith("frontend")]
    assert frontends
    for lines in frontends:
        acls = {line.split()[1] for line in lines if line.startswith("acl ") and "path_beg /ocpp/" in line}
        (ocpp_backend,) = [line.split()[1] for line in lines
                           if line.startswith("use_backend ") and set(line.split()[3:]) & acls]
        (default,) = [line.split()[1] for line in lines if line.startswith("default_backend ")]
        assert backend_hosts(cfg, ocpp_backend) == by_role["gateway"], "every compose gateway, and only they"
        assert backend_hosts(cfg, default) == by_role["api"]
        gateways = sections(cfg)[f"backend {ocpp_backend}"]
        assert "balance leastconn" in gateways
        assert any(line.startswith("option httpchk") and "/health/ready" in line for line in gateways)
    defaults = sections(cfg)["defaults"]
    tunnel = next(line.split()[2] for line in defaults if line.startswith("timeout tunnel"))
    assert re.fullmatch(r"\d+h", tunnel) and int(tunnel[:-1]) >= 1, tunnel


def test_only_haproxy_publishes_a_port():
    published = {name for name, s in compose()["services"].items() if s.get("ports")}
    assert published == {"haproxy"}


def test_forwarded_headers_are_trusted_from_haproxy_only():
    services = compose()["services"]
    haproxy_ip = services["haproxy"]["networks"]["wattson"]["ipv4_address"]
    for name, s in servers().items():
        assert environment(s).get("FORWARDED_ALLOW_IPS") == haproxy_ip, name
    _, cfg = haproxy_config()
    for title, lines in sections(cfg).items():
        if title.startswith("frontend"):  # a client's own X-Forwarded-Proto would claim TLS
            assert "http-request set-header X-Forwarded-Proto http" in lines, title


def test_dockerfile_runs_unprivileged_from_the_lock_file():
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    (base,) = [line for line in lines if line.startswith("FROM ")]
    assert base.split()[1].startswith("python:3.11-slim")
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, users
    assert any("pip install" in line and "-c requirements.lock" in line and "[dev]" not in line for line in lines)
    assert 'ENTRYPOINT ["wattson"]' in lines
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert "/health" in DOCKERFILE.read_text()


def test_every_wattson_command_in_compose_parses():
    from wattson.cli import _parser

    for name, s in wattson_services().items():
        args = _parser().parse_args(command(s))
        assert hasattr(args, "run"), (name, command(s))
        if command(s)[:1] == ["serve"]:
            assert args.role == role(s), name
