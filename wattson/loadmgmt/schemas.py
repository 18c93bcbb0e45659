"""HTTP shapes of circuits, their unmanaged load and their live load."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from wattson.api.types import MAX_ID
from wattson.loadmgmt.rules import MAX_CURRENT_A, schedule_problem
from wattson.locations.schemas import time_zone_field
from wattson.stations.schemas import Text

Strategy = Literal["equal", "priority", "departure"]  # allocation.STRATEGIES
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
Current = Annotated[float, Field(ge=0, le=MAX_CURRENT_A)]
HOUR_MINUTE = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"

MAX_CURRENT = Field(gt=0, le=MAX_CURRENT_A, description="The limit per phase, A: more than 0, at most 10,000.")
STRATEGY_DESCRIPTION = ("How the allocation shares what is left (a grid connection's applies to its whole tree): equal (equal shares), priority (higher "
                        "charging_priority first) or departure (the EV that must leave soonest first, where the EV "
                        "says; ISO 15118 / OCPP 2.x).")
SCHEDULE_DESCRIPTION = ("Daily unmanaged load in the circuit's time_zone: entries {from, to, current_a}; to may be "
                        "24:00, or earlier than from to run past midnight; entries running at once add up.")

EXAMPLES = [
    {"name": "Grid connection", "max_current_a": 100},
    {"name": "Garage row B", "parent_id": 1, "max_current_a": 63, "phases": 3, "safety_margin_a": 2,
     "strategy": "priority", "unmanaged_fixed_a": 5, "time_zone": "Europe/Berlin",
     "unmanaged_schedule": [{"from": "07:00", "to": "19:00", "current_a": 20}]},
]


class ScheduleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", pattern=HOUR_MINUTE, description="Local time HH:MM, inclusive.")
    to: str = Field(pattern=HOUR_MINUTE, description="Local time HH:MM, exclusive; 24:00 is midnight.")
    current_a: Current = Field(description="Unmanaged current per phase while it runs, A.")


def _schedule(entries: list[ScheduleEntry] | None) -> list[ScheduleEntry] | None:
    if entries is None:
        return None
    problem = schedule_problem([e.model_dump(by_alias=True) for e in entries])
    if problem:
        raise PydanticCustomError("schedule", problem)
    return entries


class _CircuitFields(BaseModel):
    parent_id: DbId | None = Field(None, description="The circuit it is part of (must exist; no loops); null: a "
                                                     "grid connection.")
    location_id: DbId | None = Field(None, description="The location it is at (must exist).")
    max_power_w: float | None = Field(None, gt=0, le=1e9, description="An extra cap on the sum of power, W.")
    unmanaged_schedule: list[ScheduleEntry] | None = Field(None, max_length=96, description=SCHEDULE_DESCRIPTION)
    unmanaged_meter_charge_point_id: Text(48) | None = Field(
        None, description="A station whose meter measures unmanaged load on this circuit (its MeterValues "
                          "outside transactions, Current.Import per phase); must exist.")
    unmanaged_meter_evse: int | None = Field(None, ge=0, le=MAX_ID, description="That station's EVSE whose meter "
                                                                               "it is; 0: its main meter.")

    _schedule = field_validator("unmanaged_schedule")(_schedule)


class CircuitCreate(_CircuitFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": EXAMPLES})

    name: Text(255)
    max_current_a: float = MAX_CURRENT
    phases: Literal[1, 3] = 3
    voltage_v: float = Field(230.0, gt=0, le=1000, description="Phase to neutral, V: turns W into A.")
    safety_margin_a: Current = Field(0.0, description="Kept free on every phase, A.")
    strategy: Strategy = Field("equal", description=STRATEGY_DESCRIPTION)
    time_zone: str = Field("UTC", description="IANA time zone of unmanaged_schedule.")
    unmanaged_fixed_a: Current = Field(0.0, description="Unmanaged current always drawn, per phase, A.")
    unmanaged_meter_valid_s: int = Field(300, ge=1, le=86_400, description="A meter reading older than this "
                                                                           "no longer counts, s.")

    _time_zone = field_validator("time_zone")(time_zone_field)


class CircuitUpdate(_CircuitFields):
    """Only the fields sent change; null clears a nullable field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"max_current_a": 80}, {"parent_id": None}, {"unmanaged_schedule": None, "unmanaged_fixed_a": 12}]})

    name: Text(255) = None
    max_current_a: float = Field(None, gt=0, le=MAX_CURRENT_A, description="The limit per phase, A.")
    phases: Literal[1, 3] = None
    voltage_v: float = Field(None, gt=0, le=1000)
    safety_margin_a: Current = None
    strategy: Strategy = Field(None, description=STRATEGY_DESCRIPTION)
    time_zone: str = None
    unmanaged_fixed_a: Current = None
    unmanaged_meter_valid_s: int = Field(None, ge=1, le=86_400)

    _time_zone = field_validator("time_zone")(time_zone_field)


