"""Operator accounts and login sessions. Passwords are checked in a thread: argon2id takes tens of
milliseconds of CPU, which must not stall the event loop that serves the stations."""

import asyncio
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from wattson.access.keys import ROLES
from wattson.db import Database, utcnow
from wattson.errors import Conflict, Invalid, NotFound
from wattson.operators import passwords
from wattson.operators.models import Operator, OperatorSession
from wattson.stations.passwords import hash_password, needs_rehash, verify_password

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@functools.cache
def _nobody() -> str:
    """A hash to verify against when the email is unknown, so that both cases cost the same time."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class Login:
    """A live login session: who, and the CSRF token its forms must carry."""
    operator_id: int
    email: str
    role: str
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        raise Invalid(f"not an email address: {email[:80]!r}")
    return email


def _check(role: str | None, password: str | None) -> None:
    if role is not None and role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if password is not None and (why := passwords.problem(password)):
        raise Invalid(why)


class OperatorService:
    def __init__(self, db: Database, session_lifetime: timedelta = timedelta(hours=12)):
        self.db = db
        self.session_lifetime = session_lifetime

    async def create(self, email: str, role: str, password: str) -> Operator:
        email = normalise_email(email)
        _check(role, password)
        stored = await asyncio.to_thread(hash_password, password)
        async with self.db.session() as s:
            operator = Operator(email=email, role=role, password_hash=stored)
            s.add(operator)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"an operator with the email {email} exists") from None
            return operator

    async def by_email(self, email: str) -> Operator | None:
        async with self.db.session() as s:
            return await s.scalar(select(Operator).where(Operator.email == email.strip().lower()))

    async def get(self, operator_id: int) -> Operator:
        async with self.db.session() as s:
            operator = await s.get(Operator, operator_id)
        if operator is None:
            raise NotFound(f"no operator {operator_id}")
        return operator

    async def list(self) -> list[Operator]:
        async with self.db.session() as s:
            return list(await s.scalars(select(Operator).order_by(Operator.email)))

    async def update(self, operator_id: int, role: str | None = None, disabled: bool | None = None) -> Operator:
        """Change the role or (dis)able the account; its login sessions end, so the change holds at once."""
        _check(role, None)
        async with self.db.session() as s:
            operator = await s.get(Operator, operator_id)
            if operator is None:
                raise NotFound(f"no operator {operator_id}")
            if role is not None:
                operator.role = role
            if disabled is not None:
                operator.disabled_at = utcnow() if disabled else None
            await s.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator_id))
            await s.commit()
            return operator

    async def set_password(self, email: str, password: str) -> None:
        """A new password; every login session of the account ends."""
        _check(None, password)
        stored = await asyncio.to_thread(hash_password, password)
        async with self.db.session() as s:
            operator = await s.scalar(select(Operator).where(Operator.email == normalise_email(email)))
            if operator is None:
                raise NotFound(f"no operator with the email {email}")
            operator.password_hash = stored
            await s.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id))
            await s.commit()

    async def delete(self, operator_id: int) -> None:
        async with self.db.session() as s:
            operator = await s.get(Operator, operator_id)
            if operator is None:
                raise NotFound(f"no operator {operator_id}")
            await s.delete(operator)
            await s.commit()

    async def authenticate(self, email: str, password: str) -> Operator | None:
        """The enabled operator with this email and password, else None (same cost either way)."""
        operator = await self.by_email(email)
        stored = operator.password_hash if operator else await asyncio.to_thread(_nobody)
        if not await asyncio.to_thread(verify_password, password, stored):
            return None
        if operator is None or operator.disabled_at is not None:
            return None
        if needs_rehash(stored):
            await self.set_password(operator.email, password)
        return operator

    async def open_session(self, operator: Operator) -> tuple[str, Login]:
        """A new login session: the cookie's value (only its hash is stored) and the login."""
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), utcnow()
        async with self.db.session() as s:
            s.add(OperatorSession(token_hash=_digest(token), operator_id=operator.id, csrf=csrf,
                                  created_at=now, expires_at=now + self.session_lifetime))
            await s.execute(update(Operator).where(Operator.id == operator.id).values(last_login_at=now))
            await s.execute(delete(OperatorSession).where(OperatorSession.expires_at < now))
            await s.commit()
        return token, Login(operator.id, operator.email, operator.role, csrf)

    async def login(self, token: str) -> Login | None:
        """The live login session of a cookie, in one query; None when unknown, expired or disabled."""
        async with self.db.session() as s:
            row = (await s.execute(
                select(Operator.id, Operator.email, Operator.role, OperatorSession.csrf)
                .join(OperatorSession, OperatorSession.operator_id == Operator.id)
                .where(OperatorSession.token_hash == _digest(token), OperatorSession.expires_at > utcnow(),
                       Operator.disabled_at.is_(None)))).first()
        return Login(*row) if row else None

    async def close_session(self, token: str) -> None:
        async with self.db.session() as s:
            await s.execute(delete(OperatorSession).where(OperatorSession.token_hash == _digest(token)))
            await s.commit()
