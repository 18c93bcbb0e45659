"""HTTP shapes of a station's current errors, decoded by the catalogue: part of the charge point
read model (``stations/schemas.py``), so kept apart from the catalogue's own shapes."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DecodedErrorOut(BaseModel):
    """The catalogue entry that explains a reported code."""

    model_config = ConfigDict(from_attributes=True)
    id: int = Field(description="The vendor error code's id (/api/v1/vendor-error-codes/{id}).")
    vendor_id: int
    model_id: int | None = Field(description="The model it is defined for; null: every model of the vendor.")
    code: str
    description: str
    severity: str = Field(description="critical, error, warning or info.")
    suggested_action: str | None


class StationErrorOut(BaseModel):
    """An error the station reports now: a 1.6 connector's (or the station's) errorCode other than
    NoError, with the vendorErrorCode of that StatusNotification, or a 2.x NotifyEvent with a
    techCode not cleared since."""

    model_config = ConfigDict(from_attributes=True)
    source: str = Field(description="StatusNotification (1.6) or NotifyEvent (2.x).")
    evse: int | None = Field(description="The EVSE number; null: the station itself.")
    connector: int | None
    status: str | None = Field(description="1.6: the status reported with it.")
    error_code: str | None = Field(description="1.6 errorCode.")
    vendor_id: str | None = Field(description="1.6 vendorId, as the station sent it.")
    vendor_error_code: str | None = Field(description="1.6 vendorErrorCode or 2.x techCode.")
    info: str | None = Field(description="1.6 info or 2.x techInfo.")
    component: str | None = Field(description="2.x: the component the event is about.")
    variable: str | None = Field(description="2.x: its variable (Problem, …).")
    reported_at: datetime | None = Field(description="When the station says it happened.")
    decoded: DecodedErrorOut | None = Field(description="What the vendor's catalogue says of the code; null: "
                                                        "no entry for it (docs/operations.md).")
