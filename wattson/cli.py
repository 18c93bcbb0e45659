"""The ``wattson`` command: serve, demo, simulate, and manage the database, keys, stations, tags."""

import argparse
import asyncio
import logging
import sys
from datetime import datetime, timezone

from wattson.observability.logging import configure as configure_logging
from wattson.settings import Settings, get_settings


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        sys.exit(2)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        args.run(args, settings)
    except KeyboardInterrupt:
        pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wattson", description="Wattson charge point management system.")
    sub = p.add_subparsers(title="commands")

    serve = sub.add_parser("serve", help="run the OCPP gateway and the HTTP API on one port (and a TLS port "
                                         "with WATTSON_TLS_CERT)")
    serve.add_argument("--host", help="default WATTSON_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, help="default WATTSON_PORT (8180)")
    serve.add_argument("--role", choices=["all", "gateway", "api", "worker"],
                       help="what this process runs (default WATTSON_ROLE, all): gateway holds station connections, "
                            "api serves the operator API, worker runs the background jobs; several processes need "
                            "WATTSON_BUS_URL (docs/deployment.md)")
    serve.set_defaults(run=_serve)

    demo = sub.add_parser("demo", help="serve with simulated stations charging (what `make run` starts)")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--stations", type=int, default=3)
    demo.add_argument("--ocpp", type=_ocpp_versions, default="1.6,2.0.1",
                      help="OCPP version of the stations: 1.6, 2.0.1 or 2.1; comma-separated for a mixed fleet, "
                           "assigned round-robin (default: 1.6,2.0.1)")
    demo.set_defaults(run=_demo)

    sim = sub.add_parser("simulate", help="run simulated OCPP stations against a central system")
    sim.add_argument("--url", required=True, help="e.g. ws://127.0.0.1:8180/ocpp")
    sim.add_argument("--stations", type=int, default=1)
    sim.add_argument("--ocpp", type=_ocpp_versions, default="1.6",
                     help="1.6, 2.0.1 or 2.1; comma-separated (e.g. 1.6,2.0.1) for a mixed fleet, assigned "
                          "round-robin (default: 1.6)")
    sim.add_argument("--prefix", default="SIM-", help="station ids are PREFIX0001, PREFIX0002, ...")
    sim.add_argument("--meter-interval", type=float, default=10.0, help="seconds between meter values")
    sim.add_argument("--id-tag", action="append", dest="id_tags", help="tag to charge with (repeatable)")
    sim.set_defaults(run=_simulate)

    db = sub.add_parser("db", help="database schema").add_subparsers(title="db commands")
    up = db.add_parser("upgrade", help="apply migrations (also done at start-up)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(run=lambda a, s: asyncio.run(_db_upgrade(s, a.revision)))
    db.add_parser("current", help="print the applied revision").set_defaults(run=lambda a, s: asyncio.run(_db_current(s)))

    keys = sub.add_parser("api-keys", help="API keys").add_subparsers(title="api-keys commands")
    create = keys.add_parser("create", help="create a key; the key is the last line printed")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=["admin", "operator", "viewer"])
    create.set_defaults(run=lambda a, s: _with_services(s, _create_key(a)))
    keys.add_parser("list").set_defaults(run=lambda a, s: _with_services(s, _list_keys))
    revoke = keys.add_parser("revoke")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=lambda a, s: _with_services(s, lambda sv: sv.access.revoke_api_key(a.id)))

    cps = sub.add_parser("charge-points", help="registered stations").add_subparsers(title="charge-points commands")
    add = cps.add_parser("add", help="register a station so that it may connect")
    add.add_argument("id")
    add.add_argument("--name")
    add.add_argument("--registration-status", default="Accepted", choices=["Accepted", "Pending", "Rejected"])
    add.set_defaults(run=lambda a, s: _with_services(s, _add_charge_point(a)))
    cps.add_parser("list").set_defaults(run=lambda a, s: _with_services(s, _list_charge_points))

    tags = sub.add_parser("id-tokens", help="drivers' tags").add_subparsers(title="id-tokens commands")
    tag = tags.add_parser("add", help="add a tag")
    tag.add_argument("uid")
    tag.add_argument("--status", default="Accepted", choices=["Accepted", "Blocked", "Expired", "Invalid"])
    tag.add_argument("--expires-at", type=_utc_datetime, help="ISO 8601; UTC when no zone is given")
    tag.add_argument("--parent-id-tag")
    tag.set_defaults(run=lambda a, s: _with_services(s, _add_tag(a)))
    tags.add_parser("list").set_defaults(run=lambda a, s: _with_services(s, _list_tags))
    return p


def _ocpp_versions(text: str) -> list[str]:
    from wattson.sim import SUPPORTED_OCPP

    versions = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in versions if v not in SUPPORTED_OCPP]
    if not versions or unknown:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {', '.join(SUPPORTED_OCPP)}, "
                                         "or several separated by commas)")
    return versions


