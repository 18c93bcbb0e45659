"""The long-running commands: ``serve`` (the server, refusing unusable settings and a shared
database with a message before anything is served) and ``simulate`` (simulated stations)."""

import asyncio
import sys

from wattson.settings import Settings


def serve(args, settings: Settings) -> None:
    settings = with_address(settings, args)
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


def with_address(settings: Settings, args) -> Settings:
    update = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    return settings.model_copy(update=update)


def build_server(settings: Settings):
    """The server for the plain port and, with WATTSON_TLS_CERT, the TLS port; a missing or
    unusable certificate file stops start-up with a message naming its variable."""
    from wattson.pki.authority import CertificateAuthority
    from wattson.pki.signers import build_signer
    from wattson.pki.contracts import check_provider as check_contract_provider
    from wattson.pki.contract_auth import load_roots
    from wattson.ocpp.transport import OcppWebSocketProtocol
    from wattson.stations.provisioning import load_steps
    from wattson.tls import Server, server_context

    try:
        tls = server_context(settings)
        CertificateAuthority.from_settings(settings)
        build_signer(settings)  # WATTSON_CERT_SIGNER* (pki/signers.py)
        check_contract_provider(settings)  # WATTSON_CONTRACT_CERT_* (pki/contracts.py)
        load_roots(settings.contract_roots)  # WATTSON_CONTRACT_ROOTS (pki/contract_auth.py)
        load_steps(settings.provisioning_file)  # WATTSON_PROVISIONING_FILE (stations/provisioning.py)
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
    server = build_server(settings.model_copy(update={"migrate_on_start": False}))
    await refuse_a_shared_database(settings, migrate=settings.migrate_on_start)
    if settings.bus_url:
        await _require_bus(settings.bus_url)
    await server.serve()


async def _require_bus(url: str) -> None:
    """Exit with a message when the bus cannot be reached, before anything is served."""
    from wattson.bus.nats import unreachable

    if problem := await unreachable(url):
        sys.exit(f"wattson: not started: the bus at {url} (WATTSON_BUS_URL) cannot be reached: {problem}")


async def refuse_a_shared_database(settings: Settings, migrate: bool) -> None:
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



def simulate(args, settings: Settings) -> None:
    from wattson.sim import default_id_tags, run_stations

    tags = [] if args.no_auto_sessions else (args.id_tags or default_id_tags(5))
    try:
        asyncio.run(run_stations(args.url, args.stations, prefix=args.prefix, ocpp=args.ocpp, id_tags=tags,
                                 meter_interval=args.meter_interval, connectors=args.connectors,
                                 charging_needs=args.charging_needs,
                                 report=None if args.quiet else sys.stdout, report_every=args.progress_every))
    except ValueError as error:
        sys.exit(f"wattson simulate: {error}")
