"""Smart charging: the profiles the CSMS installed and the limit they put on a connector.

As OCPP 1.6 (3.13) and 2.0.1 (K) have it: within a purpose the active profile with the highest
stack level wins; the transaction's limit (TxProfile, else the connector's TxDefaultProfile,
else the one for connector 0) is capped by the station's maximum profile. Simplification: the
station maximum caps each connector on its own rather than their sum.

Profiles are kept in neither version's shape (``Profile``): each version's message layer
translates what the CSMS sent, and the rules here serve both.
"""

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wattson.sim.meter import VOLTAGE
from wattson.sim.wire import parse_iso, utc_now

RECURRENCE_SECONDS = {"Daily": 86_400, "Weekly": 604_800}
MAX_INSTALLED = 10  # the MaxChargingProfilesInstalled the station reports
MIN_CURRENT_A = 6.0  # IEC 61851: an AC EV cannot charge on less per phase, it pauses instead
#: purposes: the station's maximum (1.6 ChargePointMaxProfile, 2.x ChargingStationMaxProfile), TxDefault, Tx
STATION_MAX, TX_DEFAULT, TX = "StationMax", "TxDefault", "Tx"


@dataclass(frozen=True, eq=False)
class Profile:
    """A charging profile in neither version's words. ``schedule`` keeps the keys both versions
    share: chargingRateUnit, chargingSchedulePeriod (startPeriod, limit, numberPhases), duration
    and startSchedule."""

    id: int
    purpose: str  # STATION_MAX, TX_DEFAULT or TX
    stack_level: int
    kind: str  # Absolute, Recurring or Relative
    schedule: dict
    recurrency: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    transaction_id: int | str | None = None
    source: dict = field(default_factory=dict)  # as the CSMS sent it, for GetChargingProfiles


@dataclass(frozen=True)
class Composite:
    """A composite schedule: the limits a connector will have, period by period."""

    connector_id: int
    start: datetime
    duration: int
    unit: str
    periods: list[dict]  # startPeriod, limit, numberPhases


@dataclass(eq=False)
class Installed:
    connector_id: int
    profile: Profile
    installed_at: datetime  # when an Absolute schedule without startSchedule begins

    @property
    def id(self) -> int:
        return self.profile.id

    @property
    def purpose(self) -> str:
        return self.profile.purpose

    @property
    def stack_level(self) -> int:
        return self.profile.stack_level

    @property
    def schedule(self) -> dict:
        return self.profile.schedule

    def limit_at(self, at: datetime, tx_start: datetime) -> tuple[float, str, int | None] | None:
        """(limit, unit, phases) in force at ``at``, or None when this profile says nothing then."""
        valid_from, valid_to = self.profile.valid_from, self.profile.valid_to
        if (valid_from and at < parse_iso(valid_from)) or (valid_to and at >= parse_iso(valid_to)):
            return None
        origin = self._origin(at, tx_start)
        offset = (at - origin).total_seconds()
        duration = self.schedule.get("duration")
        if offset < 0 or (duration is not None and offset >= duration):
            return None
        started = [p for p in self.schedule["chargingSchedulePeriod"] if p["startPeriod"] <= offset]
        if not started:
            return None
        period = max(started, key=lambda p: p["startPeriod"])
        return period["limit"], self.schedule["chargingRateUnit"], period.get("numberPhases")

    def changes(self, start: datetime, end: datetime, tx_start: datetime) -> list[datetime]:
        """Moments in [start, end) at which this profile's limit may change."""
        moments = [parse_iso(moment) for moment in (self.profile.valid_from, self.profile.valid_to) if moment]
        origin = self._origin(start, tx_start)
        cycle = RECURRENCE_SECONDS.get(self.profile.recurrency, 86_400)
        while origin < end:
            moments += [origin + timedelta(seconds=p["startPeriod"]) for p in self.schedule["chargingSchedulePeriod"]]
            if self.schedule.get("duration") is not None:
                moments.append(origin + timedelta(seconds=self.schedule["duration"]))
            if self.profile.kind != "Recurring":
                break
            origin += timedelta(seconds=cycle)
        return [moment for moment in moments if start <= moment < end]

    def _origin(self, at: datetime, tx_start: datetime) -> datetime:
        """When the schedule (or, if recurring, its current cycle) began."""
        kind = self.profile.kind
        if kind == "Relative":
            return tx_start
        start = parse_iso(self.schedule["startSchedule"]) if self.schedule.get("startSchedule") else self.installed_at
        if kind == "Recurring":
            cycle = RECURRENCE_SECONDS.get(self.profile.recurrency, 86_400)
            start += timedelta(seconds=math.floor((at - start).total_seconds() / cycle) * cycle)
        return start


