"""Stations told what charging costs, while it runs and when it ends (rules in ``rules.py``).

The worker (one per cluster: ``Runtime._start_jobs``) looks every ``rules.round_s`` seconds for
priced sessions running on online stations that listen, prices each one that is due with
``BillingService.price`` (the live cost, the engine the CDR uses) and sends OCPP 2.x CostUpdated
or the 1.6 RunningCost DataTransfer; a 1.6 California station also gets SetUserPrice before its
first RunningCost and FinalCost once the session's CDR exists. These go straight through the
command bus (``prepare`` then ``send``, so in a cluster the gateway holding the station builds and
checks the call), without a command row: one per session per minute would bury the operators'
own commands in the history. What was sent last is one row per session (``CostUpdate``); a
station that answers NotSupported or NotImplemented is remembered (``CostRefusal``, and a
``cost_updates_refused`` station event) and sent nothing more.

The 2.x final cost travels in the TransactionEvent (Ended) answer instead (``final_total``): the
CDR's own total, read back after the settlement that the Ended event triggers anyway.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from wattson.background import Loop
from wattson.bus import CommandBus
from wattson.db import Database, utcnow
from wattson.db.errors import log_failure
from wattson.db.one_of import one_of
from wattson.errors import CommandNotSupported, Invalid, StationOffline
from wattson.sessions.models import ACTIVE, FINISHED, Cdr, Session
from wattson.station_cost import rules
from wattson.station_cost.models import CostRefusal, CostUpdate
from wattson.stations import commands as c
from wattson.stations.models import ChargePoint, DeviceVariable, StationEvent
from wattson.stations.status import ONLINE
from wattson.tariffs.pricing import PARKING_TIME, rate_changes

log = logging.getLogger("wattson.station_cost")

#: stations sent to at once in one round: a station slow to answer holds up only its own messages
CONCURRENCY = 20
_CALIFORNIA = next(key for key, address in rules.WATCHED.items() if address[1] == rules.CALIFORNIA_KEY)


@dataclass(frozen=True, slots=True)
class FinalTotal:
    """A finished session's total as its CDR in force has it."""

    total: Decimal  # incl. VAT
    currency: str
    energy_wh: int


