"""The commands that read and change records in the database: schema, API keys, charge points,
locations, id tokens, sessions and operator accounts. Each calls the service that owns the
records (``context.Services`` builds only the ones used); lists print one record a line."""

import asyncio
import sys

from wattson.cli.context import document, fail, rows, run

# --- db --------------------------------------------------------------------------------------


def db_upgrade(args, settings) -> None:
    from wattson.db import Database
    from wattson.db.migrate import current, upgrade

    async def go():
        db = Database(settings.database_url)
        try:
            await upgrade(db, args.revision)
            print(f"database at revision {await current(db)}")
        finally:
            await db.dispose()

    asyncio.run(go())


def db_current(args, settings) -> None:
    from wattson.db import Database
    from wattson.db.migrate import current

    async def go():
        db = Database(settings.database_url)
        try:
            print(await current(db) or "empty (no migration applied)")
        finally:
            await db.dispose()

    asyncio.run(go())


# --- API keys --------------------------------------------------------------------------------


def api_key_create(args, settings) -> None:
    async def go(services):
        row, secret = await services.access.create_api_key(args.name, args.role)
        print(f"created API key {row.id} ({row.name}, {row.role}); store it now, it is not shown again:")
        print(secret)

    run(settings, go)


def api_key_list(args, settings) -> None:
    async def go(services):
        rows([{"id": k.id, "name": k.name, "role": k.role, "prefix": f"{k.prefix}…",
               "state": f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active",
               "last_used_at": k.last_used_at or "never"} for k in await services.access.list_api_keys()], args.json)

    run(settings, go)


def api_key_revoke(args, settings) -> None:
    async def go(services):
        key = await services.access.revoke_api_key(args.id)
        print(f"revoked API key {key.id} ({key.name})")

    run(settings, go)


# --- charge points ---------------------------------------------------------------------------


def charge_point_add(args, settings) -> None:
    async def go(services):
        cp = await services.stations.create(args.id, args.name, args.registration_status, location_id=args.location)
        print(f"added charge point {cp.id}: it may connect to ws://HOST:PORT/ocpp/{cp.id}")

    run(settings, go)


def charge_point_list(args, settings) -> None:
    async def go(services):
        found = await services.stations.find(100_000, location_id=args.location, network_status=args.network_status)
        rows([{"id": cp.id, "registration_status": cp.registration_status, "network_status": cp.network_status,
               "ocpp_version": cp.ocpp_version, "location_id": cp.location_id, "vendor": cp.vendor,
               "model": cp.model, "evses": len(cp.evses)} for cp in found], args.json)

    run(settings, go)


def charge_point_show(args, settings) -> None:
    async def go(services):
        from wattson.stations.schemas import ChargePointOut

        document(ChargePointOut.model_validate(await services.stations.get(args.id)).model_dump(mode="json"))

    run(settings, go)


def charge_point_delete(args, settings) -> None:
    async def go(services):
        cp = await services.stations.get(args.id)
        await services.stations.delete(args.id, online=cp.network_status == "online")
        print(f"deleted charge point {args.id}")

    run(settings, go)


# --- locations -------------------------------------------------------------------------------


def location_add(args, settings) -> None:
    from pydantic import ValidationError

    from wattson.locations.schemas import LocationCreate

    fields = {"name": args.name, "street": args.street, "house_number": args.house_number,
              "postal_code": args.postal_code, "city": args.city, "country": args.country,
              "time_zone": args.time_zone, "latitude": args.latitude, "longitude": args.longitude}
    try:  # the API's checks: ISO country, IANA time zone, coordinates in range
        body = LocationCreate.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as error:
        fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'location'}: {e['msg']}" for e in error.errors()))

    async def go(services):
        location = await services.locations.create(**body.model_dump(exclude_unset=True, mode="json"))
        print(f"added location {location.id} ({location.name}, {location.time_zone})")

    run(settings, go)


