"""The push outbox as operators see it: what is queued for each partner, what was given up, the
last delivery; and a failed push sent again (push.py delivers it on its next round)."""

from sqlalchemy import func, select

from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.errors import Conflict
from wattson.ocpi.models import OcpiOutbox


class OutboxService:
    def __init__(self, db: Database):
        self.db = db

    async def find(self, limit: int, before_id: int | None = None, partner_id: str | None = None,
                   status: str | None = None) -> list[OcpiOutbox]:
        """Pushes newest first, before ``before_id``; each filter given narrows the list."""
        query = select(OcpiOutbox).order_by(OcpiOutbox.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(OcpiOutbox.id < before_id)
        if partner_id is not None:
            query = query.where(OcpiOutbox.partner_id == partner_id)
        if status is not None:
            query = query.where(OcpiOutbox.status == status)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def summary(self, partner_ids: list[str]) -> dict[str, dict]:
        """Per partner, in one query: how many pushes are pending, sent and failed, and when the
        last one was delivered (``last_sent``)."""
        out = {pid: {"pending": 0, "sent": 0, "failed": 0, "last_sent": None} for pid in partner_ids}
        if not partner_ids:
            return out
        async with self.db.session() as s:
            rows = await s.execute(select(OcpiOutbox.partner_id, OcpiOutbox.status, func.count(),
                                          func.max(OcpiOutbox.sent_at))
                                   .where(OcpiOutbox.partner_id.in_(partner_ids))
                                   .group_by(OcpiOutbox.partner_id, OcpiOutbox.status))
            for partner_id, status, count, last_sent in rows:
                entry = out[partner_id]
                entry[status] = count
                if last_sent is not None and (entry["last_sent"] is None or last_sent > entry["last_sent"]):
                    entry["last_sent"] = last_sent
        return out

    async def retry(self, row_id: int) -> OcpiOutbox:
        """Queue a failed (given up) push again, due now, its attempts counted afresh. A pending
        one is made due now; a sent one is a conflict (its object is pushed again on its next change)."""
        async with self.db.session() as s:
            row = await get_or_404(s, OcpiOutbox, row_id, "outbox entry")
            if row.status == "sent":
                raise Conflict(f"push {row_id} was delivered at {row.sent_at:%Y-%m-%d %H:%M:%S} UTC; nothing to retry")
            if row.status == "failed":
                row.status, row.attempts = "pending", 0
            row.next_attempt_at = utcnow()
        return row
