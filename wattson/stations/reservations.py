"""Reservations: what reserve-now and cancel-reservation did, kept as a resource of its own.

A reservation is recorded when the station answers reserve-now (``active`` if it accepted,
``rejected`` otherwise), becomes ``cancelled`` when it accepts cancel-reservation and ``used``
when a StartTransaction names it (``SessionService.start``). An active reservation whose expiry
has passed is shown as expired (``effective_status``) at once, and stored so by the worker's
sweep (``expire_due``) with its reservation.ended event: 1.6 has no message for an expiry. An
OCPP 2.x station also says so itself (ReservationStatusUpdate: ``expired``, or ``removed`` when it
had to drop the reservation).
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from wattson.api.types import as_utc
from wattson.background import Loop
from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.db.paging import newest_first
from wattson.stations import commands as c
from wattson.stations.models import Command, Reservation
from wattson.webhooks.outbox import emit
from wattson.webhooks.producers import reservation_data

ACTIVE, CANCELLED, USED, EXPIRED, REJECTED, REMOVED = "active", "cancelled", "used", "expired", "rejected", "removed"
STATUSES = (ACTIVE, CANCELLED, USED, EXPIRED, REJECTED, REMOVED)
ACCEPTED = "Accepted"
log = logging.getLogger("wattson.reservations")


def effective_status(row: Reservation, now: datetime) -> str:
    """The status to show: a stored ``active`` whose expiry has passed is ``expired``."""
    if row.status == ACTIVE and row.expires_at <= now:
        return EXPIRED
    return row.status


@dataclass(slots=True)
class ReservationFilter:
    charge_point_id: str | None = None
    status: str | None = None  # as shown, so "expired" and "active" look at expires_at
    id_tag: str | None = None


async def ended(s, row: Reservation) -> None:
    """reservation.ended in ``s``'s transaction: used, cancelled, expired or removed."""
    await s.flush()  # its updated_at
    emit(s, "reservation.ended", row.id, reservation_data(row), row.charge_point_id)


class ReservationService:
    def __init__(self, db: Database, sweep_every_s: float = 30.0):
        self.db = db
        self.sweep_every_s = sweep_every_s
        self._sweep = Loop("reservation-expiry")

    def start(self) -> None:
        """The expiry sweep (worker role): every ``sweep_every_s``."""
        self._sweep.every(self.sweep_every_s, self.expire_due, log, "reservation expiry sweep failed")

    async def stop(self) -> None:
        await self._sweep.stop()

    async def expire_due(self, now: datetime | None = None, limit: int = 500) -> int:
        """Store as expired the active reservations whose time has passed, each with its
        reservation.ended in the same transaction; how many."""
        async with self.db.session() as s:
            rows = list(await s.scalars(select(Reservation).where(
                Reservation.status == ACTIVE, Reservation.expires_at <= (now or utcnow()))
                .order_by(Reservation.expires_at).limit(limit)))
            for row in rows:
                row.status = EXPIRED
                await ended(s, row)
        return len(rows)

    async def record(self, command: Command) -> None:
        """Keep what a completed reserve-now or cancel-reservation did; a command the station
        did not answer (failed, timed out) changes nothing."""
        if command.state != c.COMPLETED:
            return
        if command.name == "reserve-now":
            await self._reserved(command)
        elif command.name == "cancel-reservation" and command.status == ACCEPTED:
            async with self.db.session() as s:
                row = await s.get(Reservation, command.params["reservation_id"])
                if row is not None and row.charge_point_id == command.charge_point_id:
                    was_active = row.status == ACTIVE
                    row.status = CANCELLED
                    if was_active:
                        await ended(s, row)

    @staticmethod
    def _fields(command: Command) -> dict:
        p = command.params
        return {"charge_point_id": command.charge_point_id, "evse": p.get("evse", 0), "id_tag": p["id_tag"],
                "parent_id_tag": p.get("parent_id_tag"),
                "expires_at": as_utc(datetime.fromisoformat(p["expires_at"])),
                "status": ACTIVE if command.status == ACCEPTED else REJECTED, "session_id": None,
                "command_id": command.id}

    async def _reserved(self, command: Command) -> None:
        fields = self._fields(command)
        async with self.db.session() as s:
            # A reserve-now naming a known reservation id replaces that reservation (OCPP 1.6 §5.13).
            row = await s.get(Reservation, command.params["reservation_id"])
            if row is None:
                row = Reservation(id=command.params["reservation_id"], **fields)
                s.add(row)
            else:
                for name, value in fields.items():
                    setattr(row, name, value)
                row.created_at = utcnow()
            if row.status == ACTIVE:
                await s.flush()
                emit(s, "reservation.created", row.id, reservation_data(row), row.charge_point_id)

    async def station_update(self, charge_point_id: str, reservation_id: int, status: str) -> bool:
        """The station ended an active reservation (expired or removed); False if none matched."""
        async with self.db.session() as s:
            row = await s.get(Reservation, reservation_id)
            if row is None or row.charge_point_id != charge_point_id or row.status != ACTIVE:
                return False
            row.status = status
            await ended(s, row)
            return True

    async def get(self, reservation_id: int) -> Reservation:
        async with self.db.session() as s:
            return await get_or_404(s, Reservation, reservation_id, "reservation")

    async def find(self, where: ReservationFilter, limit: int,
                   before: tuple[datetime, int] | None = None) -> list[Reservation]:
        """Newest first; ``before`` is the (created_at, id) of the last item of the previous page."""
        query = newest_first(select(Reservation), Reservation.created_at, Reservation.id, limit, before)
        if where.charge_point_id is not None:
            query = query.where(Reservation.charge_point_id == where.charge_point_id)
        if where.id_tag is not None:
            query = query.where(Reservation.id_tag == where.id_tag)
        if where.status == ACTIVE:
            query = query.where(Reservation.status == ACTIVE, Reservation.expires_at > utcnow())
        elif where.status == EXPIRED:
            query = query.where(or_(Reservation.status == EXPIRED,
                                    and_(Reservation.status == ACTIVE, Reservation.expires_at <= utcnow())))
        elif where.status is not None:
            query = query.where(Reservation.status == where.status)
        async with self.db.session() as s:
            return list(await s.scalars(query))
