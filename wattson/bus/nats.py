"""The bus between Wattson processes over NATS (``WATTSON_BUS_URL``); docs/architecture.md.

- Commands: core NATS request/reply on the station's own subject. A gateway subscribes to it
  while it holds the station's connection, so the request reaches that gateway and no other; with
  no holder NATS answers "no responders" at once (409 station_offline), a slow station is the
  gateway's timeout as in one process (504). A command is two requests: ``prepare`` (the call in
  the station's protocol version, checked by the holder, before the command is recorded) and
  ``send``.
- Events: what a gateway's stations said (boot, status, sessions, meter values) and their
  connects and disconnects, published at most once into the stream ``<PREFIX>_EVENTS`` (JetStream
  keeps them a day for consumers that were away). The database stays the record: an event is news.
- Take-over: a gateway hearing that a station it holds connected to another gateway closes its
  own (stale) connection.
- The OCPP message log: asked of the holder on the command subject (op ``log``); of a station
  nobody holds, on ``<prefix>.log.<station>``, which every gateway hears and only one that kept the
  station's log (it held it last) answers.
A station held by this process is served in-process, without a round trip through NATS.
"""

import asyncio
import dataclasses
import logging
from time import perf_counter
from urllib.parse import urlsplit

import nats
import nats.errors
import orjson
from nats.errors import NoRespondersError, TimeoutError as NatsTimeout
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError
from pydantic import BaseModel

from wattson.db import utcnow
from wattson.errors import BusUnavailable, CommandNotSupported, Invalid, StationOffline, WattsonError
from wattson.bus.subjects import Subjects, event_kind
from wattson.stations import commands as c

log = logging.getLogger("wattson.bus")

#: How long a prepare or a presence question waits for the holder: it answers from memory, so
#: only a holder that died with its subscription still registered takes this long.
ASK_TIMEOUT_S = 5.0
#: What a command's ``send`` waits beyond the station's own timeout, for the gateway's answer.
SEND_MARGIN_S = 5.0
#: How long a question for a disconnected station's log waits: gateways without it stay silent.
LOG_ASK_TIMEOUT_S = 1.0
#: How long the stream keeps events.
EVENTS_MAX_AGE_S = 24 * 3600
_ERRORS = {cls.__name__: cls for cls in (StationOffline, CommandNotSupported, Invalid)}


async def unreachable(url: str, timeout: float = 5.0) -> str | None:
    """Why the NATS server at ``url`` cannot be used, or None. A plain TCP look for the server's
    INFO greeting: nats-py's own first connect retries an unreachable server for ever."""
    parts = urlsplit(url)
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 4222)
            try:
                greeting = await reader.readline()
            finally:
                writer.close()
    except (OSError, TimeoutError, ValueError) as error:
        return f"{type(error).__name__}: {str(error) or f'no answer within {timeout:g} s'}"
    return None if greeting.startswith(b"INFO ") else "it does not greet as a NATS server"


