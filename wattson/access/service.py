"""API keys and id tokens: creation, lookup and the token part of authorisation."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.access import keys
from wattson.access.models import AccessRight, ApiKey, ChargerGroupMember, Driver, IdToken
from wattson.access.rules import TOKEN_STATUSES, AuthResult, evaluate, refused_here, rights_allow
from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.db.one_of import one_of
from wattson.errors import Conflict, Invalid

LAST_USED_RESOLUTION = timedelta(minutes=1)  # don't write on every request
#: Answers for tokens Wattson does not know: (uid, charge point id) -> AuthResult, or None.
Fallback = Callable[[str, str], Awaitable[AuthResult | None]]
#: Whether a valid token is bound to this charger whatever its groups (a direct payment's):
#: (session, uid, charge point id) -> bool.
Admitter = Callable[[AsyncSession, str, str], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int
    name: str
    role: str


class AccessService:
    def __init__(self, db: Database):
        self.db = db
        self._fallbacks: list[Fallback] = []
        self._admitters: list[Admitter] = []

    def add_fallback(self, authorizer: "Fallback") -> None:
        """Ask ``authorizer`` about tokens Wattson does not know itself (a roaming partner's, see
        wattson/ocpi/tokens.py); its AuthResult is the answer, None passes on to the next one."""
        self._fallbacks.append(authorizer)

    def add_admitter(self, admitter: "Admitter") -> None:
        """Let ``admitter`` admit a valid token at a charger in groups the token's driver has no
        right to: a direct payment's one-off token at the charger it paid for
        (wattson/payments/service.py), which belongs to no driver."""
        self._admitters.append(admitter)

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

    async def list_api_keys(self, limit: int = 10_000, after_id: int | None = None) -> list[ApiKey]:
        query = select(ApiKey).order_by(ApiKey.id).limit(limit)
        if after_id is not None:
            query = query.where(ApiKey.id > after_id)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def revoke_api_key(self, key_id: int) -> ApiKey:
        async with self.db.session() as s:
            row = await get_or_404(s, ApiKey, key_id, "API key")
            row.revoked_at = row.revoked_at or utcnow()
            return row

    # --- id tokens ------------------------------------------------------------------------
    async def create_id_token(self, uid: str, status: str = "Accepted", type: str = "ISO14443",
                              valid_from: datetime | None = None, expires_at: datetime | None = None,
                              parent_id_tag: str | None = None, *, visual_number: str | None = None,
                              invoicable: bool = False, driver_id: int | None = None) -> IdToken:
        if status not in TOKEN_STATUSES:
            raise Invalid(f"status must be one of {', '.join(TOKEN_STATUSES)}",
                          [{"field": "status", "message": f"one of {', '.join(TOKEN_STATUSES)}"}])
        _check_window(valid_from, expires_at)
        row = IdToken(uid=uid, status=status, type=type, valid_from=valid_from, expires_at=expires_at,
                      parent_id_tag=parent_id_tag, visual_number=visual_number, invoicable=invoicable,
                      driver_id=driver_id)
        try:
            async with self.db.session() as s:
                await _check_driver(s, driver_id)
                s.add(row)
        except IntegrityError:
            raise _uid_taken(uid) from None
        return row

    async def get_id_token(self, token_id: int) -> IdToken:
        async with self.db.session() as s:
            row = await get_or_404(s, IdToken, token_id, "id token")
        return row

    async def update_id_token(self, token_id: int, changes: dict) -> IdToken:
        """Apply ``changes`` (field → value, None clears); the result must still be a valid token."""
        if "status" in changes and changes["status"] not in TOKEN_STATUSES:
            raise Invalid(f"status must be one of {', '.join(TOKEN_STATUSES)}",
                          [{"field": "status", "message": f"one of {', '.join(TOKEN_STATUSES)}"}])
        try:
            async with self.db.session() as s:
                row = await get_or_404(s, IdToken, token_id, "id token")
                _check_window(changes.get("valid_from", row.valid_from), changes.get("expires_at", row.expires_at))
                if changes.get("driver_id") is not None and changes["driver_id"] != row.driver_id:
                    await _check_driver(s, changes["driver_id"])
                if "uid" in changes and changes["uid"] != row.uid and await s.scalar(
                        select(IdToken.id).where(IdToken.uid == changes["uid"])) is not None:
                    raise _uid_taken(changes["uid"])
                for field, value in changes.items():
                    setattr(row, field, value)
        except IntegrityError:  # a concurrent write took the uid first
            raise _uid_taken(changes.get("uid")) from None
        return row

    async def delete_id_token(self, token_id: int) -> None:
        async with self.db.session() as s:
            row = await get_or_404(s, IdToken, token_id, "id token")
            await s.delete(row)

    async def list_id_tokens(self, limit: int, after_id: int | None, *, uid: str | None = None,
                             driver_id: int | None = None, status: str | None = None) -> list[IdToken]:
        """Tokens in id order, after ``after_id``; each filter given narrows the list."""
        query = select(IdToken).order_by(IdToken.id).limit(limit)
        if after_id is not None:
            query = query.where(IdToken.id > after_id)
        if uid is not None:
            query = query.where(IdToken.uid == uid)
        if driver_id is not None:
            query = query.where(IdToken.driver_id == driver_id)
        if status is not None:
            query = query.where(IdToken.status == status)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def authorize(self, uid: str, charge_point_id: str) -> AuthResult:
        """The token's own answer, narrowed by the access rights to this charger; a token Wattson
        does not know is left to the fallbacks (asked outside any database transaction)."""
        async with self.db.session() as s:
            result = await self.own_answer(s, uid, charge_point_id)
        return result or await self.fallback_answer(uid, charge_point_id)

    async def fallback_answer(self, uid: str, charge_point_id: str) -> AuthResult:
        """The answer for a token Wattson does not know: the fallbacks', else Invalid. Ask it
        outside any database transaction (a fallback may wait for a partner)."""
        return await self._ask_fallbacks(uid, charge_point_id) or evaluate(None, utcnow())

    async def own_answer(self, s: AsyncSession, uid: str, charge_point_id: str) -> AuthResult | None:
        """The answer from Wattson's own tokens and access rights, in ``s``; None for a token it
        does not know when fallbacks may know it (``fallback_answer``)."""
        return (await self.own_answers(s, [(uid, charge_point_id)]))[0]

    async def own_answers(self, s: AsyncSession, asks: list[tuple[str, str]]) -> list[AuthResult | None]:
        """``own_answer`` for many (token, charger) at once, as a start storm asks: three queries
        whatever their number (tokens, the chargers' groups, the drivers' rights)."""
        tokens = {t.uid: t for t in await s.scalars(select(IdToken).where(one_of(s, IdToken.uid, {u for u, _ in asks})))}
        now = utcnow()
        results = [evaluate(tokens.get(uid), now) for uid, _ in asks]
        accepted = [i for i, r in enumerate(results) if r.accepted]
        groups: dict[str, set[int]] = {}
        if accepted:
            for cp, group in await s.execute(
                    select(ChargerGroupMember.charge_point_id, ChargerGroupMember.charger_group_id)
                    .where(one_of(s, ChargerGroupMember.charge_point_id, {asks[i][1] for i in accepted}))):
                groups.setdefault(cp, set()).add(group)
        drivers = {tokens[asks[i][0]].driver_id for i in accepted if asks[i][1] in groups} - {None}
        granted: dict[int, set[int]] = {}
        if drivers:
            for driver, group in await s.execute(
                    select(Driver.id, AccessRight.charger_group_id)
                    .join(Driver, Driver.home_group_id == AccessRight.driver_group_id).where(one_of(s, Driver.id, drivers))):
                granted.setdefault(driver, set()).add(group)
        answers: list[AuthResult | None] = []
        for (uid, charge_point_id), result in zip(asks, results):
            token = tokens.get(uid)
            if token is None and self._fallbacks:
                answers.append(None)
            elif not result.accepted or charge_point_id not in groups:
                answers.append(result)
            elif rights_allow(groups[charge_point_id], granted.get(token.driver_id, set())):
                answers.append(result)
            else:
                answers.append(result if await self._admitted(s, uid, charge_point_id) else refused_here(result))
        return answers

    async def _admitted(self, s: AsyncSession, uid: str, charge_point_id: str) -> bool:
        for admitter in self._admitters:
            if await admitter(s, uid, charge_point_id):
                return True
        return False

    async def _ask_fallbacks(self, uid: str, charge_point_id: str) -> AuthResult | None:
        for authorizer in self._fallbacks:
            result = await authorizer(uid, charge_point_id)
            if result is not None:
                return result
        return None


def _check_window(valid_from: datetime | None, expires_at: datetime | None) -> None:
    if valid_from is not None and expires_at is not None and expires_at <= valid_from:
        raise Invalid("expires_at must be after valid_from",
                      [{"field": "expires_at", "message": "must be after valid_from"}])


async def _check_driver(s, driver_id: int | None) -> None:
    if driver_id is not None and await s.get(Driver, driver_id) is None:
        raise Invalid(f"driver {driver_id} not found", [{"field": "driver_id", "message": "no such driver"}])


def _uid_taken(uid: str | None) -> Conflict:
    return Conflict(f"id token {uid!r} already exists", [{"field": "uid", "message": "already taken"}])
