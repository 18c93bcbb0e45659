"""What the producers put in an event: the resource as the operator API returns it, read inside
the transaction of the change. The ORM paths call ``outbox.emit``; the batched writers (which
write with Core or the driver's own statements) add ``event_row``s with one executemany.

Sessions are sent as ``SessionOut`` (GET /sessions/{id} without its meter values, charging
periods, power and cost: those grow with the session and have their own endpoints)."""

import time
from collections.abc import Iterable
from datetime import datetime, timezone
from decimal import Decimal

import orjson
from sqlalchemy import insert, select

from wattson.db import utcnow
from wattson.payments.schemas import PaymentOut
from wattson.sessions.schemas import CdrOut, SessionOut
from wattson.stations.models import ChargePoint, Connector, Evse
from wattson.stations.schemas import ChargePointOut, CommandOut, ConnectorOut, EvseOut, ReservationOut
from wattson.webhooks.catalogue import TYPES
from wattson.webhooks.models import WebhookEvent
from wattson.webhooks.outbox import new_uid

EVENTS = WebhookEvent.__table__
#: The session columns SessionOut is made of, in its order: what a raw batch selects.
SESSION_FIELDS = tuple(SessionOut.model_fields)
_CP_FIELDS = tuple(f for f in ChargePointOut.model_fields if f not in ("evses", "current_errors"))  # not columns
_EVSE_FIELDS = tuple(f for f in EvseOut.model_fields if f != "connectors")
_CONNECTOR_FIELDS = tuple(ConnectorOut.model_fields)


def dump(schema, value) -> dict:
    return schema.model_validate(value).model_dump(mode="json")


def session_data(session) -> dict:
    return dump(SessionOut, session)


def cdr_data(cdr) -> dict:
    return dump(CdrOut, cdr)


_PAYMENT_FIELDS = ("id", "state", "provider", "provider_ref", "product", "charge_point_id", "evse", "evse_code",
                   "currency", "cdr_id", "stop_reason", "failure", "card", "created_at", "authorized_at",
                   "started_at", "finished_at", "updated_at")


def payment_data(payment) -> dict:
    """As GET /payments lists it (``payments/routes.payment_out``; its history, ``events``, is
    GET /payments/{id}'s): the driver's handle as ``session_id``, amounts as numbers."""
    def amount(value):
        return None if value is None else Decimal(value)
    return dump(PaymentOut, {**{f: getattr(payment, f) for f in _PAYMENT_FIELDS}, "session_id": payment.uid,
                             "charging_session_id": payment.session_id, "amount_held": amount(payment.amount_held),
                             "amount_refunded": amount(payment.amount_refunded),
                             "amount_captured": amount(payment.amount_captured),
                             "amount_released": amount(payment.amount_released)})


def reservation_data(reservation, status: str | None = None) -> dict:
    out = ReservationOut.model_validate(reservation)
    if status is not None:
        out = out.model_copy(update={"status": status})
    return out.model_dump(mode="json")


def command_data(command) -> dict:
    return dump(CommandOut, command)


def security_event_data(charge_point_id: str, payload: dict, received_at: datetime) -> dict:
    """A small resource of its own until issue 17 gives security events one in the API."""
    return {"charge_point_id": charge_point_id, "type": payload.get("type"), "tech_info": payload.get("techInfo"),
            "timestamp": payload.get("timestamp"), "received_at": _iso(received_at)}


def event_row(type: str, resource_id, data: dict, charge_point_id: str | None = None,
              now: datetime | None = None) -> dict:
    """A ``webhook_events`` row for a Core insert: what ``outbox.emit`` adds, for a batch."""
    if type not in TYPES:
        raise ValueError(f"{type!r} is not in the event catalogue")
    return {"uid": new_uid(), "type": type, "resource_id": str(resource_id), "charge_point_id": charge_point_id,
            "data": data, "created_at": now or utcnow()}


async def insert_events(conn, rows: list[dict]) -> None:
    """One executemany on a Core connection or an ORM session, in its transaction."""
    if rows:
        await conn.execute(insert(EVENTS), rows)


