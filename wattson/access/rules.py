"""How an id token's stored state becomes an authorisation answer. No I/O."""

from dataclasses import dataclass
from datetime import datetime

ACCEPTED = "Accepted"
BLOCKED = "Blocked"
EXPIRED = "Expired"
INVALID = "Invalid"
CONCURRENT_TX = "ConcurrentTx"
TOKEN_STATUSES = (ACCEPTED, BLOCKED, EXPIRED, INVALID)


@dataclass(frozen=True, slots=True)
class AuthResult:
    status: str
    expires_at: datetime | None = None
    parent_id_tag: str | None = None
    driver_id: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED


def evaluate(token, now: datetime) -> AuthResult:
    """The answer for a token (anything with status, valid_from, expires_at, parent_id_tag)."""
    if token is None:
        return AuthResult(INVALID)
    status = token.status
    if status == ACCEPTED:
        if token.expires_at is not None and token.expires_at <= now:
            status = EXPIRED
        elif token.valid_from is not None and token.valid_from > now:
            status = INVALID  # not valid yet; OCPP has no status of its own for it
    return AuthResult(status, token.expires_at, token.parent_id_tag, token.driver_id)


def rights_allow(charger_groups: set[int], granted: set[int]) -> bool:
    """A charger in no charger group is open to every valid tag; one in groups admits a tag whose
    driver's group has a right to at least one of them."""
    return not charger_groups or bool(charger_groups & granted)


def refused_here(result: AuthResult) -> AuthResult:
    """A valid tag without the right to this charger: Invalid here, as OCPP has no closer status."""
    return AuthResult(INVALID, result.expires_at, result.parent_id_tag, result.driver_id)
