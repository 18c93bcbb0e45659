"""Direct payment: products, the payment flow from the hold to the capture, and the worker that
moves every open payment on (and so also reconciles what a restart interrupted).

The service owns persistence. Every state change is ``_move``: a compare-and-set on the payment's
state (so a driver's stop and the worker never both act) plus an event row, in one transaction.
Provider calls carry idempotency keys derived from the payment, so a step retried after a crash
or a lost answer has the effect of one: never two captures, never a capture above the hold.
"""

import asyncio
import logging
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.access.models import IdToken
from wattson.background import Loop
from wattson.db import Database, utcnow
from wattson.db.errors import log_failure
from wattson.db.lookup import get_or_404
from wattson.db.paging import by_id, newest_first
from wattson.errors import Conflict, Invalid, NotFound, WattsonError
from wattson.locations.models import Location
from wattson.payments import machine as m
from wattson.payments.models import Payment, PaymentEvent, PaymentProduct
from wattson.payments.providers import DECLINED, InvalidSignature, PaymentProvider, ProviderError
from wattson.payments.tokens import TAG_PREFIX, new_token
from wattson.sessions.billing import tariff_snapshot
from wattson.sessions.models import ACTIVE, FINISHED, Cdr, Session
from wattson.sessions.receipts import CardPayment, Receipt, Seller
from wattson.stations.identifiers import normalise_evse_id
from wattson.stations.models import ChargePoint, Command, Connector, Evse
from wattson.stations.status import evse_hardware_status
from wattson.tariffs.models import AD_HOC
from wattson.tariffs.pricing import PricedSession, estimate_intervals, minor_units, price_session, round_money
from wattson.tariffs.service import Place, TariffService
from wattson.webhooks.outbox import emit
from wattson.webhooks.producers import payment_data

log = logging.getLogger("wattson.payments")

STALE_CREATED = timedelta(minutes=2)  # a payment still "created" this long was interrupted mid-authorisation
STOP_RETRY = timedelta(seconds=30)
RETRY_BASE_S = 5
SCOPES = ("evse_id", "charge_point_id", "location_id")
_SCOPE_MODELS = {"evse_id": (Evse, "EVSE"), "charge_point_id": (ChargePoint, "charge point"),
                 "location_id": (Location, "location")}


class PaymentRequired(WattsonError):
    status = 402
    code = "payment_declined"


class ProviderUnavailable(WattsonError):
    status = 502
    code = "provider_error"


@dataclass(slots=True)
class Offer:
    """What a driver sees at one EVSE before paying."""

    evse: Evse
    station: ChargePoint
    location: Location | None
    connectors: list[Connector]
    tariff: dict | None  # the ad hoc tariff snapshot
    currency: str | None
    products: list[tuple[PaymentProduct, Decimal]]  # with the price incl. VAT of using it all
    available: bool  # the charger can start a session now
    busy: bool  # a direct payment is under way here
    hardware_status: str | None

    @property
    def payable(self) -> bool:
        return self.available and not self.busy and self.tariff is not None and bool(self.products)


def seller(settings) -> Seller:
    """Who issues the receipts (WATTSON_SELLER_NAME, _ADDRESS, _VAT_ID)."""
    return Seller(settings.seller_name, settings.seller_address, settings.seller_vat_id)


def limits_of(product: dict) -> m.Limits:
    minutes = product.get("max_duration_min")
    return m.Limits(hold=Decimal(product["blocking_value"]), max_duration_s=minutes * 60 if minutes else None,
                    max_energy_wh=product.get("max_energy_wh"))


def product_snapshot(product: PaymentProduct) -> dict:
    return {"id": product.id, "uid": product.uid, "name": product.name, "blocking_value": product.blocking_value,
            "max_duration_min": product.max_duration_min, "max_energy_wh": product.max_energy_wh}


