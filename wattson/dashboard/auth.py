"""Dashboard logins: a session cookie (HttpOnly, SameSite=Lax, Secure behind TLS), the CSRF token
every form carries, throttled password attempts, and the role each page needs (the API keys' roles)."""

import hmac
import math
import secrets

from fastapi import Depends, Request

from wattson.ocpp.throttle import Throttle
from wattson.operators.service import Login

COOKIE = "wattson_login"
#: Before login there is no session: the login form's CSRF token is double-submitted in a cookie.
PRE_LOGIN_COOKIE = "wattson_prelogin"
RANK = {"viewer": 0, "operator": 1, "admin": 2}


class LoginRequired(Exception):
    """No live login: the page answers with a redirect to /login."""


class Forbidden(Exception):
    """Logged in, but the role is too low (or the CSRF token is wrong): a 403 page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class LoginThrottle:
    """Wrong passwords counted per account and per client address: guessing one account from many
    addresses, or many accounts from one, both slow down (docs/dashboard.md)."""

    def __init__(self, free: int):
        self.by_account = Throttle(free=free, base=2.0, cap=300.0)
        self.by_address = Throttle(free=free * 4, base=2.0, cap=300.0)

    def wait(self, email: str, address: str) -> int:
        """Seconds before this attempt may be evaluated (0: now)."""
        wait = max(self.by_account.check(email), self.by_address.check(address))
        return math.ceil(wait)

    def failed(self, email: str, address: str) -> None:
        self.by_account.failed(email)
        self.by_address.failed(address)

    def succeeded(self, email: str, address: str) -> None:
        """The right password clears the account's count; the address keeps what others guessed."""
        self.by_account.cleared(email)


def secure(request: Request) -> bool:
    """Whether the login cookie gets Secure: the setting, else whether the browser came over TLS."""
    setting = request.app.state.runtime.settings.dashboard_secure_cookies
    if setting is not None:
        return setting
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def current_login(request: Request) -> Login | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    return await request.app.state.services.operators.login(token)


def page(role: str = "viewer"):
    """A dependency for pages: the login, at least ``role``; no login redirects to /login."""

    async def check(request: Request) -> Login:
        login = await current_login(request)
        if login is None:
            raise LoginRequired()
        if RANK[login.role] < RANK[role]:
            raise Forbidden(f"this needs the {role} role; you are {login.role}")
        request.state.login = login
        return login

    return check


def action(role: str = "operator"):
    """A dependency for form posts and script calls: ``page(role)`` plus the session's CSRF token,
    from the form field ``csrf`` or the ``X-CSRF-Token`` header."""
    guard = page(role)

    async def check(request: Request, login: Login = Depends(guard)) -> Login:
        sent = request.headers.get("x-csrf-token")
        if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await request.form()).get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, login.csrf):
            raise Forbidden("the form's security token is missing or stale: reload the page and try again")
        return login

    return check


def new_pre_login_token() -> str:
    return secrets.token_urlsafe(24)


viewer_page, operator_page, admin_page = Depends(page("viewer")), Depends(page("operator")), Depends(page("admin"))
operator_action, admin_action = Depends(action("operator")), Depends(action("admin"))
