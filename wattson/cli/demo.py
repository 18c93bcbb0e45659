"""``wattson demo`` (what ``make run`` starts): a complete small network on the configured
database, the server, and simulated stations charging, with what an operator needs to look at it
printed at once: the dashboard and its login, an API key, a driver page.

The network: one location with an address and a time zone, the simulated stations registered
there with two EVSEs each (eMI3 EVSE IDs, Type 2 sockets), a regular tariff as the network default,
an ad hoc tariff and two payment products for card payment at the location, and the tags the
simulator charges with. Each piece is created when missing and left as it is otherwise, so a
second run changes nothing.

The login (operator ``demo@wattson.local``, role admin) and the admin API key are created on the
first run and written to a file beside the SQLite database (``wattson.demo.json``, readable by its
owner only); later runs print the same ones while they still work, and make new ones only when
they do not (the file was removed, the key revoked, the password changed).
"""

import asyncio
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson

from wattson.settings import Settings
from wattson.sim.station import default_id_tags

DEMO_EMAIL = "demo@wattson.local"
DEMO_KEY_NAME = "demo"

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
#: What a driver paying by card at the demo location pays: energy and charging time.
DEMO_AD_HOC_TARIFF = {
    "id": "DEMO-ADHOC", "currency": "EUR", "type": "AD_HOC_PAYMENT",
    "tariff_alt_text": [{"language": "en", "text": "0.59 EUR/kWh and 1.21 EUR per hour charging, VAT 21 % included"},
                        {"language": "cs", "text": "0,59 EUR/kWh a 1,21 EUR za hodinu nabíjení, vč. DPH 21 %"}],
    "elements": [{"price_components": [{"type": "ENERGY", "price": 0.4876, "vat": 21, "step_size": 1},
                                       {"type": "TIME", "price": 1.00, "vat": 21, "step_size": 60}]}],
}
DEMO_LOCATION = {
    "name": "Wattson demo garage", "street": "Stationsplein", "house_number": "1", "postal_code": "1012 AB",
    "city": "Amsterdam", "country": "NL", "latitude": 52.3791, "longitude": 4.9003, "time_zone": "Europe/Amsterdam",
    "parking_type": "PARKING_GARAGE",
}
DEMO_PRODUCTS = ({"name": "Up to 30 minutes", "blocking_value": 10, "max_duration_min": 30, "position": 1},
                 {"name": "Up to 20 kWh", "blocking_value": 15, "max_energy_kwh": 20, "position": 2})
CONNECTORS = 2  # per simulated station: the simulator's default
#: A station with no sessions of its own, free for a driver paying on its page at any time.
PAY_STATION = "PAY-0001"
#: The longest Ctrl+C waits for the stations to end their sessions (each waits 5 s at most).
STATIONS_STOP_S = 10.0


@dataclass
class Login:
    email: str
    password: str
    api_key: str


def demo(args, settings: Settings) -> None:
    from wattson.cli.servers import with_address

    settings = with_address(settings, args).model_copy(update={"auto_register": True})
    if "WATTSON_LOG_LEVEL" not in os.environ:  # the stations' report tells what happens; logs only problems
        settings = settings.model_copy(update={"log_level": "warning"})
        logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(_run(settings, args.stations, args.ocpp, quiet=args.quiet))


