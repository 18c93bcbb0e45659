"""Bearer API keys and the role each endpoint needs; guessed keys are throttled per client address."""

import math

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wattson.access.service import Principal
from wattson.api.key_guard import FREE_ATTEMPTS, KeyGuard

_bearer = HTTPBearer(auto_error=False, description="An API key: `wattson api-keys create --name N --role admin`")
_RANK = {"viewer": 0, "operator": 1, "admin": 2}


def require(role: str):
    """A dependency admitting keys whose role is at least ``role`` (viewer < operator < admin)."""

    async def check(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
                    ) -> Principal:
        if credentials is None:
            raise HTTPException(401, "missing API key: send Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})
        guard, key = _guard(request), credentials.credentials
        address = request.client.host if request.client else "unknown"
        wait = guard.admit(address, key)
        if wait:  # refused before the key is looked up, so parallel guesses gain nothing
            raise HTTPException(429, "too many wrong API keys from this address; retry later",
                                headers={"Retry-After": str(max(1, math.ceil(wait)))})
        try:
            principal = await request.app.state.services.access.authenticate(key)
        except BaseException:  # not the client's fault (database gone): not held against it
            guard.abandoned(address, key)
            raise
        if principal is None:
            guard.wrong(address, key)
            raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        guard.genuine(address, key)
        if _RANK[principal.role] < _RANK[role]:
            raise HTTPException(403, f"this needs the {role} role; the key has {principal.role}")
        return principal

    return check


def _guard(request: Request) -> KeyGuard:
    """The app's guard, made on first use with the configured bound (WATTSON_API_KEY_ATTEMPTS)."""
    state = request.app.state
    guard = getattr(state, "key_guard", None)
    if guard is None:
        runtime = getattr(state, "runtime", None)
        guard = state.key_guard = KeyGuard(runtime.settings.api_key_attempts if runtime else FREE_ATTEMPTS)
    return guard


viewer = Depends(require("viewer"))
operator = Depends(require("operator"))
admin = Depends(require("admin"))