class PaymentService:
    def __init__(self, db: Database, settings, provider: PaymentProvider, tariffs: TariffService, billing):
        self.db = db
        self.settings = settings
        self.provider = provider
        self.tariffs = tariffs
        self.billing = billing
        self.commands = None  # stations.command_service.CommandService, set by the runtime
        self._wake = asyncio.Event()
        self._loop = Loop("payments")
        self._started_at: datetime | None = None  # a payment "created" before this was cut off by a restart

    # --- products ------------------------------------------------------------------------------
    async def create_product(self, fields: dict) -> PaymentProduct:
        async with self.db.session() as s:
            await _check_scope(s, fields)
            product = PaymentProduct(uid=str(uuid.uuid4()), **fields)
            s.add(product)
        return product

    async def get_product(self, product_id: int) -> PaymentProduct:
        async with self.db.session() as s:
            return await get_or_404(s, PaymentProduct, product_id, "payment product")

    async def find_products(self, limit: int, after_id: int | None = None, **filters) -> list[PaymentProduct]:
        async with self.db.session() as s:
            return list(await s.scalars(by_id(PaymentProduct, limit, after_id, **filters)))

    async def update_product(self, product_id: int, changes: dict) -> PaymentProduct:
        async with self.db.session() as s:
            product = await get_or_404(s, PaymentProduct, product_id, "payment product")
            merged = {n: changes.get(n, getattr(product, n)) for n in (*SCOPES, "max_duration_min", "max_energy_wh")}
            if any(n in changes for n in SCOPES):
                await _check_scope(s, {n: merged[n] for n in SCOPES})
            for name, value in changes.items():
                setattr(product, name, value)
            await s.flush()
        return product

    async def delete_product(self, product_id: int) -> None:
        async with self.db.session() as s:
            await s.delete(await get_or_404(s, PaymentProduct, product_id, "payment product"))

    # --- what the driver sees -----------------------------------------------------------------------
    async def offer(self, code: str, at: datetime | None = None) -> Offer:
        """The EVSE with this EVSE ID (any spelling) and what a driver can buy there; NotFound else."""
        try:
            normalised = normalise_evse_id(code)
        except ValueError:
            raise NotFound("no charging point has this code") from None
        at = at or utcnow()
        async with self.db.session() as s:
            evse = await s.scalar(select(Evse).where(Evse.evse_code == normalised))
            if evse is None:
                raise NotFound("no charging point has this code")
            return await self._offer(s, evse, at)

    async def _offer(self, s: AsyncSession, evse: Evse, at: datetime) -> Offer:
        station = await s.get(ChargePoint, evse.charge_point_id)
        location = await s.get(Location, station.location_id) if station.location_id else None
        connectors = list(await s.scalars(select(Connector).where(Connector.evse_id == evse.id)
                                          .order_by(Connector.number)))
        place = Place(charge_point_id=station.id, evse_id=evse.id,
                      connector=connectors[0].number if connectors else None, location_id=station.location_id)
        tariff = await self.tariffs.resolve(s, place, at, AD_HOC)
        snapshot = tariff_snapshot(tariff) if tariff else None
        scope = [PaymentProduct.evse_id == evse.id, PaymentProduct.charge_point_id == station.id,
                 (PaymentProduct.evse_id.is_(None) & PaymentProduct.charge_point_id.is_(None)
                  & PaymentProduct.location_id.is_(None))]
        if station.location_id is not None:
            scope.append(PaymentProduct.location_id == station.location_id)
        rows = list(await s.scalars(select(PaymentProduct).where(PaymentProduct.active, or_(*scope))
                                    .order_by(PaymentProduct.position, PaymentProduct.id)))
        power_kw = Decimal(str(evse.max_power_w / 1000 if evse.max_power_w else self.settings.payment_default_power_kw))
        time_zone = location.time_zone if location else "UTC"
        products = [(p, self._price(snapshot, p, power_kw, time_zone, at)) for p in rows] if snapshot else []
        hardware = evse_hardware_status([c.hardware_status for c in connectors])
        running = await s.scalar(select(Session.id).where(Session.evse_id == evse.id, Session.status == ACTIVE)
                                 .limit(1))
        busy = await s.scalar(select(Payment.id).where(Payment.evse_id == evse.id,
                                                       Payment.state.in_(m.HOLDING)).limit(1))
        available = (station.network_status == "online" and station.registration_status == "Accepted"
                     and station.admin_status == "enabled" and evse.admin_status == "enabled"
                     and (hardware is None or hardware.lower() in ("available", "preparing")) and running is None)
        return Offer(evse, station, location, connectors, snapshot, snapshot["currency"] if snapshot else None,
                     products, available, busy is not None, hardware)

    @staticmethod
    def _price(tariff: dict, product: PaymentProduct, power_kw: Decimal, time_zone: str, at: datetime) -> Decimal:
        """What using all of the product costs at the ad hoc tariff, at most its hold: its time at
        the EVSE's power, or its energy in the time that power needs, whichever ends first."""
        hold = Decimal(product.blocking_value)
        seconds = []
        if product.max_duration_min:
            seconds.append(product.max_duration_min * 60)
        if product.max_energy_wh:
            seconds.append(int(Decimal(product.max_energy_wh) / (power_kw * 1000) * 3600) + 1)
        if not seconds:
            return hold
        duration = min(seconds)
        energy = Decimal(product.max_energy_wh or 0)
        priced = price_session(tariff, estimate_intervals(at, energy, duration, power_kw), time_zone)
        return min(priced.total_incl_vat, round_money(hold, priced.currency))

    async def find_payment(self, uid: str) -> Payment:
        async with self.db.session() as s:
            payment = await s.scalar(select(Payment).where(Payment.uid == uid))
        if payment is None:
            raise NotFound("no such payment session")
        return payment

    async def live(self, payment: Payment) -> tuple[Session | None, PricedSession | None]:
        """The payment's session and its cost so far (or final)."""
        if payment.session_id is None:
            return None, None
        async with self.db.session() as s:
            session = await s.get(Session, payment.session_id)
        if session is None:
            return None, None
        return session, await self.billing.price(session)

    # --- the driver pays ------------------------------------------------------------------------------
    async def pay(self, code: str, product_ref: str, method: dict, key: str | None, email: str | None,
                  language: str) -> tuple[Payment, bool]:
        """Place the hold for a product at an EVSE; the worker then starts the charger. (payment,
        created): a repeated idempotency key answers the payment it made the first time."""
        if key is not None:
            async with self.db.session() as s:
                existing = await s.scalar(select(Payment).where(Payment.idempotency_key == key))
            if existing is not None:
                return existing, False
        offer = await self.offer(code)
        product = next((p for p, _ in offer.products if product_ref in (p.uid, str(p.id))), None)
        if product is None:
            raise Invalid("this product is not offered at this charging point",
                          [{"field": "body.product_id", "message": "not offered here"}])
        if not offer.payable:
            raise Conflict("this charging point cannot be started with a direct payment now",
                           {"available": offer.available, "busy": offer.busy})
        hold = round_money(Decimal(product.blocking_value), offer.currency)
        payment = Payment(uid=secrets.token_hex(16), idempotency_key=key or uuid.uuid4().hex, state=m.CREATED,
                          provider=self.provider.name, product_id=product.id, product=product_snapshot(product),
                          charge_point_id=offer.station.id, evse_id=offer.evse.id, evse=offer.evse.number,
                          evse_code=offer.evse.evse_id, id_tag=new_token(),
                          currency=offer.currency, amount_held=str(hold), amount_refunded="0", email=email,
                          language=language, created_at=utcnow(), updated_at=utcnow())
        async with self.db.session() as s:
            s.add(payment)
            await s.flush()
            s.add(PaymentEvent(payment_id=payment.id, event="created", from_state=None, to_state=m.CREATED,
                               data={"product": payment.product, "hold": str(hold)}, at=utcnow()))
            _emit_state(s, payment)
        try:
            outcome = await self.provider.authorize(hold, payment.currency, method, f"{payment.uid}:hold",
                                                    f"Charging at {payment.evse_code or payment.charge_point_id}")
        except Invalid:
            await self._move(payment, "failed", failure="invalid card details")
            raise
        except ProviderError as error:
            log.warning("payment %s: the provider did not answer the authorisation: %s", payment.id, error)
            raise ProviderUnavailable("the payment provider is not reachable; nothing was charged") from None
        if not outcome.ok:
            event = "declined" if outcome.status == DECLINED else "failed"
            await self._move(payment, event, provider_ref=outcome.reference, card=outcome.card,
                             failure=outcome.message)
            raise PaymentRequired(f"the card was {'declined' if event == 'declined' else 'not authenticated'}: "
                                  f"{outcome.message}", {"session_id": payment.uid, "state": payment.state,
                                                         "reason": outcome.message})
        now = utcnow()
        async with self.db.session() as s:
            s.add(IdToken(uid=payment.id_tag, type="Central", status="Accepted", visual_number="direct payment",
                          expires_at=now + timedelta(seconds=self.settings.payment_start_timeout)
                          + timedelta(minutes=(payment.product.get("max_duration_min") or 24 * 60) + 60)))
        await self._move(payment, "authorized", provider_ref=outcome.reference, card=outcome.card,
                         authorized_at=now)
        log.info("payment %s: %s %s held on %s for %s", payment.id, hold, payment.currency, outcome.card,
                 payment.evse_code)
        self._wake.set()
        return payment, True

    async def stop(self, uid: str) -> Payment:
        """The driver ends the session (or cancels before it began: then the hold is released)."""
        payment = await self.find_payment(uid)
        if payment.state == m.CHARGING:
            await self._request_stop(payment, m.DRIVER)
        elif payment.state in (m.AUTHORIZED, m.STARTING) and payment.session_id is None:
            await self._release(payment, "cancelled by the driver before charging began")
        elif payment.state not in (m.STOPPING, m.FINISHED) and payment.state not in m.SETTLED:
            raise Conflict(f"the payment is {payment.state}; try again in a moment")
        return payment

    async def receipt(self, uid: str, language: str | None = None) -> Receipt:
        """The settled payment's receipt: the session's CDR lines, the seller, and the card by its
        brand and last four digits instead of the payment's one-off token (internal: never shown)."""
        payment = await self.find_payment(uid)
        if payment.state not in (m.CAPTURED, m.REFUNDED) or payment.session_id is None:
            raise Conflict("there is no receipt yet: the payment is not settled")
        receipt = await self.billing.receipt(payment.session_id)
        card = CardPayment(card=payment.card, held=Decimal(payment.amount_held),
                           captured=Decimal(payment.amount_captured or "0"),
                           released=Decimal(payment.amount_released or "0"),
                           refunded=Decimal(payment.amount_refunded or "0"))
        return replace(receipt, id_tag=None, payment=card, seller=seller(self.settings),
                       language=language or payment.language)

    # --- operators ---------------------------------------------------------------------------------------
    async def list_payments(self, limit: int, before: tuple | None = None, **filters) -> list[Payment]:
        query = newest_first(select(Payment), Payment.created_at, Payment.id, limit, before)
        for name, value in filters.items():
            if value is not None:
                query = query.where(getattr(Payment, name) == value)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def get(self, payment_id: int) -> tuple[Payment, list[PaymentEvent]]:
        async with self.db.session() as s:
            payment = await get_or_404(s, Payment, payment_id, "payment")
            events = list(await s.scalars(select(PaymentEvent).where(PaymentEvent.payment_id == payment_id)
                                          .order_by(PaymentEvent.id)))
        return payment, events

    async def refund(self, payment_id: int, amount: Decimal | None, reason: str | None, key: str | None) -> Payment:
        payment, events = await self.get(payment_id)
        if payment.state not in (m.CAPTURED, m.REFUNDED):
            raise Conflict(f"only a captured payment can be refunded; this one is {payment.state}")
        refundable = Decimal(payment.amount_captured or 0) - Decimal(payment.amount_refunded)
        if refundable <= 0:
            raise Conflict("nothing is left to refund on this payment")
        amount = refundable if amount is None else amount
        if amount != round_money(amount, payment.currency) or amount <= 0 or amount > refundable:
            raise Invalid(f"the refund must be more than 0 and at most {refundable} {payment.currency}, in "
                          f"{minor_units(payment.currency)} decimals",
                          [{"field": "body.amount", "message": f"at most {refundable}"}])
        refunds = [e for e in events if e.event.startswith("refunded")]
        if key is not None and any((e.data or {}).get("key") == key for e in refunds):
            return payment  # this very request was carried out already: answered again, not refunded again
        key = key or f"{payment.uid}:refund:{len(refunds)}"
        outcome = await self._call(self.provider.refund(payment.provider_ref, amount, payment.currency, key))
        if not outcome.ok:
            raise Conflict(f"the provider refused the refund: {outcome.message}")
        total = Decimal(payment.amount_refunded) + amount
        event = "refunded_fully" if total >= Decimal(payment.amount_captured) else "refunded"
        # Only on the amount we read: a concurrent refund (the provider saw the same key) counts once.
        if not await self._move(payment, event, where=[Payment.amount_refunded == payment.amount_refunded],
                                data={"amount": str(amount), "reason": reason, "key": key},
                                amount_refunded=str(total)):
            raise Conflict("the payment changed meanwhile; reload it before refunding again")
        return payment

    async def webhook(self, body: bytes, signature: str | None) -> Payment | None:
        """A provider's notification, verified: recorded on its payment; a hold the provider
        cancelled while the car charges stops the session."""
        try:
            event = self.provider.webhook(body, signature)
        except InvalidSignature as error:
            raise WattsonError(f"webhook rejected: {error}") from None
        if event.reference is None:
            return None
        async with self.db.session() as s:
            payment = await s.scalar(select(Payment).where(Payment.provider_ref == event.reference))
            if payment is None:
                return None
            s.add(PaymentEvent(payment_id=payment.id, event=f"webhook:{event.type}"[:32], from_state=payment.state,
                               to_state=payment.state, data={"id": event.id}, at=utcnow()))
        if event.type in ("payment_intent.canceled", "hold.canceled") and payment.state == m.CHARGING:
            await self._request_stop(payment, "hold_canceled")
        return payment

    # --- hook from access ----------------------------------------------------------------------------------
    async def admits(self, s: AsyncSession, uid: str, charge_point_id: str) -> bool:
        """A payment's own token at the charger it paid for, while the payment is under way, is
        admitted even where charger groups keep other tags out: the driver paid for this charger
        (its products apply here), and the token belongs to no driver who could hold a right.
        Anywhere else, or once the payment settles, access rights decide as for any tag."""
        if not uid.startswith(TAG_PREFIX):
            return False
        return await s.scalar(select(Payment.id).where(
            Payment.id_tag == uid, Payment.charge_point_id == charge_point_id,
            Payment.state.in_((m.AUTHORIZED, m.STARTING, m.CHARGING, m.STOPPING)))) is not None

    # --- hooks from billing -------------------------------------------------------------------------------
    async def on_session_opened(self, s: AsyncSession, session: Session) -> None:
        """A session opened (or its tariff chosen again) for a payment's token: link it to the
        payment and price it at the ad hoc tariff. Runs in the transaction that opens the session."""
        if not session.id_tag or not session.id_tag.startswith(TAG_PREFIX):
            return
        payment = await s.scalar(select(Payment).where(Payment.id_tag == session.id_tag))
        if payment is None or payment.charge_point_id != session.charge_point_id:
            return
        if payment.session_id is None and payment.state in (m.AUTHORIZED, m.STARTING):
            payment.session_id = session.id
        if payment.session_id == session.id:
            place = Place(charge_point_id=session.charge_point_id, evse_id=session.evse_id,
                          connector=session.connector, location_id=session.location_id)
            tariff = await self.tariffs.resolve(s, place, session.started_at, AD_HOC)
            if tariff is not None:
                session.tariff_id, session.tariff_snapshot = tariff.id, tariff_snapshot(tariff)
        self._wake.set()

    async def on_session_settled(self, session_id: int) -> None:
        self._wake.set()

    # --- the worker ---------------------------------------------------------------------------------------
    def start_worker(self) -> None:
        """Its first round is the startup reconciliation: what the last process left half done
        (a hold asked for but not recorded, a capture or release not confirmed) is settled with
        the provider under the same idempotency keys."""
        self._started_at = utcnow()
        self._loop.start(self._work)

    async def stop_worker(self) -> None:
        await self._loop.stop()

    async def _work(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as error:  # noqa: BLE001 - the worker must outlive any one failure
                log_failure(log, "payment worker round failed", error)
            if not await self._loop.pause(self.settings.payment_poll_interval, self._wake):
                return
            self._wake.clear()

    async def run_once(self) -> int:
        """One round over every open payment; how many there were."""
        async with self.db.session() as s:
            open_ids = list(await s.scalars(select(Payment.id).where(Payment.state.in_(m.OPEN)).order_by(Payment.id)))
        for payment_id in open_ids:
            if self._loop.stopping:
                break  # the process is stopping: the next one resumes from here
            async with self.db.session() as s:
                payment = await s.get(Payment, payment_id)
            try:
                await self.step(payment)
            except ProviderError as error:
                await self._retry_later(payment, str(error))
            except Exception as error:  # noqa: BLE001 - one payment's failure must not stall the others
                log.exception("payment %s: step failed in state %s", payment_id, payment.state)
                await self._retry_later(payment, f"{type(error).__name__}: {error}")
        return len(open_ids)

    async def step(self, payment: Payment) -> None:
        """Move one payment on as far as it can go now."""
        now = utcnow()
        if payment.next_attempt_at is not None and now < payment.next_attempt_at and payment.state != m.STOPPING:
            return
        if payment.state == m.CREATED:
            await self._reconcile_created(payment, now)
        elif payment.state == m.AUTHORIZED:
            await self._start(payment, now)
        elif payment.state == m.STARTING:
            await self._await_start(payment, now)
        elif payment.state in (m.CHARGING, m.STOPPING):
            await self._watch(payment, now)
        if payment.state == m.FINISHED:
            await self._settle(payment)
        if payment.state == m.RELEASING:
            await self._finish_release(payment)

    async def _reconcile_created(self, payment: Payment, now: datetime) -> None:
        """A payment still ``created``: its authorisation was interrupted (the process died, or
        the provider never answered). One made before this process started is looked at at once
        (only one process runs the flow), others after STALE_CREATED. Any hold made under its key
        is released (the driver was never told it succeeded) and the payment fails."""
        restarted = self._started_at is not None and payment.created_at < self._started_at
        if not restarted and now - payment.created_at < STALE_CREATED:
            return
        reference = await self._call(self.provider.find(f"{payment.uid}:hold"))
        if reference is None and now - payment.created_at < STALE_CREATED:
            return  # a provider's search may lag a hold just made (Stripe's does): looked for again later
        if reference is not None:
            outcome = await self._call(self.provider.release(reference, f"{payment.uid}:release"))
            if not outcome.ok:
                raise ProviderError(outcome.message or "release refused")
        await self._block_token(payment)  # made if the process died just before recording the hold
        await self._move(payment, "failed", provider_ref=reference,
                         failure="the authorisation was interrupted; any hold was released")

    async def _start(self, payment: Payment, now: datetime) -> None:
        if not await self._move(payment, "start_requested",
                                start_deadline=now + timedelta(seconds=self.settings.payment_start_timeout)):
            return
        try:
            command = await self.commands.submit(payment.charge_point_id, "remote-start",
                                                 {"id_tag": payment.id_tag, "evse": payment.evse}, wait=False)
        except WattsonError as error:
            await self._release(payment, f"the charger could not be started: {error.message}")
            return
        async with self.db.session() as s:
            await s.execute(update(Payment).where(Payment.id == payment.id).values(command_id=command.id))
        payment.command_id = command.id

    async def _await_start(self, payment: Payment, now: datetime) -> None:
        if payment.session_id is not None:
            await self._watch(payment, now)
            return
        async with self.db.session() as s:
            command = await s.get(Command, payment.command_id) if payment.command_id else None
            online = await s.scalar(select(ChargePoint.network_status).where(
                ChargePoint.id == payment.charge_point_id)) == "online"
        reason = None
        if command is not None and command.state != "pending" and command.status != "Accepted":
            reason = f"the charger refused to start ({command.status or command.error_code or command.state})"
        elif not online:
            reason = "the charger went offline before charging began"
        elif payment.start_deadline is not None and now >= payment.start_deadline:
            reason = f"the charger did not start within {self.settings.payment_start_timeout:g} s"
        if reason is not None:
            await self._release(payment, reason)

    async def _watch(self, payment: Payment, now: datetime) -> None:
        """A linked session: follow it to its end, stopping it at the product's limits."""
        async with self.db.session() as s:
            session = await s.get(Session, payment.session_id) if payment.session_id else None
        if session is None:  # deleted: nothing can be priced any more; settling releases the hold
            if payment.state in (m.CHARGING, m.STOPPING):
                await self._move(payment, "session_finished", next_attempt_at=None)
            return
        if payment.state == m.STARTING:
            if not await self._move(payment, "session_started", started_at=session.started_at):
                return
        if session.status == FINISHED:
            await self._move(payment, "session_finished", finished_at=session.stopped_at, next_attempt_at=None)
            return
        if payment.state == m.STOPPING:
            if payment.next_attempt_at is None or now >= payment.next_attempt_at:
                await self._request_stop(payment, payment.stop_reason)
            return
        priced = await self.billing.price(session)
        progress = m.Progress(elapsed_s=(now - session.started_at).total_seconds(), energy_wh=session.energy_wh,
                              cost_incl_vat=priced.total_incl_vat if priced else Decimal(0))
        reason = m.stop_reason(limits_of({**payment.product, "blocking_value": payment.amount_held}), progress,
                               Decimal(str(self.settings.payment_stop_margin)))
        if reason is not None:
            log.info("payment %s: stopping session %s: %s", payment.id, session.id, reason)
            await self._request_stop(payment, reason)

    async def _request_stop(self, payment: Payment, reason: str) -> None:
        if not await self._move(payment, "stop_requested", stop_reason=reason,
                                next_attempt_at=utcnow() + STOP_RETRY, data={"reason": reason}):
            return
        try:
            command = await self.commands.submit(payment.charge_point_id, "remote-stop",
                                                 {"session_id": payment.session_id}, wait=False)
            async with self.db.session() as s:
                await s.execute(update(Payment).where(Payment.id == payment.id).values(command_id=command.id))
        except WattsonError as error:  # offline: asked again after STOP_RETRY
            log.info("payment %s: stop not sent (%s); will retry", payment.id, error.message)

    async def _settle(self, payment: Payment) -> None:
        """The session is over: capture its price (at most the hold) and release the rest."""
        async with self.db.session() as s:
            session = await s.get(Session, payment.session_id) if payment.session_id else None
            cdr = await s.scalar(select(Cdr).where(Cdr.session_id == payment.session_id)
                                 .order_by(Cdr.sequence.desc()).limit(1)) if session else None
        if session is None:
            await self._release(payment, "the session is gone")
            return
        if session.tariff_snapshot is not None and (cdr is None or cdr.credit):
            await self.billing.settle(session.id)  # normally done at the stop already; never twice
            async with self.db.session() as s:
                cdr = await s.scalar(select(Cdr).where(Cdr.session_id == payment.session_id)
                                     .order_by(Cdr.sequence.desc()).limit(1))
        total = Decimal(cdr.total_incl_vat) if cdr is not None and not cdr.credit else None
        hold = Decimal(payment.amount_held)
        captured, released = m.capture_amount(total, hold)
        if captured <= 0:
            await self._release(payment, "nothing to pay" if total is not None else "no price applied")
            return
        outcome = await self._call(self.provider.capture(payment.provider_ref, captured, payment.currency,
                                                         f"{payment.uid}:capture"))
        if not outcome.ok:
            raise ProviderError(f"capture refused: {outcome.message}")
        if total is not None and total > hold:
            log.warning("payment %s: session %s cost %s, more than the hold %s: %s captured", payment.id,
                        session.id, total, hold, captured)
        await self._move(payment, "captured", amount_captured=str(captured), amount_released=str(released),
                         cdr_id=cdr.id, next_attempt_at=None, data={"total_incl_vat": str(total)})
        await self._block_token(payment)
        log.info("payment %s: captured %s %s, released %s", payment.id, captured, payment.currency, released)

    async def _release(self, payment: Payment, reason: str) -> None:
        """Give up the whole hold (nothing is taken from the card)."""
        condition = [Payment.session_id.is_(None)] if payment.state in (m.AUTHORIZED, m.STARTING) else []
        if await self._move(payment, "release", where=condition, failure=reason, data={"reason": reason}):
            log.info("payment %s: releasing the hold: %s", payment.id, reason)
            await self._block_token(payment)
            await self._finish_release(payment)

    async def _finish_release(self, payment: Payment) -> None:
        if payment.provider_ref is not None:
            outcome = await self._call(self.provider.release(payment.provider_ref, f"{payment.uid}:release"))
            if not outcome.ok:
                raise ProviderError(f"release refused: {outcome.message}")
        await self._move(payment, "released", amount_captured="0", amount_released=payment.amount_held,
                         next_attempt_at=None)

    # --- inside ------------------------------------------------------------------------------------------
    async def _move(self, payment: Payment, event: str, where: list | None = None, data: dict | None = None,
                    **changes) -> bool:
        """Apply ``event`` if the payment is still in the state we read; False when it moved on."""
        new = m.transition(payment.state, event)
        values = {"state": new, "updated_at": utcnow(), **changes}
        async with self.db.session() as s:
            result = await s.execute(update(Payment).where(Payment.id == payment.id, Payment.state == payment.state,
                                                           *(where or [])).values(**values))
            if result.rowcount != 1:
                return False
            s.add(PaymentEvent(payment_id=payment.id, event=event, from_state=payment.state, to_state=new,
                               data=data, at=values["updated_at"]))
            _emit_state(s, await s.get(Payment, payment.id))
        for name, value in values.items():
            setattr(payment, name, value)
        return True

    async def _retry_later(self, payment: Payment, message: str) -> None:
        delay = min(RETRY_BASE_S * 2 ** min(payment.attempts, 8), 3600)
        log.warning("payment %s (%s): %s; retrying in %s s", payment.id, payment.state, message, delay)
        async with self.db.session() as s:
            await s.execute(update(Payment).where(Payment.id == payment.id).values(
                attempts=Payment.attempts + 1, next_attempt_at=utcnow() + timedelta(seconds=delay),
                failure=message[:255]))

    async def _block_token(self, payment: Payment) -> None:
        async with self.db.session() as s:
            await s.execute(update(IdToken).where(IdToken.uid == payment.id_tag).values(status="Expired",
                                                                                       updated_at=utcnow()))

    @staticmethod
    async def _call(awaitable):
        try:
            return await awaitable
        except ProviderError:
            raise
        except WattsonError:
            raise
        except Exception as error:  # noqa: BLE001 - a provider's own failure is a retry, not a crash
            raise ProviderError(f"{type(error).__name__}: {error}") from None

    async def count_open(self) -> int:
        async with self.db.session() as s:
            return await s.scalar(select(func.count()).select_from(Payment).where(Payment.state.in_(m.OPEN)))


def _emit_state(s: AsyncSession, payment: Payment) -> None:
    """payment.state_changed (its creation too), in the transaction of the state's write."""
    emit(s, "payment.state_changed", payment.id, payment_data(payment), payment.charge_point_id)


async def _check_scope(s: AsyncSession, fields: dict) -> None:
    named = [n for n in SCOPES if fields.get(n) is not None]
    if len(named) > 1:
        raise Invalid("a product is offered at one EVSE, one charge point or one location (or, with none, "
                      "everywhere)", [{"field": f"body.{n}", "message": "give at most one"} for n in named])
    for name in named:
        model, what = _SCOPE_MODELS[name]
        if await s.get(model, fields[name]) is None:
            raise Invalid(f"{what} {fields[name]!r} not found", [{"field": f"body.{name}", "message": "not found"}])
