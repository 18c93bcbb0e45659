"""Request and response bodies of tariff groups and tariff snapshots."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from wattson.sessions.schemas import no_nul
from wattson.stations.schemas import DbId, Out
from wattson.tariffs.schemas import TARIFF_ID, AssignmentKind

MAX_TARIFFS = 100  # per group

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), AfterValidator(no_nul)]
Description = Annotated[str, StringConstraints(max_length=1000), AfterValidator(no_nul)]


class GroupTariff(BaseModel):
    """One tariff of a group: for everyone or for one driver group, as the regular or the ad hoc tariff."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    tariff_id: str = Field(pattern=TARIFF_ID)
    kind: AssignmentKind = Field("regular", description="`regular` for sessions, `ad_hoc` for direct payment.")
    driver_group_id: DbId | None = Field(None, description="Only for drivers of this home group; none: everyone.")


class TariffGroupBody(BaseModel):
    """A tariff group as a whole (create, and replace with PUT)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "Public AC", "description": "Street chargers",
        "tariffs": [{"tariff_id": "AC-MEMBERS", "driver_group_id": 3}, {"tariff_id": "AC-PUBLIC"},
                    {"tariff_id": "AC-CARD", "kind": "ad_hoc"}]}]})

    name: Name = Field(description="Unique.")
    description: Description | None = None
    tariffs: list[GroupTariff] = Field(min_length=1, max_length=MAX_TARIFFS, description=(
        "In order: where two of them could price a session (same kind, both for everyone or both for its "
        "driver group, both valid at its start), the first wins. A tariff for a later validity window may "
        "follow the current one."))

    @model_validator(mode="after")
    def _distinct(self):
        keys = [(t.tariff_id, t.kind, t.driver_group_id) for t in self.tariffs]
        if len(set(keys)) != len(keys):
            raise PydanticCustomError("duplicate", "each (tariff_id, kind, driver_group_id) at most once")
        return self


class TariffGroupAssignmentCreate(BaseModel):
    """Where the group applies: a location or a charge point (at most one; none: the whole network,
    which needs a driver group), for everyone or one driver group. An EVSE names its group itself
    (`tariff_group_id` of `PATCH /api/v1/evses/{id}`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"location_id": 4},
                                                                              {"driver_group_id": 3}]})

    location_id: DbId | None = None
    charge_point_id: Annotated[str, StringConstraints(min_length=1, max_length=48), AfterValidator(no_nul)] | None = None
    driver_group_id: DbId | None = None

    @model_validator(mode="after")
    def _scope(self):
        if self.location_id is not None and self.charge_point_id is not None:
            raise PydanticCustomError("scope", "name at most one of location_id, charge_point_id")
        if self.location_id is None and self.charge_point_id is None and self.driver_group_id is None:
            raise PydanticCustomError("scope", "name a location, a charge point or a driver group")
        return self


class TariffGroupAssignmentOut(Out):
    id: int
    tariff_group_id: int
    location_id: int | None
    charge_point_id: str | None
    driver_group_id: int | None
    created_at: datetime


class TariffGroupOut(Out):
    id: int
    name: str
    description: str | None
    tariffs: list[GroupTariff] = Field(description="In order of precedence within the group.")
    assignments: list[TariffGroupAssignmentOut] = Field(description="Where it applies, oldest first.")
    evse_ids: list[int] = Field(description="The EVSEs (Wattson ids) that name it, at most 1,000.")
    created_at: datetime
    updated_at: datetime


class TariffSnapshotOut(Out):
    id: int
    tariff_id: str = Field(description="The tariff it is a copy of (which may have changed or gone since).")
    taken_at: datetime = Field(validation_alias="created_at", description="When a session first took this version.")
    tariff: dict = Field(validation_alias="body", description="The OCPI 2.2.1 tariff object as the sessions took "
                                                              "it, with its id and last_updated.")
