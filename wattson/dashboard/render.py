"""Pages from Jinja2 templates (autoescaped). A page's live parts are template blocks: the same
route answers the whole page, or with ``?fragment=<block>`` only that block, which is what
``static/dashboard.js`` fetches when the live stream says that kind of thing changed."""

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from wattson import __version__
from wattson.sessions.receipts import duration
from wattson.web import money as web_money

TEMPLATES = Path(__file__).parent / "templates"
#: The menu: (path, label, lowest role that sees it).
NAV = (("/", "Overview", "viewer"), ("/stations", "Stations", "viewer"), ("/diagnostics", "Connections", "viewer"),
       ("/security", "Security", "viewer"),
       ("/sessions", "Sessions", "viewer"), ("/tariffs", "Tariffs", "viewer"), ("/drivers", "Drivers", "viewer"),
       ("/locations", "Locations", "viewer"), ("/circuits", "Circuits", "viewer"), ("/payments", "Payments", "viewer"),
       ("/statistics", "Statistics", "viewer"), ("/catalogue", "Catalogue", "viewer"),
       ("/partners", "OCPI", "viewer"), ("/webhooks", "Webhooks", "operator"), ("/admin", "Admin", "admin"))


def when(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A time in UTC, as every page writes it (ISO text, as the gateway's frame log has it, too)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime(fmt) + " UTC"


def kwh(wh: float | int | None) -> str:
    return "—" if wh is None else f"{wh / 1000:,.2f} kWh"


def money(amount, currency: str | None) -> str:
    """One way of writing money on every page, the driver page's and the receipts' (web/money.py)."""
    return "—" if amount is None else web_money.money(amount, currency)


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=when, kwh=kwh, money=money, duration=lambda hours: duration(Decimal(str(hours))))
    env.globals.update(version=__version__, nav=NAV)
    return env


ENV = _env()
RANK = {"viewer": 0, "operator": 1, "admin": 2}


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """The page, or only the block named by ``?fragment=``; the login and its CSRF token are in
    the context of every page (``login``, ``csrf``, ``can(role)``)."""
    login = getattr(request.state, "login", None)
    context.update(request=request, login=login, csrf=login.csrf if login else "",
                   can=lambda role: login is not None and RANK[login.role] >= RANK[role], path=request.url.path)
    page = ENV.get_template(template)
    fragment = request.query_params.get("fragment")
    if fragment and fragment in page.blocks:
        html = "".join(page.blocks[fragment](page.new_context(context)))
    else:
        html = page.render(context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
