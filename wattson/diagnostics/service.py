"""Connection diagnostics: the gateway's handshake outcomes, folded in memory and written once a
second (rules.Folder), read back for the API and the dashboard.

The gateway calls ``record`` on every refusal, connect and disconnect; it costs a dict update and
never waits on the database, so a flood of handshakes (unknown ids at a high rate) is bounded
twice: in memory before a write (``Folder``), and in the table (``MAX_ROWS``, oldest pruned).
"""

import logging
from collections import OrderedDict
from datetime import datetime

from sqlalchemy import bindparam as _bind, delete, func, insert, select, tuple_, update

from wattson.background import Loop
from wattson.db import Database, utcnow
from wattson.diagnostics import rules
from wattson.diagnostics.models import ConnectionEvent
from wattson.stations.models import ChargePoint

log = logging.getLogger("wattson.diagnostics")
#: Seconds between writes: what arrived meanwhile is one batch.
FLUSH_S = 1.0
#: Rows kept; the oldest beyond are deleted.
MAX_ROWS = 20_000
#: Rows whose id is remembered, so that a repeat within the window adds to its row without a read.
RECENT = 20_000
_T = ConnectionEvent.__table__


class DiagnosticsService:
    def __init__(self, db: Database, node_id: str | None = None, ids_per_address: int = 100,
                 max_rows: int = MAX_ROWS):
        self.db = db
        self.node_id = node_id
        self.folder = rules.Folder(ids_per_address)
        self.max_rows = max_rows
        self._recent: OrderedDict[tuple, tuple[int, datetime]] = OrderedDict()  # key -> (row id, last_at)
        self._loop = Loop("connection diagnostics")
        self._since_prune = 0
        self._warned_dropped = False

    # --- recording (the gateway) ---------------------------------------------------------------
    def record(self, attempt: rules.Attempt) -> None:
        """Note a handshake outcome; written within a second, folded with its repeats."""
        self.folder.add(attempt, utcnow())
        if not self._loop.running and not self._loop.stopping:
            self._loop.every(FLUSH_S, self.flush, log, "writing connection diagnostics")

    async def stop(self) -> None:
        """Stop the writer, writing what is waiting."""
        await self._loop.stop()
        if self.folder.pending:
            try:
                await self.flush()
            except Exception as error:  # noqa: BLE001 - shutting down: said, not raised
                log.warning("connection diagnostics not written at shutdown (%s)", type(error).__name__)

    async def flush(self) -> int:
        """Write what the folder holds: repeats of a recent row add to it, the rest are new rows."""
        if self.folder.dropped and not self._warned_dropped:
            log.warning("connection diagnostics: %d connects/disconnects not recorded (too many at once)",
                        self.folder.dropped)
            self._warned_dropped = True
        items = self.folder.take()
        if not items:
            return 0
        ids = {p.attempt.charge_point_id for p in items if p.attempt.charge_point_id is not None}
        async with self.db.session() as s:
            known = set()
            listed = sorted(ids)
            for start in range(0, len(listed), 500):
                known.update(await s.scalars(select(ChargePoint.id).where(ChargePoint.id.in_(listed[start:start + 500]))))
            updates, inserts = [], []
            for p in items:
                recent = self._recent.get(p.attempt.key)
                if recent is not None and p.first - recent[1] <= rules.WINDOW:
                    updates.append((p, recent[0]))
                else:
                    inserts.append(p)
            if updates:
                await s.execute(update(_T).where(_T.c.id == _bind("rid"))
                                .values(count=_T.c.count + _bind("n"), last_at=_bind("last")),
                                [{"rid": rid, "n": p.count, "last": p.last} for p, rid in updates])
            new_ids = []
            if inserts:
                rows = [self._row(p, known) for p in inserts]
                new_ids = list(await s.scalars(insert(_T).returning(_T.c.id, sort_by_parameter_order=True), rows))
        for p, rid in updates:
            self._remember(p.attempt.key, rid, p.last)
        for p, rid in zip(inserts, new_ids):
            self._remember(p.attempt.key, rid, p.last)
        self._since_prune += len(inserts)
        if self._since_prune >= max(100, self.max_rows // 20):
            await self.prune()
        return len(items)

    def _row(self, p: rules.Pending, known: set) -> dict:
        a = p.attempt
        return {"charge_point_id": a.charge_point_id, "known": a.charge_point_id in known, "kind": a.kind,
                "reason": a.reason, "remote_address": a.address, "tls": a.tls, "subprotocols": list(a.subprotocols),
                "close_code": a.close_code, "detail": a.detail, "node_id": self.node_id, "count": p.count,
                "first_at": p.first, "last_at": p.last}

    def _remember(self, key: tuple, rid: int, last: datetime) -> None:
        self._recent.pop(key, None)
        self._recent[key] = (rid, last)
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)

    async def prune(self) -> int:
        """Delete the oldest rows beyond ``max_rows``: how many."""
        self._since_prune = 0
        async with self.db.session() as s:
            edge = await s.scalar(select(_T.c.id).order_by(_T.c.id.desc()).offset(self.max_rows).limit(1))
            if edge is None:
                return 0
            result = await s.execute(delete(_T).where(_T.c.id <= edge))
        return result.rowcount

    # --- reading (the API, the dashboard) ----------------------------------------------------------
    async def find(self, limit: int = 50, after: tuple[datetime, int] | None = None,
                   charge_point_id: str | None = None, reason: str | None = None, kind: str | None = None,
                   known: bool | None = None, since: datetime | None = None) -> list[ConnectionEvent]:
        """Rows, the most recently seen first (``after``: the cursor of the previous page)."""
        query = select(ConnectionEvent)
        if charge_point_id is not None:
            query = query.where(ConnectionEvent.charge_point_id == charge_point_id)
        if reason is not None:
            query = query.where(ConnectionEvent.reason == reason)
        if kind is not None:
            query = query.where(ConnectionEvent.kind == kind)
        if known is not None:
            query = query.where(ConnectionEvent.known == known)
        if since is not None:
            query = query.where(ConnectionEvent.last_at >= since)
        if after is not None:
            query = query.where(tuple_(ConnectionEvent.last_at, ConnectionEvent.id) < tuple_(*after))
        query = query.order_by(ConnectionEvent.last_at.desc(), ConnectionEvent.id.desc()).limit(limit)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def count(self) -> int:
        async with self.db.session() as s:
            return await s.scalar(select(func.count()).select_from(_T))
