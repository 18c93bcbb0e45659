"""Checking station passwords at the handshake without holding the event loop or the group commit.

An argon2id derivation takes tens of milliseconds (docs/security.md); after an outage thousands
of stations reconnect at once, each with its password. So a password that verified is
remembered per station, as an HMAC of it under a random key made at start-up (never the
password, and useless outside this process), together with the stored hash it matched: the next
connection with the same password costs one HMAC, and a changed password (a new hash, whoever
stored it) no longer matches. Derivations run in threads, a few at a time, so that the loop keeps
serving connected stations meanwhile and memory stays bounded (19 MiB each).
"""

import asyncio
import hashlib
import hmac
import os
import secrets
from collections import OrderedDict

#: Stations remembered at most (least recently connected forgotten first): ~200 bytes each.
REMEMBERED = 100_000
#: Derivations at once: one per core.
PARALLEL = max(1, os.cpu_count() or 1)


class VerifiedPasswords:
    """Station -> (HMAC of its password, the stored hash it was verified against). No I/O."""

    def __init__(self, remembered: int = REMEMBERED):
        self.remembered = remembered
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    def verified(self, station: str, password: str) -> str | None:
        """The stored hash ``password`` was verified against for ``station``, or None."""
        entry = self._entries.get(station)
        if entry is None or not hmac.compare_digest(entry[0], self._mac(station, password)):
            return None
        self._entries.move_to_end(station)
        return entry[1]

    def remember(self, station: str, password: str, stored: str) -> None:
        self._entries.pop(station, None)
        self._entries[station] = (self._mac(station, password), stored)
        while len(self._entries) > self.remembered:
            self._entries.popitem(last=False)

    def forget(self, station: str) -> None:
        """Its password changed: stop accepting the old one (the new hash would refuse it too)."""
        self._entries.pop(station, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _mac(self, station: str, password: str) -> bytes:
        return hmac.new(self._key, f"{station}\0{password}".encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


class Derivations:
    """Runs password derivations (verify, hash) in worker threads, at most ``parallel`` at once."""

    def __init__(self, parallel: int = PARALLEL):
        self._slots = asyncio.Semaphore(parallel)

    async def run(self, fn, *args):
        async with self._slots:
            return await asyncio.to_thread(fn, *args)
