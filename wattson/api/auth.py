"""Bearer API keys and the role each endpoint needs."""

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wattson.access.service import Principal

_bearer = HTTPBearer(auto_error=False, description="An API key: `wattson api-keys create --name N --role admin`")
_RANK = {"viewer": 0, "operator": 1, "admin": 2}


def require(role: str):
    """A dependency admitting keys whose role is at least ``role`` (viewer < operator < admin)."""

    async def check(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
                    ) -> Principal:
        if credentials is None:
            raise HTTPException(401, "missing API key: send Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})
        principal = await request.app.state.services.access.authenticate(credentials.credentials)
        if principal is None:
            raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        if _RANK[principal.role] < _RANK[role]:
            raise HTTPException(403, f"this needs the {role} role; the key has {principal.role}")
        return principal

    return check


viewer = Depends(require("viewer"))
operator = Depends(require("operator"))
admin = Depends(require("admin"))