class NatsBus:
    def __init__(self, url: str, node_id: str, gateway, metrics, subjects: Subjects):
        self.url, self.node_id, self.gateway, self.metrics, self.subjects = url, node_id, gateway, metrics, subjects
        self.nc: nats.NATS | None = None
        self._held: dict[str, object] = {}  # station -> its command subscription
        self._moved: set[str] = set()  # stations whose connection here closes because they moved
        self._tasks: set[asyncio.Task] = set()
        self._closing = False
        self._publish_failing = False

    # --- life ----------------------------------------------------------------------------------
    async def connect(self, serve_stations: bool) -> None:
        """Connect (``wattson serve`` checks first that NATS can be reached: nats-py's first
        connect retries for ever); with ``serve_stations`` this process's gateway answers for the
        stations it holds. Later outages are reconnected from, once a second."""
        self.nc = await nats.connect(self.url, name=self.node_id, connect_timeout=5, reconnect_time_wait=1,
                                     max_reconnect_attempts=-1, allow_reconnect=True,
                                     error_cb=self._on_error, disconnected_cb=self._on_disconnected,
                                     reconnected_cb=self._on_reconnected)
        await self._ensure_stream()
        if serve_stations:
            self.gateway.link = self
            await self.nc.subscribe(self.subjects.events("connected"), cb=self._on_connected)
            await self.nc.subscribe(self.subjects.logs(), cb=self._on_log_question)

    async def _ensure_stream(self) -> None:
        config = StreamConfig(name=self.subjects.stream, subjects=[self.subjects.events()],
                              max_age=EVENTS_MAX_AGE_S)
        js = self.nc.jetstream()
        try:
            try:
                await js.add_stream(config)
            except BadRequestError:  # there already, configured otherwise (an older release)
                await js.update_stream(config)
        except Exception as error:  # noqa: BLE001 - commands and live events work without it
            log.warning("events are not kept: JetStream stream %s could not be set up (%s)", config.name, error)

    async def close(self) -> None:
        self._closing = True
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.drain()

    async def check(self) -> None:
        """Readiness: connected, and the server answers a round trip."""
        if self.nc is None or not self.nc.is_connected:
            raise ConnectionError("not connected to NATS")
        await self.nc.flush(timeout=2)

    async def _on_error(self, error: Exception) -> None:
        if self.nc is not None and self.nc.is_reconnecting:  # once a second while it is down: said once
            log.debug("NATS: %s", error)
        else:
            log.warning("NATS: %s", error)

    async def _on_disconnected(self) -> None:
        if not self._closing:
            log.warning("NATS connection lost: reconnecting (commands to other processes fail meanwhile)")

    async def _on_reconnected(self) -> None:
        log.info("NATS connection back")

    # --- CommandBus: asking the holder ------------------------------------------------------------
    async def is_online(self, charge_point_id: str) -> bool:
        if self.gateway.holds(charge_point_id):
            return True
        try:
            await self._ask(charge_point_id, {"op": "ping"})
        except StationOffline:
            return False
        return True  # BusUnavailable goes up (503): "offline" would be a guess

    async def prepare(self, charge_point_id: str, name: str, params: BaseModel) -> tuple[str, dict]:
        if self.gateway.holds(charge_point_id):
            return await self.gateway.prepare(charge_point_id, name, params)
        answer = await self._ask(charge_point_id, {"op": "prepare", "name": name,
                                                   "params": params.model_dump(mode="json")})
        return answer["action"], answer["payload"]

    async def prepare_raw(self, charge_point_id: str, action: str, payload: dict) -> tuple[str, dict]:
        if self.gateway.holds(charge_point_id):
            return await self.gateway.prepare_raw(charge_point_id, action, payload)
        answer = await self._ask(charge_point_id, {"op": "prepare_raw", "action": action, "payload": payload})
        return answer["action"], answer["payload"]

    async def send(self, charge_point_id: str, action: str, payload: dict, timeout: float) -> c.Outcome:
        if self.gateway.holds(charge_point_id):
            return await self.gateway.send(charge_point_id, action, payload, timeout)
        started = perf_counter()
        try:
            answer = await self._ask(charge_point_id, {"op": "send", "action": action, "payload": payload,
                                                       "timeout": timeout}, timeout + SEND_MARGIN_S)
            outcome = c.Outcome(**answer["outcome"])
        except StationOffline:
            outcome = c.Outcome(c.FAILED, action, payload, error_code="StationOffline",
                                error_description="the station is not connected")
        except BusUnavailable as error:
            outcome = c.Outcome(c.FAILED, action, payload, error_code="BusUnavailable", error_description=error.message)
        except TimeoutError:
            outcome = c.Outcome(c.TIMEOUT, action, payload,
                                error_description="no answer from the gateway holding the station")
        self.metrics.round_trip(action, outcome.state, perf_counter() - started)
        return outcome

    async def frames(self, charge_point_id: str, action: str | None = None, limit: int = 100) -> dict:
        """The station's OCPP message log (``FrameLog.answer``'s shape) from the gateway holding
        it, else from one that held it last; with neither, an empty log and a note."""
        frame_log = self.gateway.frame_log
        if self.gateway.holds(charge_point_id):
            return frame_log.answer(charge_point_id, action, limit)
        question = {"op": "log", "action": action, "limit": limit}
        try:
            return await self._ask(charge_point_id, question)
        except StationOffline:
            pass
        if frame_log.has(charge_point_id):  # this process held it last
            return frame_log.answer(charge_point_id, action, limit)
        try:
            msg = await self.nc.request(self.subjects.log(charge_point_id),
                                        orjson.dumps({"station": charge_point_id, **question}),
                                        timeout=LOG_ASK_TIMEOUT_S)
        except NoRespondersError:
            return {"frames": [], "capacity": frame_log.capacity,
                    "note": "no gateway process is running: no frames to show"}
        except NatsTimeout:
            return {"frames": [], "capacity": frame_log.capacity,
                    "note": "no gateway kept frames of this station: it has not connected since they started, "
                            "or its log was dropped among the oldest of the disconnected stations"}
        except nats.errors.Error as error:
            raise BusUnavailable(f"the bus to the station gateways failed ({type(error).__name__}); "
                                 "try again shortly") from None
        return orjson.loads(msg.data)

    async def _ask(self, charge_point_id: str, request: dict, timeout: float = ASK_TIMEOUT_S) -> dict:
        if self.nc is None or not self.nc.is_connected:
            raise BusUnavailable("the bus to the station gateways is down; try again shortly")
        try:
            msg = await self.nc.request(self.subjects.command(charge_point_id),
                                        orjson.dumps({"station": charge_point_id, **request}), timeout=timeout)
        except NoRespondersError:
            raise StationOffline(f"charge point {charge_point_id!r} is not connected") from None
        except NatsTimeout:
            if request["op"] == "send":
                raise TimeoutError from None  # the command's outcome: timeout
            raise BusUnavailable(f"the gateway holding {charge_point_id!r} did not answer within {timeout:g} s; "
                                 "try again shortly") from None
        except nats.errors.Error as error:  # the connection dropped meanwhile
            raise BusUnavailable(f"the bus to the station gateways failed ({type(error).__name__}); "
                                 "try again shortly") from None
        answer = orjson.loads(msg.data)
        if "error" in answer:
            error = answer["error"]
            raise _ERRORS.get(error["type"], WattsonError)(error["message"], error.get("details"))
        return answer

    # --- StationLink: the gateway's side ----------------------------------------------------------
    async def held(self, charge_point_id: str) -> None:
        subscription = await self.nc.subscribe(self.subjects.command(charge_point_id), cb=self._on_command)
        previous = self._held.pop(charge_point_id, None)
        self._held[charge_point_id] = subscription
        if previous is not None:
            await _quietly(previous.unsubscribe())
        await self._publish("connected", charge_point_id, {})

    async def released(self, charge_point_id: str) -> None:
        subscription = self._held.pop(charge_point_id, None)
        if subscription is not None:
            await _quietly(subscription.unsubscribe())
        if charge_point_id in self._moved:
            self._moved.discard(charge_point_id)  # it is connected, elsewhere
        else:
            await self._publish("disconnected", charge_point_id, {})

    async def said(self, charge_point_id: str, version: str, action: str, payload: dict, response: dict) -> None:
        kind = event_kind(action, payload)
        if kind is not None:
            await self._publish(kind, charge_point_id, {"version": version, "action": action, "request": payload,
                                                        "response": response})

    async def _publish(self, kind: str, charge_point_id: str, data: dict) -> None:
        body = {"station": charge_point_id, "node": self.node_id, "at": utcnow().isoformat(), **data}
        try:
            await self.nc.publish(self.subjects.event(kind, charge_point_id), orjson.dumps(body))
        except Exception as error:  # noqa: BLE001 - an event lost is news missed; the station is answered
            if not self._publish_failing:  # one line per outage, not one per message
                log.warning("events are not published (%s: %s) until NATS takes them again", type(error).__name__,
                            error)
            self._publish_failing = True
            return
        if self._publish_failing:
            self._publish_failing = False
            log.info("events are published again")

    async def _on_connected(self, msg) -> None:
        event = orjson.loads(msg.data)
        station = event.get("station")
        if event.get("node") != self.node_id and self.gateway.holds(station):
            self._moved.add(station)
            self._spawn(self.gateway.replaced(station, why="connected to another gateway"))

    async def _on_command(self, msg) -> None:
        """Answered in a task of its own: a station's slow reply must not hold up the next request."""
        self._spawn(self._answer(msg))

    async def _answer(self, msg) -> None:
        try:
            answer = await self._serve(orjson.loads(msg.data))
        except WattsonError as error:
            answer = {"error": {"type": type(error).__name__, "message": error.message, "details": error.details}}
        except Exception:  # noqa: BLE001 - the asker gets an answer, the log the traceback
            log.exception("bus request failed")
            answer = {"error": {"type": "WattsonError", "message": "the gateway could not serve this request"}}
        try:
            await msg.respond(orjson.dumps(answer))
        except Exception as error:  # noqa: BLE001 - the asker gave up or the bus is down
            log.warning("bus answer not sent: %s", error)

    async def _on_log_question(self, msg) -> None:
        """Answered only by a gateway that kept the station's log: the others stay silent."""
        try:
            question = orjson.loads(msg.data)
            station = question["station"]
            if not self.gateway.frame_log.has(station):
                return
            await msg.respond(orjson.dumps(self.gateway.frame_log.answer(station, question.get("action"),
                                                                         int(question.get("limit", 100)))))
        except Exception as error:  # noqa: BLE001 - the asker times out and says so
            log.warning("OCPP log question not answered: %s", error)

    async def _serve(self, request: dict) -> dict:
        station, op, gateway = request["station"], request["op"], self.gateway
        if op == "log":  # the log outlives the connection: answered even if it closed meanwhile
            return gateway.frame_log.answer(station, request.get("action"), int(request.get("limit", 100)))
        if not gateway.holds(station):
            raise StationOffline(f"charge point {station!r} is not connected")
        if op == "ping":
            return {"online": True}
        if op == "prepare":
            params = c.CATALOGUE[request["name"]].model_validate(request["params"])
            action, payload = await gateway.prepare(station, request["name"], params)
        elif op == "prepare_raw":
            action, payload = await gateway.prepare_raw(station, request["action"], request["payload"])
        elif op == "send":
            outcome = await gateway.send(station, request["action"], request["payload"], request["timeout"])
            return {"outcome": dataclasses.asdict(outcome)}
        else:
            raise Invalid(f"unknown bus operation {op!r}")
        return {"action": action, "payload": payload}

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _quietly(coro) -> None:
    try:
        await coro
    except Exception:  # noqa: BLE001 - the subscription or the connection is gone already
        pass
