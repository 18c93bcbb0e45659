"""Starts in a storm: many stations' StartTransaction (1.6) and TransactionEvent Started (2.x)
opened in one transaction, the way ``meter_writer`` stores meter values.

When a depot's power comes back, every station boots and starts its transaction within seconds.
Opened one by one, each start costs two transactions and a score of statements; here a batch
costs a handful of statements whatever its size (what is new, the EVSEs, the places, the tags
already charging elsewhere), and per start only its token's answer and its tariff.

A batch handles the plain case: a new transaction on an EVSE where nothing else is open, with a
token Wattson knows (or none). Anything else (a resent start, an earlier session still open there,
a token only a roaming partner may know) is answered ``CAREFUL`` and the caller takes the one by
one path, whose rules these are: ``SessionService.start`` and ``TransactionService._record_carefully``.
"""

from dataclasses import dataclass

from sqlalchemy import select

from wattson.access.rules import AuthResult, concurrent
from wattson.db.group_commit import GroupCommit
from wattson.db import utcnow
from wattson.db.one_of import one_of
from wattson.sessions import remote_starts
from wattson.sessions.models import ACTIVE, Session
from wattson.stations.models import ChargePoint, Evse
from wattson.webhooks.producers import event_row, insert_events, session_data

#: What a start the batch does not handle is answered: take the one by one path.
CAREFUL = "careful"


@dataclass(slots=True)
class Start:
    """One start: a 1.6 StartTransaction (``event`` None) or a 2.x Started event (``event``:
    its ``transactions.TxEvent``)."""

    charge_point_id: str
    evse: int
    connector: int
    id_tag: str | None
    timestamp: "object"
    meter_start: int = 0
    reservation_id: int | None = None
    transaction_id: str | None = None  # 1.6: Wattson numbers the transaction unless given
    event: "object | None" = None

    @property
    def retry_key(self) -> tuple:
        return (self.charge_point_id, self.evse, self.connector, self.id_tag, self.timestamp, self.meter_start)


def session_for(start: Start, evse_id: int | None, location_id: int | None, auth: AuthResult | None) -> Session:
    """The session a start opens, before the start's events and tariff are applied to it."""
    if start.event is not None:  # 2.x: its events say who and how (``transactions.apply_event``)
        return Session(charge_point_id=start.charge_point_id, evse_id=evse_id, evse=start.evse,
                       connector=start.connector, transaction_id=start.transaction_id, location_id=location_id,
                       started_at=start.timestamp, meter_start=0, status=ACTIVE, energy_wh=0)
    return Session(charge_point_id=start.charge_point_id, evse_id=evse_id, evse=start.evse, connector=start.connector,
                   id_tag=start.id_tag, driver_id=auth.driver_id if auth else None, location_id=location_id,
                   auth_status=auth.status if auth else None, started_at=start.timestamp,
                   meter_start=start.meter_start, meter_start_at=start.timestamp, reservation_id=start.reservation_id,
                   transaction_id=start.transaction_id, status=ACTIVE, energy_wh=0)


