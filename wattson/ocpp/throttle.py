"""Slowing down repeated handshake failures (someone guessing passwords or station identities). No I/O."""

import time
from collections import OrderedDict
from collections.abc import Callable


class Throttle:
    """Counts recent refusals per client address and per station identity.

    After ``identity_free`` refusals of one identity, or ``address_free`` from one address, each
    within ``window`` seconds of the previous one, every further refusal waits ``base`` seconds,
    doubling up to ``cap``. An address gets more free refusals because several stations (or a
    proxy) may share it. Only refusals wait, so a station with the right credentials is never
    slowed down by others' failures; its own success clears its identity's count. At most
    ``max_entries`` counters are kept, the least recently failed forgotten first.
    """

    def __init__(self, identity_free: int = 3, address_free: int = 30, window: float = 60.0, base: float = 0.5,
                 cap: float = 5.0, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.free = {"identity": identity_free, "address": address_free}
        self.window, self.base, self.cap, self.max_entries = window, base, cap, max_entries
        self.clock = clock
        self._failures: OrderedDict[tuple[str, str], tuple[int, float]] = OrderedDict()  # oldest first

    def failed(self, address: str, identity: str) -> float:
        """Count a refusal; how many seconds to wait before answering it."""
        now = self.clock()
        self._forget_old(now)
        return max(self._delay("address", self._count(("address", address), now)),
                   self._delay("identity", self._count(("identity", identity), now)))

    def succeeded(self, identity: str) -> None:
        self._failures.pop(("identity", identity), None)

    def __len__(self) -> int:
        return len(self._failures)

    def _count(self, key: tuple[str, str], now: float) -> int:
        count, _ = self._failures.pop(key, (0, now))  # re-inserted last: the order stays by time
        self._failures[key] = (count + 1, now)
        return count + 1

    def _delay(self, kind: str, count: int) -> float:
        excess = count - self.free[kind]
        return 0.0 if excess <= 0 else min(self.cap, self.base * 2 ** min(excess - 1, 32))

    def _forget_old(self, now: float) -> None:
        """Drop counters idle for longer than the window, and the oldest while room is short
        (one refusal may add two)."""
        while self._failures:
            key, (_, last) = next(iter(self._failures.items()))
            if now - last <= self.window and len(self._failures) <= self.max_entries - 2:
                break
            del self._failures[key]
