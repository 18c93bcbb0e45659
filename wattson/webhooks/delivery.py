"""The worker's webhook jobs: fan-out (outbox events → one delivery row per interested
subscription), delivery (signed POSTs with retries, in order per resource, bounded per
subscription) and pruning old events.

Crash safety: a delivery is marked delivered only after its receiver answered 2xx, in its own
transaction; a worker killed mid-request leaves it pending, and the next worker sends it again
(at-least-once: receivers de-duplicate on the event id). Fan-out moves a subscription's cursor
in the transaction that inserts its deliveries, so an event is fanned out once.

Safety: every connection goes through ``GuardedBackend``, which resolves the host itself, checks
each address (``rules.refusal``) and connects to the address it checked, so a DNS answer that
changes between the check and the connection cannot reach a refused address. Redirects are not
followed; bodies read are capped; timeouts bound each attempt.
"""

import asyncio
import logging
import random
import socket
import time
from datetime import timedelta

import httpcore
import httpx
import orjson
from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.orm import aliased

from wattson import __version__
from wattson.background import GRACE_S, Loop
from wattson.db import Database, utcnow
from wattson.db.errors import log_failure
from wattson.settings import Settings
from wattson.webhooks import rules
from wattson.webhooks.catalogue import TYPES, wanted
from wattson.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription

log = logging.getLogger("wattson.webhooks")
#: bytes of a receiver's answer read at most (the rest is dropped unread)
MAX_RESPONSE_BYTES = 4096
#: events fanned out per subscription and round at most
FAN_OUT_BATCH = 500
#: a hole in the outbox ids younger than this may be a transaction still committing: fan-out
#: waits for it rather than skip the event (PostgreSQL hands ids out before the commit)
GAP_WAIT_S = 10.0
#: the longest time between two prunings (a short retention prunes more often)
PRUNE_EVERY_S = 600.0
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


# --- where a delivery may go ------------------------------------------------------------------
async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (an IP literal: itself); empty when it does not."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


async def check_url(url: str, settings: Settings) -> None:
    """Raise ``rules.Refused`` when deliveries may not go to ``url`` (at subscription time and
    again before each attempt)."""
    scheme, host, port = rules.parse_target(url)
    reason = rules.refusal(scheme, await resolve(host, port), settings.webhook_allow_private,
                           settings.webhook_allow_http)
    if reason:
        raise rules.Refused(reason)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to checked addresses (TLS still verifies the
    host name: httpcore passes it as the server name)."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = await resolve(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        closed = [a for a in addresses if rules.address_kind(a) is not None]
        if closed and not self.allow_private:
            raise httpcore.ConnectError(f"{host} resolves to a refused address ({', '.join(closed)})")
        return await self.inner.connect_tcp(addresses[0], port, timeout=timeout, local_address=local_address,
                                            socket_options=socket_options)

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("webhooks never use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_client(settings: Settings) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(retries=0)
    # the same pool httpx builds, with the guarded backend (httpx has no parameter for it)
    transport._pool = httpcore.AsyncConnectionPool(ssl_context=httpx.create_ssl_context(), max_connections=100,
                                                   max_keepalive_connections=20, keepalive_expiry=5.0,
                                                   network_backend=GuardedBackend(settings.webhook_allow_private))
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False,
                             timeout=httpx.Timeout(settings.webhook_timeout_s),
                             headers={"User-Agent": f"Wattson-Webhooks/{__version__}"})


def body_of(event: WebhookEvent) -> bytes:
    """What a delivery POSTs: the same bytes every attempt (the signature covers them)."""
    return orjson.dumps({"id": event.uid, "type": event.type,
                         "created_at": event.created_at.isoformat().replace("+00:00", "Z"), "data": event.data})


def resource_key(event: WebhookEvent) -> str:
    kind = TYPES[event.type].resource if event.type in TYPES else event.type
    return f"{kind}:{event.resource_id}"[:120]


