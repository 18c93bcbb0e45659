"""The commands receiver: an eMSP's START_SESSION, STOP_SESSION, RESERVE_NOW, CANCEL_RESERVATION
and UNLOCK_CONNECTOR become Wattson's version-neutral station commands (CommandService).

The eMSP gets a CommandResponse at once (could we send it?), then the CommandResult (what the
station answered) POSTed to its ``response_url`` through the outbox, so a partner that is down
then still gets it.
"""

import asyncio
import logging
import math
import secrets

from sqlalchemy import select

from wattson.api.types import MAX_ID
from wattson.db import Database
from wattson.errors import WattsonError
from wattson.ocpi.models import OcpiAuthorization, OcpiPartner
from wattson.ocpi.tokens import record
from wattson.sessions.models import ACTIVE, Session
from wattson.stations.command_service import CommandService
from wattson.stations.commands import COMPLETED, TIMEOUT
from wattson.stations.models import ChargePoint, Evse

log = logging.getLogger("wattson.ocpi.commands")
NOT_SUPPORTED_ERRORS = {"NotSupported", "NotImplemented"}


def command_result(name: str, state: str, status: str | None, error_code: str | None) -> str:
    """The OCPI CommandResultType for what the station did with our command."""
    if state == TIMEOUT:
        return "TIMEOUT"
    if state != COMPLETED:
        return "NOT_SUPPORTED" if error_code in NOT_SUPPORTED_ERRORS else "FAILED"
    if status in ("Accepted", "Unlocked"):
        return "ACCEPTED"
    if name == "reserve-now":
        return {"Occupied": "EVSE_OCCUPIED", "Faulted": "EVSE_INOPERATIVE",
                "Unavailable": "EVSE_INOPERATIVE"}.get(status, "REJECTED")
    if name == "cancel-reservation" and status == "Rejected":
        return "UNKNOWN_RESERVATION"
    if status in ("UnlockFailed", "OngoingAuthorizedTransaction", "UnknownConnector"):
        return "FAILED"
    return "REJECTED"


class Refused(Exception):
    """The command cannot be sent: a CommandResponse ``result`` and why."""

    def __init__(self, result: str, message: str, status_code: int = 1000):
        super().__init__(message)
        self.result, self.message, self.status_code = result, message, status_code


