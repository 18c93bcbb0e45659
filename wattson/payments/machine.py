"""The direct payment's state machine and the rules that drive it. Pure functions, no I/O: the
service (``service.py``) persists each transition and calls the provider around it.

::

    created ──authorized──▶ authorized ──start_requested──▶ starting ──session_started──▶ charging
       │ declined / failed       │ release (start impossible)   │ release (rejected, timeout,    │ stop_requested
       ▼                         ▼                              ▼  station offline, cancelled)   ▼
    declined | failed         releasing ◀───────────────────────┘                            stopping
                                 │  ▲                                                            │
                        released │  │ release (nothing to pay)   session_finished (from starting,│charging, stopping)
                                 ▼  └─────────────── finished ◀─────────────────────────────────┘
                              released                   │ captured (≤ the hold; the rest released)
                                                         ▼
                                                      captured ──refunded──▶ captured | refunded

``releasing`` is decided before the provider is called, so no session can be linked to a payment
whose hold is on its way back; the worker retries the provider until the release is confirmed.

Money leaves the card only on ``captured``, once, and never above the hold; every path that does
not capture ends in ``released``, ``declined`` or ``failed``, where nothing is held.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

CREATED = "created"
AUTHORIZED = "authorized"
DECLINED = "declined"
FAILED = "failed"
STARTING = "starting"
CHARGING = "charging"
STOPPING = "stopping"
FINISHED = "finished"
RELEASING = "releasing"
CAPTURED = "captured"
RELEASED = "released"
REFUNDED = "refunded"

STATES = (CREATED, AUTHORIZED, DECLINED, FAILED, STARTING, CHARGING, STOPPING, FINISHED, RELEASING, CAPTURED,
          RELEASED, REFUNDED)
#: States in which nothing is left to do (a captured payment may still be refunded by an operator).
SETTLED = frozenset({DECLINED, FAILED, CAPTURED, RELEASED, REFUNDED})
#: States the worker advances.
OPEN = tuple(s for s in STATES if s not in SETTLED)
#: States in which a hold exists on the card.
HOLDING = frozenset({AUTHORIZED, STARTING, CHARGING, STOPPING, FINISHED, RELEASING})

_TRANSITIONS: dict[tuple[str, str], str] = {
    (CREATED, "authorized"): AUTHORIZED,
    (CREATED, "declined"): DECLINED,
    (CREATED, "failed"): FAILED,
    (AUTHORIZED, "start_requested"): STARTING,
    (AUTHORIZED, "release"): RELEASING,
    (STARTING, "session_started"): CHARGING,
    (STARTING, "session_finished"): FINISHED,
    (STARTING, "release"): RELEASING,
    (CHARGING, "stop_requested"): STOPPING,
    (CHARGING, "session_finished"): FINISHED,
    (STOPPING, "stop_requested"): STOPPING,
    (STOPPING, "session_finished"): FINISHED,
    (FINISHED, "captured"): CAPTURED,
    (FINISHED, "release"): RELEASING,
    (RELEASING, "released"): RELEASED,
    (CAPTURED, "refunded"): CAPTURED,
    (CAPTURED, "refunded_fully"): REFUNDED,
}
EVENTS = frozenset(event for _, event in _TRANSITIONS)


class InvalidTransition(ValueError):
    def __init__(self, state: str, event: str):
        super().__init__(f"a payment in state {state!r} cannot take {event!r}")
        self.state, self.event = state, event


def transition(state: str, event: str) -> str:
    """The state after ``event``; InvalidTransition when the machine does not allow it."""
    try:
        return _TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(state, event) from None


def allowed(state: str) -> list[str]:
    return sorted(event for (s, event) in _TRANSITIONS if s == state)


# --- what drives it --------------------------------------------------------------------------------
TIME_LIMIT = "time_limit"
ENERGY_LIMIT = "energy_limit"
AMOUNT_REACHED = "authorization_amount_reached"
DRIVER = "driver"


@dataclass(frozen=True, slots=True)
class Limits:
    """A product's limits: the hold (incl. VAT), and optionally a duration and an energy."""

    hold: Decimal
    max_duration_s: int | None = None
    max_energy_wh: int | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    elapsed_s: float
    energy_wh: int
    cost_incl_vat: Decimal


def stop_reason(limits: Limits, progress: Progress, margin_percent: Decimal = Decimal(0)) -> str | None:
    """Why the session must stop now, or None: the product's time or energy is used up, or the
    running cost has reached the hold (less ``margin_percent`` of it, kept for what flows while
    the stop travels to the station)."""
    if limits.max_duration_s is not None and progress.elapsed_s >= limits.max_duration_s:
        return TIME_LIMIT
    if limits.max_energy_wh is not None and progress.energy_wh >= limits.max_energy_wh:
        return ENERGY_LIMIT
    if progress.cost_incl_vat >= limits.hold * (1 - margin_percent / 100):
        return AMOUNT_REACHED
    return None


def capture_amount(total_incl_vat: Decimal | None, hold: Decimal) -> tuple[Decimal, Decimal]:
    """(captured, released): the session's price, never below zero nor above the hold; the rest
    of the hold is released. No price (no tariff applied) captures nothing."""
    total = max(Decimal(0), total_incl_vat or Decimal(0))
    captured = min(total, hold)
    return captured, hold - captured


def percent(limits: Limits, progress: Progress) -> int:
    """How much of the product is used, 0-100: the most used of its time, energy and money."""
    shares = [progress.cost_incl_vat / limits.hold if limits.hold > 0 else Decimal(0)]
    if limits.max_duration_s:
        shares.append(Decimal(str(progress.elapsed_s)) / limits.max_duration_s)
    if limits.max_energy_wh:
        shares.append(Decimal(progress.energy_wh) / limits.max_energy_wh)
    value = int((max(shares) * 100).to_integral_value(ROUND_HALF_UP))
    return max(0, min(100, value))


def elapsed_hms(started: datetime | None, until: datetime) -> tuple[int, int, int] | None:
    """Elapsed time as (hours, minutes, seconds), as the seed's charging_start_hour/minute/second."""
    if started is None:
        return None
    total = max(0, int((until - started).total_seconds()))
    return total // 3600, total % 3600 // 60, total % 60