def _utc_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# --- servers -------------------------------------------------------------------------------
def _serve(args, settings: Settings) -> None:
    settings = _with_address(settings, args)
    if args.role is not None:
        settings = settings.model_copy(update={"role": args.role})
    if settings.role != "all" and not settings.bus_url:
        sys.exit(f"wattson: not started: role {settings.role} is one part of a cluster, whose processes talk "
                 "through a bus: set WATTSON_BUS_URL (nats://host:4222), or run role all")
    run_fast(_run_server(settings))


def run_fast(coro):
    """Run the server on uvloop where it is installed (uvicorn[standard] brings it): its event loop
    and transports cost a fraction of asyncio's per message. Falls back to asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def _with_address(settings: Settings, args) -> Settings:
    update = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    return settings.model_copy(update=update)


def _server(settings: Settings):
    """The server for the plain port and, with WATTSON_TLS_CERT, the TLS port; a missing or
    unusable certificate file stops start-up with a message naming its variable."""
    from wattson.stations.certificates import CertificateAuthority
    from wattson.ocpp.transport import OcppWebSocketProtocol
    from wattson.tls import Server, server_context

    try:
        tls = server_context(settings)
        CertificateAuthority.from_settings(settings)
    except ValueError as error:
        sys.exit(f"wattson: {error}")

    import uvicorn

    from wattson.app import create_app

    ws = OcppWebSocketProtocol if settings.ws_protocol == "wattson" else settings.ws_protocol
    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port, ws=ws,
                            ws_per_message_deflate=False, lifespan="on", log_level=settings.log_level.lower(),
                            access_log=False, ws_max_size=settings.ocpp_max_frame_bytes,
                            **({"log_config": None} if settings.log_format == "json" else {}))  # ours, not uvicorn's
    return Server(config, settings.tls_port, tls)


async def _run_server(settings: Settings) -> None:
    # Unusable settings stop it first, before the database is touched; the check below migrates.
    server = _server(settings.model_copy(update={"migrate_on_start": False}))
    await _refuse_a_shared_database(settings, migrate=settings.migrate_on_start)
    if settings.bus_url:
        await _require_bus(settings.bus_url)
    await server.serve()


async def _require_bus(url: str) -> None:
    """Exit with a message when the bus cannot be reached, before anything is served."""
    from wattson.bus.nats import unreachable

    if problem := await unreachable(url):
        sys.exit(f"wattson: not started: the bus at {url} (WATTSON_BUS_URL) cannot be reached: {problem}")


async def _refuse_a_shared_database(settings: Settings, migrate: bool) -> None:
    """Exit with a message when another Wattson process uses the database (cluster/nodes.py),
    before anything is served or changed; with ``migrate``, bring the schema up to date first
    (the check reads the ``nodes`` table), so that the server need not."""
    from datetime import timedelta

    from wattson.cluster.nodes import Nodes, SharedDatabase, myself
    from wattson.db import Database
    from wattson.db.migrate import current, head, upgrade

    db = Database(settings.database_url)
    try:
        if migrate:
            await upgrade(db)
        elif (found := await current(db)) != head():
            sys.exit(f"wattson: not started: the database schema is at revision {found or 'none'}, this release "
                     f"needs {head()}: run `wattson db upgrade` (or leave WATTSON_MIGRATE_ON_START on)")
        await Nodes(db, myself(bus=settings.bus_url is not None), timedelta(seconds=settings.node_lease_s)).check()
    except SharedDatabase as error:
        sys.exit(f"wattson: not started: {error}")
    finally:
        await db.dispose()


def _demo(args, settings: Settings) -> None:
    settings = _with_address(settings, args).model_copy(update={"auto_register": True})
    asyncio.run(_run_demo(settings, args.stations, args.ocpp))


async def _run_demo(settings: Settings, stations: int, ocpp: list[str]) -> None:
    from wattson.errors import Conflict
    from wattson.runtime import build_services
    from wattson.sim import default_id_tags, run_stations

    await _refuse_a_shared_database(settings, migrate=True)
    settings = settings.model_copy(update={"migrate_on_start": False})  # done just now
    services = build_services(settings)
    tags = default_id_tags(5)
    for uid in tags:
        try:
            await services.access.create_id_token(uid)
        except Conflict:  # there from an earlier demo
            pass
    await _demo_tariff(services)
    _, key = await services.access.create_api_key(f"demo {datetime.now(timezone.utc):%Y-%m-%d %H:%M}", "admin")
    await services.db.dispose()

    server = _server(settings)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            return await serving
        await asyncio.sleep(0.05)
    base = f"http://{settings.host}:{settings.port}"
    print(f"""
Wattson is running with {stations} simulated stations, OCPP {", ".join(ocpp[:stations])} (sessions start within seconds).
  API docs    {base}/api/docs
  OCPP        ws://{settings.host}:{settings.port}/ocpp/<charge point id>
  API key     {key}
  Sessions    curl -s -H 'Authorization: Bearer {key}' {base}/api/v1/sessions
  Stations    curl -s -H 'Authorization: Bearer {key}' {base}/api/v1/charge-points