class ChargingProfiles:
    def __init__(self, connectors: int, phases: int, max_power_w: float):
        self._connectors = connectors
        self._phases = phases
        self._max_power_w = max_power_w
        self._installed: list[Installed] = []

    def set(self, connector_id: int, profile: Profile, transaction_id: int | str | None, in_transaction: bool) -> str:
        """Install a profile (SetChargingProfile); its status."""
        if not 0 <= connector_id <= self._connectors:
            return "Rejected"
        if profile.purpose == STATION_MAX and connector_id != 0:
            return "Rejected"
        if profile.purpose == TX:  # only for a running transaction, and that one
            if connector_id == 0 or not in_transaction:
                return "Rejected"
            if profile.transaction_id is not None and profile.transaction_id != transaction_id:
                return "Rejected"
        kept = [i for i in self._installed if not _replaced_by(i, connector_id, profile)]
        if len(kept) >= MAX_INSTALLED:
            return "Rejected"
        self._installed = kept + [Installed(connector_id, profile, utc_now())]
        return "Accepted"

    def select(self, *, ids: Collection[int] | None = None, connector_id: int | None = None,
               purpose: str | None = None, stack_level: int | None = None) -> list[Installed]:
        """The installed profiles that meet every criterion given (GetChargingProfiles)."""
        return [i for i in self._installed
                if (ids is None or i.id in ids) and (connector_id is None or i.connector_id == connector_id)
                and (purpose is None or i.purpose == purpose) and (stack_level is None or i.stack_level == stack_level)]

    def clear(self, *, id: int | None = None, connector_id: int | None = None, purpose: str | None = None,
              stack_level: int | None = None) -> bool:
        """Remove what ClearChargingProfile names (an id alone, else every criterion given); anything removed?"""
        if id is not None:
            doomed = self.select(ids=(id,))
        else:
            doomed = self.select(connector_id=connector_id, purpose=purpose, stack_level=stack_level)
        self._installed = [i for i in self._installed if i not in doomed]
        return bool(doomed)

    def end_transaction(self, connector_id: int) -> None:
        """A TxProfile lives as long as its transaction."""
        self.clear(connector_id=connector_id, purpose=TX)

    def limit_w(self, connector_id: int, at: datetime, tx_start: datetime | None, in_transaction: bool) -> float:
        """The power a connector may draw at ``at``: the station's maximum unless a profile says less."""
        limits = [self._max_power_w]
        for stack in self._stacks(connector_id, in_transaction):
            limit = self._stack_limit_w(stack, at, tx_start or at)
            if limit is not None:
                limits.append(limit)
        return min(limits)

    def composite(self, connector_id: int, duration: int, unit: str | None, tx_start: datetime | None,
                  in_transaction: bool) -> Composite | None:
        """The composite schedule for the next ``duration`` seconds, or None with no profile to go on."""
        stacks = self._stacks(connector_id, in_transaction)
        relevant = [i for stack in stacks for i in stack]
        if not 0 <= connector_id <= self._connectors or not relevant:
            return None
        start = utc_now()
        tx_start = tx_start or start
        end = start + timedelta(seconds=duration)
        unit = unit or relevant[0].schedule["chargingRateUnit"]
        offsets = {0} | {math.ceil((moment - start).total_seconds())
                         for i in relevant for moment in i.changes(start, end, tx_start)}
        periods: list[dict] = []
        for offset in sorted(o for o in offsets if o < duration or o == 0):
            watts = self.limit_w(connector_id, start + timedelta(seconds=offset), tx_start, in_transaction)
            limit = round(float(watts if unit == "W" else watts / (self._phases * VOLTAGE)), 1)
            if not periods or periods[-1]["limit"] != limit:
                periods.append({"startPeriod": offset, "limit": limit, "numberPhases": self._phases})
        return Composite(connector_id, start, duration, unit, periods)

    def _stacks(self, connector_id: int, in_transaction: bool) -> list[list[Installed]]:
        """The profiles that bear on a connector, one list per level that caps it."""
        def of(purpose: str, connector: int) -> list[Installed]:
            return [i for i in self._installed if i.purpose == purpose and i.connector_id == connector]

        station = of(STATION_MAX, 0)
        if connector_id == 0:
            return [station, of(TX_DEFAULT, 0)]
        tx = (of(TX, connector_id) if in_transaction else []) or of(TX_DEFAULT, connector_id) or of(TX_DEFAULT, 0)
        return [station, tx]

    def _stack_limit_w(self, stack: list[Installed], at: datetime, tx_start: datetime) -> float | None:
        for installed in sorted(stack, key=lambda i: i.stack_level, reverse=True):
            found = installed.limit_at(at, tx_start)
            if found is not None:
                limit, unit, phases = found
                return limit if unit == "W" else limit * (phases or self._phases) * VOLTAGE
        return None


def usable_w(limit_w: float, phases: int) -> float:
    """What an EV can take under ``limit_w``: nothing when that is below MIN_CURRENT_A per phase."""
    return 0.0 if limit_w < MIN_CURRENT_A * phases * VOLTAGE - 1e-6 else limit_w


def _replaced_by(installed: Installed, connector_id: int, profile: Profile) -> bool:
    """A new profile replaces one with its id, or one with its purpose and stack level on its connector."""
    return installed.id == profile.id or (
        installed.connector_id == connector_id
        and installed.purpose == profile.purpose
        and installed.stack_level == profile.stack_level
    )
