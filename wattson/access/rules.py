"""How an id token's stored state becomes an authorisation answer. No I/O."""

from dataclasses import dataclass
from datetime import datetime

ACCEPTED = "Accepted"
BLOCKED = "Blocked"
EXPIRED = "Expired"
INVALID = "Invalid"
CONCURRENT_TX = "ConcurrentTx"
TOKEN_STATUSES = (ACCEPTED, BLOCKED, EXPIRED, INVALID)
# Why a token is Invalid, for protocols that can say more than OCPP 1.6 (2.x: Unknown,
# NotAtThisLocation, NotAtThisTime).
UNKNOWN, NOT_HERE, NOT_YET_VALID = "unknown", "not_here", "not_yet_valid"


@dataclass(frozen=True, slots=True)
class AuthResult:
    status: str
    expires_at: datetime | None = None
    parent_id_tag: str | None = None
    driver_id: int | None = None
    reason: str | None = None  # UNKNOWN, NOT_HERE or NOT_YET_VALID when status is Invalid

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED


def evaluate(token, now: datetime) -> AuthResult:
    """The answer for a token (anything with status, valid_from, expires_at, parent_id_tag)."""
    if token is None:
        return AuthResult(INVALID, reason=UNKNOWN)
    status, reason = token.status, None
    if status == ACCEPTED:
        if token.expires_at is not None and token.expires_at <= now:
            status = EXPIRED
        elif token.valid_from is not None and token.valid_from > now:
            status, reason = INVALID, NOT_YET_VALID  # OCPP 1.6 has no status of its own for it
    return AuthResult(status, token.expires_at, token.parent_id_tag, token.driver_id, reason)


def rights_allow(charger_groups: set[int], granted: set[int]) -> bool:
    """A charger in no charger group is open to every valid tag; one in groups admits a tag whose
    driver's group has a right to at least one of them."""
    return not charger_groups or bool(charger_groups & granted)


def concurrent(result: AuthResult) -> AuthResult:
    """A valid tag already charging in another session: ConcurrentTx, its token info kept."""
    return AuthResult(CONCURRENT_TX, result.expires_at, result.parent_id_tag, result.driver_id)


def refused_here(result: AuthResult) -> AuthResult:
    """A valid tag without the right to this charger: Invalid here (2.x: NotAtThisLocation)."""
    return AuthResult(INVALID, result.expires_at, result.parent_id_tag, result.driver_id, NOT_HERE)
