"""The ``wattson`` command: serve, demo and simulate; manage charge points, locations, id tokens,
sessions, commands, API keys and operator accounts.

Only argparse is imported here. Each command names the function that runs it as
``"module:function"`` under ``wattson.cli``, imported once the command line is parsed: ``wattson
--help`` and the small commands do not pay for the server, the OCPP stack or the web framework.
"""

import argparse
import sys
from datetime import datetime, timezone
from importlib import import_module

ROLES = ("admin", "operator", "viewer")
TOKEN_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        getattr(args, "group", parser).print_help()  # `wattson charge-points`: that group's commands
        sys.exit(2)
    from wattson.cli.context import prepare

    settings = prepare()
    module, function = args.run.split(":")
    try:
        getattr(import_module(f"wattson.cli.{module}"), function)(args, settings)
    except KeyboardInterrupt:
        pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wattson", description="Wattson charge point management system. "
                                "Settings come from WATTSON_* environment variables (docs/configuration.md); "
                                "every command works on WATTSON_DATABASE_URL (default ./wattson.db).")
    sub = p.add_subparsers(title="commands", metavar="COMMAND")
    _servers(sub)
    _records(sub)
    return p


def _servers(sub) -> None:
    serve = sub.add_parser("serve", help="run the OCPP gateway and the HTTP API on one port (and a TLS port "
                                         "with WATTSON_TLS_CERT)")
    serve.add_argument("--host", help="default WATTSON_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, help="default WATTSON_PORT (8180)")
    serve.add_argument("--role", choices=["all", "gateway", "api", "worker"],
                       help="what this process runs (default WATTSON_ROLE, all): gateway holds station connections, "
                            "api serves the operator API, worker runs the background jobs; several processes need "
                            "WATTSON_BUS_URL (docs/deployment.md)")
    serve.set_defaults(run="servers:serve")

    demo = sub.add_parser("demo", help="serve a demo network with simulated stations charging (what `make run` "
                                       "starts): prints the dashboard address, its login and an API key")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--stations", type=_positive, default=3)
    demo.add_argument("--ocpp", type=_ocpp_versions, default="1.6,2.0.1",
                      help="OCPP version of the stations: 1.6, 2.0.1 or 2.1; comma-separated for a mixed fleet, "
                           "assigned round-robin (default: 1.6,2.0.1)")
    demo.add_argument("--quiet", action="store_true", help="do not print what the stations do")
    demo.set_defaults(run="demo:demo")

    sim = sub.add_parser("simulate", help="run simulated OCPP stations against a central system")
    sim.add_argument("--url", required=True, help="e.g. ws://127.0.0.1:8180/ocpp")
    sim.add_argument("--stations", type=_positive, default=1)
    sim.add_argument("--ocpp", type=_ocpp_versions, default="1.6",
                     help="1.6, 2.0.1 or 2.1; comma-separated (e.g. 1.6,2.0.1) for a mixed fleet, assigned "
                          "round-robin (default: 1.6)")
    sim.add_argument("--prefix", default="SIM-", help="station ids are PREFIX0001, PREFIX0002, ...")
    sim.add_argument("--connectors", type=_positive, default=2, help="connectors (2.x: EVSEs) per station")
    sim.add_argument("--meter-interval", type=float, default=10.0, help="seconds between meter values")
    sim.add_argument("--id-tag", action="append", dest="id_tags", help="tag to charge with (repeatable)")
    sim.add_argument("--no-auto-sessions", action="store_true",
                     help="no sessions of the stations' own: they wait for a remote start (no ConcurrentTx "
                          "with a tag they are charging with already)")
    sim.add_argument("--charging-needs", type=_charging_needs, metavar="HOURS,KWH",
                     help="2.x stations' EVs tell ISO 15118 charging needs at each start (NotifyEVChargingNeeds): "
                          "leaving HOURS after it with KWH to charge, e.g. 8,20 (1.6 stations: none)")
    sim.add_argument("--quiet", action="store_true", help="print nothing but errors")
    sim.add_argument("--progress-every", type=float, default=10.0, metavar="SECONDS",
                     help="how often the progress line is printed when the output is not a terminal")
    sim.set_defaults(run="servers:simulate")


def _records(sub) -> None:
    db = _group(sub, "db", "database schema")
    up = db.add_parser("upgrade", help="apply migrations (also done at start-up)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(run="records:db_upgrade")
    db.add_parser("current", help="print the applied revision").set_defaults(run="records:db_current")

    keys = _group(sub, "api-keys", "API keys for the operator API")
    create = keys.add_parser("create", help="create a key; the key is the last line printed")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.set_defaults(run="records:api_key_create")
    _listing(keys.add_parser("list", help="every key (the secrets are not stored)"), "records:api_key_list")
    revoke = keys.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run="records:api_key_revoke")

    cps = _group(sub, "charge-points", "registered stations")
    add = cps.add_parser("add", help="register a station so that it may connect")
    add.add_argument("id")
    add.add_argument("--name")
    add.add_argument("--location", type=int, help="the id of its location")
    add.add_argument("--registration-status", default="Accepted", choices=["Accepted", "Pending", "Rejected"])
    add.set_defaults(run="records:charge_point_add")
    listing = _listing(cps.add_parser("list", help="stations with their state"), "records:charge_point_list")
    listing.add_argument("--location", type=int)
    listing.add_argument("--network-status", choices=["online", "offline", "never_connected"])
    show = cps.add_parser("show", help="one station with its EVSEs and connectors (JSON)")
    show.add_argument("id")
    show.set_defaults(run="records:charge_point_show")
    delete = cps.add_parser("delete", help="forget a station (refused while it is online)")
    delete.add_argument("id")
    delete.set_defaults(run="records:charge_point_delete")

    places = _group(sub, "locations", "sites: address and time zone")
    add = places.add_parser("add", help="add a location; its id is printed")
    add.add_argument("name")
    for field in ("street", "house-number", "postal-code", "city"):
        add.add_argument(f"--{field}")
    add.add_argument("--country", help="ISO 3166 country code (alpha-2 or alpha-3)")
    add.add_argument("--time-zone", default="UTC", help="IANA time zone, e.g. Europe/Prague (default UTC)")
    add.add_argument("--latitude", type=float)
    add.add_argument("--longitude", type=float)
    add.set_defaults(run="records:location_add")
    _listing(places.add_parser("list"), "records:location_list")
    show = places.add_parser("show", help="one location (JSON)")
    show.add_argument("id", type=int)
    show.set_defaults(run="records:location_show")

    tags = _group(sub, "id-tokens", "drivers' tags (RFID cards)")
    tag = tags.add_parser("add", help="add a tag")
    tag.add_argument("uid")
    tag.add_argument("--status", default="Accepted", choices=TOKEN_STATUSES)
    tag.add_argument("--expires-at", type=_utc_datetime, help="ISO 8601; UTC when no zone is given")
    tag.add_argument("--parent-id-tag")
    tag.set_defaults(run="records:id_token_add")
    listing = _listing(tags.add_parser("list"), "records:id_token_list")
    listing.add_argument("--status", choices=TOKEN_STATUSES)
    status = tags.add_parser("set-status", help="block, unblock (Accepted) or expire a tag")
    status.add_argument("uid")
    status.add_argument("status", choices=TOKEN_STATUSES)
    status.set_defaults(run="records:id_token_set_status")

    sessions = _group(sub, "sessions", "charging sessions")
    listing = _listing(sessions.add_parser("list", help="newest first"), "records:session_list")
    listing.add_argument("--charge-point")
    listing.add_argument("--id-tag")
    listing.add_argument("--status", choices=["active", "finished"])
    listing.add_argument("--limit", type=_positive, default=50)
    show = sessions.add_parser("show", help="one session with its meter values (JSON)")
    show.add_argument("id", type=int)
    show.set_defaults(run="records:session_show")

    commands = _group(sub, "commands", "commands to stations, through a running server's API "
                                       "(WATTSON_API_KEY, --url)")
    send = commands.add_parser("send", help="send a command and print the station's answer (JSON)",
                               description="e.g. wattson commands send CP-0001 remote-start id_tag=04A2B3C4D5E6F7 "
                                           "evse=1; the names and fields are the API's (docs/commands.md).")
    send.add_argument("charge_point")
    send.add_argument("command", help="remote-start, remote-stop, reset, unlock, change-availability, ...")
    send.add_argument("fields", nargs="*", metavar="FIELD=VALUE",
                      help="the command's body; values are read as JSON when they can be (1, true, [\"a\"]), "
                           "else as text")
    send.add_argument("--body", help="the whole body as one JSON object instead")
    send.add_argument("--no-wait", action="store_true", help="do not wait for the station's answer (202)")
    _remote(send)
    send.set_defaults(run="remote:send")
    listing = commands.add_parser("list", help="a station's recent commands")
    listing.add_argument("charge_point")
    listing.add_argument("--json", action="store_true", help="JSON lines instead of tab-separated columns")
    _remote(listing)
    listing.set_defaults(run="remote:history")

    users = _group(sub, "users", "operator accounts (the dashboard's logins)")
    create = users.add_parser("create", help="create an account; without --password-stdin a password is "
                                             "generated and printed")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(run="records:user_create")
    _listing(users.add_parser("list"), "records:user_list")
    password = users.add_parser("set-password", help="a new password (generated and printed without "
                                                     "--password-stdin); the account's logins end")
    password.add_argument("--email", required=True)
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(run="records:user_set_password")


def _group(sub, name: str, help: str):
    parser = sub.add_parser(name, help=help)
    parser.set_defaults(group=parser)
    return parser.add_subparsers(title=f"{name} commands", metavar="COMMAND")


def _listing(parser, run: str):
    parser.add_argument("--json", action="store_true", help="JSON lines instead of tab-separated columns")
    parser.set_defaults(run=run)
    return parser


def _remote(parser) -> None:
    parser.add_argument("--url", help="the server's address (default http://WATTSON_HOST:WATTSON_PORT)")
    parser.add_argument("--api-key", help="default WATTSON_API_KEY; an operator or admin key")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _charging_needs(text: str) -> tuple[float, float]:
    """``HOURS,KWH`` as the simulator's (departure in seconds, energy in Wh)."""
    try:
        hours, kwh = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not HOURS,KWH (e.g. 8,20): {text!r}") from None
    if hours <= 0 or kwh <= 0:
        raise argparse.ArgumentTypeError(f"hours and kWh must be above 0, not {text!r}")
    return hours * 3600, kwh * 1000


def _ocpp_versions(text: str) -> list[str]:
    from wattson.sim.versions import SUPPORTED_OCPP

    versions = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in versions if v not in SUPPORTED_OCPP]
    if not versions or unknown:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {', '.join(SUPPORTED_OCPP)}, "
                                         "or several separated by commas)")
    return versions


def _utc_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date and time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
