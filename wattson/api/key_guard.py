"""Which API-key attempts get evaluated: guessed keys are throttled per client address, genuine
ones never (docs/security.md). No I/O."""

import hashlib
import hmac
import secrets
from collections import OrderedDict

from wattson.ocpp.throttle import Throttle

#: Wrong keys one client address may try within the window before it is answered 429.
FREE_ATTEMPTS = 20
WINDOW_S, BASE_S, CAP_S = 600.0, 1.0, 60.0


class KeyGuard:
    """A per-address ``Throttle`` of attempts, plus the keys seen to be genuine in this process.

    An attempt with an unknown key is counted when admitted, before the key is looked up, so
    parallel guesses gain nothing; a success gives its count back, so only wrong keys add up. A
    key that proved genuine is remembered (an HMAC of it under a per-process random key, never
    the key) and is always evaluated, uncounted, even from a throttled address: a guesser sharing
    a client's address (a proxy, NAT) cannot lock that client out. It is still looked up every
    time, so revoking it takes effect at once; a remembered key that fails is forgotten.
    """

    def __init__(self, free: int = FREE_ATTEMPTS, remembered: int = 10_000, **throttle):
        self.throttle = Throttle(free=free, window=throttle.pop("window", WINDOW_S),
                                 base=throttle.pop("base", BASE_S), cap=throttle.pop("cap", CAP_S), **throttle)
        self.remembered = remembered
        self._secret = secrets.token_bytes(32)
        self._genuine: OrderedDict[bytes, None] = OrderedDict()  # least recently used first

    def admit(self, address: str, key: str) -> float:
        """0 when the attempt may be evaluated (counted unless the key is known genuine), else the
        seconds until this address may try again."""
        if self._digest(key) in self._genuine:
            return 0.0
        return self.throttle.admit(address)

    def abandoned(self, address: str, key: str) -> None:
        """The attempt could not be evaluated (database gone): not held against the address."""
        if self._digest(key) not in self._genuine:
            self.throttle.succeeded(address)

    def genuine(self, address: str, key: str) -> None:
        digest = self._digest(key)
        if digest in self._genuine:
            self._genuine.move_to_end(digest)
            return
        self.throttle.succeeded(address)
        self._genuine[digest] = None
        while len(self._genuine) > self.remembered:
            self._genuine.popitem(last=False)

    def wrong(self, address: str, key: str) -> None:
        """A refused key: a remembered one (since revoked) is forgotten and its failure counted."""
        digest = self._digest(key)
        if digest in self._genuine:
            del self._genuine[digest]
            self.throttle.failed(address)

    def _digest(self, key: str) -> bytes:
        return hmac.new(self._secret, key.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
