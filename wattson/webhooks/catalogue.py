"""The event catalogue: every type Wattson emits, what it means, and which resource it carries
(as the operator API returns it). One list, used by the API's validation, the OpenAPI webhook
definitions and docs/webhooks.md."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    resource: str  # the API resource in ``data``: charge_point, evse, session, cdr, payment, …
    description: str


TYPES: dict[str, EventType] = {t.name: t for t in (
    EventType("charge_point.connected", "charge_point", "A station opened its OCPP connection (it was accepted)."),
    EventType("charge_point.disconnected", "charge_point", "A station's connection closed."),
    EventType("charge_point.booted", "charge_point", "A station sent BootNotification; data has its boot facts."),
    EventType("evse.status_changed", "evse", "An EVSE's status changed (Available, Charging, Faulted, …)."),
    EventType("session.started", "session", "A charging session began."),
    EventType("session.updated", "session", "A running session's energy moved on (at most once per "
                                            "WATTSON_WEBHOOK_SESSION_UPDATE_S per session)."),
    EventType("session.ended", "session", "A session finished; its CDR follows as cdr.created when priced."),
    EventType("cdr.created", "cdr", "A CDR was issued (a credit CDR too, with credit true)."),
    EventType("payment.state_changed", "payment", "A direct payment moved to another state."),
    EventType("reservation.created", "reservation", "A reservation was accepted by the station."),
    EventType("reservation.ended", "reservation", "A reservation was used, cancelled or expired."),
    EventType("command.completed", "command", "A command the operator sent was answered, failed or timed out."),
    EventType("security_event.received", "security_event", "A station reported a security event."),
    EventType("firmware.status_changed", "charge_point", "A station reported firmware update progress."),
    EventType("ping", "webhook", "Sent by POST /api/v1/webhooks/{id}/test: not an event of the network."),
)}
ALL = "*"


def unknown(types: list[str]) -> list[str]:
    """The names in ``types`` that are not in the catalogue (``*`` is all)."""
    return [t for t in types if t != ALL and t not in TYPES]


def wanted(subscribed: list[str], event_type: str) -> bool:
    return ALL in subscribed or event_type in subscribed
