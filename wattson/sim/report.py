"""What simulated stations do, told as it happens: one line per event (connected, charging,
stopped, disconnected) and a compact progress line, so that whoever runs ``wattson simulate`` or
``wattson demo`` sees the fleet at work without reading logs or the API.

``look``, ``events`` and ``progress`` are plain functions of the stations' state; ``Reporter``
writes them out: on a terminal the progress line stays at the bottom, rewritten in place; into a
pipe or a file it is a line of its own every ``every`` seconds, when something changed.
"""

import asyncio
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from wattson.sim.station import SimStation


@dataclass(eq=False)
class Session:
    tag: str
    meter_start: int
    transaction: object  # the station's Transaction: a new session on the same connector is another one


@dataclass
class View:
    """One station as the report sees it."""

    station_id: str
    ocpp: str
    online: bool
    sessions: dict[int, Session] = field(default_factory=dict)  # by connector
    registers: dict[int, float] = field(default_factory=dict)  # by connector, Wh
    completed: int = 0

    def key(self) -> tuple:
        """What an event line is about: a change here is worth telling."""
        return self.online, tuple(sorted((c, id(s.transaction)) for c, s in self.sessions.items()))


def look(station: SimStation) -> View:
    sessions = {number: Session(c.transaction.id_tag, c.transaction.meter_start, c.transaction)
                for number, c in station.connectors.items() if c.transaction is not None}
    return View(station.station_id, station.config.ocpp, station.accepted.is_set(), sessions,
                {number: c.register_wh for number, c in station.connectors.items()}, station.sessions_completed)


def events(before: View | None, after: View) -> list[str]:
    """The lines that tell how a station went from ``before`` (None: not seen yet) to ``after``."""
    lines = []
    was_online = before.online if before else False
    old = before.sessions if before else {}
    if after.online and not was_online:
        lines.append(f"{after.station_id} connected (OCPP {after.ocpp})")
    for number, session in old.items():
        now = after.sessions.get(number)
        if now is None or now.transaction is not session.transaction:
            kwh = max(0.0, after.registers.get(number, session.meter_start) - session.meter_start) / 1000
            reason = getattr(session.transaction, "stop_reason", None)
            lines.append(f"{after.station_id} connector {number} stopped{f' ({reason})' if reason else ''}: "
                         f"{kwh:.2f} kWh for {session.tag}")
    for number, session in sorted(after.sessions.items()):
        if number not in old or old[number].transaction is not session.transaction:
            lines.append(f"{after.station_id} connector {number} charging for {session.tag}")
    if was_online and not after.online:
        lines.append(f"{after.station_id} disconnected")
    return lines


def progress(views: list[View], delivered_wh: float) -> str:
    """One compact line for the whole fleet."""
    online = sum(v.online for v in views)
    charging = sum(len(v.sessions) for v in views)
    completed = sum(v.completed for v in views)
    sessions = "session" if completed == 1 else "sessions"
    return (f"{online}/{len(views)} online, {charging} charging, {completed} {sessions} done, "
            f"{delivered_wh / 1000:.1f} kWh delivered")


class Reporter:
    """Writes the stations' events and progress to ``out`` until cancelled."""

    def __init__(self, stations: list[SimStation], out: TextIO = sys.stdout, every: float = 10.0,
                 tty: bool | None = None):
        self.stations = stations
        self.out = out
        self.every = every
        self.tty = out.isatty() if tty is None else tty
        self.views: dict[str, View] = {}
        self._start_wh = {s.station_id: sum(look(s).registers.values()) for s in stations}
        self._shown = ""  # the progress line last written

    def delivered_wh(self) -> float:
        return sum(sum(look(s).registers.values()) - self._start_wh[s.station_id] for s in self.stations)

    def line(self) -> str:
        return progress([look(s) for s in self.stations], self.delivered_wh())

    async def run(self) -> None:
        try:
            await asyncio.gather(self._tick(), *(self._watch(s) for s in self.stations))
        finally:
            if self.tty and self._shown:  # leave the last progress line, and the cursor below it
                self._emit("\n")

    async def _watch(self, station: SimStation) -> None:
        while True:
            before = self.views.get(station.station_id)
            await station.wait_until(lambda: before is None or look(station).key() != before.key(), timeout=None)
            after = look(station)
            self.views[station.station_id] = after
            self._write(events(before, after))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0 if self.tty else self.every)
            line = self.line()
            if self.tty:
                self._write([])
            elif line != self._shown:
                self._shown = line
                self._emit(f"{_now()} {line}\n")

    def _write(self, lines: list[str]) -> None:
        text = "".join(f"{_now()} {line}\n" for line in lines)
        if self.tty:  # events above, the progress line kept at the bottom
            self._shown = self.line()
            text = f"\r\x1b[K{text}{self._shown}"
        if text:
            self._emit(text)

    def _emit(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S")
