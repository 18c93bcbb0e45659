"""HTML pages send a Content-Security-Policy, nosniff and no-framing headers; JSON needs none."""

import pytest


@pytest.mark.parametrize("path", ["/api/docs", "/ocpi/docs", "/driver/999999"])
async def test_html_pages_send_security_headers(sqlite_server, path):
    async with sqlite_server.api() as api:
        r = await api.get(path)
    assert r.headers["content-type"].startswith("text/html"), (path, r.status_code)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"


async def test_json_is_left_alone(sqlite_server):
    async with sqlite_server.api() as api:
        r = await api.get("/health")
    assert "content-security-policy" not in r.headers