class PostedLoad(BaseModel):
    """A reading of unmanaged load from another system (a building's energy manager, a meter)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"current_a": [31.5, 28.0, 30.2], "valid_s": 300}, {"current_a": [12]}]})

    current_a: list[Current] = Field(min_length=1, max_length=3, description="Per phase, A: L1, L2, L3; one "
                                                                              "value is the same on every phase.")
    valid_s: int = Field(300, ge=1, le=86_400, description="How long it counts; after that it is stale and left out.")

    @field_validator("current_a")
    @classmethod
    def _one_or_three(cls, value: list[float]) -> list[float]:
        if len(value) == 2:
            raise PydanticCustomError("phases", "give one value (every phase) or three (L1, L2, L3)")
        return value


class PostedLoadOut(BaseModel):
    current_a: list[float] = Field(description="Per phase, A: L1, L2, L3.")
    valid_s: int
    posted_at: datetime
    stale: bool = Field(description="Older than valid_s: no longer counted.")


class CircuitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    parent_id: int | None
    location_id: int | None
    max_current_a: float = Field(description="Per phase, A.")
    max_power_w: float | None
    phases: int
    voltage_v: float
    safety_margin_a: float
    strategy: str
    time_zone: str
    unmanaged_fixed_a: float
    unmanaged_schedule: list[ScheduleEntry] | None
    unmanaged_meter_charge_point_id: str | None
    unmanaged_meter_evse: int | None
    unmanaged_meter_valid_s: int
    unmanaged_posted: PostedLoadOut | None = Field(description="The latest reading posted to "
                                                               "/circuits/{id}/unmanaged-load, if any.")
    children: list[int] = Field(description="Ids of the circuits directly below it.")
    charge_point_ids: list[str] = Field(description="The charge points placed on it.")
    evse_ids: list[int] = Field(description="EVSEs placed on it themselves (instead of their charge point's circuit).")
    created_at: datetime
    updated_at: datetime


class PhaseLoad(BaseModel):
    phase: int = Field(description="1, 2 or 3 (L1, L2, L3).")
    limit_a: float = Field(description="max_current_a less the safety margin.")
    unmanaged_a: float = Field(description="Unmanaged load on it and on the circuits below it, now.")
    allocated_a: float = Field(description="The sum of the limits of the EVSEs below it that draw on this phase.")
    drawn_a: float = Field(description="The sum of what those EVSEs' latest meter values say they draw.")


class EvseLoad(BaseModel):
    charge_point_id: str
    evse: int = Field(description="The OCPP EVSE number.")
    circuit_id: int
    phases: list[int] = Field(description="The circuit phases it draws on, 1 to 3.")
    limit_a: float = Field(description="Its allocation per phase, A; 0: paused.")
    drawn_a: float | None = Field(description="What it draws now (the most on any of its phases), A; null: unknown.")
    max_a: float
    priority: int
    managed: bool = Field(description="False: it refused its profiles and is counted at max_a.")
    source: Literal["controller", "computed"] = Field(
        description="controller: the limit last sent to the station and accepted; computed: the allocation "
                    "computed now (nothing in force yet).")


class CircuitLoad(BaseModel):
    circuit_id: int
    at: datetime
    strategy: str = Field(description="The strategy its tree is allocated by: its grid connection's.")
    unmanaged_stale: bool = Field(description="A meter or posted reading configured for it is stale and left out.")
    phases: list[PhaseLoad]
    evses: list[EvseLoad]
