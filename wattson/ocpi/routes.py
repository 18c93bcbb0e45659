"""The OCPI 2.2.1 endpoints Wattson serves as a CPO (mounted at /ocpi; see docs/ocpi.md)."""

from datetime import datetime

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError

from wattson.ocpi.commands import Refused
from wattson.ocpi.models import PENDING, REGISTERED, OcpiPartner
from wattson.ocpi.partners import owns
from wattson.ocpi.schemas import COMMAND_BODIES, CommandType, Credentials, Token, TokenPatch, TokenType
from wattson.ocpi.tokens import token_object
from wattson.ocpi.transport import (CLIENT_ERROR, INVALID_PARAMETERS, UNKNOWN_LOCATION, UNKNOWN_TOKEN,
                                    VERSION, OcpiError, page_request, paging_headers, respond, token_candidates)

router = APIRouter()
MODULES = (("credentials", "SENDER"), ("locations", "SENDER"), ("sessions", "SENDER"), ("cdrs", "SENDER"),
           ("tariffs", "SENDER"), ("tokens", "RECEIVER"), ("commands", "RECEIVER"))


def _ocpi(request: Request):
    return request.app.state.services.ocpi


def base_url(request: Request) -> str:
    """Where partners reach our OCPI interface: WATTSON_PUBLIC_URL, else the address asked."""
    public = request.app.state.services.settings.public_url
    root = public.rstrip("/") if public else f"{request.url.scheme}://{request.url.netloc}"
    return root + "/ocpi"


async def any_partner(request: Request) -> OcpiPartner:
    """A partner's token A (registration under way) or token C; 401 otherwise."""
    partner = await _ocpi(request).partners.authenticate(token_candidates(request.headers.get("authorization")))
    if partner is None:
        raise OcpiError(401, CLIENT_ERROR, "missing or unknown credentials token (Authorization: Token <token>)")
    request.state.partner = partner
    return partner


async def registered(partner: OcpiPartner = Depends(any_partner)) -> OcpiPartner:
    """Modules other than versions and credentials: a token A is refused with 401."""
    if partner.status != REGISTERED:
        raise OcpiError(401, CLIENT_ERROR, "register first: token A opens versions and credentials only")
    return partner


async def body_of(request: Request, model):
    """The request body as ``model``; not JSON: HTTP 400; JSON but not a valid object: 2001 (an
    OCPI error inside a successful HTTP answer, as status_codes.asciidoc asks)."""
    try:
        raw = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise OcpiError(400, INVALID_PARAMETERS, "the body is not JSON") from None
    try:
        return model.model_validate(raw).model_dump(mode="json", exclude_none=True)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors())
        raise OcpiError(200, INVALID_PARAMETERS, problems[:500]) from None


# --- versions and credentials --------------------------------------------------------------------
@router.get("/versions")
async def versions(request: Request, _: OcpiPartner = Depends(any_partner)):
    return respond([{"version": VERSION, "url": f"{base_url(request)}/{VERSION}"}])


@router.get("/2.2.1")
async def version_details(request: Request, _: OcpiPartner = Depends(any_partner)):
    base = f"{base_url(request)}/{VERSION}"
    return respond({"version": VERSION, "endpoints": [{"identifier": module, "role": role, "url": f"{base}/{module}"}
                                                      for module, role in MODULES]})


@router.get("/2.2.1/credentials")
async def get_credentials(request: Request, partner: OcpiPartner = Depends(any_partner)):
    """Our credentials; the token is the one the partner called with (we keep only its hash)."""
    ocpi = _ocpi(request)
    for token in token_candidates(request.headers.get("authorization")):
        if await ocpi.partners.authenticate([token]) is not None:
            return respond(ocpi.partners.credentials(token, f"{base_url(request)}/versions"))
    raise OcpiError(401, CLIENT_ERROR, "unknown credentials token")


@router.post("/2.2.1/credentials")
async def register(request: Request, partner: OcpiPartner = Depends(any_partner)):
    if partner.status != PENDING:
        raise OcpiError(405, CLIENT_ERROR, "already registered: use PUT to update the credentials")
    body = await body_of(request, Credentials)
    return respond(await _ocpi(request).partners.accept_credentials(partner, body, f"{base_url(request)}/versions",
                                                                    update=False))


@router.put("/2.2.1/credentials")
async def update_credentials(request: Request, partner: OcpiPartner = Depends(any_partner)):
    if partner.status != REGISTERED:
        raise OcpiError(405, CLIENT_ERROR, "not registered: register with POST first")
    body = await body_of(request, Credentials)
    return respond(await _ocpi(request).partners.accept_credentials(partner, body, f"{base_url(request)}/versions",
                                                                    update=True))


@router.delete("/2.2.1/credentials")
async def unregister(request: Request, partner: OcpiPartner = Depends(any_partner)):
    if partner.status != REGISTERED:
        raise OcpiError(405, CLIENT_ERROR, "not registered")
    await _ocpi(request).partners.unregister(partner)
    return respond()


# --- sender modules --------------------------------------------------------------------------------
class Paging:
    """The paging query of every list (transport_and_format.asciidoc, Paginated Request)."""

    def __init__(self, date_from: datetime | None = Query(None), date_to: datetime | None = Query(None),
                 offset: int = Query(0, ge=0, le=2**31 - 1), limit: int | None = Query(None, ge=1, le=2**31 - 1)):
        self.date_from, self.date_to, self.offset, self.limit = date_from, date_to, offset, limit


def _page(request: Request, paging: Paging):
    return page_request(paging.date_from, paging.date_to, paging.offset, paging.limit,
                        request.app.state.services.settings.ocpi_page_limit)


