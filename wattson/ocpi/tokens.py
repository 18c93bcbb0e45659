"""The tokens receiver: eMSPs' driver tokens, and what our chargers answer when one is presented.

``RoamingAuthorizer`` is what ``AccessService`` asks about a token it does not know itself; it
answers in neutral terms (an AuthResult), so the OCPP adapters need not know OCPI exists. Per the
token's ``whitelist``: ALWAYS and ALLOWED are admitted from the stored token; ALLOWED_OFFLINE and
NEVER ask the eMSP in real time (POST {tokens}/{uid}/authorize), and when it cannot be reached
ALLOWED_OFFLINE is admitted and NEVER refused. A token the eMSP sent with START_SESSION or
RESERVE_NOW in the last 15 minutes is admitted at that charger without asking again.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from wattson.access.models import IdToken
from wattson.access.rules import ACCEPTED, BLOCKED, EXPIRED, INVALID, NOT_HERE, UNKNOWN, AuthResult
from wattson.db import Database, utcnow
from wattson.ocpi.client import OcpiClient, PartnerError
from wattson.ocpi.models import REGISTERED, OcpiAuthorization, OcpiPartner, OcpiToken
from wattson.ocpi.partners import endpoint
from wattson.ocpi.transport import iso
from wattson.sessions.models import Session
from wattson.stations.models import ChargePoint

log = logging.getLogger("wattson.ocpi.tokens")
RECENT = timedelta(minutes=15)
ALLOWED_ANSWERS = {"ALLOWED": AuthResult(ACCEPTED), "BLOCKED": AuthResult(BLOCKED), "EXPIRED": AuthResult(EXPIRED),
                   "NO_CREDIT": AuthResult(INVALID, reason=NOT_HERE), "NOT_ALLOWED": AuthResult(INVALID, reason=NOT_HERE)}


class TokenStore:
    """Tokens as eMSPs pushed them, keyed by (country_code, party_id, uid, type)."""

    def __init__(self, db: Database):
        self.db = db

    async def get(self, country_code: str, party_id: str, uid: str, type: str) -> OcpiToken | None:
        async with self.db.session() as s:
            return await s.scalar(select(OcpiToken).where(
                OcpiToken.country_code == country_code.upper(), OcpiToken.party_id == party_id.upper(),
                OcpiToken.uid == uid, OcpiToken.type == type))

    async def put(self, partner: OcpiPartner, body: dict) -> tuple[OcpiToken, bool]:
        """Store a whole token; True when it is new."""
        async with self.db.session() as s:
            row = await s.scalar(select(OcpiToken).where(
                OcpiToken.country_code == body["country_code"], OcpiToken.party_id == body["party_id"],
                OcpiToken.uid == body["uid"], OcpiToken.type == body["type"]))
            created = row is None
            if created:
                row = OcpiToken(partner_id=partner.id)
                s.add(row)
            _apply(row, body)
        return row, created

    async def patch(self, token: OcpiToken, changes: dict) -> OcpiToken:
        """Change the fields given; the token's identity (country, party, uid, type) stays."""
        async with self.db.session() as s:
            row = await s.get(OcpiToken, token.id)
            body = {**row.body, **changes, **{k: row.body[k] for k in ("country_code", "party_id", "uid", "type")}}
            _apply(row, body)
        return row


def _apply(row: OcpiToken, body: dict) -> None:
    row.country_code, row.party_id, row.uid, row.type = body["country_code"], body["party_id"], body["uid"], body["type"]
    row.contract_id, row.valid, row.whitelist = body["contract_id"], body["valid"], body["whitelist"]
    row.group_id, row.body = body.get("group_id"), body
    row.last_updated = datetime.fromisoformat(body["last_updated"].replace("Z", "+00:00"))


