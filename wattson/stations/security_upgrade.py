"""Raising a station's security profile over OCPP: OCPP 2.0.1 A05 "Upgrade Charging Station Security
Profile", the 1.6 security whitepaper's "Migrate to a higher security profile".

The station is told its new profile (2.x: a network profile in a free slot, put first in
NetworkConfigurationPriority; 1.6: the SecurityProfile key), then reset. From the moment it agreed
to the new profile Wattson admits it on the old one *or* the new one (it falls back when the new
one fails, A05.FR.07); the first connection that meets the new profile makes it the station's
and the old one is refused from then on (``admitted_profile`` in service.py, applied by the
station writer). A step the station refuses (or cannot be sent) fails the upgrade with the
reason; the profile stays as it was. docs/security.md.
"""

import logging

from sqlalchemy import update

from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.errors import Conflict, Invalid, StationOffline, WattsonError
from wattson.stations import commands as c
from wattson.stations.agreement import refusal
from wattson.stations.models import ChargePoint, Command, StationEvent
from wattson.stations.password_update import command_for, secrets_of, send_masked, update_problem
from wattson.stations.passwords import hash_password

log = logging.getLogger("wattson.stations")
SENDING, PENDING, COMPLETED, FAILED, CANCELLED = "sending", "pending", "completed", "failed", "cancelled"
UNDER_WAY = (SENDING, PENDING)
#: answers that agree to a setting: RebootRequired too, as the station is reset afterwards
AGREED = ("Accepted", "RebootRequired")
PRIORITY = {"component": "OCPPCommCtrlr", "variable": "NetworkConfigurationPriority"}


# --- rules (no I/O) ------------------------------------------------------------------------------
def slots_of(priority: str | None) -> list[int]:
    """The configuration slots of a NetworkConfigurationPriority value ("1,2"), in order."""
    slots = []
    for part in (priority or "").split(","):
        part = part.strip()
        if part.isdigit() and int(part) not in slots:
            slots.append(int(part))
    return slots


def free_slot(priority: str | None) -> int:
    """The lowest configuration slot (from 1) that the priority list does not use."""
    used = set(slots_of(priority))
    return next(slot for slot in range(1, len(used) + 2) if slot not in used)


def first_in_priority(priority: str | None, slot: int) -> str:
    """The priority list with ``slot`` first and the others after it, in their order: the station
    tries the new profile first and falls back to the ones it had (A05.FR.07)."""
    return ",".join(str(s) for s in [slot, *(s for s in slots_of(priority) if s != slot)])


def priority_read(record: Command) -> str | None:
    """The NetworkConfigurationPriority a GetVariables reported, or None when it did not."""
    if record.state != c.COMPLETED:
        return None
    for result in (record.response or {}).get("getVariableResult", ()):
        if result.get("attributeStatus") == "Accepted" and result["variable"]["name"] == PRIORITY["variable"]:
            return result.get("attributeValue")
    return None


class _Refused(Exception):
    """A step the station did not agree to: the upgrade fails with this reason."""


