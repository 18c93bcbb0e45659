"""HTTP endpoints to raise a station's security profile over OCPP, and to see or cancel the upgrade."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from wattson.api import auth
from wattson.api.types import MAX_ID
from wattson.stations.schemas import IDENTITY_PATTERN, PASSWORD_FIELD, CommandOut, Out

router = APIRouter(prefix="/api/v1", tags=["charge points"])
CpId = Path(pattern=IDENTITY_PATTERN, description="The charge point's OCPP identity.")


class SecurityUpgradeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"security_profile": 2}, {"security_profile": 2, "password": "n7Qk2vX9pL4sW8dR"}, {"security_profile": 3}]})

    security_profile: Literal[2, 3] = Field(description="The profile to raise the station to, above its own.")
    password: str | None = PASSWORD_FIELD
    configuration_slot: int | None = Field(
        None, ge=0, le=MAX_ID, description="OCPP 2.x: the network profile slot to store the new profile in; "
                                           "omitted: the lowest one NetworkConfigurationPriority does not list.")


class SecurityProfileOut(Out):
    id: str = Field(description="The charge point's id.")
    security_profile: int = Field(description="The profile the station must meet when it connects.")
    pending_security_profile: int | None = Field(
        description="While an upgrade is pending: the profile the station was told to use, admitted beside "
                    "`security_profile` until a connection meets it.")
    security_upgrade: str | None = Field(
        description="The last upgrade: sending, pending, completed, failed or cancelled; null: none yet.")
    security_upgrade_reason: str | None = Field(description="Why it failed.")
    security_upgrade_at: datetime | None = Field(description="When it last changed state.")
    commands: list[CommandOut] = Field(default_factory=list, description="The commands this request sent.")


@router.get("/charge-points/{charge_point_id}/security-profile", response_model=SecurityProfileOut,
            dependencies=[auth.viewer])
async def get_security_profile(request: Request, charge_point_id: str = CpId):
    """The station's security profile and its last upgrade."""
    return await request.app.state.services.security_upgrades.get(charge_point_id)


@router.post("/charge-points/{charge_point_id}/security-profile", response_model=SecurityProfileOut,
             dependencies=[auth.operator])
async def raise_security_profile(request: Request, body: SecurityUpgradeIn, charge_point_id: str = CpId):
    """Raise the station's security profile (OCPP 2.x: SetNetworkProfile to WATTSON_PUBLIC_OCPP_URL_TLS,
    NetworkConfigurationPriority, Reset; 1.6: ChangeConfiguration SecurityProfile, Reset; a `password`
    first as BasicAuthPassword / AuthorizationKey). Each step waits for the station's answer; the
    answer is the upgrade then: `pending` until the station connects on the new profile, or `failed`
    with the reason. 409 when the station is offline or an upgrade is under way, 422 for a profile
    not above its own or one this system cannot serve."""
    station, sent = await request.app.state.services.security_upgrades.start(
        charge_point_id, body.security_profile, body.password, body.configuration_slot)
    out = SecurityProfileOut.model_validate(station)
    out.commands = [CommandOut.model_validate(record) for record in sent]
    return out


@router.delete("/charge-points/{charge_point_id}/security-profile/upgrade", response_model=SecurityProfileOut,
               dependencies=[auth.operator])
async def cancel_security_upgrade(request: Request, charge_point_id: str = CpId):
    """Cancel the upgrade under way: the station is admitted on its own profile only. 409 when
    there is none."""
    return await request.app.state.services.security_upgrades.cancel(charge_point_id)
