"""OCPI 2.2.1 TariffRestrictions: parsing and the verdict at one moment of a session. No I/O.

A restriction is judged at the *start* of a piece of the session. The pricing engine cuts the
session wherever a verdict can change (see ``wall_minutes``, ``duration_bounds_us``,
``energy_bounds_wh``), so the verdict at a piece's start holds for the whole piece. Every bound
is inclusive at the start and exclusive at the end, as the specification defines them:
``start_time``/``start_date``/``min_*`` inclusive, ``end_time``/``end_date``/``max_*`` exclusive.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
MINUTES_PER_DAY = 1440


def to_decimal(value: Any) -> Decimal:
    """Tariffs arrive as JSON: int, float, str or Decimal. ``str`` first, so 0.1 stays 0.1."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _optional(raw: Mapping[str, Any], key: str) -> Decimal | None:
    value = raw.get(key)
    return None if value is None else to_decimal(value)


def _minute(text: str | None, *, end: bool) -> int | None:
    """"HH:MM" → minute of the day; an end of "00:00" means midnight at the end of the day."""
    if text is None:
        return None
    hours, minutes = (int(part) for part in text.split(":"))
    value = hours * 60 + minutes
    return MINUTES_PER_DAY if end and value == 0 else value


def _microseconds(seconds: Decimal | None) -> int | None:
    return None if seconds is None else int((seconds * 1_000_000).to_integral_value(ROUND_CEILING))


@dataclass(frozen=True, slots=True)
class Moment:
    """The state of the session at the start of a piece: all a restriction can look at."""

    local: datetime            # wall-clock time at the location
    elapsed_us: int            # since the session started
    energy_wh: Decimal         # charged so far in the session
    power_kw: Decimal
    current_a: Decimal | None  # None: unknown


@dataclass(frozen=True, slots=True)
class Restrictions:
    start_minute: int | None = None
    end_minute: int | None = None          # 1..1440
    start_date: date | None = None
    end_date: date | None = None
    days: frozenset[int] | None = None     # date.weekday() numbers
    min_wh: Decimal | None = None
    max_wh: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration_us: int | None = None
    max_duration_us: int | None = None
    reservation: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> "Restrictions":
        raw = raw or {}
        kwh = {key: _optional(raw, key) for key in ("min_kwh", "max_kwh")}
        day_names = raw.get("day_of_week") or None
        return cls(
            start_minute=_minute(raw.get("start_time"), end=False),
            end_minute=_minute(raw.get("end_time"), end=True),
            start_date=date.fromisoformat(raw["start_date"]) if raw.get("start_date") else None,
            end_date=date.fromisoformat(raw["end_date"]) if raw.get("end_date") else None,
            days=frozenset(DAYS.index(name) for name in day_names) if day_names else None,
            min_wh=None if kwh["min_kwh"] is None else kwh["min_kwh"] * 1000,
            max_wh=None if kwh["max_kwh"] is None else kwh["max_kwh"] * 1000,
            min_current=_optional(raw, "min_current"),
            max_current=_optional(raw, "max_current"),
            min_power=_optional(raw, "min_power"),
            max_power=_optional(raw, "max_power"),
            min_duration_us=_microseconds(_optional(raw, "min_duration")),
            max_duration_us=_microseconds(_optional(raw, "max_duration")),
            reservation=raw.get("reservation"),
        )

    def wall_minutes(self) -> set[int]:
        """Minutes of the local day at which the verdict may flip (midnight for day and date)."""
        minutes = {m % MINUTES_PER_DAY for m in (self.start_minute, self.end_minute) if m is not None}
        if minutes or self.days is not None or self.start_date or self.end_date:
            minutes.add(0)
        return minutes

    def duration_bounds_us(self) -> list[int]:
        return [d for d in (self.min_duration_us, self.max_duration_us) if d is not None]

    def energy_bounds_wh(self) -> list[Decimal]:
        return [e for e in (self.min_wh, self.max_wh) if e is not None]

    def holds(self, m: Moment) -> bool:
        if self.reservation is not None:
            return False  # reservation elements price reservations, never a charging session
        if not self._time_of_day_holds(m.local.hour * 60 + m.local.minute):
            return False
        day = m.local.date()
        if (self.start_date and day < self.start_date) or (self.end_date and day >= self.end_date):
            return False
        if self.days is not None and day.weekday() not in self.days:
            return False
        if not _within(m.energy_wh, self.min_wh, self.max_wh):
            return False
        if not _within(m.power_kw, self.min_power, self.max_power):
            return False
        if self.min_current is not None or self.max_current is not None:
            if m.current_a is None or not _within(m.current_a, self.min_current, self.max_current):
                return False
        return _within(m.elapsed_us, self.min_duration_us, self.max_duration_us)

    def _time_of_day_holds(self, minute: int) -> bool:
        start, end = self.start_minute, self.end_minute
        if start is None and end is None:
            return True
        if start is None:
            return minute < end
        if end is None:
            return minute >= start
        if start < end:
            return start <= minute < end
        return minute >= start or minute < end  # wraps past midnight, e.g. 22:00–06:00


def _within(value, low, high) -> bool:
    return (low is None or value >= low) and (high is None or value < high)
