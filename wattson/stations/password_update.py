"""Giving a station a new HTTP Basic password over OCPP (2.0.1 A01 "Update Charging Station Password
for HTTP Basic Authentication"; 1.6 security whitepaper: the AuthorizationKey key).

The password is sent first and stored only once the station took it: until the station answers
Accepted the old password still gets it in, from then on only the new one (A01.FR.03); a station
that refuses it, or does not answer, keeps the old one (A01.FR.04), so it is never locked out by
a password it does not have. Each outcome is a security event. docs/security.md.
"""

import logging
import secrets
import uuid

from sqlalchemy import update

from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.errors import Conflict, Invalid, StationOffline
from wattson.security_events.rules import INFO, PASSWORD_CHANGED, WARNING
from wattson.security_events.service import record_security_event
from wattson.stations.agreement import refusal
from wattson.stations.models import ChargePoint, Command
from wattson.stations.passwords import hash_password, password_problem
from wattson.webhooks.outbox import emit
from wattson.webhooks.producers import command_data

log = logging.getLogger("wattson.stations")
#: answers that mean the station has the new password: RebootRequired too, it already connected
#: with the old one and uses the new one from its next connection
AGREED = ("Accepted", "RebootRequired")
PASSWORD_VARIABLE = {"component": "SecurityCtrlr", "variable": "BasicAuthPassword"}
PASSWORD_NOT_CHANGED = "StationPasswordNotChanged"
MASK = "********"  # a password (or its AuthorizationKey) in the command history
#: OCPP 2.0.1's passwordString characters (part 2, primitive datatypes): what a generated one uses
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_=:+|@."
#: generated lengths: 2.x up to 40 characters; 1.6's AuthorizationKey holds at most 20 bytes
GENERATED_LENGTH = {"1.6": 20, "2.x": 40}
MAX_BYTES_1_6 = 20


# --- rules (no I/O) ------------------------------------------------------------------------------
def generate_password(ocpp_version: str) -> str:
    """A random password for a station of ``ocpp_version``: 20 characters for 1.6 (about 123
    bits), 40 for 2.x, from the passwordString characters."""
    length = GENERATED_LENGTH["1.6" if ocpp_version == "1.6" else "2.x"]
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def authorization_key(password: str) -> str:
    """1.6's AuthorizationKey for ``password``: its bytes as hexadecimal digits (the whitepaper's
    A00.FR.205); the station decodes them and sends the bytes as its Basic password."""
    return password.encode().hex()


def update_problem(ocpp_version: str, password: str) -> str | None:
    """Why ``password`` cannot be given to a station of ``ocpp_version``, or None when it can."""
    problem = password_problem(password)
    if problem is None and ocpp_version == "1.6" and len(password.encode()) > MAX_BYTES_1_6:
        problem = (f"an OCPP 1.6 station's AuthorizationKey holds at most {MAX_BYTES_1_6} bytes (40 hexadecimal "
                   f"digits), not {len(password.encode())}")
    return problem


def command_for(ocpp_version: str, password: str) -> tuple[str, dict]:
    """The neutral command that gives a station its new password."""
    if ocpp_version == "1.6":
        return "change-configuration", {"key": "AuthorizationKey", "value": authorization_key(password)}
    return "set-variables", {"variables": [{**PASSWORD_VARIABLE, "value": password}]}


def masked(value, secrets_: tuple[str, ...]):
    """``value`` (JSON) with every string that is one of ``secrets_`` replaced by the mask."""
    if isinstance(value, dict):
        return {k: masked(v, secrets_) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, secrets_) for v in value]
    return MASK if isinstance(value, str) and value in secrets_ else value


def secrets_of(password: str) -> tuple[str, ...]:
    """What a password looks like in a command: as given (2.x) and as 1.6's AuthorizationKey."""
    return password, authorization_key(password)


