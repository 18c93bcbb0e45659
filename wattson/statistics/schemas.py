"""HTTP shapes of the consumption statistics."""

from datetime import datetime

from pydantic import BaseModel, Field


class ConsumptionRow(BaseModel):
    key: int | str | None = Field(description="The location, charge point, EVSE, driver or driver group id (null: "
                                              "sessions without one, e.g. no known driver).")
    bucket: datetime = Field(description="The bucket's start in the requested time zone (with its offset).")
    energy_wh: int
    sessions: int = Field(description="Sessions that started in the bucket.")
    duration_s: int = Field(description="Their total duration, stop − start (a running one: until now).")
    revenue: float = Field(description="Their final prices excl. VAT (a session not priced yet counts 0).")
    energy_cost: float | None = Field(description="What their energy cost the operator by the electricity rates; "
                                                  "null when no rate covers some of it or currencies differ.")
    currency: str | None = Field(description="The electricity rates' currency.")
    margin: float | None = Field(description="revenue − energy_cost.")


class ConsumptionOut(BaseModel):
    group_by: str
    interval: str
    time_zone: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    data: list[ConsumptionRow]
