"""Boot Pending provisioning (OCPP 2.0.1 B02, 1.6 section 4.2): a station whose registration is
Pending is answered Pending at boot, configured while it waits, then accepted.

While Pending a station may send only what Wattson asked for (docs/ocpp.md), but Wattson may send
it anything. The provisioning file (WATTSON_PROVISIONING_FILE) lists commands, as
``POST /api/v1/charge-points/{id}/commands/{name}`` takes them, to run in order on each Pending boot;
when the station accepted every one, it is accepted: its registration is set Accepted and it is
triggered to boot again (TriggerMessage BootNotification), which it then is at once. A step it
refuses stops the run and leaves it Pending, with the reason kept as a ``provisioning`` station
event; its next Pending boot runs the list again. An operator accepts a station by hand with
``accept`` (``POST /api/v1/charge-points/{id}/accept``).
"""

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import orjson

from wattson.db.errors import unavailable
from wattson.errors import StationOffline, WattsonError
from wattson.stations.agreement import refusal
from wattson.stations.command_service import CommandService
from wattson.stations.models import ChargePoint, Command

log = logging.getLogger("wattson.stations")
VARIABLE = "WATTSON_PROVISIONING_FILE"
#: not sent to a Pending station (1.6 section 4.2: RemoteStart/StopTransaction are not allowed then)
NOT_WHILE_PENDING = frozenset({"remote-start", "remote-stop"})


@dataclass(frozen=True, slots=True)
class Step:
    command: str  # a name of the neutral catalogue (stations/commands.py)
    params: dict


def parse_steps(text: str) -> list[Step]:
    """The steps of a provisioning file, each checked as the commands API checks a command; a
    ValueError says which one is wrong and why."""
    try:
        entries = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(entries, list):
        raise ValueError('a JSON list of commands, e.g. [{"command": "get-base-report", "params": {}}]')
    steps = []
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("command"), str) or \
                not isinstance(entry.get("params", {}), dict) or set(entry) - {"command", "params"}:
            raise ValueError(f"entry {n}: an object with a command name and optional params")
        if entry["command"] in NOT_WHILE_PENDING:
            raise ValueError(f"entry {n} ({entry['command']}): not sent to a Pending station")
        try:
            CommandService.parse(entry["command"], entry.get("params", {}))
        except WattsonError as error:
            problems = "; ".join(f"{d['field']}: {d['message']}" for d in error.details or ()
                                 if isinstance(d, dict) and "field" in d)
            raise ValueError(f"entry {n} ({entry['command']}): {error.message}"
                             + (f" ({problems})" if problems else "")) from None
        steps.append(Step(entry["command"], entry.get("params", {})))
    return steps


def load_steps(path: Path | None) -> list[Step]:
    """The provisioning file's steps (none when unset); a ValueError naming the variable."""
    if path is None:
        return []
    try:
        return parse_steps(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{VARIABLE}: {path} is not a readable file ({error})") from None
    except ValueError as error:
        raise ValueError(f"{VARIABLE}: {path}: {error}") from None


class Provisioning:
    def __init__(self, stations, commands: CommandService, steps: list[Step]):
        """``stations``: StationService, which calls ``booted_pending`` on each Pending boot."""
        self.stations, self.commands, self.steps = stations, commands, steps
        self._running: set[str] = set()  # stations being provisioned: one run each at a time
        self._tasks: set[asyncio.Task] = set()

    async def accept(self, charge_point_id: str) -> tuple[ChargePoint, Command | None]:
        """Set the station's registration Accepted and, when it is connected, trigger its boot so
        that it is Accepted at once (else at its next boot): the station, and the trigger sent."""
        station = await self.stations.update(charge_point_id, registration_status="Accepted")
        if not await self.commands.bus.is_online(charge_point_id):
            return station, None
        try:
            trigger = await self.commands.submit(charge_point_id, "trigger-message", {"message": "BootNotification"})
        except StationOffline:  # gone meanwhile: Accepted at its next boot
            return station, None
        return station, trigger

    def booted_pending(self, charge_point_id: str) -> None:
        """A station was answered Pending: provision it, unless there is nothing to do or a run is
        under way. Started after the answer: the boot's handler returns before this task sends
        anything (its first call follows database round trips)."""
        if not self.steps or charge_point_id in self._running:
            return
        self._running.add(charge_point_id)
        task = asyncio.create_task(self._provision(charge_point_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _provision(self, charge_point_id: str) -> None:
        try:
            try:
                failure, sent = await self._run(charge_point_id)
            finally:
                self._running.discard(charge_point_id)  # a boot from now on starts a run of its own
            if failure is not None:
                n, step, reason = failure
                log.warning("%s stays Pending: provisioning step %d (%s) %s", charge_point_id, n, step.command, reason)
                await self.stations.record_event(charge_point_id, "provisioning", {
                    "state": "failed", "step": n, "command": step.command, "reason": reason, "commands": sent})
                return
            await self.stations.record_event(charge_point_id, "provisioning",
                                             {"state": "completed", "commands": sent})
            log.info("%s provisioned (%d commands accepted): accepting it", charge_point_id, len(sent))
            await self.accept(charge_point_id)
        except WattsonError as error:
            log.warning("%s: provisioning stopped: %s", charge_point_id, error.message)
        except Exception as error:
            if not unavailable(error):
                log.exception("%s: provisioning failed", charge_point_id)
            else:  # one line, not a traceback: its next Pending boot tries again
                log.warning("%s: provisioning stopped: database unavailable (%s)", charge_point_id,
                            type(error).__name__)

    async def _run(self, charge_point_id: str) -> tuple[tuple[int, Step, str] | None, list[str]]:
        """Send the steps in order until one is refused: (step number, step, reason) of that one
        or None, and the ids of the commands sent."""
        sent = []
        for n, step in enumerate(self.steps, 1):
            try:
                record = await self.commands.submit(charge_point_id, step.command, step.params)
            except WattsonError as error:  # offline, or refused by its version: not sent
                return (n, step, error.message), sent
            sent.append(record.id)
            problem = refusal(record)
            if problem:
                return (n, step, problem), sent
        return None, sent

    async def drain(self) -> None:
        """At shutdown: runs end as their stations' connections close."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