def _list(request: Request, page, items: list, total: int):
    url = f"{base_url(request)}{request.url.path.removeprefix(request.scope.get('root_path', ''))}"
    return respond(items, headers=paging_headers(url, dict(request.query_params), page, total))


@router.get("/2.2.1/locations")
async def locations(request: Request, paging: Paging = Depends(), _: OcpiPartner = Depends(registered)):
    page = _page(request, paging)
    return _list(request, page, *await _ocpi(request).sender.locations(page))


@router.get("/2.2.1/locations/{location_id}")
@router.get("/2.2.1/locations/{location_id}/{evse_uid}")
@router.get("/2.2.1/locations/{location_id}/{evse_uid}/{connector_id}")
async def location(request: Request, location_id: str, evse_uid: str | None = None, connector_id: str | None = None,
                   _: OcpiPartner = Depends(registered)):
    found = await _ocpi(request).sender.location(location_id)
    if found is None:
        raise OcpiError(404, UNKNOWN_LOCATION, f"unknown location {location_id}")
    if evse_uid is not None:
        found = next((e for e in found.get("evses", []) if e["uid"] == evse_uid), None)
        if found is None:
            raise OcpiError(404, UNKNOWN_LOCATION, f"unknown EVSE {evse_uid} at location {location_id}")
    if connector_id is not None:
        found = next((c for c in found["connectors"] if c["id"] == connector_id), None)
        if found is None:
            raise OcpiError(404, UNKNOWN_LOCATION, f"unknown connector {connector_id}")
    return respond(found)


@router.get("/2.2.1/tariffs")
async def tariffs(request: Request, paging: Paging = Depends(), _: OcpiPartner = Depends(registered)):
    page = _page(request, paging)
    return _list(request, page, *await _ocpi(request).sender.tariff_list(page))


@router.get("/2.2.1/sessions")
async def sessions(request: Request, paging: Paging = Depends(), partner: OcpiPartner = Depends(registered)):
    """Only the partner's own drivers' sessions; ``date_from`` is required (mod_sessions)."""
    if paging.date_from is None:
        raise OcpiError(400, INVALID_PARAMETERS, "date_from is required")
    page = _page(request, paging)
    return _list(request, page, *await _ocpi(request).sender.sessions(partner.id, page))


@router.get("/2.2.1/cdrs")
async def cdrs(request: Request, paging: Paging = Depends(), partner: OcpiPartner = Depends(registered)):
    page = _page(request, paging)
    return _list(request, page, *await _ocpi(request).sender.cdrs(partner.id, page))


# --- tokens receiver -------------------------------------------------------------------------------
async def _token_owner(partner: OcpiPartner, country_code: str, party_id: str) -> None:
    if not owns(partner, country_code, party_id):
        raise OcpiError(404, UNKNOWN_TOKEN, f"{country_code}/{party_id} is not one of your roles")


@router.get("/2.2.1/tokens/{country_code}/{party_id}/{token_uid}")
async def get_token(request: Request, country_code: str, party_id: str, token_uid: str, type: TokenType = "RFID",
                    partner: OcpiPartner = Depends(registered)):
    await _token_owner(partner, country_code, party_id)
    row = await _ocpi(request).tokens.get(country_code, party_id, token_uid, type)
    if row is None:
        raise OcpiError(404, UNKNOWN_TOKEN, f"unknown token {token_uid}")
    return respond(token_object(row))


@router.put("/2.2.1/tokens/{country_code}/{party_id}/{token_uid}")
async def put_token(request: Request, country_code: str, party_id: str, token_uid: str, type: TokenType = "RFID",
                    partner: OcpiPartner = Depends(registered)):
    await _token_owner(partner, country_code, party_id)
    body = await body_of(request, Token)
    if (body["country_code"].upper(), body["party_id"].upper(), body["uid"], body["type"]) != \
            (country_code.upper(), party_id.upper(), token_uid, type):
        raise OcpiError(200, INVALID_PARAMETERS, "country_code, party_id, uid and type must match the URL")
    body["country_code"], body["party_id"] = body["country_code"].upper(), body["party_id"].upper()
    _, created = await _ocpi(request).tokens.put(partner, body)
    return respond(http_status=201 if created else 200)


@router.patch("/2.2.1/tokens/{country_code}/{party_id}/{token_uid}")
async def patch_token(request: Request, country_code: str, party_id: str, token_uid: str, type: TokenType = "RFID",
                      partner: OcpiPartner = Depends(registered)):
    await _token_owner(partner, country_code, party_id)
    changes = await body_of(request, TokenPatch)
    store = _ocpi(request).tokens
    row = await store.get(country_code, party_id, token_uid, type)
    if row is None:
        raise OcpiError(404, UNKNOWN_TOKEN, f"unknown token {token_uid}: PUT it first")
    await store.patch(row, changes)
    return respond()


# --- commands receiver -----------------------------------------------------------------------------
@router.post("/2.2.1/commands/{command}")
async def command(request: Request, command: CommandType, partner: OcpiPartner = Depends(registered)):
    body = await body_of(request, COMMAND_BODIES[command])
    receiver = _ocpi(request).commands
    try:
        await receiver.handle(partner, command, body)
    except Refused as refused:
        return respond({"result": refused.result, "timeout": receiver.response_timeout,
                        "message": [{"language": "en", "text": refused.message[:512]}]},
                       status_code=refused.status_code, message=refused.message)
    return respond({"result": "ACCEPTED", "timeout": receiver.response_timeout})
