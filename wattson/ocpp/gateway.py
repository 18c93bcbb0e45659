"""The OCPP WebSocket endpoint: handshake (identity, subprotocol, credentials) and the live connections.

An ASGI WebSocket app mounted at ``/ocpp/{charge_point_id}``. It talks to ASGI directly
(no framework routing per message) because every station message passes through it.

Credentials (docs/security.md): an HTTP Basic password, whether the connection is TLS (scope
scheme ``wss``) and the client certificate from the standard ASGI TLS extension. Every refusal
for want of them is the same 401, so a stranger learns nothing about which stations exist or
what they need; only the log says why. Repeated attempts per (station, client address), and
many failures from one address, are answered 429 at once without checking the credentials (throttle.py).
Each refusal, connect and disconnect is told to the connection diagnostics (``diagnostics``), with
the reason, for the installer (docs/operations.md); each station's frames go to its message log
(``frame_log.py``).
"""

import asyncio
import base64
import math
import logging
from time import perf_counter

import orjson
from cryptography import x509
from cryptography.x509.oid import NameOID
from pydantic import BaseModel

from wattson.bus import StationLink
from wattson.diagnostics.rules import attempt, credential_reason, disconnect_reason
from wattson.errors import CommandNotSupported, Invalid, StationOffline, Unauthenticated
from wattson.observability.logging import STATION_ID
from wattson.observability.metrics import Metrics
from wattson.ocpp.connection import Connection, ConnectionClosed, StationCallError
from wattson.ocpp.frame_log import FrameLog
from wattson.ocpp.protocol import Protocol
from wattson.ocpp.rpc import RpcError
from wattson.ocpp.throttle import Throttle
from wattson.ocpp.v201 import batching
from wattson.stations import commands as c
from wattson.stations.identity import identity_problem
from wattson.stations.service import Credentials

log = logging.getLogger("wattson.ocpp")
PREFIX = "/ocpp/"
#: The one answer to every station that did not authenticate, whatever the reason.
UNAUTHENTICATED = (401, "unauthorized", "not authenticated: an unknown charge point, or credentials missing or "
                                        "wrong for its security profile")
CHALLENGE = [(b"www-authenticate", b'Basic realm="Wattson OCPP", charset="UTF-8"')]
#: Too many recent attempts: refused before the credentials are looked at.
THROTTLED = (429, "too_many_attempts", "too many connection attempts; retry later")
#: A CA-verified client certificate of some other station.
FORBIDDEN = (403, "forbidden", "the client certificate does not identify this charge point")


def negotiate(offered: list[str], supported: list[Protocol]) -> Protocol | None:
    """The first of our protocols (best first) that the station also offers."""
    for protocol in supported:
        if protocol.subprotocol in offered:
            return protocol
    return None


