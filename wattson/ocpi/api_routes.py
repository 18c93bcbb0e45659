"""Operator API for OCPI roaming partners: create them (and their token A), register with them,
suspend, edit, delete, and see their tokens and what is queued for them."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.ocpi.models import OcpiOutbox, OcpiToken
from wattson.ocpi.routes import base_url
from wattson.ocpi.schemas import CountryCode, PartyId, Url

router = APIRouter(prefix="/api/v1/ocpi", tags=["ocpi"])
PARTNER_ID = r"^[0-9A-Fa-f-]{1,36}$"
PartnerId = Query(None, pattern=PARTNER_ID)
PartnerPath = Path(pattern=PARTNER_ID, description="The partner's id (a UUID).")
Status = Literal["pending", "registered", "suspended", "unregistered"]
Text = Field(min_length=1, max_length=100, pattern=r"^[^\x00]*$")


class PartnerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Example eMSP", "country_code": "DE", "party_id": "EXM"}]})

    name: str = Text
    country_code: CountryCode | None = Field(None, description="Set both to accept only this party's registration.")
    party_id: PartyId | None = None


class PartnerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "suspended"}]})

    name: str = Text
    status: Literal["registered", "suspended"] = Field(None, description="Suspend a registered partner, or resume it.")
    encode_token: bool = Field(None, description="Send our token base64-encoded (OCPI 2.2.1) or as is (older peers).")


class RegisterWith(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"versions_url": "https://emsp.example.com/ocpi/versions", "token": "their-token-a"}]})

    versions_url: Url = Field(description="The partner's versions endpoint.")
    token: str = Field(min_length=1, max_length=64, pattern=r"^[!-~]+$", description="The token A it gave us.")


class PartnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    country_code: str | None
    party_id: str | None
    status: Status
    roles: list[dict]
    versions_url: str | None
    version: str | None
    endpoints: list[dict]
    encode_token: bool
    registered_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PartnerCreated(PartnerOut):
    token_a: str = Field(description="Give it to the partner with `versions_url`; shown only now.")
    our_versions_url: str


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    partner_id: str
    country_code: str
    party_id: str
    uid: str
    type: str
    contract_id: str
    valid: bool
    whitelist: str
    last_updated: datetime


class OutboxOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    partner_id: str
    module: str
    method: str
    object_key: str | None
    status: Literal["pending", "sent", "failed"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _partners(request: Request):
    return request.app.state.services.ocpi.partners


def _created(request: Request, partner, token: str) -> dict:
    return {**PartnerOut.model_validate(partner).model_dump(), "token_a": token,
            "our_versions_url": f"{base_url(request)}/versions"}


@router.post("/partners", status_code=201, response_model=PartnerCreated, dependencies=[auth.operator])
async def create_partner(request: Request, body: PartnerCreate):
    """A roaming partner and its token A. The partner reads `our_versions_url` with it and registers
    (POST credentials); after that the token no longer works."""
    partner, token = await _partners(request).create(body.name, body.country_code, body.party_id)
    return _created(request, partner, token)


@router.get("/partners", response_model=Page[PartnerOut], dependencies=[auth.viewer])
async def list_partners(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                        status: Status | None = None):
    after = pagination.decode(cursor, str)
    rows = await _partners(request).find(limit + 1, after[0] if after else None, status)
    return pagination.page(rows, limit, lambda p: (p.id,))


@router.get("/partners/{partner_id}", response_model=PartnerOut, dependencies=[auth.viewer])
async def get_partner(request: Request, partner_id: str = PartnerPath):
    return await _partners(request).get(partner_id)


@router.patch("/partners/{partner_id}", response_model=PartnerOut, dependencies=[auth.operator])
async def update_partner(request: Request, partner_id: str = PartnerPath, *, body: PartnerUpdate):
    """Rename, suspend (its token stops working and nothing is pushed) or resume a partner."""
    return await _partners(request).update(partner_id, **body.model_dump(exclude_unset=True))


@router.delete("/partners/{partner_id}", status_code=204, response_class=Response, dependencies=[auth.operator])
async def delete_partner(request: Request, partner_id: str = PartnerPath):
    """Forget a partner with its tokens and queued pushes; its drivers' sessions and CDRs stay."""
    await _partners(request).delete(partner_id)
    return Response(status_code=204)


@router.post("/partners/{partner_id}/token-a", status_code=201, response_model=PartnerCreated,
             dependencies=[auth.operator])
async def new_token_a(request: Request, partner_id: str = PartnerPath):
    """A new token A for a partner that is not registered (409 for a registered one)."""
    partner, token = await _partners(request).reissue_token_a(partner_id)
    return _created(request, partner, token)


@router.post("/partners/{partner_id}/register", response_model=PartnerOut, dependencies=[auth.operator],
             responses={502: {"description": "The partner could not be reached or refused the registration."}})
async def register_with(request: Request, partner_id: str = PartnerPath, *, body: RegisterWith):
    """Register with a partner that gave us its versions URL and a token A: Wattson reads its
    endpoints, sends our credentials, and keeps the token it answers with."""
    return await _partners(request).register_with(partner_id, body.versions_url, body.token,
                                                  f"{base_url(request)}/versions")


@router.get("/tokens", response_model=Page[TokenOut], dependencies=[auth.viewer])
async def list_tokens(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                      partner_id: str | None = PartnerId, uid: str | None = Query(None, max_length=36, pattern=r"^[^\x00]*$")):
    """Driver tokens partners pushed to us."""
    after = pagination.decode(cursor, int)
    query = select(OcpiToken).order_by(OcpiToken.id).limit(limit + 1)
    for column, value in ((OcpiToken.partner_id, partner_id), (OcpiToken.uid, uid)):
        if value is not None:
            query = query.where(column == value)
    if after:
        query = query.where(OcpiToken.id > after[0])
    async with request.app.state.services.db.session() as s:
        rows = list(await s.scalars(query))
    return pagination.page(rows, limit, lambda t: (t.id,))


@router.get("/outbox", response_model=Page[OutboxOut], dependencies=[auth.viewer])
async def list_outbox(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                      partner_id: str | None = PartnerId, status: Literal["pending", "sent", "failed"] | None = None):
    """Pushes to partners, newest first: what is waiting, what was delivered, what was given up."""
    after = pagination.decode(cursor, int)
    query = select(OcpiOutbox).order_by(OcpiOutbox.id.desc()).limit(limit + 1)
    for column, value in ((OcpiOutbox.partner_id, partner_id), (OcpiOutbox.status, status)):
        if value is not None:
            query = query.where(column == value)
    if after:
        query = query.where(OcpiOutbox.id < after[0])
    async with request.app.state.services.db.session() as s:
        rows = list(await s.scalars(query))
    return pagination.page(rows, limit, lambda r: (r.id,))