class StartWriter(GroupCommit):
    what = "start"

    def __init__(self, sessions):
        super().__init__(sessions.db)
        self.sessions = sessions  # SessionService: its access rules, billing and session builders
        # One batch at a time, also on PostgreSQL: a batch decides from what the ones before it
        # committed (is this start a resend? is something open on this EVSE? does the EVSE exist?),
        # so two batches in flight could open a resent start twice.
        self.concurrency = 1

    async def _write(self, conn, items: list[Start], changes: set) -> list:
        async with self.db.sessions(bind=conn) as s:
            results = await self._open_all(s, items)
            await s.commit()  # the ORM's commit hooks (OCPI push); the group commit commits the rest
        return results

    async def _open_all(self, s, items: list[Start]) -> list:
        from wattson.sessions.transactions import apply_new_event  # transactions imports the service
        results: list = [CAREFUL] * len(items)
        stations = {x.charge_point_id for x in items}
        busy = {(cp, evse) for cp, evse in await s.execute(
            select(Session.charge_point_id, Session.evse).where(one_of(s, Session.charge_point_id, stations),
                                                                 Session.status == ACTIVE))}
        retry_keys = (select(Session.charge_point_id, Session.evse, Session.connector, Session.id_tag,
                             Session.started_at, Session.meter_start)  # as ``Start.retry_key``
                      .where(one_of(s, Session.charge_point_id, stations),
                             one_of(s, Session.started_at, {x.timestamp for x in items if x.event is None})))
        retried = set(map(tuple, await s.execute(retry_keys)))
        known = set(await s.execute(select(Session.charge_point_id, Session.transaction_id).where(
            one_of(s, Session.charge_point_id, stations),
            one_of(s, Session.transaction_id, {x.transaction_id for x in items if x.transaction_id is not None}))))
        candidates, seen = [], set()
        for i, item in enumerate(items):
            key = item.retry_key
            if ((item.charge_point_id, item.evse) in busy or key in seen or key in retried
                    or (item.charge_point_id, item.transaction_id) in known):
                continue
            seen.add(key)
            busy.add((item.charge_point_id, item.evse))  # a second start there in this batch: careful
            candidates.append((i, item))
        asks = [(item.id_tag, item.charge_point_id) for _, item in candidates if item.id_tag]
        answers = iter(await self.sessions.access.own_answers(s, asks) if asks else [])
        plain = []
        for i, item in candidates:
            auth = next(answers) if item.id_tag else None
            if item.id_tag and auth is None:  # only a fallback may know it
                continue
            plain.append((i, item, auth))
        await self._refuse_concurrent(s, plain)
        evses = await self._evses(s, {(item.charge_point_id, item.evse) for _, item, _ in plain})
        locations = dict((await s.execute(select(ChargePoint.id, ChargePoint.location_id)
                                          .where(one_of(s, ChargePoint.id, stations)))).all())
        opened = [(i, item, auth, session_for(item, evses[item.charge_point_id, item.evse].id,
                                              locations.get(item.charge_point_id), auth))
                  for i, item, auth in plain]
        s.add_all([session for *_, session in opened])
        await s.flush()
        with s.no_autoflush:  # what follows is written in one flush: an UPDATE for all, not one each
            remote = await remote_starts.accepted_since(
                s, {item.charge_point_id for _, item, _, _ in opened if item.event is None},
                utcnow() - remote_starts.WINDOW_1_6) if any(item.event is None for _, item, _, _ in opened) else []
            for i, item, auth, session in opened:
                if item.event is None:
                    session.transaction_id = session.transaction_id or str(session.id)
                    session.remote_start_id = remote_starts.started_by(remote, item.charge_point_id, item.evse,
                                                                       item.id_tag)
                    if item.reservation_id is not None:
                        await self.sessions.use_reservation(s, item.charge_point_id, item.reservation_id, session.id)
                else:
                    await apply_new_event(s, session, item.event, auth)
                results[i] = (session, auth)
            if self.sessions.billing is not None:
                await self.sessions.billing.choose_tariffs(s, [session for *_, session in opened])
            await insert_events(s, [event_row("session.started", session.id, session_data(session),
                                              session.charge_point_id) for *_, session in opened])
        return results

    async def _refuse_concurrent(self, s, plain: list) -> None:
        """Accepted tags already charging elsewhere, or twice in this batch, become ConcurrentTx."""
        tags = {item.id_tag for _, item, auth in plain if auth is not None and auth.accepted}
        if not tags:
            return
        holders = list(await s.execute(self.sessions.holders(s, tags)))
        charging: set[str] = set()
        for n, (i, item, auth) in enumerate(plain):
            if auth is None or not auth.accepted:
                continue
            at = (item.charge_point_id, item.evse, item.connector) if item.event is None else None
            if item.id_tag in charging or any(self.sessions.blocks(row, item.id_tag, None, at) for row in holders):
                plain[n] = (i, item, concurrent(auth))
            charging.add(item.id_tag)

    @staticmethod
    async def _evses(s, places: set[tuple[str, int]]) -> dict[tuple[str, int], Evse]:
        """The EVSE rows of these (station, number), those not seen before created."""
        found = {(e.charge_point_id, e.number): e for e in await s.scalars(
            select(Evse).where(one_of(s, Evse.charge_point_id, {cp for cp, _ in places})))}
        missing = [Evse(charge_point_id=cp, number=n) for cp, n in places if (cp, n) not in found]
        if missing:
            s.add_all(missing)
            await s.flush()
            found.update({(e.charge_point_id, e.number): e for e in missing})
        return found
