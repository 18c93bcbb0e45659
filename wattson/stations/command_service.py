"""Commands to stations as domain operations: validated, recorded, sent, answered."""

import asyncio
import uuid

from pydantic import ValidationError
from sqlalchemy import select

from wattson.access.models import IdToken
from wattson.bus import CommandBus
from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.db.paging import newest_first
from wattson.errors import Invalid, NotFound
from wattson.sessions.service import SessionService
from wattson.stations import commands as c
from wattson.stations.models import ChargePoint, Command
from wattson.stations.reservations import ReservationService
from wattson.webhooks.outbox import emit
from wattson.webhooks.producers import command_data

RAW = "ocpp"  # the history's name for calls sent in the station's own protocol
_CHUNK = 500  # tokens per look-up: well under every database's bound-parameter limit


class CommandService:
    def __init__(self, db: Database, bus: CommandBus, sessions: SessionService, reservations: ReservationService,
                 timeout: float):
        self.db = db
        self.bus = bus
        self.sessions = sessions
        self.timeout = timeout
        # What else a command changes once it has run, by command name.
        self._after = {"reserve-now": reservations.record, "cancel-reservation": reservations.record}
        self._background: set[asyncio.Task] = set()

    def after(self, name: str, hook) -> None:
        """Have ``await hook(command)`` run once a command named ``name`` has run (answered, failed
        or timed out), as reservations learn from reserve-now: e.g. pki/ from certificate-signed."""
        self._after[name] = hook

    async def submit(self, charge_point_id: str, name: str, raw_params: dict, wait: bool = True) -> Command:
        """Send a command; with ``wait`` the record comes back completed, otherwise pending."""
        params = self.parse(name, raw_params)
        station = await self._require_station(charge_point_id)
        params = await self._resolve(station, params)
        action, payload = await self.bus.prepare(charge_point_id, name, params)
        return await self._dispatch(charge_point_id, name, params.model_dump(mode="json", exclude_none=True),
                                    action, payload, wait)

    async def submit_raw(self, charge_point_id: str, action: str, payload: dict, wait: bool = True) -> Command:
        """Send a call written in the station's own protocol version, validated before it goes."""
        await self._require_station(charge_point_id)
        action, payload = await self.bus.prepare_raw(charge_point_id, action, payload)
        return await self._dispatch(charge_point_id, RAW, {"action": action}, action, payload, wait)

    async def _require_station(self, charge_point_id: str) -> ChargePoint:
        async with self.db.session() as s:
            return await get_or_404(s, ChargePoint, charge_point_id, "charge point")

    async def _dispatch(self, charge_point_id: str, name: str, params: dict, action: str, payload: dict,
                        wait: bool) -> Command:
        record = Command(id=str(uuid.uuid4()), charge_point_id=charge_point_id, name=name, params=params,
                         action=action, request=payload, state=c.PENDING, created_at=utcnow())
        async with self.db.session() as s:
            s.add(record)
        if wait:
            return await self._run(record)
        task = asyncio.create_task(self._run(record))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return record

    @staticmethod
    def parse(name: str, raw_params: dict) -> c.Params:
        model = c.CATALOGUE.get(name)
        if model is None:
            raise NotFound(f"unknown command {name!r}", {"commands": sorted(c.CATALOGUE)})
        try:
            return model.model_validate(raw_params)
        except ValidationError as error:
            raise Invalid(f"invalid parameters for {name}",
                          [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in error.errors()]
                          ) from None

    async def _resolve(self, station: ChargePoint, params: c.Params) -> c.Params:
        """Fill what only Wattson knows (a session's transaction id, fresh request and reservation
        ids, stored tokens' types) and refuse what the station's own settings forbid."""
        if isinstance(params, c.TransactionRef) and params.session_id is not None:
            params = await self._by_session(station.id, params)
        if isinstance(params, c.SetNetworkProfile):
            _never_downgrade(station, params.security_profile)
        params = c.with_generated_ids(params)
        return c.with_token_types(params, await self._token_types(c.untyped_tokens(params)))

    async def _by_session(self, charge_point_id: str, params: c.TransactionRef) -> c.TransactionRef:
        session = await self.sessions.get(params.session_id)
        if session.charge_point_id != charge_point_id or session.transaction_id is None:
            raise Invalid(f"session {params.session_id} is not a transaction of {charge_point_id!r}")
        return params.model_copy(update={"session_id": None, "transaction_id": session.transaction_id})

    async def _token_types(self, uids: set[str]) -> dict[str, str]:
        """The stored type of each of these tokens that Wattson knows."""
        found, uids = {}, sorted(uids)
        if not uids:
            return found
        async with self.db.session() as s:
            for start in range(0, len(uids), _CHUNK):
                chunk = uids[start:start + _CHUNK]
                found.update((await s.execute(select(IdToken.uid, IdToken.type).where(IdToken.uid.in_(chunk)))).all())
        return found

    async def _run(self, record: Command) -> Command:
        outcome = await self.bus.send(record.charge_point_id, record.action, record.request, self.timeout)
        async with self.db.session() as s:
            row = await s.get(Command, record.id)
            row.state, row.response, row.status = outcome.state, outcome.response, outcome.status
            row.error_code, row.error_description = outcome.error_code, outcome.error_description
            row.completed_at = utcnow()
            emit(s, "command.completed", row.id, command_data(row), row.charge_point_id)
        if (after := self._after.get(row.name)) is not None:
            await after(row)
        return row

    async def get(self, command_id: str) -> Command:
        async with self.db.session() as s:
            return await get_or_404(s, Command, command_id, "command")

    async def history(self, charge_point_id: str, limit: int, before: tuple | None = None) -> list[Command]:
        query = newest_first(select(Command).where(Command.charge_point_id == charge_point_id),
                             Command.created_at, Command.id, limit, before)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def drain(self) -> None:
        """Let commands sent with wait=false finish (or time out) before shutting down."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


def _never_downgrade(station: ChargePoint, security_profile: int) -> None:
    """A network profile below the station's security profile would open it to weaker authentication."""
    if security_profile < station.security_profile:
        raise Invalid(f"{station.id} uses security profile {station.security_profile}; a station is never "
                      f"downgraded", [{"field": "security_profile",
                                       "message": f"must be {station.security_profile} or more"}])
