"""Which Wattson processes use this database, so that two never share it unknowingly.

Without a bus a process is the whole system: it holds every station connection, so at start-up it
marks every station offline, and it sends commands only to the stations it holds. A second one on
the same database would mark the first one's stations offline and answer 409 for them. So each
process keeps a row here, its lease, renewed every ``lease / 3``; one without a bus refuses to
start while another process's lease is live (and a bus process refuses beside a busless one).

A process killed with ``kill -9`` leaves its row. One on this host whose pid is gone is known dead
at once (a restart need not wait); one elsewhere is taken for gone once its lease has run out
without a renewal: a starting process waits for that rather than refuse a crashed node's restart.
"""

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select, update

from wattson.background import Loop
from wattson.cluster.models import Node
from wattson.db import Database, utcnow

log = logging.getLogger("wattson.cluster")


class SharedDatabase(Exception):
    """Another process uses the database in a way this one cannot run beside."""


@dataclass(frozen=True, slots=True)
class Me:
    id: str
    host: str
    pid: int
    bus: bool
    role: str = "all"
    tls: bool = False  # terminates TLS for stations
    client_ca: bool = False  # and verifies their client certificates


def myself(bus: bool, role: str = "all", tls: bool = False, client_ca: bool = False) -> Me:
    host, pid = socket.gethostname(), os.getpid()
    return Me(f"{host[:60]}-{pid}-{secrets.token_hex(3)}", host, pid, bus, role, tls, client_ca)


# --- rules (no I/O) -------------------------------------------------------------------------------
def clash(me: Me, other: Node) -> str | None:
    """Why ``me`` cannot run beside ``other`` (a live node), or None."""
    if not me.bus:
        return (f"another Wattson process ({other.id}, started {other.started_at:%Y-%m-%d %H:%M:%S} UTC) uses this "
                "database; without a bus (WATTSON_BUS_URL) one process is the whole system")
    if not other.bus:
        return f"Wattson process {other.id} uses this database without a bus (WATTSON_BUS_URL)"
    return None


def known_dead(other: Node, host: str, pid_alive, own_pid: int | None = None) -> bool:
    """A node on this host whose process is gone, or that had this process's pid (an earlier
    incarnation: a container restarted keeps its hostname, and its server is pid 1 again)."""
    return other.host == host and (other.pid == own_pid or not pid_alive(other.pid))


def expired(other: Node, now: datetime, lease: timedelta) -> bool:
    return other.heartbeat_at <= now - lease


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs here; a zombie (killed, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:  # no /proc (not Linux): as os.kill says
        return True


# --- the lease ------------------------------------------------------------------------------------
class Nodes:
    def __init__(self, db: Database, me: Me, lease: timedelta):
        self.db, self.me, self.lease = db, me, lease
        self._loop = Loop("node-lease")
        #: awaited after each renewal with (the nodes just found gone, whether this node's lease had been lost)
        self.renewed: list[Callable[[list[str], bool], Awaitable[None]]] = []

    async def check(self) -> None:
        """Raise SharedDatabase if a live process clashes with this one; wait for the lease of
        one that may be gone to run out (it renews it if it is not)."""
        first_seen: dict[str, datetime] = {}
        while True:
            problems, waiting = [], []
            async with self.db.session() as s:
                for other in await s.scalars(select(Node).where(Node.id != self.me.id)):
                    if known_dead(other, self.me.host, pid_alive, self.me.pid) or expired(other, utcnow(), self.lease):
                        await s.delete(other)
                        continue
                    reason = clash(self.me, other)
                    if reason is None:
                        continue
                    if other.host == self.me.host or (other.id in first_seen
                                                      and other.heartbeat_at > first_seen[other.id]):
                        problems.append(reason)  # its process runs here, or it renewed its lease: alive
                    else:
                        first_seen.setdefault(other.id, other.heartbeat_at)
                        waiting.append(other.id)
            if problems:
                raise SharedDatabase("; ".join(problems))
            if not waiting:
                return
            log.warning("waiting for %s to renew its lease or let it run out (%g s)", ", ".join(waiting),
                        self.lease.total_seconds())
            await asyncio.sleep(self.lease.total_seconds() / 6)

    async def join(self) -> None:
        """Take this process's lease and renew it from now on. Of two clashing processes that
        joined at once (both passed ``check``), the later one gives way."""
        now = utcnow()
        async with self.db.session() as s:
            s.add(self._row(now))
        async with self.db.session() as s:
            earlier = [reason for other in await s.scalars(select(Node).where(Node.id != self.me.id))
                       if not expired(other, utcnow(), self.lease) and (reason := clash(self.me, other))
                       and (other.started_at, other.id) < (now, self.me.id)]
            if earlier:
                await s.execute(delete(Node).where(Node.id == self.me.id))
        if earlier:
            raise SharedDatabase("; ".join(earlier))
        self._loop.every(self.lease.total_seconds() / 3, self._renew, log, "could not renew the node lease")

    def live(self) -> Select:
        """The ids of the nodes whose lease runs, as a query: evaluated inside the statement that
        uses it, so that a node joining meanwhile is not missed."""
        return select(Node.id).where(self._live())

    def _live(self):
        """A node whose lease runs (``expired``, as a condition)."""
        return Node.heartbeat_at > utcnow() - self.lease

    async def leave(self) -> None:
        await self._loop.stop()
        try:
            async with self.db.session() as s:
                await s.execute(delete(Node).where(Node.id == self.me.id))
        except Exception as error:  # noqa: BLE001 - the database is gone: the lease runs out by itself
            log.warning("could not give up the node lease: %s", error)

    async def _renew(self) -> None:
        """Renew the lease, forget the nodes whose lease ran out, and tell ``renewed`` which."""
        now = utcnow()
        async with self.db.session() as s:
            kept = (await s.execute(update(Node).where(Node.id == self.me.id).values(heartbeat_at=now))).rowcount
            if not kept:  # taken for dead (cut off from the database beyond the lease): back
                s.add(self._row(now))
            gone = list(await s.scalars(delete(Node).where(Node.id != self.me.id, Node.heartbeat_at <= now - self.lease)
                                        .returning(Node.id)))
        if not kept:
            log.warning("this node's lease had run out and was taken back: its stations are shown online again")
        if gone:
            log.warning("lease of %s ran out: taken for gone", ", ".join(gone))
        for hook in self.renewed:
            await hook(gone, not kept)

    def _row(self, now: datetime) -> Node:
        me = self.me
        return Node(id=me.id, host=me.host, pid=me.pid, bus=me.bus, role=me.role, tls=me.tls, client_ca=me.client_ca,
                    started_at=now, heartbeat_at=now)

    async def gateways_tls(self) -> tuple[bool, bool]:
        """Whether a live gateway terminates TLS for stations, and one verifies client certificates."""
        async with self.db.session() as s:
            rows = (await s.execute(select(Node.tls, Node.client_ca).where(Node.role.in_(("all", "gateway")),
                                                                           self._live()))).all()
        return any(tls for tls, _ in rows), any(tls and client_ca for tls, client_ca in rows)
