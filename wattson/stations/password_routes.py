"""HTTP endpoint to give a station a new HTTP Basic password over OCPP (stations/password_update.py)."""

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from wattson.api import auth
from wattson.stations.schemas import IDENTITY_PATTERN, PASSWORD_FIELD, CommandOut

router = APIRouter(prefix="/api/v1", tags=["charge points"])
CpId = Path(pattern=IDENTITY_PATTERN, description="The charge point's OCPP identity.")


class PasswordUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}, {"password": "n7Qk2vX9pL4sW8dR"}]})

    password: str | None = PASSWORD_FIELD


class PasswordUpdateOut(BaseModel):
    id: str = Field(description="The charge point's id.")
    changed: bool = Field(description="Whether the station took the new password: from now on only it gets "
                                      "the station in; false: the old one still does.")
    reason: str | None = Field(description="Why the password was not changed (the station's answer, no answer).")
    command: CommandOut = Field(description="The command sent, the password masked.")


@router.post("/charge-points/{charge_point_id}/password", response_model=PasswordUpdateOut,
             dependencies=[auth.operator])
async def update_station_password(request: Request, body: PasswordUpdateIn, charge_point_id: str = CpId):
    """Give the station a new HTTP Basic password (security profiles 1 and 2): the `password` given, or
    a random one Wattson makes and never shows. Sent as SetVariables SecurityCtrlr.BasicAuthPassword
    (2.x) or ChangeConfiguration AuthorizationKey, hex-encoded (1.6), and stored only once the station
    accepted it; until then, and after a refusal, the old password keeps working. 409 when the station
    is offline or a security upgrade is under way, 422 for a profile without a password."""
    changed, reason, record = await request.app.state.services.password_updates.update(charge_point_id, body.password)
    return PasswordUpdateOut(id=charge_point_id, changed=changed, reason=reason,
                             command=CommandOut.model_validate(record))
