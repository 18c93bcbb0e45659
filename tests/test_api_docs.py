"""/api/docs and /ocpi/docs work offline: Swagger UI's files come from the server itself (the
fastapi-offline package), not a CDN; in headless Chromium the page renders the operations under
its Content-Security-Policy while every request to another host is refused."""

import os
import re
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import READY_BOUND_S

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
DOCS = [("/api/docs", "/api/openapi.json", "/api/v1/charge-points"),
        ("/ocpi/docs", "/ocpi/openapi.json", "/2.2.1/locations")]


@pytest.mark.parametrize("docs, spec, operation", DOCS)
def test_the_docs_page_names_only_its_own_files(sqlite_server, docs, spec, operation):
    page = httpx.get(sqlite_server.http_url + docs)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in page.headers
    assert not re.search(r"(src|href)=['\"]https?://", page.text), page.text  # nothing from elsewhere
    assert f"'{spec}'" in page.text  # under /ocpi too: the mounted app's root path is kept
    assets = re.findall(r"(?:src|href)=['\"](/[^'\"]+)['\"]", page.text)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}
    for asset in assets:
        answer = httpx.get(sqlite_server.http_url + asset)
        assert answer.status_code == 200 and len(answer.content) > 1000, asset
    assert operation in httpx.get(sqlite_server.http_url + spec).json()["paths"]


def test_an_unknown_docs_file_is_a_404(sqlite_server):
    assert httpx.get(sqlite_server.http_url + "/api/docs/static/nothing.js").status_code == 404


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: apt-get install -y chromium")
@pytest.mark.parametrize("docs, spec, operation", DOCS)
async def test_swagger_ui_renders_offline_in_chromium(sqlite_server, docs, spec, operation):
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    own = urlsplit(sqlite_server.http_url).netloc
    elsewhere: list[str] = []
    problems: list[str] = []

    async def only_own(route):
        if urlsplit(route.request.url).netloc == own:
            await route.continue_()
        else:  # as without the internet
            elsewhere.append(route.request.url)
            await route.abort()

    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await browser.new_page()
            page.set_default_timeout(READY_BOUND_S * 1000)
            await page.route("**/*", only_own)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            await page.goto(sqlite_server.http_url + docs)
            await page.locator(".opblock").first.wait_for(state="visible")  # the operations, rendered
            assert await page.locator(f".opblock-summary-path[data-path='{operation}']").count() >= 1
            assert await page.locator(".errors-wrapper").count() == 0  # Swagger UI read the spec
        finally:
            await browser.close()
    assert not elsewhere, elsewhere
    assert not problems, problems  # a Content-Security-Policy violation is logged as an error
