"""Bearer API keys and the role each endpoint needs; guessed keys are throttled per client address."""

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wattson.access.service import Principal
from wattson.ocpp.throttle import Throttle

_bearer = HTTPBearer(auto_error=False, description="An API key: `wattson api-keys create --name N --role admin`")
_RANK = {"viewer": 0, "operator": 1, "admin": 2}
#: Attempts per client address; a genuine key gives its attempt back, so only wrong ones add up.
_throttle = Throttle(free=20, window=600, base=1, cap=60)


def require(role: str):
    """A dependency admitting keys whose role is at least ``role`` (viewer < operator < admin)."""

    async def check(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
                    ) -> Principal:
        if credentials is None:
            raise HTTPException(401, "missing API key: send Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})
        address = request.client.host if request.client else "unknown"
        wait = _throttle.admit(address)
        if wait:  # refused before the key is looked up, so parallel guesses gain nothing
            raise HTTPException(429, "too many wrong API keys from this address; retry later",
                                headers={"Retry-After": str(max(1, round(wait)))})
        principal = await request.app.state.services.access.authenticate(credentials.credentials)
        if principal is not None:
            _throttle.succeeded(address)
        if principal is None:
            raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        if _RANK[principal.role] < _RANK[role]:
            raise HTTPException(403, f"this needs the {role} role; the key has {principal.role}")
        return principal

    return check


viewer = Depends(require("viewer"))
operator = Depends(require("operator"))
admin = Depends(require("admin"))
