"""OCPI partners and the credentials handshake, both ways (credentials.asciidoc).

An eMSP registers with us: the operator creates the partner and hands out its token A; the eMSP
reads our versions with it and POSTs its credentials (token B, its versions URL, its roles); we
read its endpoints with B and answer with token C, the only token it may use from then on. We
register with an eMSP: the operator gives us its versions URL and token A; we read its endpoints,
POST our credentials with a fresh token for it, and use the token it answers with.

No database session is held while a partner is called: it calls us back during the handshake.
"""

import hashlib
import secrets
import uuid

from sqlalchemy import select

from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.db.paging import by_id
from wattson.errors import Conflict, Invalid, WattsonError
from wattson.ocpi.client import OcpiClient, PartnerError
from wattson.ocpi.models import PENDING, REGISTERED, SUSPENDED, UNREGISTERED, OcpiPartner
from wattson.ocpi.objects import Party
from wattson.ocpi.transport import (CLIENT_API_ERROR, INVALID_PARAMETERS, NO_MATCHING_ENDPOINTS,
                                    UNSUPPORTED_VERSION, VERSION, OcpiError)

PARTNER_FIELDS = {"name", "country_code", "party_id", "status", "encode_token"}
OPERATOR_STATUSES = (REGISTERED, SUSPENDED)  # what an operator may switch a registered partner between


class PartnerUnreachable(WattsonError):
    status = 502
    code = "partner_error"


def new_token() -> str:
    """A credentials token: 43 printable, URL-safe ASCII characters (OCPI allows up to 64)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def endpoint(partner: OcpiPartner, identifier: str, role: str | None = None) -> str | None:
    """The URL of a partner's module interface, from the endpoints its version details listed."""
    for item in partner.endpoints or []:
        if item.get("identifier") == identifier and (role is None or item.get("role") == role):
            return item.get("url")
    return None


def owns(partner: OcpiPartner, country_code: str, party_id: str) -> bool:
    """Whether the partner registered this (country_code, party_id) among its roles (case-insensitive)."""
    key = (country_code.upper(), party_id.upper())
    roles = {(str(r.get("country_code", "")).upper(), str(r.get("party_id", "")).upper()) for r in partner.roles or []}
    if partner.country_code and partner.party_id:
        roles.add((partner.country_code.upper(), partner.party_id.upper()))
    return key in roles