# --- the worker -------------------------------------------------------------------------------
class Deliverer:
    """The webhook jobs of the process holding the worker lock (runtime.py starts and stops it)."""

    def __init__(self, db: Database, settings: Settings, rng: random.Random | None = None):
        self.db = db
        self.settings = settings
        self.rng = rng or random.Random()
        self.wake = asyncio.Event()  # set by the service (a ping, a redelivery): look now
        self._loop = Loop("webhooks")
        self._client: httpx.AsyncClient | None = None
        self._in_flight: dict[int, tuple[int, asyncio.Task]] = {}  # delivery id → (subscription id, attempt)
        self._pruned_at = 0.0

    def start(self) -> None:
        self._client = guarded_client(self.settings)
        self._loop.start(self._work)

    async def stop(self) -> None:
        await self._loop.stop()
        tasks = [task for _, task in self._in_flight.values()]
        if tasks:  # let attempts under way end (up to the grace every background job gets)
            _, late = await asyncio.wait(tasks, timeout=min(GRACE_S, self.settings.webhook_timeout_s + 1))
            for task in late:  # left pending: sent again by the next worker
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _work(self) -> None:
        while True:
            self.wake.clear()
            try:
                await self.round()
            except Exception as error:  # noqa: BLE001 - the loop must outlive any one round
                log_failure(log, "webhook delivery round", error)
            if not await self._loop.pause(self.settings.webhook_poll_s, self.wake):
                return

    async def round(self) -> None:
        await self.fan_out()
        await self.dispatch()
        every = min(PRUNE_EVERY_S, self.settings.webhook_retention_days * 86400 / 4)
        if time.monotonic() - self._pruned_at > every:
            self._pruned_at = time.monotonic()
            await self.prune()

    # --- fan-out --------------------------------------------------------------------------------
    async def fan_out(self) -> int:
        """New events → deliveries for each active subscription wanting them; cursors moved. The
        count of deliveries made."""
        made = 0
        async with self.db.session() as s:
            newest = await s.scalar(select(func.max(WebhookEvent.id))) or 0
            subscriptions = (await s.scalars(select(WebhookSubscription).where(
                WebhookSubscription.active, WebhookSubscription.cursor < newest))).all()  # those with news
        for sub in subscriptions:
            async with self.db.session() as s:
                sub = await s.get(WebhookSubscription, sub.id, with_for_update=self.db.dialect == "postgresql")
                if sub is None or not sub.active:
                    continue
                events = (await s.scalars(select(WebhookEvent).where(WebhookEvent.id > sub.cursor)
                                          .order_by(WebhookEvent.id).limit(FAN_OUT_BATCH))).all()
                cursor, now = sub.cursor, utcnow()
                for event in events:
                    if event.id != cursor + 1 and now - event.created_at < timedelta(seconds=GAP_WAIT_S):
                        break  # an earlier id may still be committing
                    cursor = event.id
                    if event.type != "ping" and wanted(sub.events, event.type):
                        s.add(WebhookDelivery(subscription_id=sub.id, event_id=event.id,
                                              resource_key=resource_key(event), next_attempt_at=now,
                                              created_at=now, queued_at=now))
                        made += 1
                sub.cursor = cursor
        return made

    # --- delivery -------------------------------------------------------------------------------
    async def dispatch(self) -> None:
        """Start attempts for due deliveries: the earliest pending one of each resource only, at
        most WATTSON_WEBHOOK_CONCURRENCY per subscription in flight."""
        self._in_flight = {k: v for k, v in self._in_flight.items() if not v[1].done()}
        earlier = aliased(WebhookDelivery)
        blocked = exists().where(and_(earlier.subscription_id == WebhookDelivery.subscription_id,
                                      earlier.resource_key == WebhookDelivery.resource_key,
                                      earlier.status == PENDING, earlier.id < WebhookDelivery.id))
        async with self.db.session() as s:
            due = (await s.execute(
                select(WebhookDelivery.id, WebhookDelivery.subscription_id)
                .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= utcnow(),
                       WebhookSubscription.active, ~blocked)
                .order_by(WebhookDelivery.id).limit(1000))).all()
        busy: dict[int, int] = {}
        for owner, _ in self._in_flight.values():
            busy[owner] = busy.get(owner, 0) + 1
        for delivery_id, subscription_id in due:
            if delivery_id in self._in_flight or busy.get(subscription_id, 0) >= self.settings.webhook_concurrency:
                continue
            busy[subscription_id] = busy.get(subscription_id, 0) + 1
            task = asyncio.create_task(self._attempt(delivery_id), name=f"webhook-{delivery_id}")
            self._in_flight[delivery_id] = (subscription_id, task)
            task.add_done_callback(lambda _: self.wake.set())  # its successor may be due now

    async def _attempt(self, delivery_id: int) -> None:
        try:
            async with self.db.session() as s:
                delivery = await s.get(WebhookDelivery, delivery_id)
                if delivery is None or delivery.status != PENDING:
                    return
                event = await s.get(WebhookEvent, delivery.event_id)
                sub = await s.get(WebhookSubscription, delivery.subscription_id)
            code, error = await self.send(sub, event)
            await self._record(delivery_id, code, error)
        except Exception as error:  # noqa: BLE001 - one delivery must not end the worker
            log_failure(log, f"webhook delivery {delivery_id}", error)

    async def send(self, sub: WebhookSubscription, event: WebhookEvent) -> tuple[int | None, str | None]:
        """POST the event to the subscription's URL: (status code, error), error None on 2xx."""
        try:
            await check_url(sub.url, self.settings)
        except rules.Refused as refused:
            return None, f"refused target: {refused}"
        body = body_of(event)
        secrets = rules.signing_secrets(sub.secret, sub.previous_secret, sub.previous_secret_until, utcnow())
        headers = {"Content-Type": "application/json", rules.SIGNATURE_HEADER: rules.sign(body, secrets, int(time.time())),
                   "Wattson-Event-Id": event.uid, "Wattson-Event-Type": event.type}
        try:
            async with self._client.stream("POST", sub.url, content=body, headers=headers) as response:
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= MAX_RESPONSE_BYTES:
                        break
        except httpx.TimeoutException:
            return None, f"no answer within {self.settings.webhook_timeout_s:g} s"
        except httpx.HTTPError as failed:
            return None, f"{type(failed).__name__}: {failed}"[:500]
        if 200 <= response.status_code < 300:
            return response.status_code, None
        if 300 <= response.status_code < 400:
            return response.status_code, f"HTTP {response.status_code}: redirects are not followed"
        return response.status_code, f"HTTP {response.status_code}"

    async def _record(self, delivery_id: int, code: int | None, error: str | None) -> None:
        now = utcnow()
        async with self.db.session() as s:
            delivery = await s.get(WebhookDelivery, delivery_id)
            if delivery is None:  # its subscription deleted meanwhile
                return
            delivery.attempts += 1
            delivery.last_attempt_at, delivery.last_status_code, delivery.last_error = now, code, error
            if error is None:
                delivery.status, delivery.delivered_at = DELIVERED, now
                await s.execute(update(WebhookSubscription).where(WebhookSubscription.id == delivery.subscription_id)
                                .values(failures_in_a_row=0))
                return
            delay = rules.backoff(delivery.attempts, self.rng, self.settings.webhook_retry_base_s,
                                  self.settings.webhook_retry_max_s)
            retry = rules.next_attempt(delivery.queued_at or delivery.created_at, now, delay,
                                       self.settings.webhook_retry_horizon_s)
            if retry is None:
                delivery.status = FAILED
            else:
                delivery.next_attempt_at = retry
            sub = await s.get(WebhookSubscription, delivery.subscription_id,
                              with_for_update=self.db.dialect == "postgresql")
            sub.failures_in_a_row += 1
            if sub.active and rules.pauses(sub.failures_in_a_row, self.settings.webhook_pause_after):
                sub.active = False
                sub.paused_reason = (f"paused at {now.isoformat(timespec='seconds')} after {sub.failures_in_a_row} "
                                     f"failed attempts in a row; the last: {error}")
                log.warning("webhook %s paused: %s", sub.id, sub.paused_reason)

    # --- pruning --------------------------------------------------------------------------------
    async def prune(self) -> int:
        """Delete events older than the retention that no delivery waits for (their delivered
        and failed deliveries with them). The count deleted."""
        before = utcnow() - timedelta(days=self.settings.webhook_retention_days)
        waiting = exists().where(WebhookDelivery.event_id == WebhookEvent.id, WebhookDelivery.status == PENDING)
        lowest = select(func.min(WebhookSubscription.cursor)).where(WebhookSubscription.active).scalar_subquery()
        async with self.db.session() as s:
            newest = select(func.max(WebhookEvent.id)).scalar_subquery()
            # The newest event stays: on SQLite ids would be handed out again after it, below the
            # subscriptions' cursors and the streams' Last-Event-IDs.
            old = select(WebhookEvent.id).where(WebhookEvent.created_at < before, ~waiting,
                                                WebhookEvent.id <= func.coalesce(lowest, WebhookEvent.id),
                                                WebhookEvent.id < newest)
            ids = list((await s.scalars(old.limit(5000))).all())
            if ids:
                await s.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids)))
                await s.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(ids)))
        return len(ids)
