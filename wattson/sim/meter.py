"""An EV on the cable: the power it draws over a session and the meter readings that follow.

The curve is the one a CSMS sees from real AC chargers: a ramp-up while the car negotiates,
a plateau at whatever limits it (station, car, charging profile), and a taper as the battery
fills, with a little noise on top.
"""

import random
from dataclasses import dataclass

VOLTAGE = 230.0  # phase to neutral
RAMP_SECONDS = 10.0
TAPER_FROM_SOC = 80.0
NOISE = 0.015

PHASES = ("L1", "L2", "L3")
MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "SoC")


def phases_for(max_power_w: float) -> int:
    """Three phases above what one 32 A phase can carry."""
    return 3 if max_power_w > 7400 else 1


class Ev:
    """A car charging: battery state and the power it takes at the moment."""

    def __init__(self, rng: random.Random, phases: int):
        self._rng = rng
        self.phases = phases
        self.capacity_wh = rng.choice((40_000, 52_000, 64_000, 77_000, 82_000, 100_000))
        self.soc = rng.uniform(10.0, 70.0)
        self.onboard_max_w = rng.choice((7_400, 11_000, 11_000, 22_000))  # the car's own AC charger
        self.power_w = 0.0
        self.voltage = VOLTAGE
        self._elapsed = 0.0

    @property
    def full(self) -> bool:
        return self.soc >= 100.0

    @property
    def current_a(self) -> float:
        return self.power_w / (self.phases * self.voltage)

    def advance(self, seconds: float, limit_w: float) -> float:
        """Charge for ``seconds`` under ``limit_w``; the energy taken in Wh."""
        self._elapsed += seconds
        target = min(limit_w, self.onboard_max_w)
        ramp = min(1.0, self._elapsed / RAMP_SECONDS)
        taper = 1.0 if self.soc < TAPER_FROM_SOC else max(0.05, (100.0 - self.soc) / (100.0 - TAPER_FROM_SOC))
        noise = 1.0 + self._rng.gauss(0.0, NOISE)
        self.power_w = max(0.0, min(target, target * ramp * taper * noise))
        self.voltage = VOLTAGE + self._rng.gauss(0.0, 1.5)
        energy_wh = self.power_w * seconds / 3600.0
        self.soc = min(100.0, self.soc + energy_wh / self.capacity_wh * 100.0)
        return energy_wh


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurand as the meter shows it; each OCPP version writes it in its own shape."""

    measurand: str
    value: float
    unit: str
    decimals: int  # the precision the meter displays
    location: str = "Outlet"
    phase: str | None = None


def readings(measurands: list[str], register_wh: float, ev: Ev | None, phases: int = 1) -> list[Reading]:
    """One meter reading of the measurands configured (those the meter has, in the order asked).
    Current.Import comes per phase the outlet has (``phases``: L1, or L1 to L3), as a CSMS
    balancing a circuit needs it; the EV draws the same on each."""
    current = ev.current_a if ev else 0.0
    known = {
        "Energy.Active.Import.Register": [Reading("Energy.Active.Import.Register", register_wh, "Wh", 0)],
        "Power.Active.Import": [Reading("Power.Active.Import", ev.power_w if ev else 0.0, "W", 0)],
        "Current.Import": [Reading("Current.Import", current, "A", 1, phase=phase) for phase in PHASES[:phases]],
        "Voltage": [Reading("Voltage", ev.voltage if ev else VOLTAGE, "V", 1, phase="L1-N")],
    }
    if ev is not None:
        known["SoC"] = [Reading("SoC", ev.soc, "Percent", 0, location="EV")]
    return [reading for name in measurands for reading in known.get(name, ())]
