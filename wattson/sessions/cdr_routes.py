"""HTTP endpoints for CDRs and session receipts."""

from datetime import datetime

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID
from wattson.sessions.receipts import Receipt, render_html, render_pdf
from wattson.sessions.schemas import CdrOut, CreditOut, CreditRequest, UtcTime

router = APIRouter(prefix="/api/v1", tags=["cdrs"])
CdrId = Path(ge=1, le=MAX_ID, description="The CDR's id.")
SessionId = Path(ge=1, le=MAX_ID, description="The session's id.")


@router.get("/cdrs", response_model=Page[CdrOut], dependencies=[auth.viewer])
async def list_cdrs(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                    session_id: int | None = Query(None, ge=1, le=MAX_ID),
                    charge_point_id: str | None = Query(None, min_length=1, max_length=48, pattern=r"^[^\x00]*$"),
                    location_id: int | None = Query(None, ge=1, le=MAX_ID),
                    driver_id: int | None = Query(None, ge=1, le=MAX_ID),
                    credit: bool | None = Query(None, description="true: only credit CDRs; false: none."),
                    issued_after: UtcTime | None = Query(None, description="Issued at or after (ISO 8601)."),
                    issued_before: UtcTime | None = Query(None, description="Issued before (ISO 8601).")):
    """CDRs, newest first. Each is issued when a priced session finishes and never changes; a
    correction is a credit CDR (negated amounts) naming the CDR it cancels."""
    rows = await request.app.state.services.billing.find_cdrs(
        limit + 1, pagination.decode(cursor, datetime, int), session_id=session_id, charge_point_id=charge_point_id,
        location_id=location_id, driver_id=driver_id, credit=credit, issued_after=issued_after,
        issued_before=issued_before)
    return pagination.page(rows, limit, lambda c: (c.created_at, c.id))


@router.get("/cdrs/{cdr_id}", response_model=CdrOut, dependencies=[auth.viewer])
async def get_cdr(request: Request, cdr_id: int = CdrId):
    return await request.app.state.services.billing.get_cdr(cdr_id)


@router.post("/cdrs/{cdr_id}/credit", status_code=201, response_model=CreditOut, dependencies=[auth.operator])
async def credit_cdr(request: Request, body: CreditRequest, cdr_id: int = CdrId):
    """Correct a CDR: issue a credit CDR that cancels it, and with `reissue_with_tariff_id` a new
    CDR for the same session priced with that tariff. 409 for a credit CDR or one credited already."""
    credit, reissued = await request.app.state.services.billing.credit(cdr_id, body.reason,
                                                                        body.reissue_with_tariff_id)
    return {"credit": credit, "reissued": reissued}


@router.get("/sessions/{session_id}/receipt", response_class=HTMLResponse, dependencies=[auth.viewer],
            responses={200: {"content": {"text/html": {}}, "description": "The receipt as a page."}})
async def receipt_html(request: Request, session_id: int = SessionId):
    """The driver's receipt of a finished, priced session: each priced line with its VAT, the VAT
    per rate, and the totals (from the session's CDR in force). 409 while it runs or when no tariff
    applied."""
    return HTMLResponse(render_html(await _receipt(request, session_id)))


@router.get("/sessions/{session_id}/receipt.pdf", dependencies=[auth.viewer], response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "The receipt as an A4 PDF."}})
async def receipt_pdf(request: Request, session_id: int = SessionId):
    """The same receipt as a PDF."""
    pdf = render_pdf(await _receipt(request, session_id))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="receipt-{session_id}.pdf"'})


async def _receipt(request: Request, session_id: int) -> Receipt:
    return await request.app.state.services.billing.receipt(session_id)
