"""Meter readings: the neutral sample type, how samples are stored and how energy is read from
them. No I/O."""

import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

ENERGY_REGISTER = "Energy.Active.Import.Register"
_WH_PER_UNIT = {"Wh": 1.0, "kWh": 1000.0}
#: Readings of this many integer digits or more (magnitude >= 1e15) are no real meter's: a
#: 64-bit register column holds 9.2e18, so 1e15 kWh still fits once made Wh, and below 2**53
#: (9.0e15) a float still holds every whole Wh of it.
READING_DIGITS = 15
READING_BOUND = 10.0 ** READING_DIGITS
#: A Raw value as OCPP means it: a plain decimal number (no NaN, Infinity, spaces or "_").
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


@dataclass(slots=True)
class Sample:
    timestamp: datetime
    value: str
    measurand: str = ENERGY_REGISTER
    unit: str | None = "Wh"
    phase: str | None = None
    context: str | None = None
    location: str | None = None
    format: str | None = None

    @property
    def numeric(self) -> float | None:
        if self.format == "SignedData":
            return None
        try:
            number = float(self.value)
        except ValueError:
            return None
        # Samples are checked on the way in (reading_problem); this keeps rows stored before that
        # from breaking the sums.
        return number if math.isfinite(number) and abs(number) < READING_BOUND else None


@dataclass(frozen=True, slots=True)
class BadReading:
    """A sampled value dropped on the way in, and why (for the log and a station event)."""
    timestamp: datetime
    measurand: str
    value: str
    reason: str


def reading_problem(value: str, multiplier: int = 0) -> str | None:
    """Why a Raw reading (times ten to the ``multiplier``) cannot be stored or used; None when
    it can. A station's message is still accepted: refusing it would make the station resend it
    for ever and block its queue, so the reading alone is dropped."""
    if not multiplier and len(value) <= READING_DIGITS and value.isascii() and value.replace(".", "", 1).isdigit():
        return None  # the common case (a meter register, a power), in a third of the pattern's time
    if not _DECIMAL.fullmatch(value):
        return "not a finite decimal number"
    if abs(multiplier) > READING_DIGITS:  # also keeps the plain decimal text of a value short
        return f"unit multiplier beyond ±{READING_DIGITS}"
    if not multiplier and len(value) <= READING_DIGITS and "e" not in value and "E" not in value:
        return None  # the common case: too few digits to reach 1e15
    number = Decimal(value)  # exact and finite, by the pattern
    if not number.is_zero() and number.adjusted() + multiplier >= READING_DIGITS:
        return f"magnitude of 1e{READING_DIGITS} or more"
    return None


#: A sample's fields stored when set; its measurand and value always are, its timestamp is the row's.
OPTIONAL = ("unit", "phase", "context", "location", "format")


def pack(samples: list[Sample]) -> list[tuple[datetime, list[dict]]]:
    """The samples grouped by instant, each sample as stored (its fields but the timestamp, None
    left out): a station's meterValue element is stored as one row, since its samples are always
    read together and one row costs the database a quarter of four."""
    groups: list[tuple[datetime, list[dict]]] = []
    at = group = None
    for x in samples:
        if x.timestamp is not at and (group is None or x.timestamp != at):
            at, group = x.timestamp, []
            groups.append((at, group))
        stored = {"measurand": x.measurand, "value": x.value}
        for name in OPTIONAL:
            value = getattr(x, name)
            if value is not None:
                stored[name] = value
        group.append(stored)
    return groups


def unpack(timestamp: datetime, stored: list[dict]) -> list[Sample]:
    """The samples of one stored row; ``pack``'s inverse."""
    return [Sample(timestamp=timestamp, value=x["value"], measurand=x["measurand"], unit=x.get("unit"),
                   phase=x.get("phase"), context=x.get("context"), location=x.get("location"),
                   format=x.get("format")) for x in stored]


def to_wh(value: float, unit: str | None) -> float | None:
    """Energy in Wh; None for a unit that is not an energy unit."""
    factor = _WH_PER_UNIT.get(unit or "Wh")
    return None if factor is None else value * factor


def energy_readings(samples: list[Sample]) -> list[tuple[datetime, int]]:
    """The readings of the station's energy register, in whole Wh, oldest first.

    Per-phase registers are ignored: the register of the whole outlet is what is billed.
    """
    readings = []
    for sample in samples:
        if sample.measurand != ENERGY_REGISTER or sample.phase is not None:
            continue
        number = sample.numeric
        wh = None if number is None else to_wh(number, sample.unit)
        if wh is not None:
            readings.append((sample.timestamp, round(wh)))
    readings.sort(key=lambda reading: reading[0])  # stable: of equal times, the last sent wins
    return readings


def energy_reading(samples: list[Sample]) -> tuple[datetime, int] | None:
    """The latest reading of the station's energy register."""
    readings = energy_readings(samples)
    return readings[-1] if readings else None


def energy_between(meter_start_wh: int, meter_now_wh: int | None) -> int:
    """Energy delivered; a register that went backwards (meter swap, reset) counts as zero."""
    if meter_now_wh is None:
        return 0
    return max(0, meter_now_wh - meter_start_wh)
