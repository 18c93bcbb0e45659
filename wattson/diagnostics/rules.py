"""Connection diagnostics without I/O: what each handshake outcome means, what to do about it,
and how repeats fold into one counted row (docs/operations.md, "Why can't my station connect?").

A station's handshake is refused with one fixed answer whatever the reason (a stranger learns
nothing), so the reason lives here, for the operator: a short code, and an explanation that says
what to change on the station or in Wattson.
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

REFUSED, CONNECTED, DISCONNECTED = "refused", "connected", "disconnected"
KINDS = (REFUSED, CONNECTED, DISCONNECTED)
#: Repeats of one (station, kind, reason, address, close code) this close together are one row, counted.
WINDOW = timedelta(minutes=10)
#: The longest station id, address and detail kept (identities are at most 48; a refused one may be anything).
MAX_ID, MAX_ADDRESS, MAX_DETAIL = 100, 64, 500

#: reason code -> (kind, explanation). ``{detail}`` is what the gateway saw, where it says more.
REASONS: dict[str, tuple[str, str]] = {
    "invalid_identity": (REFUSED, "The URL does not end with a valid charge point identity ({detail}). Set the "
                                  "station's central system URL to ws(s)://HOST:PORT/ocpp/<identity>, the identity "
                                  "being 1 to 48 printable ASCII characters without spaces or '/'."),
    "not_served": (REFUSED, "This Wattson process does not take station connections (its role is not gateway or "
                            "all). Point the station, or the load balancer, at a gateway process."),
    "no_subprotocol": (REFUSED, "The station offered no OCPP version Wattson speaks ({detail}). Configure it for "
                                "OCPP-J 1.6, 2.0.1 or 2.1 so that its WebSocket handshake offers ocpp1.6, ocpp2.0.1 "
                                "or ocpp2.1 in Sec-WebSocket-Protocol."),
    "unknown_station": (REFUSED, "No charge point with this identity is registered. Add it (POST "
                                 "/api/v1/charge-points or `wattson charge-points add <id>`) with exactly the identity "
                                 "the station uses (case matters), or set WATTSON_AUTO_REGISTER=true."),
    "password_missing": (REFUSED, "The station sent no password, but its security profile ({detail}) needs one. Set "
                                  "its AuthorizationKey (OCPP 1.6) or BasicAuthPassword (2.x, "
                                  "SecurityCtrlr) to the charge point's password, sent as HTTP Basic with its "
                                  "identity as the user; or lower its security_profile to 0."),
    "password_user_mismatch": (REFUSED, "The station sent HTTP Basic credentials, but not with its own identity "
                                        "as the user ({detail}). OCPP security profiles 1 and 2 need "
                                        "<identity>:<password>: check the station's configured identity and "
                                        "that no proxy rewrites the Authorization header."),
    "password_wrong": (REFUSED, "The station's password is wrong. Set its AuthorizationKey (1.6) or "
                                "BasicAuthPassword (2.x) to the password stored in Wattson, or set a new one on the "
                                "charge point (PATCH /api/v1/charge-points/<id> with password) and on the station."),
    "credentials_refused": (REFUSED, "The station's credentials fall short of its security profile ({detail})."),
    "tls_required": (REFUSED, "The station connected with ws:// but its security profile ({detail}) needs TLS. "
                              "Set its central system URL to wss://HOST:WATTSON_TLS_PORT/ocpp/<identity>, with the "
                              "CA of Wattson's server certificate installed on the station."),
    "certificate_missing": (REFUSED, "The station is on security profile 3 but presented no client certificate "
                                     "over TLS. Install a client certificate whose subject CN is its identity, "
                                     "signed by the CA of WATTSON_TLS_CLIENT_CA (or have it sign one by "
                                     "SignCertificate)."),
    "certificate_unverified": (REFUSED, "The station's client certificate could not be verified ({detail}). It "
                                        "must chain to a CA in WATTSON_TLS_CLIENT_CA and be within its validity."),
    "certificate_mismatch": (REFUSED, "The station's client certificate is for another charge point ({detail}). "
                                      "Install the certificate issued for this identity, or correct the identity "
                                      "in the station's URL."),
    "throttled": (REFUSED, "Refused without checking the credentials: too many recent attempts from this address "
                           "({detail}). Fix the cause of the earlier refusals; the station is admitted again "
                           "after the wait its answer's Retry-After gives."),
    "accepted": (CONNECTED, "Connected ({detail})."),
    "closed": (DISCONNECTED, "The connection closed ({detail})."),
    "replaced": (DISCONNECTED, "This connection was closed because the station connected again (a station has "
                               "one connection, the newest): frequent replacements mean two devices use one "
                               "identity, or the station reconnects without closing the old connection."),
    "moved": (DISCONNECTED, "This connection was closed because the station connected to another gateway."),
    "binary_frame": (DISCONNECTED, "Closed with 1003: the station sent a binary WebSocket frame; OCPP-J frames "
                                   "are text."),
    "message_too_big": (DISCONNECTED, "Closed with 1009: a message above WATTSON_OCPP_MAX_FRAME_BYTES (or one of "
                                      "ours above the station's limit). Raise the setting if the station's large "
                                      "messages are genuine."),
    "server_shutdown": (DISCONNECTED, "Closed because this Wattson process shut down; the station reconnects."),
}
REFUSALS = tuple(code for code, (kind, _) in REASONS.items() if kind == REFUSED)
#: WebSocket close codes (RFC 6455) in words, for the explanation of a disconnect.
CLOSE_CODES = {1000: "normal closure", 1001: "going away", 1002: "protocol error", 1003: "unsupported data",
               1005: "no close code given", 1006: "dropped without a close frame (network or power loss)",
               1007: "invalid data", 1008: "policy violation", 1009: "message too big", 1011: "internal error"}


@dataclass(slots=True, frozen=True)
class Attempt:
    """One handshake outcome or disconnect, as the gateway saw it."""

    charge_point_id: str | None  # as given; None: many ids folded together (a flood)
    kind: str
    reason: str
    address: str
    tls: bool = False
    subprotocols: tuple[str, ...] = ()
    close_code: int | None = None
    detail: str = ""

    @property
    def key(self) -> tuple:
        """What makes two attempts the same row."""
        return (self.charge_point_id, self.kind, self.reason, self.address, self.close_code)


def attempt(charge_point_id: str | None, reason: str, address: str, tls: bool = False,
            subprotocols=(), close_code: int | None = None, detail: str = "") -> Attempt:
    """An Attempt of a known reason, its fields cut to what is kept."""
    kind = REASONS[reason][0]
    return Attempt(None if charge_point_id is None else storable(charge_point_id[:MAX_ID]), kind, reason,
                   storable((address or "unknown")[:MAX_ADDRESS]), tls,
                   tuple(storable(str(p)[:40]) for p in subprotocols[:10]), close_code, storable(detail[:MAX_DETAIL]))


def storable(text: str) -> str:
    """``text`` as every database stores it: a NUL (which PostgreSQL refuses in text) and a lone
    surrogate (not UTF-8) become U+FFFD. What a station sent is shown, not lost with its batch."""
    if text.isascii() and "\x00" not in text:
        return text
    return "".join("\ufffd" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in text)


def explain(reason: str, detail: str = "", close_code: int | None = None) -> str:
    """What a reason means and what to do, for the installer reading it."""
    if reason == "closed":
        detail = f"code {close_code}: {CLOSE_CODES.get(close_code, 'no standard meaning')}" if close_code else \
            "no close code"
    _, text = REASONS.get(reason, (None, "{detail}"))
    return text.format(detail=detail or "no more detail")


def credential_reason(problem: str, basic_header: bool, tls_error: str | None) -> str:
    """The reason code of a refusal for credentials short of the station's security profile, from
    the problem ``stations.service.credentials_problem`` gives (its test pins the wording) and what
    the handshake carried: a Basic header naming someone else reads as no password there."""
    if "without TLS" in problem:
        return "tls_required"
    if "no client certificate" in problem:
        return "certificate_unverified" if tls_error else "certificate_missing"
    if "no password" in problem:
        return "password_user_mismatch" if basic_header else "password_missing"
    if "wrong password" in problem:
        return "password_wrong"
    return "credentials_refused"


def disconnect_reason(close_code: int | None, ended: str | None) -> str:
    """Why a connection ended: what we closed it for (``ended``), else its close code."""
    if ended:
        return ended
    return {1003: "binary_frame", 1009: "message_too_big"}.get(close_code, "closed")


@dataclass(slots=True)
class Pending:
    """Repeats of one Attempt waiting to be written: how many, first and last time."""

    attempt: Attempt
    first: datetime
    last: datetime
    count: int = 1


class Folder:
    """Attempts folded in memory between two writes, so that a flood of handshakes is a few rows.

    Refusals are bounded twice. Per client address, at most ``ids_per_address`` distinct station
    ids get rows of their own within a ``WINDOW``; beyond it a refusal is counted on that address's
    row with no station id ("many station ids"), so an attacker trying a million ids from one
    address makes a few rows, not a million. Per write, at most ``max_refusals`` distinct
    refusals, the rest folded the same way (many addresses). Connects and disconnects come from
    admitted stations only: at most ``max_others`` per write, the rest counted in ``dropped``."""

    def __init__(self, ids_per_address: int = 100, max_refusals: int = 1000, max_others: int = 50_000,
                 max_addresses: int = 1000):
        self.ids_per_address, self.max_refusals, self.max_others = ids_per_address, max_refusals, max_others
        self.max_addresses = max_addresses
        self.pending: dict[tuple, Pending] = {}
        self.refusals = 0
        self.dropped = 0
        #: address -> (start of its window, the station ids refused from it in that window)
        self._ids: OrderedDict[str, tuple[datetime, set]] = OrderedDict()

    def add(self, item: Attempt, at: datetime) -> None:
        entry = self.pending.get(item.key)
        if entry is None and item.kind == REFUSED and item.charge_point_id is not None and (
                not self._admits_id(item.address, item.charge_point_id, at) or self.refusals >= self.max_refusals):
            item = Attempt(None, item.kind, item.reason, item.address, item.tls, item.subprotocols, None,
                           "many station ids from this address; not recorded one by one")
            entry = self.pending.get(item.key)
        if entry is not None:
            entry.count += 1
            entry.last = at
            return
        if item.kind == REFUSED:
            self.refusals += 1
        elif len(self.pending) - self.refusals >= self.max_others:
            self.dropped += 1
            return
        self.pending[item.key] = Pending(item, at, at)

    def _admits_id(self, address: str, charge_point_id: str, at: datetime) -> bool:
        """Whether this id may have rows of its own from this address (within the window's bound)."""
        start, ids = self._ids.pop(address, (at, set()))
        if at - start > WINDOW:
            start, ids = at, set()
        self._ids[address] = (start, ids)  # most recent last
        while len(self._ids) > self.max_addresses:
            self._ids.popitem(last=False)
        if charge_point_id in ids:
            return True
        if len(ids) >= self.ids_per_address:
            return False
        ids.add(charge_point_id)
        return True

    def take(self) -> list[Pending]:
        """What is waiting, emptied."""
        taken = list(self.pending.values())
        self.pending, self.refusals = {}, 0
        return taken