class RoamingAuthorizer:
    def __init__(self, db: Database, client: OcpiClient, timeout: float):
        self.db = db
        self.client = client
        self.timeout = timeout

    async def __call__(self, uid: str, charge_point_id: str) -> AuthResult | None:
        """Our answer for a partner's token at this charger; None when no partner knows it."""
        async with self.db.session() as s:
            recent = await s.scalar(select(OcpiAuthorization.id).where(
                OcpiAuthorization.uid == uid, OcpiAuthorization.session_id.is_(None),
                OcpiAuthorization.created_at >= utcnow() - RECENT,
                (OcpiAuthorization.charge_point_id == charge_point_id) | OcpiAuthorization.charge_point_id.is_(None)
            ).limit(1))
            if recent is not None:
                return AuthResult(ACCEPTED)
            rows = (await s.execute(select(OcpiToken, OcpiPartner).join(OcpiPartner, OcpiPartner.id == OcpiToken.partner_id)
                                    .where(OcpiToken.uid == uid, OcpiPartner.status == REGISTERED)
                                    .order_by(OcpiToken.valid.desc(), OcpiToken.last_updated.desc()))).all()
            location_id = await s.scalar(select(ChargePoint.location_id).where(ChargePoint.id == charge_point_id))
        if not rows:
            return None
        token, partner = rows[0]
        if not token.valid:
            return AuthResult(INVALID, parent_id_tag=token.group_id)
        if token.whitelist in ("ALWAYS", "ALLOWED"):
            return await self._admit(token, charge_point_id, "WHITELIST")
        url = endpoint(partner, "tokens", "SENDER")
        answer = None
        if url is not None and partner.remote_token:
            answer = await self._ask(partner, url, token, location_id)
        if answer is None:  # the eMSP could not be asked
            if token.whitelist == "ALLOWED_OFFLINE":
                return await self._admit(token, charge_point_id, "WHITELIST")
            return AuthResult(INVALID, parent_id_tag=token.group_id)
        allowed, reference = answer
        result = ALLOWED_ANSWERS.get(allowed, AuthResult(INVALID, reason=UNKNOWN))
        if result.accepted:
            return await self._admit(token, charge_point_id, "AUTH_REQUEST", reference)
        return AuthResult(result.status, parent_id_tag=token.group_id, reason=result.reason)

    async def _ask(self, partner: OcpiPartner, url: str, token: OcpiToken, location_id: int | None
                   ) -> tuple[str, str | None] | None:
        body = {"location_id": str(location_id)} if location_id else None
        try:
            data, _ = await self.client.call(
                "POST", f"{url.rstrip('/')}/{token.uid}/authorize?type={token.type}", partner.remote_token,
                body=body, encode=partner.encode_token, to=(partner.country_code, partner.party_id),
                timeout=self.timeout)
        except PartnerError as error:
            log.warning("real-time authorisation of %s by %s failed: %s", token.uid, partner.name, error)
            return None if error.retry else ("NOT_ALLOWED", None)
        if not isinstance(data, dict) or not isinstance(data.get("allowed"), str):
            log.warning("real-time authorisation of %s by %s: no AuthorizationInfo", token.uid, partner.name)
            return None
        reference = data.get("authorization_reference")
        return data["allowed"], reference if isinstance(reference, str) else None

    async def _admit(self, token: OcpiToken, charge_point_id: str, method: str, reference: str | None = None
                     ) -> AuthResult:
        await record(self.db, token.partner_id, token.body, method, charge_point_id, reference)
        return AuthResult(ACCEPTED, parent_id_tag=token.group_id)


async def record(db: Database, partner_id: str, token: dict, method: str, charge_point_id: str | None,
                 reference: str | None = None, **extra) -> OcpiAuthorization:
    """Keep that a partner's token was admitted, for the session it is about to start."""
    row = OcpiAuthorization(partner_id=partner_id, country_code=token["country_code"].upper(),
                            party_id=token["party_id"].upper(), uid=token["uid"], token_type=token["type"],
                            contract_id=token["contract_id"], auth_method=method, authorization_reference=reference,
                            charge_point_id=charge_point_id, created_at=utcnow(), **extra)
    async with db.session() as s:
        s.add(row)
    return row


async def link_session(db: Database, session_id: int) -> OcpiAuthorization | None:
    """Make a session a roaming one when its token is a partner's: bind it to the latest unused
    authorisation of that token at that charger, or (a token admitted by the station's own list,
    without asking us) to a WHITELIST one. None for Wattson's own drivers."""
    async with db.session() as s:
        linked = await s.scalar(select(OcpiAuthorization).where(OcpiAuthorization.session_id == session_id))
        if linked is not None:
            return linked
        session = await s.get(Session, session_id)
        if session is None or not session.id_tag:
            return None
        if await s.scalar(select(IdToken.id).where(IdToken.uid == session.id_tag)) is not None:
            return None  # one of our own tokens
        link = await s.scalar(select(OcpiAuthorization).where(
            OcpiAuthorization.uid == session.id_tag, OcpiAuthorization.session_id.is_(None),
            OcpiAuthorization.created_at >= utcnow() - RECENT,
            (OcpiAuthorization.charge_point_id == session.charge_point_id) | OcpiAuthorization.charge_point_id.is_(None)
        ).order_by(OcpiAuthorization.created_at.desc()).limit(1))
        if link is None:
            token = await s.scalar(select(OcpiToken).join(OcpiPartner, OcpiPartner.id == OcpiToken.partner_id).where(
                OcpiToken.uid == session.id_tag, OcpiPartner.status == REGISTERED).limit(1))
            if token is None:
                return None
            link = OcpiAuthorization(partner_id=token.partner_id, country_code=token.country_code,
                                     party_id=token.party_id, uid=token.uid, token_type=token.type,
                                     contract_id=token.contract_id, auth_method="WHITELIST",
                                     charge_point_id=session.charge_point_id, created_at=utcnow())
            s.add(link)
        link.session_id = session_id
    log.info("session %s is a roaming session of partner %s (%s)", session_id, link.partner_id, link.auth_method)
    return link


def token_object(row: OcpiToken) -> dict:
    return {**row.body, "last_updated": iso(row.last_updated)}
