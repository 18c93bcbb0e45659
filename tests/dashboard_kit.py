"""Helpers of the dashboard tests: operator accounts made with the CLI, a logged-in HTTP client,
the CSRF token of a page, and Chromium (Debian's) for the browser tests."""

import os
import re
import subprocess
import sys
import uuid
from contextlib import asynccontextmanager

import httpx

from conftest import READY_BOUND_S, STARTUP_BOUND_S

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
PASSWORD = "correct horse battery staple"
#: Where the browser tests leave screenshots of the main pages, for a reviewer (docs/dashboard.md).
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "..", "docs", "screenshots")


def create_operator(server, role: str = "admin", email: str | None = None, password: str = PASSWORD) -> str:
    """A new operator account through ``wattson users create --password-stdin``; its email."""
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    result = subprocess.run([sys.executable, "-m", "wattson", "users", "create", "--email", email, "--role", role,
                             "--password-stdin"], env=server.env, input=password + "\n", capture_output=True,
                            text=True, timeout=STARTUP_BOUND_S)
    assert result.returncode == 0, f"users create failed:\n{result.stdout}\n{result.stderr}"
    return email


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@asynccontextmanager
async def logged_in(server, role: str = "admin", email: str | None = None):
    """An HTTP client logged in as a new operator of ``role`` (cookies kept); ``client.csrf`` is
    its session's CSRF token."""
    email = email or create_operator(server, role)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as client:
        token = csrf_of((await client.get("/login")).text)
        r = await client.post("/login", data={"email": email, "password": PASSWORD, "csrf": token, "next": "/"})
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
        client.csrf = csrf_of((await client.get("/")).text)
        yield client


@asynccontextmanager
async def browser_page(base_url: str, cookies):
    """Chromium (headless, Debian's) with a login's cookies: its page, and the Content-Security-
    Policy violations the page logs (a test asserts there are none). Screenshots go to SCREENSHOTS."""
    from playwright.async_api import async_playwright
    os.makedirs(SCREENSHOTS, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1200, "height": 900})
            await context.add_cookies([{"name": k, "value": v, "url": base_url} for k, v in dict(cookies).items()])
            page = await context.new_page()
            page.set_default_timeout(READY_BOUND_S * 1000)
            violations: list[str] = []
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            yield page, violations
        finally:
            await browser.close()