def location_list(args, settings) -> None:
    async def go(services):
        rows([{"id": loc.id, "name": loc.name, "city": loc.city, "country": loc.country, "time_zone": loc.time_zone,
               "charge_points": ",".join(loc.charge_point_ids) or None}
              for loc in await services.locations.find(100_000)], args.json)

    run(settings, go)


def location_show(args, settings) -> None:
    async def go(services):
        from wattson.locations.schemas import LocationOut

        document(LocationOut.model_validate(await services.locations.get(args.id), from_attributes=True)
                 .model_dump(mode="json"))

    run(settings, go)


# --- id tokens -------------------------------------------------------------------------------


def id_token_add(args, settings) -> None:
    async def go(services):
        token = await services.access.create_id_token(args.uid, args.status, expires_at=args.expires_at,
                                                      parent_id_tag=args.parent_id_tag)
        print(f"added id token {token.uid} ({token.status})")

    run(settings, go)


def id_token_list(args, settings) -> None:
    async def go(services):
        rows([{"uid": t.uid, "status": t.status, "expires_at": t.expires_at, "parent_id_tag": t.parent_id_tag,
               "driver_id": t.driver_id} for t in await services.access.list_id_tokens(100_000, None,
                                                                                       status=args.status)], args.json)

    run(settings, go)


def id_token_set_status(args, settings) -> None:
    async def go(services):
        from wattson.errors import NotFound

        found = await services.access.list_id_tokens(1, None, uid=args.uid)
        if not found:
            raise NotFound(f"id token {args.uid!r} not found")
        token = await services.access.update_id_token(found[0].id, {"status": args.status})
        print(f"id token {token.uid} is {token.status}")

    run(settings, go)


# --- sessions --------------------------------------------------------------------------------


def session_list(args, settings) -> None:
    async def go(services):
        from wattson.sessions.service import SessionFilter

        where = SessionFilter(charge_point_id=args.charge_point, id_tag=args.id_tag, status=args.status)
        rows([{"id": s.id, "charge_point_id": s.charge_point_id, "evse": s.evse, "id_tag": s.id_tag,
               "status": s.status, "started_at": s.started_at, "stopped_at": s.stopped_at, "energy_wh": s.energy_wh,
               "stop_reason": s.stop_reason} for s in await services.sessions.find(where, args.limit)], args.json)

    run(settings, go)


def session_show(args, settings) -> None:
    async def go(services):
        from dataclasses import asdict

        from wattson.sessions.schemas import SessionOut

        session = SessionOut.model_validate(await services.sessions.get(args.id)).model_dump(mode="json")
        samples = await services.sessions.meter_values(args.id)
        document({**session, "meter_values": [asdict(sample) for sample in samples]})

    run(settings, go)


# --- operator accounts -----------------------------------------------------------------------


def user_create(args, settings) -> None:
    password, generated = _password(args.password_stdin)

    async def go(services):
        operator = await services.operators.create(args.email, args.role, password)
        print(f"created operator {operator.id} ({operator.email}, {operator.role})")
        if generated:
            print(f"password (shown once): {password}")

    run(settings, go)


def user_list(args, settings) -> None:
    async def go(services):
        rows([{"id": o.id, "email": o.email, "role": o.role, "created_at": o.created_at,
               "last_login_at": o.last_login_at or "never", "state": "disabled" if o.disabled_at else "active"}
              for o in await services.operators.list()], args.json)

    run(settings, go)


def user_set_password(args, settings) -> None:
    password, generated = _password(args.password_stdin)

    async def go(services):
        await services.operators.set_password(args.email, password)
        print(f"new password set for {args.email}; its logins have ended")
        if generated:
            print(f"password (shown once): {password}")

    run(settings, go)


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password read from standard input (one line, its line ending dropped), or a generated one."""
    if not from_stdin:
        from wattson.operators.passwords import generate

        return generate(), True
    text = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not text:
        fail("no password on standard input (--password-stdin)")
    return text, False
