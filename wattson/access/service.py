"""API keys and id tokens: creation, lookup and the token part of authorisation."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from wattson.access import keys
from wattson.access.models import AccessRight, ApiKey, ChargerGroupMember, Driver, IdToken
from wattson.access.rules import TOKEN_STATUSES, AuthResult, evaluate, refused_here, rights_allow
from wattson.db import Database, utcnow
from wattson.errors import Conflict, Invalid, NotFound

LAST_USED_RESOLUTION = timedelta(minutes=1)  # don't write on every request


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int
    name: str
    role: str


class AccessService:
    def __init__(self, db: Database):
        self.db = db

    # --- API keys -------------------------------------------------------------------------
    async def create_api_key(self, name: str, role: str) -> tuple[ApiKey, str]:
        if role not in keys.ROLES:
            raise Invalid(f"role must be one of {', '.join(keys.ROLES)}")
        if not name.strip():
            raise Invalid("name must not be empty")
        secret = keys.new_key()
        row = ApiKey(name=name.strip(), role=role, prefix=keys.display_prefix(secret), key_hash=keys.key_hash(secret))
        async with self.db.session() as s:
            s.add(row)
        return row, secret

    async def authenticate(self, secret: str) -> Principal | None:
        async with self.db.session() as s:
            row = await s.scalar(select(ApiKey).where(ApiKey.key_hash == keys.key_hash(secret)))
            if row is None or row.revoked_at is not None:
                return None
            now = utcnow()
            if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
                await s.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
            return Principal(row.id, row.name, row.role)

    async def list_api_keys(self) -> list[ApiKey]:
        async with self.db.session() as s:
            return list(await s.scalars(select(ApiKey).order_by(ApiKey.id)))

    async def revoke_api_key(self, key_id: int) -> ApiKey:
        async with self.db.session() as s:
            row = await s.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"API key {key_id} not found")
            row.revoked_at = row.revoked_at or utcnow()
            return row

    # --- id tokens ------------------------------------------------------------------------
    async def create_id_token(self, uid: str, status: str = "Accepted", type: str = "ISO14443",
                              valid_from: datetime | None = None, expires_at: datetime | None = None,
                              parent_id_tag: str | None = None) -> IdToken:
        if status not in TOKEN_STATUSES:
            raise Invalid(f"status must be one of {', '.join(TOKEN_STATUSES)}")
        row = IdToken(uid=uid, status=status, type=type, valid_from=valid_from, expires_at=expires_at,
                      parent_id_tag=parent_id_tag)
        try:
            async with self.db.session() as s:
                s.add(row)
        except IntegrityError:
            raise Conflict(f"id token {uid!r} already exists") from None
        return row

    async def list_id_tokens(self, limit: int, after_id: int | None) -> list[IdToken]:
        query = select(IdToken).order_by(IdToken.id).limit(limit)
        if after_id is not None:
            query = query.where(IdToken.id > after_id)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def authorize(self, uid: str, charge_point_id: str) -> AuthResult:
        """The token's own answer, narrowed by the access rights to this charger."""
        async with self.db.session() as s:
            token = await s.scalar(select(IdToken).where(IdToken.uid == uid))
            result = evaluate(token, utcnow())
            if not result.accepted:
                return result
            charger_groups = set(await s.scalars(select(ChargerGroupMember.charger_group_id)
                                                 .where(ChargerGroupMember.charge_point_id == charge_point_id)))
            if not charger_groups:
                return result
            granted = set(await s.scalars(
                select(AccessRight.charger_group_id).join(Driver, Driver.home_group_id == AccessRight.driver_group_id)
                .where(Driver.id == token.driver_id))) if token.driver_id is not None else set()
        return result if rights_allow(charger_groups, granted) else refused_here(result)
