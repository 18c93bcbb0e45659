"""Which of Wattson's remote starts a transaction came from, by the remote-start commands recorded.

OCPP 2.x names it: the transaction's events carry RequestStartTransaction's ``remoteStartId``, and
a station that leaves out the idToken (seen from a real simulator) still means the token Wattson
asked for. OCPP 1.6 does not: a StartTransaction for the token of a remote start the station
accepted a little earlier, on its connector or on any, is taken as that remote start's.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.db.one_of import one_of
from wattson.stations.models import Command

NAME = "remote-start"
#: How long after a 1.6 station accepted a remote start its StartTransaction may come: the
#: driver has to plug in (1.6 ConnectionTimeOut is typically 30 to 120 s), with room to spare.
WINDOW_1_6 = timedelta(minutes=10)
#: 2.x remote starts of one station looked through for a remoteStartId, newest first.
RECENT_2X = 50


async def accepted_since(s: AsyncSession, stations: set[str], since: datetime) -> list[Command]:
    """The remote starts these stations accepted since ``since``, newest first."""
    return list(await s.scalars(select(Command).where(
        one_of(s, Command.charge_point_id, stations), Command.name == NAME, Command.status == "Accepted",
        Command.created_at >= since).order_by(Command.created_at.desc())))


def started_by(commands: list[Command], charge_point_id: str, evse: int, id_tag: str | None) -> int | None:
    """The remoteStartId of the newest of ``commands`` that a 1.6 start on (station, connector
    ``evse``) for ``id_tag`` answers; None when none does."""
    for command in commands:
        params = command.params or {}
        if (command.charge_point_id == charge_point_id and params.get("id_tag") == id_tag
                and params.get("evse") in (None, evse)):
            return params.get("remote_start_id")
    return None


async def token_of(s: AsyncSession, charge_point_id: str, remote_start_id: int) -> str | None:
    """The token Wattson's remote start ``remote_start_id`` at this station was for."""
    for params in await s.scalars(select(Command.params).where(
            Command.charge_point_id == charge_point_id, Command.name == NAME)
            .order_by(Command.created_at.desc()).limit(RECENT_2X)):
        if (params or {}).get("remote_start_id") == remote_start_id:
            return params.get("id_tag")
    return None