class Gateway:
    def __init__(self, stations, protocols: list[Protocol], throttle: Throttle | None = None,
                 address_throttle: Throttle | None = None, metrics: Metrics | None = None,
                 log_frames: int = 100, diagnostics=None):
        self.stations = stations
        #: told which stations this process holds and what they say (a bus; None in one process)
        self.link: StationLink | None = None
        self.protocols = protocols  # best first
        self.connections: dict[str, Connection] = {}
        self.metrics = metrics or Metrics()
        self.metrics.watch_connections(lambda: len(self.connections))
        #: Attempts per (station, client address), counted when admitted.
        self.throttle = throttle or Throttle(free=10)
        #: Failures per client address: generous, as stations may share a proxy or NAT, and counting
        #: only failures, as a reconnect storm through one proxy is thousands of handshakes at once.
        self.address_throttle = address_throttle or Throttle(free=1000)
        #: each station's last frames (WATTSON_OCPP_LOG_FRAMES), kept a while after it disconnects
        self.frame_log = FrameLog(log_frames)
        #: told every handshake outcome (``record(Attempt)``, DiagnosticsService); None: not recorded
        self.diagnostics = diagnostics
        #: why we are closing a connection (diagnostics.rules reason), until its disconnect is seen
        self._ending: dict[Connection, str] = {}

    # --- the WebSocket endpoint ------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        identity = scope["path"][len(PREFIX):]
        if (await receive())["type"] != "websocket.connect":
            return
        problem = identity_problem(identity)
        if problem:
            log.warning("refused connection to %r: %s", scope["path"], problem)
            self._note(scope, identity, "invalid_identity", f"{problem}; the path was {scope['path'][:120]!r}")
            await _deny(scope, send, 400, "invalid_identity", problem)
            return
        STATION_ID.set(identity)  # this task serves only this station: every line it logs names it
        offered = scope.get("subprotocols") or []
        protocol = negotiate(offered, self.protocols)
        if protocol is None:
            reason = (f"no supported OCPP subprotocol offered (offered {offered or 'none'}, "
                      f"supported {[p.subprotocol for p in self.protocols]})")
            log.warning("refused %s: %s", identity, reason)
            self._note(scope, identity, "no_subprotocol", reason)
            # OCPP-J: complete the handshake without a subprotocol, then close at once.
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 1002, "reason": reason[:120]})
            return
        named = certificate_name(scope)
        if named is not None and named != identity:
            await self._refuse(scope, send, identity, FORBIDDEN, f"its client certificate is for {named!r}",
                               "certificate_mismatch")
            return
        address = client_address(scope)
        wait = self._admit(identity, address)
        if wait:
            log.warning("refused %s from %s unchecked: too many recent attempts", identity, address)
            self._note(scope, identity, "throttled", f"retry after {max(1, math.ceil(wait))} s")
            await _deny(scope, send, *THROTTLED, [(b"retry-after", str(max(1, math.ceil(wait))).encode())])
            return
        credentials = Credentials(password=basic_password(scope, identity), tls=scope.get("scheme") == "wss",
                                  certificate=named == identity)
        try:
            registration = await self.stations.connect(identity, protocol.version, credentials)
        except Unauthenticated as error:
            tls = (scope.get("extensions") or {}).get("tls") or {}
            reason = credential_reason(error.message, credentials.password is None and _has_basic(scope),
                                       tls.get("client_cert_error"))
            await self._refuse(scope, send, identity, UNAUTHENTICATED, error.message, reason,
                               _credential_detail(reason, error.message, scope, identity))
            return
        except BaseException:  # not the station's fault (database gone, shutdown): not held against it
            self.throttle.succeeded((identity, address))
            raise
        if registration is None:
            await self._refuse(scope, send, identity, UNAUTHENTICATED,
                               "unknown charge point (register it, or set WATTSON_AUTO_REGISTER)", "unknown_station")
            return
        self.throttle.succeeded((identity, address))  # its own attempt only: a guesser's still count
        await send({"type": "websocket.accept", "subprotocol": protocol.subprotocol})
        self._note(scope, identity, "accepted", f"OCPP {protocol.version}, registration {registration}")
        await self._serve(identity, protocol, registration, receive, send, scope)

    def _admit(self, identity: str, address: str) -> float:
        """Seconds to wait when this attempt is refused unchecked, else 0. Counted before its
        credentials are checked, so parallel guesses at one station gain nothing."""
        return self.address_throttle.check(address) or self.throttle.admit((identity, address))

    async def _refuse(self, scope, send, identity: str, answer: tuple[int, str, str], reason: str, code: str,
                      detail: str | None = None) -> None:
        """Log the real ``reason`` and record it as ``code``, count the failure against the address,
        give the fixed answer at once."""
        address = client_address(scope)
        self.address_throttle.failed(address)
        log.warning("refused %s from %s: %s", identity, address, reason)
        self._note(scope, identity, code, detail or reason)
        status, code, message = answer
        await _deny(scope, send, status, code, message, CHALLENGE if status == 401 else None)

    def _note(self, scope, identity: str | None, reason: str, detail: str = "", close_code: int | None = None) -> None:
        """Tell the diagnostics what happened to this handshake or connection."""
        if self.diagnostics is not None:
            self.diagnostics.record(attempt(identity, reason, client_address(scope), scope.get("scheme") == "wss",
                                            scope.get("subprotocols") or (), close_code, detail))

    async def refuse_websocket(self, scope, receive, send, status: int, code: str, message: str) -> None:
        """Refuse a WebSocket handshake not yet received (an HTTP status with a JSON body), recorded:
        a station sent to a process that does not serve it."""
        if (await receive())["type"] == "websocket.connect":
            identity = scope["path"][len(PREFIX):] if scope["path"].startswith(PREFIX) else scope["path"]
            self._note(scope, identity, "not_served", f"{message} (path {scope['path'][:120]!r})")
            await _deny(scope, send, status, code, message)

    async def _serve(self, identity: str, protocol: Protocol, registration: str, receive, send, scope=None) -> None:
        async def send_text(text: str) -> None:
            await send({"type": "websocket.send", "text": text})

        async def close(code: int, reason: str) -> None:
            await send({"type": "websocket.close", "code": code, "reason": reason})

        conn = Connection(identity, protocol, registration, send_text, close, self.metrics,
                          self.link.said if self.link is not None else None, self.frame_log.opened(identity))
        close_code = None
        previous = self.connections.get(identity)
        self.connections[identity] = conn
        log.info("%s connected (OCPP %s, %s)", identity, protocol.version, registration)
        if previous is not None:
            await self.replaced(identity, previous, "replaced by a new connection")
        try:
            if self.link is not None:
                await self.link.held(identity)
            while True:
                message = await receive()
                if message["type"] == "websocket.receive":
                    text = message.get("text")
                    if text is None:  # OCPP-J messages are JSON text: RFC 6455 1003, unsupported data
                        log.warning("%s sent a binary frame; OCPP-J frames are text: closing with 1003", identity)
                        conn.closed()
                        await _quietly(close(1003, "OCPP-J messages are text frames"))
                        continue  # until the server reports the disconnect
                    await conn.receive(text)
                elif message["type"] == "websocket.disconnect":
                    close_code = message.get("code")
                    if message.get("code") == 1009:  # mostly the server refusing, unread, a frame above the limit
                        log.warning("%s: connection closed with 1009, message too big (%s): a frame of the station "
                                    "above WATTSON_OCPP_MAX_FRAME_BYTES, or one of ours above the station's limit",
                                    identity, message.get("reason") or "no reason given")
                    break
        finally:
            conn.closed()
            ending = self._ending.pop(conn, None)
            if scope is not None:
                self._note(scope, identity, disconnect_reason(close_code, ending), close_code=close_code)
            if self.connections.get(identity) is conn:
                del self.connections[identity]
                self.frame_log.closed(identity)
                log.info("%s disconnected", identity)
                await asyncio.shield(self._released(identity))

    async def _released(self, identity: str) -> None:
        await self.stations.disconnect(identity)
        if self.link is not None:
            await self.link.released(identity)

    async def replaced(self, identity: str, conn: Connection | None = None, why: str = "") -> None:
        """Close this process's connection of a station that connected again (here or, told by
        the bus, to another gateway): a station has one connection, the newest."""
        conn = conn or self.connections.get(identity)
        if conn is None:
            return
        log.info("%s: closing its previous connection (%s)", identity, why)
        self._ending[conn] = "moved" if why == "connected to another gateway" else "replaced"
        conn.closed()
        await _quietly(conn.close(1000, why))

    # --- the message log ---------------------------------------------------------------------
    async def frames(self, charge_point_id: str, action: str | None = None, limit: int = 100) -> dict:
        """The station's OCPP message log (``FrameLog.answer``), newest first; the same method as
        ``NatsBus.frames``, which asks the gateway holding the station in a cluster."""
        return self.frame_log.answer(charge_point_id, action, limit)

    # --- commands --------------------------------------------------------------------------
    def holds(self, charge_point_id: str) -> bool:
        return charge_point_id in self.connections

    async def is_online(self, charge_point_id: str) -> bool:
        return self.holds(charge_point_id)

    async def prepare(self, charge_point_id: str, name: str, params: BaseModel) -> tuple[str, dict]:
        """The OCPP call for a command on this station's version, checked against its schema."""
        conn = self._online(charge_point_id)
        action, payload = conn.protocol.build_command(name, params)
        self._check(conn, action, payload)
        return action, payload

    async def prepare_raw(self, charge_point_id: str, action: str, payload: dict) -> tuple[str, dict]:
        """A call given in the station's own protocol, checked the same way."""
        conn = self._online(charge_point_id)
        if action not in conn.protocol.csms_actions:
            raise CommandNotSupported(f"{action} is not a call a central system sends in OCPP "
                                      f"{conn.protocol.version}", {"actions": sorted(conn.protocol.csms_actions)})
        self._check(conn, action, payload)
        return action, payload

    def _online(self, charge_point_id: str) -> Connection:
        conn = self.connections.get(charge_point_id)
        if conn is None:
            raise StationOffline(f"charge point {charge_point_id!r} is not connected")
        return conn

    @staticmethod
    def _check(conn: Connection, action: str, payload: dict) -> None:
        try:
            conn.protocol.schemas.validate_request(action, payload)
        except RpcError as error:
            raise Invalid(f"{action} is not valid for OCPP {conn.protocol.version}: {error.description}",
                          error.details) from None

    async def send(self, charge_point_id: str, action: str, payload: dict, timeout: float) -> c.Outcome:
        """The command's round trip through the (in-process) bus, timed for the metrics."""
        started = perf_counter()
        outcome = await self._round_trip(charge_point_id, action, payload, timeout)
        self.metrics.round_trip(action, outcome.state, perf_counter() - started)
        return outcome

    async def _round_trip(self, charge_point_id: str, action: str, payload: dict, timeout: float) -> c.Outcome:
        conn = self.connections.get(charge_point_id)
        if conn is None:
            return c.Outcome(c.FAILED, action, payload, error_code="StationOffline",
                             error_description="the station is not connected")
        plan = await conn.protocol.batches(conn, action, payload)
        if plan is None:
            return await self._call(conn, action, payload, timeout)
        return await self._batched(conn, plan, timeout)

    async def _batched(self, conn: Connection, plan: batching.Plan, timeout: float) -> c.Outcome:
        """A call cut to the station's limits (``v201.batching``): its parts one after another
        within the one timeout (a cluster's API process waits no longer for the whole), then one
        outcome. A part refused does not stop the others; a lost connection or time run out does."""
        loop = asyncio.get_running_loop()
        deadline, outcomes, stop = loop.time() + timeout, [], None
        for chunk in plan.chunks:
            left = deadline - loop.time()
            if chunk.too_large or stop is not None or left <= 0:
                outcomes.append(batching.not_sent(plan, chunk, stop or f"no time left of the {timeout:g} s"))
                continue
            outcome = await self._call(conn, plan.action, chunk.payload, left)
            if outcome.error_code == "ConnectionClosed" or outcome.state == c.TIMEOUT:
                stop = f"an earlier message was not answered ({outcome.error_description})"
            outcomes.append(outcome)
        log.info("%s %s cut into %d messages (limits: %s items, %s bytes)", conn.charge_point_id, plan.action,
                 len(plan.chunks), plan.limits.items, plan.limits.bytes)
        return batching.merge(plan, outcomes)

    async def _call(self, conn: Connection, action: str, payload: dict, timeout: float) -> c.Outcome:
        try:
            response = await conn.call(action, payload, timeout)
        except TimeoutError:
            return c.Outcome(c.TIMEOUT, action, payload, error_description=f"no reply within {timeout:g} s")
        except StationCallError as error:
            return c.Outcome(c.FAILED, action, payload, error_code=error.code, error_description=error.description)
        except (ConnectionClosed, OSError, RuntimeError) as error:
            return c.Outcome(c.FAILED, action, payload, error_code="ConnectionClosed", error_description=str(error))
        try:
            conn.protocol.schemas.validate_response(action, response)
        except RpcError as error:
            return c.Outcome(c.FAILED, action, payload, response, error_code=error.code,
                             error_description=f"the station's reply breaks the schema: {error.description}")
        await conn.protocol.on_reply(conn, action, payload, response)
        return c.Outcome(c.COMPLETED, action, payload, response, status=response.get("status"))

    async def close_all(self) -> None:
        for conn in list(self.connections.values()):
            self._ending[conn] = "server_shutdown"
            conn.closed()
            await _quietly(conn.close(1001, "server shutting down"))