async def _run(settings: Settings, stations: int, ocpp: list[str], quiet: bool) -> None:
    from wattson.cli.servers import build_server, refuse_a_shared_database
    from wattson.errors import WattsonError
    from wattson.runtime import build_services
    from wattson.sim import StationConfig
    from wattson.sim.runner import run_fleet

    await refuse_a_shared_database(settings, migrate=True)
    settings = settings.model_copy(update={"migrate_on_start": False})  # done just now
    services = build_services(settings)
    url = f"ws://{_reachable(settings.host)}:{settings.port}/ocpp"
    fleet = [StationConfig(station, url, ocpp=ocpp[i % len(ocpp)], connectors=CONNECTORS, id_tags=tags,
                           meter_interval=5.0, session_gap=(2, 8), session_duration=(30, 120))
             for i, (station, tags) in enumerate(station_tags(stations).items())]
    fleet.append(StationConfig(PAY_STATION, url, ocpp=ocpp[0], connectors=1, id_tags=[], meter_interval=5.0))
    try:
        evse_ids = await build_network(services, settings, {c.station_id: c.connectors for c in fleet},
                                       [tag for c in fleet for tag in c.id_tags])
        login = await demo_login(services, login_file(settings.database_url))
    except WattsonError as error:  # e.g. an EVSE ID taken by another station of this database
        sys.exit(f"wattson demo: the demo network cannot be set up: {error.message}")
    finally:
        await services.db.dispose()

    server = build_server(settings)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            return await serving
        await asyncio.sleep(0.05)
    print(banner(settings, stations, ocpp, login, evse_ids[PAY_STATION][0]), flush=True)
    stop = asyncio.Event()
    sim = asyncio.create_task(run_fleet(fleet, stop_event=stop, end_sessions=True,
                                        report=None if quiet else sys.stdout))
    shutdown = server.shutdown

    async def stations_first(sockets=None):
        """On Ctrl+C the stations end their sessions while the server still hears them: none is
        left active (and closed with a warning at the next start)."""
        stop.set()
        await asyncio.wait({sim}, timeout=STATIONS_STOP_S)  # neither raises nor cancels: shutdown goes on
        await shutdown(sockets)

    server.shutdown = stations_first
    try:
        await serving
    finally:
        sim.cancel()
        await asyncio.gather(sim, return_exceptions=True)


def station_tags(count: int) -> dict[str, list[str]]:
    """SIM-0001... (run_stations' names) with ten tags each of their own: a tag charging at one
    station is never picked at another, and seldom by the station's other connector (ConcurrentTx)."""
    tags = default_id_tags(10 * count)
    return {f"SIM-{i:04d}": tags[10 * (i - 1):10 * i] for i in range(1, count + 1)}


def evse_id_of(settings: Settings, station: str, evse: int) -> str:
    """The EVSE ID of a station's EVSE in our own operator id space: SIM-0001's first is NL*WAT*ESIM0001*1."""
    outlet = "".join(c for c in station.upper() if c.isalnum())
    return f"{settings.ocpi_country_code.upper()}*{settings.ocpi_party_id.upper()}*E{outlet}*{evse}"


def banner(settings: Settings, stations: int, ocpp: list[str], login: Login, evse_id: str) -> str:
    base = f"http://{_reachable(settings.host)}:{settings.port}"
    key = login.api_key
    return f"""
Wattson is running with {stations} simulated stations, OCPP {", ".join(ocpp[:stations])} (sessions start within
seconds), and {PAY_STATION}, which charges only when a driver pays on its page.
  Dashboard   {base}/
  Login       {login.email}  password {login.password}
  API key     {key}
  API docs    {base}/api/docs
  Driver page {base}/driver/{evse_id}   (pay with the test card 4242 4242 4242 4242)
  OCPP        ws://{_reachable(settings.host)}:{settings.port}/ocpp/<charge point id>
  Sessions    curl -s -H 'Authorization: Bearer {key}' {base}/api/v1/sessions
  Stations    curl -s -H 'Authorization: Bearer {key}' {base}/api/v1/charge-points
The login and key are kept in {login_file(settings.database_url)} for the next run. Press Ctrl+C to stop.
"""


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


# --- the network -----------------------------------------------------------------------------


async def build_network(services, settings: Settings, stations: dict[str, int], tags: list[str]) -> dict:
    """Create what is missing of the demo network (``stations``: id and EVSE count); each
    station's EVSE IDs."""
    from wattson.errors import Conflict

    for uid in tags:
        try:
            await services.access.create_id_token(uid)
        except Conflict:  # there from an earlier demo
            pass
    location_id = await _location(services)
    await _tariffs(services, location_id)
    evse_ids = {}
    for number, (station, evses) in enumerate(stations.items(), start=1):
        evse_ids[station] = await _station(services, settings, station, f"Demo charger {number}", evses, location_id)
    await _products(services, location_id)
    return evse_ids


async def _location(services) -> int:
    from wattson.locations.schemas import LocationCreate

    for location in await services.locations.find(1000):
        if location.name == DEMO_LOCATION["name"]:
            return location.id
    body = LocationCreate.model_validate(DEMO_LOCATION).model_dump(exclude_unset=True, mode="json")
    return (await services.locations.create(**body)).id