# --- charge points and EVSEs read with Core (a batch's connection or an ORM session) ---------
async def charge_points(conn, ids: Iterable[str]) -> dict[str, dict]:
    """``ChargePointOut`` of these stations with their EVSEs and connectors: three statements."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    cps = [dict(r._mapping) for r in await conn.execute(
        select(*(ChargePoint.__table__.c[f] for f in (*_CP_FIELDS, "password_hash") if f != "has_password"))
        .where(ChargePoint.__table__.c.id.in_(ids)))]
    evses = await _evses(conn, Evse.__table__.c.charge_point_id.in_(ids))
    by_cp: dict[str, list] = {}
    for evse in evses:
        by_cp.setdefault(evse["charge_point_id"], []).append(evse)
    return {cp["id"]: dump(ChargePointOut, {**cp, "evses": by_cp.get(cp["id"], [])}) for cp in cps}


async def evses(conn, ids: Iterable[int]) -> dict[int, dict]:
    """``EvseOut`` of these EVSEs with their connectors: two statements."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    return {e["id"]: dump(EvseOut, e) for e in await _evses(conn, Evse.__table__.c.id.in_(ids))}


async def _evses(conn, where) -> list[dict]:
    e, c = Evse.__table__, Connector.__table__
    rows = [dict(r._mapping) for r in await conn.execute(
        select(*(e.c[f] for f in _EVSE_FIELDS if f != "hardware_status")).where(where).order_by(e.c.number))]
    if not rows:
        return []
    connectors: dict[int, list] = {}
    for r in await conn.execute(select(c.c.evse_id, *(c.c[f] for f in _CONNECTOR_FIELDS))
                                .where(c.c.evse_id.in_([row["id"] for row in rows])).order_by(c.c.number)):
        connectors.setdefault(r.evse_id, []).append({f: getattr(r, f) for f in _CONNECTOR_FIELDS})
    return [{**row, "connectors": connectors.get(row["id"], [])} for row in rows]


# --- session.updated: at most once per interval per session, decided in memory -----------------
class SessionUpdates:
    """Which sessions are due a ``session.updated``: one whose last was sent at least
    ``interval`` seconds ago (or never, by this process). Per process: a session's messages come
    through the gateway holding its station, so one process decides for it."""

    MAX = 50_000  # sessions remembered; beyond, those whose interval is over are forgotten

    def __init__(self, interval: float):
        self.interval = interval
        self._sent: dict[int, float] = {}

    def due(self, session_ids: Iterable[int]) -> list[int]:
        """The due ones among ``session_ids``, taken as sent now."""
        now = time.monotonic()
        due = [sid for sid in dict.fromkeys(session_ids)
               if (last := self._sent.get(sid)) is None or now - last >= self.interval]
        if len(self._sent) > self.MAX:
            self._sent = {sid: t for sid, t in self._sent.items() if now - t < self.interval}
        for sid in due:
            self._sent[sid] = now
        return due

    def ended(self, session_id: int) -> None:
        self._sent.pop(session_id, None)


def session_rows_data(rows: Iterable[tuple], text_times: bool) -> list[dict]:
    """SessionOut of raw rows selected as ``SESSION_FIELDS`` (SQLite's times as UTC text)."""
    times = [i for i, f in enumerate(SESSION_FIELDS) if f.endswith("_at")]
    out = []
    for row in rows:
        values = list(row)
        if text_times:
            for i in times:
                values[i] = None if values[i] is None else datetime.fromisoformat(values[i] + "+00:00")
        out.append(dump(SessionOut, dict(zip(SESSION_FIELDS, values))))
    return out


def raw_event(type: str, session: dict, now: datetime) -> tuple:
    """A ``webhook_events`` row as the raw batches insert it: uid, type, resource_id,
    charge_point_id, data (JSON text), created_at (as the caller stamps it)."""
    return (new_uid(), type, str(session["id"]), session["charge_point_id"], orjson.dumps(session).decode(), now)


RAW_COLUMNS = ("uid", "type", "resource_id", "charge_point_id", "data", "created_at")


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