async def send_masked(db: Database, commands, charge_point_id: str, name: str, params: dict,
                      hidden: tuple[str, ...]) -> Command:
    """Send one command through ``commands`` (CommandService: its bus and timeout), recorded in the
    history (and told to webhooks) with the ``hidden`` values masked, completed when it returns."""
    action, payload = await commands.bus.prepare(charge_point_id, name, commands.parse(name, params))
    record = Command(id=str(uuid.uuid4()), charge_point_id=charge_point_id, name=name, action=action,
                     params=masked(params, hidden), request=masked(payload, hidden), state="pending",
                     created_at=utcnow())
    async with db.session() as s:
        s.add(record)
    outcome = await commands.bus.send(charge_point_id, action, payload, commands.timeout)
    async with db.session() as s:
        row = await s.get(Command, record.id)
        row.state, row.response, row.status = outcome.state, outcome.response, outcome.status
        row.error_code, row.error_description = outcome.error_code, outcome.error_description
        row.completed_at = utcnow()
        emit(s, "command.completed", row.id, command_data(row), row.charge_point_id)
    return row


# --- the flow ------------------------------------------------------------------------------------
class PasswordUpdates:
    def __init__(self, db: Database, stations, commands):
        """``stations``: StationService (its hashing threads and cache of verified passwords);
        ``commands``: CommandService (its bus and timeout)."""
        self.db, self.stations, self.commands = db, stations, commands
        self._under_way: set[str] = set()  # one update per station at a time (in this process)

    async def update(self, charge_point_id: str, password: str | None = None) -> tuple[bool, str | None, Command]:
        """Send the station ``password`` (or a generated one) and store it once the station took
        it: (changed, why not, the command sent). 409 offline, upgrading or already being given
        one; 422 a profile that uses no password or a password the station's version cannot take."""
        if charge_point_id in self._under_way:
            raise Conflict(f"charge point {charge_point_id!r} is being given a new password already")
        self._under_way.add(charge_point_id)
        try:
            return await self._update(charge_point_id, password)
        finally:
            self._under_way.discard(charge_point_id)

    async def _update(self, charge_point_id: str, password: str | None) -> tuple[bool, str | None, Command]:
        async with self.db.session() as s:
            station = await get_or_404(s, ChargePoint, charge_point_id, "charge point")
        self._check(station, password)
        if not await self.commands.bus.is_online(charge_point_id):
            raise StationOffline(f"charge point {charge_point_id!r} is not connected: its new password is sent "
                                 f"over OCPP")
        generated = password is None
        password = password or generate_password(station.ocpp_version)
        hashed = await self.stations.derivations.run(hash_password, password)  # before: the switch is at once
        record = await send_masked(self.db, self.commands, charge_point_id,
                                   *command_for(station.ocpp_version, password), secrets_of(password))
        problem = refusal(record, AGREED)
        async with self.db.session() as s:
            if problem is None:
                await s.execute(update(ChargePoint).where(ChargePoint.id == charge_point_id)
                                .values(password_hash=hashed))
                record_security_event(s, PASSWORD_CHANGED, charge_point_id=charge_point_id, severity=INFO,
                                      detail=f"new password taken by the station ({record.action})",
                                      data={"security_profile": station.security_profile,
                                            "first": station.password_hash is None, "over_ocpp": True,
                                            "generated": generated, "command_id": record.id})
            else:
                record_security_event(s, PASSWORD_NOT_CHANGED, charge_point_id=charge_point_id, severity=WARNING,
                                      detail=f"the station keeps its password: {problem}",
                                      data={"reason": problem, "command_id": record.id, "generated": generated})
        if problem is None:
            self.stations.passwords.forget(charge_point_id)
            log.info("%s took its new password", charge_point_id)
        else:
            log.warning("%s keeps its password: %s", charge_point_id, problem)
        return problem is None, problem, record

    @staticmethod
    def _check(station: ChargePoint, password: str | None) -> None:
        if station.security_profile not in (1, 2):
            raise _invalid("security_profile", f"{station.id} is on security profile {station.security_profile}, "
                                               f"which uses no password (1 and 2 do)")
        if station.ocpp_version is None:
            raise _invalid("charge_point_id", f"{station.id} has not said its OCPP version yet (never connected)")
        problem = password is not None and update_problem(station.ocpp_version, password)
        if problem:
            raise _invalid("password", problem)
        if station.security_upgrade in ("sending", "pending"):
            raise Conflict(f"charge point {station.id!r} has a security upgrade under way, which sets its "
                           f"password; cancel it first")


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": f"body.{field}", "message": message}])