async def _tariffs(services, location_id: int) -> None:
    """DEMO prices every session unless a default is set already; DEMO-ADHOC card payments here."""
    from wattson.errors import Conflict
    from wattson.tariffs.models import AD_HOC
    from wattson.tariffs.schemas import TariffCreate

    for tariff in (DEMO_TARIFF, DEMO_AD_HOC_TARIFF):
        try:
            await services.tariffs.create(TariffCreate.model_validate(tariff).model_dump(mode="json",
                                                                                         exclude_none=True))
        except Conflict:  # there from an earlier demo
            pass
    if (await services.tariffs.settings()).default_tariff_id is None:
        await services.tariffs.update_settings(default_tariff_id=DEMO_TARIFF["id"])
    try:
        await services.tariffs.assign(DEMO_AD_HOC_TARIFF["id"], AD_HOC, location_id=location_id)
    except Conflict:  # this location has an ad hoc tariff already
        pass


async def _station(services, settings: Settings, station: str, name: str, count: int, location_id: int) -> list[str]:
    """The station at the location with its EVSEs (a station that connected before the demo set
    it up, auto-registered, gets them filled in)."""
    from wattson.errors import NotFound
    from wattson.stations.schemas import ConnectorCreate

    try:
        cp = await services.stations.get(station)
    except NotFound:
        cp = await services.stations.create(station, name, location_id=location_id)
    if cp.location_id is None:
        cp = await services.stations.update(station, location_id=location_id)
    evses = {evse.number: evse for evse in cp.evses}
    wanted = []
    for n in range(1, count + 1):
        evse_id = evse_id_of(settings, station, n)
        fields = {"current_type": "AC", "max_power_w": 11_000, "max_voltage_v": 400, "max_amperage_a": 16,
                  "phases": 3, "physical_reference": str(n)}
        connector = ConnectorCreate(number=1, standard="IEC_62196_T2", format="SOCKET",
                                    power_type="AC_3_PHASE").model_dump()
        if n not in evses:
            await services.stations.create_evse(station, n, [connector], evse_id=evse_id, **fields)
            wanted.append(evse_id)
            continue
        evse = evses[n]
        if evse.evse_id is None:
            await services.stations.update_evse(evse.id, evse_id=evse_id,
                                                **{k: v for k, v in fields.items() if getattr(evse, k) is None})
        if not evse.connectors:
            await services.stations.create_connector(evse.id, 1, **{k: v for k, v in connector.items()
                                                                     if k != "number"})
        wanted.append(evse.evse_id or evse_id)
    return wanted


async def _products(services, location_id: int) -> None:
    from wattson.payments.schemas import ProductCreate

    offered = {p.name for p in await services.payments.find_products(100, location_id=location_id)}
    for product in DEMO_PRODUCTS:
        if product["name"] not in offered:
            fields = ProductCreate.model_validate({**product, "location_id": location_id}).model_dump()
            kwh = fields.pop("max_energy_kwh")  # stored as the API stores it (payments/routes.py)
            fields.update(max_energy_wh=None if kwh is None else int(kwh * 1000),
                          blocking_value=str(fields["blocking_value"]))
            await services.payments.create_product(fields)


# --- the login -------------------------------------------------------------------------------


def login_file(database_url: str) -> Path:
    """Beside the SQLite file (wattson.db: wattson.demo.json); in the working directory otherwise."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).with_suffix(".demo.json")
    return Path("wattson.demo.json")


async def demo_login(services, path: Path) -> Login:
    """The demo operator and API key of the last run when they still work; new ones otherwise."""
    from wattson.errors import Conflict
    from wattson.operators.passwords import generate

    kept = _read(path)
    email, password, key = kept.get("email", DEMO_EMAIL), kept.get("password"), kept.get("api_key")
    if not (password and await services.operators.authenticate(email, password)):
        email, password = DEMO_EMAIL, generate()
        try:
            await services.operators.create(email, "admin", password)
        except Conflict:  # there from an earlier run whose file is gone: a new password, shown below
            await services.operators.set_password(email, password)
    if not (key and await services.access.authenticate(key)):
        _, key = await services.access.create_api_key(DEMO_KEY_NAME, "admin")
    login = Login(email, password, key)
    _write(path, login)
    return login


def _read(path: Path) -> dict:
    try:
        kept = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return kept if isinstance(kept, dict) else {}


def _write(path: Path, login: Login) -> None:
    data = orjson.dumps({"email": login.email, "password": login.password, "api_key": login.api_key},
                        option=orjson.OPT_INDENT_2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # secrets: the owner's only
    with os.fdopen(fd, "wb") as out:
        out.write(data)