Press Ctrl+C to stop.
""", flush=True)
    sim = asyncio.create_task(run_stations(f"ws://{settings.host}:{settings.port}/ocpp", stations, ocpp=ocpp,
                                           id_tags=tags, meter_interval=5.0, session_gap=(2, 8),
                                           session_duration=(30, 120)))
    try:
        await serving
    finally:
        sim.cancel()
        await asyncio.gather(sim, return_exceptions=True)


#: The demo's default tariff: a day and a night energy rate, a session fee, and parking once charging ends.
DEMO_TARIFF = {
    "id": "DEMO", "currency": "EUR", "type": "REGULAR",
    "tariff_alt_text": [{"language": "en", "text": "0.45 EUR/kWh, 0.30 EUR/kWh 22:00-06:00, 0.50 EUR a session, "
                                                   "0.10 EUR/min parking; VAT 21 % included"}],
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 0.4132, "vat": 21, "step_size": 1}]},
        {"price_components": [{"type": "ENERGY", "price": 0.2479, "vat": 21, "step_size": 1}],
         "restrictions": {"start_time": "22:00", "end_time": "06:00"}},
        {"price_components": [{"type": "ENERGY", "price": 0.3719, "vat": 21, "step_size": 1},
                              {"type": "PARKING_TIME", "price": 4.9587, "vat": 21, "step_size": 60}]},
    ],
}


async def _demo_tariff(services) -> None:
    """Price the demo's sessions: the DEMO tariff becomes the default unless one is set already."""
    from wattson.errors import Conflict
    from wattson.tariffs.schemas import TariffCreate

    try:
        await services.tariffs.create(TariffCreate.model_validate(DEMO_TARIFF).model_dump(mode="json",
                                                                                          exclude_none=True))
    except Conflict:  # there from an earlier demo
        pass
    if (await services.tariffs.settings()).default_tariff_id is None:
        await services.tariffs.update_settings(default_tariff_id="DEMO")


def _simulate(args, settings: Settings) -> None:
    from wattson.sim import default_id_tags, run_stations

    try:
        asyncio.run(run_stations(args.url, args.stations, prefix=args.prefix, ocpp=args.ocpp,
                                 id_tags=args.id_tags or default_id_tags(5), meter_interval=args.meter_interval))
    except ValueError as error:
        sys.exit(f"wattson simulate: {error}")


# --- data management -----------------------------------------------------------------------
def _with_services(settings: Settings, action) -> None:
    from wattson.errors import WattsonError

    async def run():
        from wattson.db.migrate import upgrade
        from wattson.runtime import build_services

        services = build_services(settings)
        try:
            await upgrade(services.db)
            result = await action(services)
            if result is not None and not isinstance(result, str):
                print(f"done: {type(result).__name__} {getattr(result, 'id', '')}")
        finally:
            await services.db.dispose()

    try:
        asyncio.run(run())
    except WattsonError as error:
        sys.exit(f"wattson: {error.message}")


async def _db_upgrade(settings: Settings, revision: str) -> None:
    from wattson.db import Database
    from wattson.db.migrate import current, upgrade

    db = Database(settings.database_url)
    try:
        await upgrade(db, revision)
        print(f"database at revision {await current(db)}")
    finally:
        await db.dispose()


async def _db_current(settings: Settings) -> None:
    from wattson.db import Database
    from wattson.db.migrate import current

    db = Database(settings.database_url)
    try:
        print(await current(db) or "empty (no migration applied)")
    finally:
        await db.dispose()


def _create_key(args):
    async def run(services):
        row, secret = await services.access.create_api_key(args.name, args.role)
        print(f"created API key {row.id} ({row.name}, {row.role}); store it now, it is not shown again:")
        print(secret)
        return secret

    return run


async def _list_keys(services):
    for k in await services.access.list_api_keys():
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        print(f"{k.id}\t{k.name}\t{k.role}\t{k.prefix}…\t{state}\tlast used {k.last_used_at or 'never'}")
    return ""


def _add_charge_point(args):
    return lambda services: services.stations.create(args.id, args.name, args.registration_status)


async def _list_charge_points(services):
    for cp in await services.stations.find(10_000):
        print(f"{cp.id}\t{cp.registration_status}\t{cp.network_status}\t{cp.vendor or '-'} {cp.model or ''}")
    return ""


def _add_tag(args):
    return lambda services: services.access.create_id_token(args.uid, args.status, expires_at=args.expires_at,
                                                            parent_id_tag=args.parent_id_tag)


async def _list_tags(services):
    for t in await services.access.list_id_tokens(100_000, None):
        print(f"{t.uid}\t{t.status}\texpires {t.expires_at or 'never'}\tparent {t.parent_id_tag or '-'}")
    return ""
