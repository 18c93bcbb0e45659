"""What every OCPP version adapter provides to the gateway.

One subclass per version (as CitrineOS keeps one API class per version): a declarative
action → handler table for station-initiated calls, and a translation of the neutral
command catalogue into that version's calls.
"""

from typing import TYPE_CHECKING, Awaitable, Callable

from pydantic import BaseModel

from wattson.errors import CommandNotSupported
from wattson.ocpp.validation import SchemaSet

if TYPE_CHECKING:
    from wattson.ocpp.connection import Connection
    from wattson.runtime import Services

Handler = Callable[["Connection", dict], Awaitable[dict]]
CommandBuilder = Callable[[BaseModel], tuple[str, dict]]


class Protocol:
    version: str  # "1.6"
    subprotocol: str  # "ocpp1.6"
    schema_dir: str  # folder of the ocpp package holding this version's schemas
    #: 2.x error code -> this version's name for it
    error_names: dict[str, str] = {}
    #: actions a station may send while its registration is Pending / Rejected
    allowed_when: dict[str, frozenset[str] | None] = {"Accepted": None}
    #: our calls -> the station messages they ask for, which a Pending station may then send
    follow_ups: dict[str, frozenset[str]] = {}
    #: a TriggerMessage's requestedMessage -> the action the station sends, where the names differ
    triggered_actions: dict[str, str] = {}
    #: every action the central system may send in this version (for raw calls)
    csms_actions: frozenset[str] = frozenset()

    def __init__(self, services: "Services", schemas: SchemaSet):
        self.services = services
        self.schemas = schemas
        self.handlers: dict[str, Handler] = self.action_table()
        self.commands: dict[str, CommandBuilder] = self.command_table()

    def action_table(self) -> dict[str, Handler]:
        raise NotImplementedError

    def command_table(self) -> dict[str, CommandBuilder]:
        raise NotImplementedError

    def error_code(self, code: str) -> str:
        return self.error_names.get(code, code)

    def allows(self, registration: str, action: str, invited: set[str] | frozenset[str] = frozenset()) -> bool:
        """Whether a station may send ``action``: anything once Accepted; while Pending, what the
        allow-list names and what our calls on this connection asked for (``invited``)."""
        allowed = self.allowed_when.get(registration, frozenset())
        return allowed is None or action in allowed or (registration == "Pending" and action in invited)

    def invited_by(self, action: str, payload: dict) -> frozenset[str]:
        """The station messages a call of ours asks for (TriggerMessage's requestedMessage, the
        reports of a report request, ...)."""
        if action in ("TriggerMessage", "ExtendedTriggerMessage"):
            requested = payload.get("requestedMessage")
            return frozenset({self.triggered_actions.get(requested, requested)})
        return self.follow_ups.get(action, frozenset())

    async def on_reply(self, conn: "Connection", action: str, request: dict, response: dict) -> None:
        """Learn from a station's valid answer to one of our calls (e.g. configuration values it
        reported); most answers teach nothing beyond the command's outcome."""

    async def batches(self, conn: "Connection", action: str, payload: dict):
        """The calls a call of ours must be cut into to fit the station's limits, as a
        ``v201.batching.Plan``; None: send it as it is (every call, in most versions)."""
        return None

    def build_command(self, name: str, params: BaseModel) -> tuple[str, dict]:
        builder = self.commands.get(name)
        if builder is None:
            raise CommandNotSupported(f"{name} has no equivalent in OCPP {self.version}")
        return builder(params)