def client_address(scope) -> str:
    return (scope.get("client") or ("unknown",))[0]


def basic_password(scope, identity: str) -> str | None:
    """The password of an HTTP Basic ``Authorization`` header whose user is the station itself
    (OCPP security profiles 1 and 2); None when there is none or it names someone else."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization" and value[:6].lower() == b"basic ":
            try:
                user, _, password = base64.b64decode(value[6:].strip(), validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            return password if user == identity else None
    return None


def _has_basic(scope) -> bool:
    return any(name == b"authorization" and value[:6].lower() == b"basic " for name, value in scope.get("headers", ()))


def basic_user(scope) -> str | None:
    """The user an HTTP Basic header names (for the diagnostics; never its password), or None."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization" and value[:6].lower() == b"basic ":
            try:
                return base64.b64decode(value[6:].strip(), validate=True).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                return None
    return None


def _credential_detail(reason: str, message: str, scope, identity: str) -> str:
    if reason == "password_user_mismatch":
        user = basic_user(scope)
        return f"user {user!r} instead of {identity!r}" if user is not None else "an unreadable Basic header"
    if reason == "certificate_unverified":
        return str(((scope.get("extensions") or {}).get("tls") or {}).get("client_cert_error"))
    profile = message.partition("security profile ")[2].partition(":")[0]
    return f"profile {profile}" if reason in ("password_missing", "tls_required") and profile else message


def certificate_name(scope) -> str | None:
    """The common name of the client certificate the TLS layer verified (ASGI TLS extension):
    the identity it vouches for ("" when it has no single CN); None when no verified certificate
    was presented."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain or tls.get("client_cert_error"):
        return None
    try:
        names = x509.load_pem_x509_certificate(chain[0].encode()).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return ""
    return names[0].value if len(names) == 1 else ""


async def _deny(scope, send, status: int, code: str, message: str, headers: list | None = None) -> None:
    """Refuse a handshake with an HTTP status and a JSON body where the server supports it."""
    if "websocket.http.response" in scope.get("extensions", {}):
        body = orjson.dumps({"error": {"code": code, "message": message}})
        await send({"type": "websocket.http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), *(headers or [])]})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})


async def _quietly(coro) -> None:
    try:
        await coro
    except Exception:  # the peer is gone already; nothing left to tell it
        pass