class StationCost:
    def __init__(self, db: Database, billing, interval_s: float, timeout: float, bus: CommandBus):
        self.db = db
        self.billing = billing  # BillingService: live costs
        self.interval_s = interval_s
        self.timeout = timeout
        self.bus = bus
        self._loop = Loop("station-cost")

    def start(self) -> None:
        self._loop.every(rules.round_s(self.interval_s), self.round, log, "station cost round failed")

    async def stop(self) -> None:
        await self._loop.stop()

    async def ended_answer(self, charge_point_id: str, transaction_id: str) -> dict:
        """What a 2.x TransactionEvent (Ended) answer adds (2.0.1 I03): ``totalCost`` and an
        ``updatedPersonalMessage`` from the CDR the event's settlement issued; nothing without one."""
        final = await self.final_total(charge_point_id, transaction_id)
        if final is None:
            return {}
        return {"totalCost": rules.amount(final.total, final.currency),
                "updatedPersonalMessage": rules.final_message(final.total, final.currency, final.energy_wh)}

    async def final_total(self, charge_point_id: str, transaction_id: str) -> FinalTotal | None:
        """The total of the transaction's CDR in force; None without one (no tariff, or credited).
        Two index look-ups, no pricing: ``settle`` priced the session a moment ago."""
        async with self.db.session() as s:
            row = (await s.execute(
                select(Cdr.total_incl_vat, Cdr.currency, Cdr.total_energy_wh, Cdr.credit)
                .join(Session, Session.id == Cdr.session_id)
                .where(Session.charge_point_id == charge_point_id, Session.transaction_id == transaction_id)
                .order_by(Cdr.sequence.desc()).limit(1))).first()
        if row is None or row.credit:
            return None
        return FinalTotal(Decimal(row.total_incl_vat), row.currency, row.total_energy_wh)

    async def round(self, now: datetime | None = None) -> int:
        """One look: every running update that is due, every 1.6 final cost not yet sent. How many
        messages went."""
        now = now or utcnow()
        running = await self._running(now) if self.interval_s > 0 else []
        finals = await self._finals(now)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def bounded(session_id: int, job) -> int:
            async with gate:
                try:
                    return await job
                except Exception as error:  # noqa: BLE001 - one session's failure must not end the round
                    log_failure(log, f"cost message for session {session_id} failed", error)
                    return 0

        jobs = [bounded(session.id, self._update(session, version, update, now))
                for session, version, update in running]
        jobs += [bounded(session.id, self._final(session, cdr, now)) for session, cdr in finals]
        return sum(await asyncio.gather(*jobs))

    # --- finding what is due ------------------------------------------------------------------
    async def _running(self, now: datetime) -> list[tuple[Session, str, CostUpdate | None]]:
        async with self.db.session() as s:
            rows = (await s.execute(
                select(Session, ChargePoint.ocpp_version, CostUpdate)
                .join(ChargePoint, ChargePoint.id == Session.charge_point_id)
                .outerjoin(CostUpdate, CostUpdate.session_id == Session.id)
                .outerjoin(CostRefusal, CostRefusal.charge_point_id == Session.charge_point_id)
                .where(Session.status == ACTIVE, Session.tariff_snapshot.is_not(None),
                       Session.transaction_id.is_not(None), ChargePoint.network_status == ONLINE,
                       CostRefusal.charge_point_id.is_(None)))).all()
            known = await self._watched(s, {session.charge_point_id for session, _, _ in rows})
        return [(session, version, update) for session, version, update in rows
                if rules.listens(version, known.get(session.charge_point_id, {}))
                and _is_due(session, version, update, now, self.interval_s)]

    @staticmethod
    async def _watched(s, charge_point_ids: set[str]) -> dict[str, dict]:
        if not charge_point_ids:
            return {}
        known: dict[str, dict] = {}
        rows = await s.execute(select(DeviceVariable.charge_point_id, DeviceVariable.key, DeviceVariable.value).where(
            one_of(s, DeviceVariable.charge_point_id, charge_point_ids), one_of(s, DeviceVariable.key, rules.WATCHED)))
        for charge_point_id, key, value in rows:
            known.setdefault(charge_point_id, {})[rules.WATCHED[key]] = value
        return known

    async def _finals(self, now: datetime) -> list[tuple[Session, Cdr]]:
        """1.6 California sessions stopped within ``FINAL_WINDOW`` whose CDR exists and whose
        FinalCost has not gone."""
        async with self.db.session() as s:
            rows = (await s.execute(
                select(Session, DeviceVariable.value)
                .join(ChargePoint, ChargePoint.id == Session.charge_point_id)
                .join(DeviceVariable, and_(DeviceVariable.charge_point_id == Session.charge_point_id,
                                           DeviceVariable.key == _CALIFORNIA))
                .outerjoin(CostUpdate, CostUpdate.session_id == Session.id)
                .outerjoin(CostRefusal, CostRefusal.charge_point_id == Session.charge_point_id)
                .where(Session.stopped_at >= now - rules.FINAL_WINDOW, Session.status == FINISHED,
                       Session.tariff_snapshot.is_not(None), Session.transaction_id.is_not(None),
                       ChargePoint.network_status == ONLINE, ChargePoint.ocpp_version == "1.6",
                       CostUpdate.final_sent_at.is_(None), CostRefusal.charge_point_id.is_(None)))).all()
            found = []
            for session, california in rows:
                if not rules.listens("1.6", {rules.WATCHED[_CALIFORNIA]: california}):
                    continue
                cdr = await s.scalar(select(Cdr).where(Cdr.session_id == session.id)
                                     .order_by(Cdr.sequence.desc()).limit(1))
                if cdr is not None and not cdr.credit:  # none yet: settling; the next round sends it
                    found.append((session, cdr))
        return found

    # --- sending -------------------------------------------------------------------------------
    async def _update(self, session: Session, version: str, update: CostUpdate | None, now: datetime) -> int:
        priced = await self.billing.price(session)
        if priced is None:
            return 0
        total, currency, tariff = priced.total_incl_vat, priced.currency, session.tariff_snapshot
        if version == "1.6":
            messages = []
            if update is None and session.id_tag is not None:
                price = rules.user_price(session.id_tag, tariff, currency)
                if price is not None:
                    messages.append(("data-transfer", price))
            charging = not (priced.charging_periods and any(
                d["type"] == PARKING_TIME for d in priced.charging_periods[-1]["dimensions"]))
            messages.append(("data-transfer", rules.running_cost(
                session.transaction_id, session.meter_last_at or now, session.meter_last or session.meter_start,
                total, currency, charging, tariff)))
        else:
            messages = [("cost-updated", rules.cost_updated(session.transaction_id, total, currency))]
        sent = 0
        for name, params in messages:
            outcome = await self._send(session.charge_point_id, name, params)
            if outcome is None:
                return sent
            sent += 1
        # Kept whatever the answer: a station that did not answer is asked again an interval later.
        await self._remember(session.id, sent_at=now, energy_wh=session.energy_wh, total=str(total))
        return sent

    async def _final(self, session: Session, cdr: Cdr, now: datetime) -> int:
        params = rules.final_cost(session.transaction_id, Decimal(cdr.total_incl_vat), cdr.currency,
                                  cdr.total_energy_wh)
        if await self._send(session.charge_point_id, "data-transfer", params) is None:
            return 0
        await self._remember(session.id, final_sent_at=now)
        return 1

    async def _send(self, charge_point_id: str, name: str, params: c.Params) -> c.Outcome | None:
        """Prepare and send one message; None when it could not go or the station refused it."""
        try:
            action, payload = await self.bus.prepare(charge_point_id, name, params)
        except (StationOffline, CommandNotSupported, Invalid) as error:
            log.info("%s: %s not sent: %s", charge_point_id, name, error)
            return None
        outcome = await self.bus.send(charge_point_id, action, payload, self.timeout)
        refused = outcome.error_code if outcome.error_code in rules.REFUSALS else (
            outcome.status if action == "DataTransfer" and outcome.status == "UnknownVendorId" else None)
        if refused is not None:
            await self._refused(charge_point_id, action, refused, outcome.error_description)
            return None
        if outcome.state != c.COMPLETED:
            log.info("%s: %s %s (%s)", charge_point_id, action, outcome.state,
                     outcome.error_code or outcome.error_description)
        return outcome

    async def _refused(self, charge_point_id: str, action: str, code: str, description: str | None) -> None:
        try:
            async with self.db.session() as s:
                if await s.get(CostRefusal, charge_point_id) is None:
                    s.add(CostRefusal(charge_point_id=charge_point_id, action=action, error_code=code))
                    s.add(StationEvent(charge_point_id=charge_point_id, kind="cost_updates_refused",
                                       data={"action": action, "error_code": code, "description": description},
                                       timestamp=utcnow()))
        except IntegrityError:
            return  # two of its sessions refused at once: the other one's record stands
        log.info("%s answered %s with %s: no more cost messages to it", charge_point_id, action, code)

    async def _remember(self, session_id: int, **fields) -> None:
        async with self.db.session() as s:
            row = await s.get(CostUpdate, session_id)
            if row is None:
                s.add(CostUpdate(session_id=session_id, **{"energy_wh": 0, **fields}))
            else:
                for name, value in fields.items():
                    setattr(row, name, value)


def _is_due(session: Session, version: str | None, update: CostUpdate | None, now: datetime,
            interval_s: float) -> bool:
    if interval_s <= 0:
        return False
    if update is None and version == "1.6":
        return True  # the white paper: the first RunningCost right after StartTransaction
    since = update.sent_at if update is not None and update.sent_at is not None else session.created_at
    if (now - since).total_seconds() >= interval_s:
        return True  # due anyway: boundaries are looked for within one interval at most
    changes, bounds = rate_changes(session.tariff_snapshot, session.started_at, since, now,
                                   session.time_zone or "UTC")
    return rules.due(now, since, interval_s, changes, update.energy_wh if update is not None else 0,
                     session.energy_wh, bounds)
