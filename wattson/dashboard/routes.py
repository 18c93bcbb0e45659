"""The dashboard's own routes: login, logout, the live stream, the overview; and every page
family's router (stations.py, …) gathered into one ``router`` for the app."""

import secrets
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from wattson.dashboard import auth, charts, live
from wattson.dashboard.render import TEMPLATES, render
from wattson.dashboard.service import DashboardQueries
from wattson.dashboard.connections import router as connections_router
from wattson.dashboard.security import router as security_router
from wattson.dashboard.stations import router as stations_router
from wattson.dashboard import admin, circuits, partners, payments, people, places, webhooks
from wattson.dashboard.sessions import router as sessions_router
from wattson.dashboard.tariffs import router as tariffs_router
from wattson.dashboard import catalogue, statistics
from wattson.errors import WattsonError

STATIC = TEMPLATES.parent / "static"
static = StaticFiles(directory=STATIC)
router = APIRouter(include_in_schema=False)
router.include_router(stations_router)
router.include_router(people.router)
router.include_router(places.router)
router.include_router(circuits.router)
router.include_router(payments.router)
router.include_router(partners.router)
router.include_router(webhooks.router)
router.include_router(statistics.router)
router.include_router(catalogue.router)
router.include_router(admin.router)
router.include_router(sessions_router)
router.include_router(tariffs_router)
router.include_router(connections_router)
router.include_router(security_router)


def _throttle(request: Request) -> auth.LoginThrottle:
    state = request.app.state
    if not hasattr(state, "login_throttle"):
        state.login_throttle = auth.LoginThrottle(state.runtime.settings.dashboard_login_attempts)
    return state.login_throttle


def _next(target: str | None) -> str:
    """Where to go after login: a local path only (never another site; browsers read a backslash
    as a slash, so ``/\\evil.example`` would be one)."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or urlsplit(target).netloc):
        return "/"
    return target


def _login_form(request: Request, error: str | None = None, status_code: int = 200, email: str = "",
                next_path: str = "/") -> HTMLResponse:
    token = auth.new_pre_login_token()
    response = render(request, "login.html", status_code=status_code, error=error, email=email,
                      login_csrf=token, next_path=next_path)
    response.set_cookie(auth.PRE_LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=auth.secure(request),
                        max_age=3600, path="/login")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None):
    if await auth.current_login(request):
        return RedirectResponse(_next(next), status_code=303)
    return _login_form(request, next_path=_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, email: str = Form("", max_length=254), password: str = Form("", max_length=256),
                csrf: str = Form("", max_length=100), next: str = Form("/", max_length=500)):
    expected = request.cookies.get(auth.PRE_LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf, expected):
        return _login_form(request, "The form expired: please log in again.", 403, email, _next(next))
    throttle, address, account = _throttle(request), auth.client_address(request), email.strip().lower()
    wait = throttle.wait(account, address)
    if wait:
        response = _login_form(request, f"Too many wrong passwords: try again in {wait} s.", 429, email, _next(next))
        response.headers["Retry-After"] = str(wait)
        return response
    operators = request.app.state.services.operators
    operator = await operators.authenticate(account, password) if account and password else None
    if operator is None:
        throttle.failed(account, address)
        return _login_form(request, "Wrong email or password.", 401, email, _next(next))
    throttle.succeeded(account, address)
    token, _ = await operators.open_session(operator)
    response = RedirectResponse(_next(next), status_code=303)
    response.set_cookie(auth.COOKIE, token, httponly=True, samesite="lax", secure=auth.secure(request),
                        max_age=int(operators.session_lifetime.total_seconds()), path="/")
    response.delete_cookie(auth.PRE_LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, _=Depends(auth.action("viewer"))):
    await request.app.state.services.operators.close_session(request.cookies[auth.COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/")
    return response


@router.get("/live")
async def live_stream(request: Request, _=auth.viewer_page):
    """Server-Sent Events: ``change`` with the kinds that changed (stations, sessions, commands)."""
    state = request.app.state
    if not hasattr(state, "dashboard_pulse"):
        state.dashboard_pulse = live.Pulse(state.services.db)
    return StreamingResponse(live.stream(state.dashboard_pulse, request.is_disconnected),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, _=auth.viewer_page):
    q = DashboardQueries.of(request)
    figures = await q.overview()
    days = await q.energy_per_day(30)
    chart = charts.bars("Energy per day, last 30 days", [(f"{d:%d.%m}", wh / 1000) for d, wh in days], "kWh")
    return render(request, "overview.html", figures=figures, chart=chart, faults=await q.recent_faults())


def install(app) -> None:
    """Mount the static files and answer a missing login with a redirect, a low role with a 403 page."""
    app.mount("/dashboard/static", static, name="dashboard-static")

    @app.exception_handler(auth.LoginRequired)
    async def to_login(request: Request, _: auth.LoginRequired):
        if request.method == "GET" and not request.headers.get("x-fragment"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return HTMLResponse("<p>Your login has ended: <a href='/login'>log in again</a>.</p>", status_code=401)

    @app.exception_handler(auth.Forbidden)
    async def forbidden(request: Request, exc: auth.Forbidden):
        return render(request, "error.html", status_code=403, title="Not allowed", message=exc.message)

    api_error, api_invalid = app.exception_handlers[WattsonError], app.exception_handlers[RequestValidationError]

    @app.exception_handler(WattsonError)
    async def domain_error(request: Request, exc: WattsonError):
        """On a dashboard page, the API's error as a page (the API keeps its JSON body)."""
        if getattr(request.state, "login", None) is None:
            return await api_error(request, exc)
        details = exc.details if isinstance(exc.details, list) else []
        return render(request, "error.html", status_code=exc.status, title="That did not work", message=exc.message,
                      details=[f"{d.get('field', '')}: {d.get('message', '')}" for d in details if isinstance(d, dict)])

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        if getattr(request.state, "login", None) is None:
            return await api_invalid(request, exc)
        return render(request, "error.html", status_code=422, title="That did not work",
                      message="Some of what was sent is not valid:",
                      details=[f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors()])