class PartnerService:
    def __init__(self, db: Database, client: OcpiClient, us: Party, business_name: str):
        self.db = db
        self.client = client
        self.us = us
        self.business_name = business_name

    # --- operator side -------------------------------------------------------------------------
    async def create(self, name: str, country_code: str | None = None, party_id: str | None = None
                     ) -> tuple[OcpiPartner, str]:
        """A partner and its token A, shown this once."""
        token = new_token()
        partner = OcpiPartner(id=str(uuid.uuid4()), name=name, country_code=_upper(country_code),
                              party_id=_upper(party_id), roles=[], endpoints=[], status=PENDING,
                              token_hash=token_hash(token))
        async with self.db.session() as s:
            s.add(partner)
        return partner, token

    async def get(self, partner_id: str) -> OcpiPartner:
        async with self.db.session() as s:
            return await get_or_404(s, OcpiPartner, partner_id, "OCPI partner")

    async def find(self, limit: int, after_id: str | None = None, status: str | None = None) -> list[OcpiPartner]:
        async with self.db.session() as s:
            return list(await s.scalars(by_id(OcpiPartner, limit, after_id, status=status)))

    async def registered(self) -> list[OcpiPartner]:
        async with self.db.session() as s:
            return list(await s.scalars(select(OcpiPartner).where(OcpiPartner.status == REGISTERED)))

    async def update(self, partner_id: str, **changes) -> OcpiPartner:
        unknown = set(changes) - PARTNER_FIELDS
        if unknown:
            raise Invalid(f"unknown partner fields: {', '.join(sorted(unknown))}")
        async with self.db.session() as s:
            partner = await get_or_404(s, OcpiPartner, partner_id, "OCPI partner")
            if "status" in changes:
                if changes["status"] not in OPERATOR_STATUSES:
                    raise Invalid("status can be set to registered or suspended",
                                  [{"field": "body.status", "message": "registered or suspended"}])
                if partner.status not in OPERATOR_STATUSES:
                    raise Conflict(f"partner is {partner.status}: only a registered partner can be suspended "
                                   f"or resumed")
            for name, value in changes.items():
                setattr(partner, name, _upper(value) if name in ("country_code", "party_id") else value)
        return partner

    async def delete(self, partner_id: str) -> None:
        """Forget a partner, its tokens and queued pushes. Its sessions and CDRs stay."""
        async with self.db.session() as s:
            await s.delete(await get_or_404(s, OcpiPartner, partner_id, "OCPI partner"))

    async def reissue_token_a(self, partner_id: str) -> tuple[OcpiPartner, str]:
        """A new token A for a partner that is not registered (a lost one, or after unregistering)."""
        token = new_token()
        async with self.db.session() as s:
            partner = await get_or_404(s, OcpiPartner, partner_id, "OCPI partner")
            if partner.status in OPERATOR_STATUSES:
                raise Conflict("the partner is registered; it renews its credentials with PUT /credentials")
            partner.status, partner.token_hash = PENDING, token_hash(token)
        return partner, token

    # --- authentication ------------------------------------------------------------------------
    async def authenticate(self, candidates: list[str]) -> OcpiPartner | None:
        """The partner one of these tokens belongs to (pending: a token A; registered: a token C)."""
        if not candidates:
            return None
        async with self.db.session() as s:
            for candidate in candidates:
                partner = await s.scalar(select(OcpiPartner).where(OcpiPartner.token_hash == token_hash(candidate)))
                if partner is not None and partner.status in (PENDING, REGISTERED):
                    return partner
        return None

    def credentials(self, token: str, versions_url: str) -> dict:
        """Our Credentials object: the token the partner is to use, our versions URL, our role."""
        return {"token": token, "url": versions_url,
                "roles": [{"role": "CPO", "business_details": {"name": self.business_name},
                           "party_id": self.us.party_id, "country_code": self.us.country_code}]}

    # --- handshake: the partner registers with us ----------------------------------------------
    async def accept_credentials(self, partner: OcpiPartner, body: dict, versions_url: str, update: bool) -> dict:
        """POST (``update`` false, token A) or PUT (``update`` true, token C) of the partner's
        credentials: read its endpoints with its token, then hand it a new token C."""
        if update != (partner.status == REGISTERED):
            raise OcpiError(405, INVALID_PARAMETERS, "PUT and DELETE need a registered partner; POST one that is not"
                            if update else "already registered: use PUT to update the credentials")
        roles = body["roles"]
        self._check_roles(partner, roles)
        version, endpoints = await self._version_endpoints(body["url"], body["token"], partner.encode_token)
        token = new_token()
        async with self.db.session() as s:
            row = await s.get(OcpiPartner, partner.id)
            if row is None or row.token_hash != partner.token_hash:
                raise OcpiError(405, INVALID_PARAMETERS, "the credentials changed meanwhile")
            row.remote_token, row.versions_url, row.version, row.endpoints = body["token"], body["url"], version, endpoints
            row.roles, row.token_hash, row.status = roles, token_hash(token), REGISTERED
            row.country_code, row.party_id = _home(row, roles)
            row.registered_at = row.registered_at or utcnow()
        return self.credentials(token, versions_url)

    async def unregister(self, partner: OcpiPartner) -> None:
        """DELETE credentials: both sides stop; the partner's token no longer opens anything."""
        if partner.status != REGISTERED:
            raise OcpiError(405, INVALID_PARAMETERS, "not registered")
        async with self.db.session() as s:
            row = await s.get(OcpiPartner, partner.id)
            row.status, row.token_hash, row.remote_token = UNREGISTERED, None, None

    # --- handshake: we register with the partner ------------------------------------------------
    async def register_with(self, partner_id: str, versions_url: str, token_a: str, our_versions_url: str
                            ) -> OcpiPartner:
        partner = await self.get(partner_id)
        if partner.status in OPERATOR_STATUSES:
            raise Conflict("the partner is registered already")
        try:
            version, endpoints = await self._version_endpoints(versions_url, token_a, partner.encode_token)
        except OcpiError as error:
            raise PartnerUnreachable(error.message) from None
        credentials_url = next((e["url"] for e in endpoints if e.get("identifier") == "credentials"), None)
        if credentials_url is None:
            raise PartnerUnreachable("the partner lists no credentials endpoint")
        token_b = new_token()
        async with self.db.session() as s:  # the partner reads our versions with it while we wait
            row = await get_or_404(s, OcpiPartner, partner_id, "OCPI partner")
            row.status, row.token_hash = PENDING, token_hash(token_b)
        try:
            data, _ = await self.client.call("POST", credentials_url, token_a, encode=partner.encode_token,
                                             body=self.credentials(token_b, our_versions_url))
        except PartnerError as error:
            raise PartnerUnreachable(f"the partner refused our credentials: {error}") from None
        if not (isinstance(data, dict) and isinstance(data.get("token"), str) and isinstance(data.get("roles"), list)):
            raise PartnerUnreachable("the partner answered without credentials")
        async with self.db.session() as s:
            row = await get_or_404(s, OcpiPartner, partner_id, "OCPI partner")
            row.remote_token, row.versions_url, row.version, row.endpoints = data["token"], versions_url, version, endpoints
            row.roles, row.status, row.registered_at = data["roles"], REGISTERED, utcnow()
            row.country_code, row.party_id = _home(row, data["roles"])
        return await self.get(partner_id)

    # --- inside ---------------------------------------------------------------------------------
    async def _version_endpoints(self, versions_url: str, token: str, encode: bool) -> tuple[str, list[dict]]:
        """The partner's 2.2.1 endpoints, read with ``token``; OcpiError 3001/3002/3003 otherwise."""
        try:
            versions, _ = await self.client.call("GET", versions_url, token, encode=encode)
            url = next((v.get("url") for v in versions or [] if isinstance(v, dict) and v.get("version") == VERSION), None)
            if url is None:
                raise OcpiError(200, UNSUPPORTED_VERSION, f"the partner offers no OCPI {VERSION}")
            details, _ = await self.client.call("GET", url, token, encode=encode)
        except PartnerError as error:
            raise OcpiError(200, CLIENT_API_ERROR, f"unable to use the partner's API: {error}") from None
        endpoints = details.get("endpoints") if isinstance(details, dict) else None
        if not isinstance(endpoints, list) or not endpoints:
            raise OcpiError(200, NO_MATCHING_ENDPOINTS, "the partner lists no endpoints")
        endpoints = [e for e in endpoints if isinstance(e, dict) and isinstance(e.get("url"), str)]
        return VERSION, endpoints

    @staticmethod
    def _check_roles(partner: OcpiPartner, roles: list[dict]) -> None:
        if partner.country_code and partner.party_id and not any(
                r["country_code"].upper() == partner.country_code and r["party_id"].upper() == partner.party_id
                for r in roles):
            raise OcpiError(200, INVALID_PARAMETERS, f"the roles do not include {partner.country_code}/"
                                                     f"{partner.party_id}, the party the operator set up")


def _home(partner: OcpiPartner, roles: list[dict]) -> tuple[str | None, str | None]:
    """The partner's own (country_code, party_id): as the operator set it, else its eMSP role's."""
    if partner.country_code and partner.party_id:
        return partner.country_code, partner.party_id
    ranked = sorted(roles, key=lambda r: r.get("role") != "EMSP")
    if not ranked:
        return None, None
    return str(ranked[0].get("country_code", "")).upper()[:2] or None, str(ranked[0].get("party_id", "")).upper()[:3] or None


def _upper(value):
    return value.upper() if isinstance(value, str) else value