class CommandReceiver:
    def __init__(self, db: Database, commands: CommandService, enqueue_result, timeout: float):
        """``enqueue_result(partner_id, response_url, body)`` queues the CommandResult push."""
        self.db = db
        self.commands = commands
        self.enqueue_result = enqueue_result
        self.timeout = timeout
        self._running: set[asyncio.Task] = set()

    @property
    def response_timeout(self) -> int:
        return math.ceil(self.timeout) + 5

    async def handle(self, partner: OcpiPartner, command: str, body: dict) -> None:
        """Check and send one command; Refused when it cannot be sent. The result follows later."""
        charge_point_id, name, params = await getattr(self, "_" + command.lower())(partner, body)
        if not await self.commands.bus.is_online(charge_point_id):
            raise Refused("REJECTED", f"charge point {charge_point_id} is offline")
        task = asyncio.create_task(self._run(partner.id, body["response_url"], charge_point_id, name, params))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, partner_id: str, response_url: str, charge_point_id: str, name: str, params: dict) -> None:
        try:
            done = await self.commands.submit(charge_point_id, name, params, wait=True)
            result = command_result(name, done.state, done.status, done.error_code)
        except WattsonError as error:  # went offline meanwhile, refused by the station's protocol
            log.info("OCPI %s on %s not sent: %s", name, charge_point_id, error.message)
            result = "FAILED"
        await self.enqueue_result(partner_id, response_url, {"result": result})

    async def drain(self) -> None:
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    # --- one method per command: (charge point, neutral command, its parameters) ----------------
    async def _start_session(self, partner: OcpiPartner, body: dict):
        station, evse = await self._place(body["location_id"], body.get("evse_uid"))
        token = body["token"]
        await record(self.db, partner.id, token, "COMMAND", station, body.get("authorization_reference"))
        params = {"id_tag": token["uid"]}
        if evse is not None:
            params["evse"] = evse
        return station, "remote-start", params

    async def _stop_session(self, partner: OcpiPartner, body: dict):
        session_id = body["session_id"]
        async with self.db.session() as s:
            row = None
            if session_id.isdigit() and int(session_id) <= MAX_ID:
                row = (await s.execute(select(Session.charge_point_id, Session.status).join(
                    OcpiAuthorization, OcpiAuthorization.session_id == Session.id).where(
                    Session.id == int(session_id), OcpiAuthorization.partner_id == partner.id))).first()
        if row is None:
            raise Refused("UNKNOWN_SESSION", f"no session {session_id} of yours")
        if row.status != ACTIVE:
            raise Refused("REJECTED", f"session {session_id} has finished")
        return row.charge_point_id, "remote-stop", {"session_id": int(session_id)}

    async def _reserve_now(self, partner: OcpiPartner, body: dict):
        station, evse = await self._place(body["location_id"], body.get("evse_uid"))
        async with self.db.session() as s:
            reservation_id = await s.scalar(select(OcpiAuthorization.reservation_id).where(
                OcpiAuthorization.partner_id == partner.id, OcpiAuthorization.reservation_ref == body["reservation_id"]))
        reservation_id = reservation_id or secrets.randbelow(MAX_ID) + 1
        await record(self.db, partner.id, body["token"], "COMMAND", station, body.get("authorization_reference"),
                     reservation_ref=body["reservation_id"], reservation_id=reservation_id)
        return station, "reserve-now", {"evse": evse or 0, "id_tag": body["token"]["uid"],
                                        "expires_at": body["expiry_date"], "reservation_id": reservation_id,
                                        **({"parent_id_tag": body["token"]["group_id"]}
                                           if body["token"].get("group_id") else {})}

    async def _cancel_reservation(self, partner: OcpiPartner, body: dict):
        async with self.db.session() as s:
            row = (await s.execute(select(OcpiAuthorization.charge_point_id, OcpiAuthorization.reservation_id).where(
                OcpiAuthorization.partner_id == partner.id, OcpiAuthorization.reservation_ref == body["reservation_id"])
                .order_by(OcpiAuthorization.id.desc()).limit(1))).first()
        if row is None:
            raise Refused("REJECTED", f"no reservation {body['reservation_id']} of yours")
        return row.charge_point_id, "cancel-reservation", {"reservation_id": row.reservation_id}

    async def _unlock_connector(self, partner: OcpiPartner, body: dict):
        station, evse = await self._place(body["location_id"], body["evse_uid"])
        connector = body["connector_id"]
        if not connector.isdigit() or not 1 <= int(connector) <= MAX_ID:
            raise Refused("REJECTED", f"unknown connector {connector}", 2001)
        return station, "unlock", {"evse": evse, "connector": int(connector)}

    async def _place(self, location_id: str, evse_uid: str | None) -> tuple[str, int | None]:
        """(charge point, OCPP EVSE number) of an EVSE at one of our locations; with no EVSE given,
        the location's only charge point (the station chooses the EVSE)."""
        if not location_id.isdigit() or int(location_id) > MAX_ID:
            raise Refused("REJECTED", f"unknown location {location_id}", 2003)
        async with self.db.session() as s:
            if evse_uid is None:
                stations = list(await s.scalars(select(ChargePoint.id).where(
                    ChargePoint.location_id == int(location_id))))
                if len(stations) != 1:
                    raise Refused("REJECTED", "name the EVSE (evse_uid): this location has "
                                              f"{len(stations)} charge points", 2003 if not stations else 2002)
                return stations[0], None
            row = None
            if evse_uid.isdigit() and int(evse_uid) <= MAX_ID:
                row = (await s.execute(select(Evse.charge_point_id, Evse.number).join(
                    ChargePoint, ChargePoint.id == Evse.charge_point_id).where(
                    Evse.id == int(evse_uid), ChargePoint.location_id == int(location_id)))).first()
        if row is None:
            raise Refused("REJECTED", f"unknown EVSE {evse_uid} at location {location_id}", 2003)
        return row.charge_point_id, row.number
