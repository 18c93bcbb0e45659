"""HTTP endpoints for a station's certificates: the record of its signing requests, and renewal."""

from datetime import datetime

from fastapi import APIRouter, Body, Path, Request, Response

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.pki.schemas import CertificateOut, RenewRequest
from wattson.stations.command_http import OUTCOME_RESPONSES, command_answer
from wattson.stations.command_routes import Wait
from wattson.stations.schemas import IDENTITY_PATTERN, CommandOut

router = APIRouter(prefix="/api/v1", tags=["certificates"])
CpId = Path(pattern=IDENTITY_PATTERN, description="The charge point's OCPP identity.")


@router.get("/charge-points/{charge_point_id}/certificates", response_model=Page[CertificateOut],
            dependencies=[auth.viewer])
async def list_certificates(request: Request, charge_point_id: str = CpId, limit: int = Limit,
                            cursor: str | None = CursorParam):
    """The station's certificate signing requests (SignCertificate), newest first: each one's
    state from requested to accepted by the station, or why it was rejected or failed."""
    rows = await request.app.state.services.certificates.history(charge_point_id, limit + 1,
                                                                 pagination.decode(cursor, datetime, int))
    return pagination.page(rows, limit, lambda r: (r.created_at, r.id))


@router.post("/charge-points/{charge_point_id}/certificates/renew", response_model=CommandOut,
             dependencies=[auth.operator], responses=OUTCOME_RESPONSES)
async def renew_certificate(request: Request, response: Response, charge_point_id: str = CpId,
                            body: RenewRequest | None = Body(None), wait: bool = Wait):
    """Ask the station to send a new signing request now (2.x TriggerMessage
    SignChargingStationCertificate, SignV2GCertificate or SignCombinedCertificate, 1.6 ExtendedTriggerMessage
    SignChargePointCertificate); its SignCertificate then takes the usual way. The command's
    record, as for commands: 409 if the station is offline, 422 if its version cannot be asked
    for that type, 504 if it does not answer in time, 502 if it answers with an error."""
    certificate_type = body.certificate_type if body is not None else None
    record = await request.app.state.services.certificates.renew(charge_point_id, certificate_type, wait)
    return command_answer(record, response)
