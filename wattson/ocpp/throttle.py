"""Limiting repeated credential attempts (guessed station passwords, guessed API keys). No I/O.

Shared by the OCPP handshake and the HTTP API (docs/security.md).
"""

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class Throttle:
    """Counts recent attempts per key and says when one must be refused without evaluating it.

    An attempt is counted when it is admitted, before its credentials are checked, so guesses
    sent in parallel gain nothing over sequential ones; a success gives its count back
    (``succeeded``) or clears the key (``cleared``). After ``free`` counted attempts, each within
    ``window`` seconds of the previous one, the next is admitted only ``base`` seconds after the
    last, doubling up to ``cap``. Refused attempts are not counted and cost nothing: they are
    answered at once. At most ``max_entries`` counters are kept, the least recently used
    forgotten first.

    A throttle may instead count only failures: ``check`` before evaluating, ``failed`` after a
    failure (parallel attempts then all get evaluated until the first failures are counted).
    """

    def __init__(self, free: int = 5, window: float = 600.0, base: float = 1.0, cap: float = 60.0,
                 max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.free, self.window, self.base, self.cap, self.max_entries = free, window, base, cap, max_entries
        self.clock = clock
        self._counts: OrderedDict[Hashable, tuple[int, float]] = OrderedDict()  # least recent first

    def admit(self, key: Hashable) -> float:
        """Count an attempt and return 0, or return the seconds to wait (not counted) when refused."""
        wait = self.check(key)
        if not wait:
            self.failed(key)
        return wait

    def check(self, key: Hashable) -> float:
        """The seconds until ``key`` may try again (0: now), counting nothing."""
        now = self.clock()
        self._forget_old(now)
        count, last = self._counts.get(key, (0, now))
        return max(0.0, last + self._delay(count) - now)

    def failed(self, key: Hashable) -> None:
        """Count an attempt now (for keys that count only what failed: see ``check``)."""
        now = self.clock()
        count, _ = self._counts.pop(key, (0, now))  # re-inserted last: the order stays by time
        self._forget_old(now)
        self._counts[key] = (count + 1, now)

    def succeeded(self, key: Hashable) -> None:
        """Give back the count of an attempt that proved genuine."""
        count, last = self._counts.get(key, (0, 0.0))
        if count > 1:
            self._counts[key] = (count - 1, last)
        else:
            self._counts.pop(key, None)

    def cleared(self, key: Hashable) -> None:
        self._counts.pop(key, None)

    def __len__(self) -> int:
        return len(self._counts)

    def _delay(self, count: int) -> float:
        excess = count - self.free
        return 0.0 if excess < 0 else min(self.cap, self.base * 2 ** min(excess, 32))

    def _forget_old(self, now: float) -> None:
        """Drop counters idle for longer than the window, and the oldest while room is short."""
        while self._counts:
            key, (_, last) = next(iter(self._counts.items()))
            if now - last <= self.window and len(self._counts) < self.max_entries:
                break
            del self._counts[key]