# --- the flow ------------------------------------------------------------------------------------
class SecurityUpgrades:
    def __init__(self, db: Database, stations, commands, public_url_tls: str | None):
        """``stations``: StationService; ``commands``: CommandService; ``public_url_tls``: the wss://
        URL 2.x stations are given (WATTSON_PUBLIC_OCPP_URL_TLS)."""
        self.db, self.stations, self.commands = db, stations, commands
        self.public_url_tls = public_url_tls

    async def get(self, charge_point_id: str) -> ChargePoint:
        async with self.db.session() as s:
            return await get_or_404(s, ChargePoint, charge_point_id, "charge point")

    async def start(self, charge_point_id: str, profile: int, password: str | None = None,
                    configuration_slot: int | None = None) -> tuple[ChargePoint, list[Command]]:
        """Run the upgrade's steps, each waiting for the station's answer: the station as it
        stands afterwards (upgrade pending, or failed with the reason) and the commands sent."""
        station = await self.get(charge_point_id)
        await self._check(station, profile, password)
        if not await self.commands.bus.is_online(charge_point_id):
            raise StationOffline(f"charge point {charge_point_id!r} is not connected: it is told its new profile "
                                 f"over OCPP")
        await self._claim(station, profile)
        sent: list[Command] = []
        try:
            if station.ocpp_version == "1.6":
                await self._v16(station, profile, password, sent)
            else:
                await self._v2(station, profile, password, configuration_slot, sent)
        except (_Refused, WattsonError) as error:
            reason = error.message if isinstance(error, WattsonError) else str(error)
            await self._finish(charge_point_id, FAILED, reason, profile)
        except BaseException:
            await self._finish(charge_point_id, FAILED, "interrupted (Wattson stopped or failed)", profile)
            raise
        else:
            await self._finish(charge_point_id, PENDING, None, profile)
        return await self.get(charge_point_id), sent

    async def cancel(self, charge_point_id: str) -> ChargePoint:
        """Stop admitting the station on the pending profile; its own profile stays."""
        async with self.db.session() as s:
            await get_or_404(s, ChargePoint, charge_point_id, "charge point")
            result = await s.execute(update(ChargePoint).where(
                ChargePoint.id == charge_point_id, ChargePoint.security_upgrade.in_(UNDER_WAY)).values(
                pending_security_profile=None, security_upgrade=CANCELLED, security_upgrade_reason=None,
                security_upgrade_at=utcnow()))
            if not result.rowcount:
                raise Conflict(f"charge point {charge_point_id!r} has no security upgrade under way")
            s.add(StationEvent(charge_point_id=charge_point_id, kind="security_upgrade", data={"state": CANCELLED}))
        return await self.get(charge_point_id)

    async def _check(self, station: ChargePoint, profile: int, password: str | None) -> None:
        if profile <= station.security_profile:
            raise _invalid("security_profile", f"{station.id} is on security profile {station.security_profile}; "
                                               f"an upgrade goes higher (a station is never downgraded)")
        unavailable = await self.stations.profile_unavailable(profile)
        if unavailable:
            raise _invalid("security_profile", unavailable)
        if password is not None and profile == 3:
            raise _invalid("password", "a password is used with security profiles 1 and 2 only")
        problem = password is not None and update_problem(station.ocpp_version or "1.6", password)
        if problem:
            raise _invalid("password", problem)
        if profile in (1, 2) and password is None and station.password_hash is None:
            raise _invalid("password", f"security profile {profile} needs a password (HTTP Basic authentication)")
        if station.ocpp_version != "1.6" and profile >= 2 and self.public_url_tls is None:
            raise _invalid("security_profile", "an OCPP 2.x station is given the wss:// URL to connect to: set "
                                               "WATTSON_PUBLIC_OCPP_URL_TLS")
        if station.ocpp_version != "1.6" and profile < 2:
            raise _invalid("security_profile", "an OCPP 2.x station is raised to profile 2 or 3 (a wss:// URL)")

    async def _claim(self, station: ChargePoint, profile: int) -> None:
        """Mark the upgrade as being sent, unless another one is under way."""
        async with self.db.session() as s:
            result = await s.execute(update(ChargePoint).where(
                ChargePoint.id == station.id, ChargePoint.security_upgrade.is_(None)
                | ChargePoint.security_upgrade.not_in(UNDER_WAY)).values(
                security_upgrade=SENDING, pending_security_profile=None, security_upgrade_reason=None,
                security_upgrade_at=utcnow()))
            if not result.rowcount:
                raise Conflict(f"charge point {station.id!r} has a security upgrade under way; cancel it first "
                               f"(DELETE /api/v1/charge-points/{station.id}/security-profile/upgrade)")
            s.add(StationEvent(charge_point_id=station.id, kind="security_upgrade",
                               data={"state": SENDING, "security_profile": profile,
                                     "previous": station.security_profile}))

    async def _v16(self, station: ChargePoint, profile: int, password: str | None, sent: list) -> None:
        if password is not None:
            await self._password(station.id, "1.6", password, sent)
        await self._step(station.id, "change-configuration", {"key": "SecurityProfile", "value": str(profile)}, sent)
        await self._agreed(station.id, profile)  # 1.6 stations reconnect on the new profile right away
        await self._reset(station.id, "hard", sent)

    async def _v2(self, station: ChargePoint, profile: int, password: str | None, slot: int | None,
                  sent: list) -> None:
        read = await self._send(station.id, "get-variables", {"variables": [PRIORITY]}, sent)
        priority = priority_read(read)
        if slot is None and priority is None:  # a guess could overwrite the profile it falls back to
            raise _Refused("the station did not report its NetworkConfigurationPriority: give configuration_slot")
        if slot is None:
            slot = free_slot(priority)
        elif slots_of(priority)[:1] == [slot]:
            raise _Refused(f"configuration slot {slot} holds the network profile the station uses now")
        if password is not None:
            await self._password(station.id, station.ocpp_version, password, sent)
        await self._step(station.id, "set-network-profile", {
            "configuration_slot": slot, "csms_url": self.public_url_tls, "security_profile": profile}, sent)
        await self._step(station.id, "set-variables", {
            "variables": [{**PRIORITY, "value": first_in_priority(priority, slot)}]}, sent)
        await self._agreed(station.id, profile)
        await self._reset(station.id, "soft", sent)  # OnIdle: a charge in progress ends first

    async def _send(self, charge_point_id: str, name: str, params: dict, sent: list) -> Command:
        record = await self.commands.submit(charge_point_id, name, params)
        sent.append(record)
        return record

    async def _step(self, charge_point_id: str, name: str, params: dict, sent: list) -> None:
        problem = refusal(await self._send(charge_point_id, name, params, sent), AGREED)
        if problem:
            raise _Refused(problem)

    async def _reset(self, charge_point_id: str, kind: str, sent: list) -> None:
        """The reset that makes the station connect anew. A station that went away on its own
        (1.6 stations may reconnect as soon as they accept the new profile) needs none."""
        try:
            record = await self._send(charge_point_id, "reset", {"type": kind}, sent)
        except WattsonError as error:
            if error.code == "station_offline":
                return
            raise
        if record.state == c.FAILED and record.error_code in ("ConnectionClosed", "StationOffline"):
            return
        problem = refusal(record, AGREED)
        if problem:
            raise _Refused(problem)

    async def _password(self, charge_point_id: str, ocpp_version: str, password: str, sent: list) -> None:
        """Give the station its new password (as password_update gives it: 1.6's AuthorizationKey
        hex-encoded), masked in the history. Once the station took it, it authenticates with it
        (OCPP A01), so its hash replaces the stored one at once."""
        row = await send_masked(self.db, self.commands, charge_point_id, *command_for(ocpp_version, password),
                                secrets_of(password))
        sent.append(row)
        problem = refusal(row, AGREED)
        if problem:
            raise _Refused(problem)
        hashed = await self.stations.derivations.run(hash_password, password)
        async with self.db.session() as s:
            await s.execute(update(ChargePoint).where(ChargePoint.id == charge_point_id).values(password_hash=hashed))
        self.stations.passwords.forget(charge_point_id)

    async def _agreed(self, charge_point_id: str, profile: int) -> None:
        """The station agreed to the new profile: admit it on either from now on."""
        async with self.db.session() as s:
            await s.execute(update(ChargePoint).where(ChargePoint.id == charge_point_id,
                                                      ChargePoint.security_upgrade == SENDING)
                            .values(pending_security_profile=profile))

    async def _finish(self, charge_point_id: str, state: str, reason: str | None, profile: int) -> None:
        """The upgrade's outcome, unless it moved on meanwhile (completed by a connection on the
        new profile, or cancelled)."""
        values = {"security_upgrade": state, "security_upgrade_reason": reason, "security_upgrade_at": utcnow()}
        if state == FAILED:
            values["pending_security_profile"] = None
        async with self.db.session() as s:
            result = await s.execute(update(ChargePoint).where(
                ChargePoint.id == charge_point_id, ChargePoint.security_upgrade == SENDING).values(**values))
            if result.rowcount:
                s.add(StationEvent(charge_point_id=charge_point_id, kind="security_upgrade", data={
                    "state": state, "security_profile": profile, **({"reason": reason} if reason else {})}))
        if state == FAILED:
            log.warning("%s: security profile %s not reached: %s", charge_point_id, profile, reason)


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": f"body.{field}", "message": message}])
