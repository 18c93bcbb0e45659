"""The dashboard's admin pages over real HTTP: API keys (created with the secret shown once and
working, revoked and refused), operator accounts (created with a typed or generated password
shown once and able to log in, role changed, disabled and enabled, password reset, deleted); an
admin cannot disable, demote or delete themself; only admins see or post anything here, and
every form needs its CSRF token. The rule itself, and the pages in Chromium under their CSP."""

import os
import re
import uuid

import httpx
import pytest

from conftest import READY_BOUND_S
from dashboard_kit import CHROMIUM, SCREENSHOTS, browser_page, create_operator, csrf_of, logged_in
from wattson.operators.rules import self_change_problem


def test_the_self_change_rule():
    assert self_change_problem(1, 2, role="viewer") is None
    assert self_change_problem(1, 2, disable=True) is None and self_change_problem(1, 2, delete=True) is None
    assert self_change_problem(1, 1, role="admin") is None
    assert "admin role" in self_change_problem(1, 1, role="operator")
    assert "disable" in self_change_problem(1, 1, disable=True)
    assert "delete" in self_change_problem(1, 1, delete=True)


async def _can_log_in(server, email: str, password: str) -> bool:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as client:
        token = csrf_of((await client.get("/login")).text)
        r = await client.post("/login", data={"email": email, "password": password, "csrf": token, "next": "/"})
        return r.status_code == 303


def _operator_id(html: str, email: str) -> int:
    return int(re.search(rf'href="/admin/operators/(\d+)">{re.escape(email)}<', html).group(1))


async def test_api_keys_are_shown_once_and_revoked(server):
    async with logged_in(server, "admin") as admin:
        r = await admin.post("/admin/api-keys", data={"csrf": admin.csrf, "key_name": "billing export",
                                                      "key_role": "viewer"})
        assert r.status_code == 201 and "shown only now" in r.text
        secret = re.search(r'<div class="secret" role="status" id="new-key">.*?<code>([^<]+)</code>', r.text,
                           re.S).group(1)
        async with server.api(secret) as api:
            assert (await api.get("/api/v1/charge-points")).status_code == 200
            assert (await api.post("/api/v1/locations", json={"name": "x"})).status_code == 403  # a viewer key
        page = (await admin.get("/admin")).text
        assert secret not in page and "billing export" in page and secret[:8] in page
        key_id = int(re.search(r"<td>(\d+)</td><td>billing export</td>", page).group(1))
        r = await admin.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf": admin.csrf})
        assert r.status_code == 303
        async with server.api(secret) as api:
            assert (await api.get("/api/v1/charge-points")).status_code == 401
        assert "revoked" in (await admin.get("/admin")).text

        r = await admin.post("/admin/api-keys", data={"csrf": admin.csrf, "key_name": "", "key_role": "root"})
        assert r.status_code == 422 and "Input should be" in r.text and "shown only now" not in r.text


async def test_operator_accounts(server):
    async with logged_in(server, "admin") as admin:
        email = f"new-{uuid.uuid4().hex[:8]}@example.com"
        r = await admin.post("/admin/operators", data={"csrf": admin.csrf, "email": email, "role": "viewer",
                                                       "password": ""})
        assert r.status_code == 201
        generated = re.search(r'id="new-operator">.*?<code>([^<]+)</code>', r.text, re.S).group(1)
        assert len(generated) >= 20 and await _can_log_in(server, email, generated)
        assert generated not in (await admin.get("/admin")).text
        operator_id = _operator_id(r.text, email)

        typed = "a typed password, long enough"
        other = f"typed-{uuid.uuid4().hex[:8]}@example.com"
        r = await admin.post("/admin/operators", data={"csrf": admin.csrf, "email": other, "role": "operator",
                                                       "password": typed})
        assert r.status_code == 201 and typed in r.text and await _can_log_in(server, other, typed)

        # Bad input: said beside the field, the page otherwise as it was.
        r = await admin.post("/admin/operators", data={"csrf": admin.csrf, "email": other, "role": "viewer",
                                                       "password": typed})
        assert r.status_code == 409 and f"an operator with the email {other} exists" in r.text
        r = await admin.post("/admin/operators", data={"csrf": admin.csrf, "email": "nobody", "role": "viewer"})
        assert r.status_code == 422 and "not an email address" in r.text
        r = await admin.post("/admin/operators", data={"csrf": admin.csrf, "email": "short@example.com",
                                                       "role": "viewer", "password": "short"})
        assert r.status_code == 422 and "10 to 256 characters" in r.text
        r = await admin.post("/admin/operators", data={"csrf": admin.csrf, "email": "x@example.com", "role": "god"})
        assert r.status_code == 422 and "one of admin, operator, viewer" in r.text

        # Role, disable, enable, new password, delete.
        r = await admin.post(f"/admin/operators/{operator_id}/role", data={"csrf": admin.csrf, "role": "operator"})
        assert r.status_code == 303
        assert "<dd>operator</dd>" in (await admin.get(f"/admin/operators/{operator_id}")).text
        r = await admin.post(f"/admin/operators/{operator_id}/disable", data={"csrf": admin.csrf})
        assert r.status_code == 303 and not await _can_log_in(server, email, generated)
        await admin.post(f"/admin/operators/{operator_id}/enable", data={"csrf": admin.csrf})
        assert await _can_log_in(server, email, generated)
        r = await admin.post(f"/admin/operators/{operator_id}/password", data={"csrf": admin.csrf, "password": ""})
        assert r.status_code == 200
        fresh = re.search(r'id="new-password">.*?<code>([^<]+)</code>', r.text, re.S).group(1)
        assert await _can_log_in(server, email, fresh) and not await _can_log_in(server, email, generated)
        r = await admin.post(f"/admin/operators/{operator_id}/password", data={"csrf": admin.csrf, "password": "x"})
        assert r.status_code == 422 and "10 to 256 characters" in r.text
        r = await admin.post(f"/admin/operators/{operator_id}/delete", data={"csrf": admin.csrf})
        assert r.status_code == 303
        assert email not in (await admin.get("/admin")).text
        assert (await admin.get(f"/admin/operators/{operator_id}")).status_code == 404


async def test_an_admin_cannot_lock_themself_out(server):
    email = create_operator(server, "admin")
    async with logged_in(server, email=email) as admin:
        me = _operator_id((await admin.get("/admin")).text, email)
        page = (await admin.get(f"/admin/operators/{me}")).text
        assert "(you)" in page and "Disable" not in page and "Delete account" not in page
        r = await admin.post(f"/admin/operators/{me}/role", data={"csrf": admin.csrf, "role": "viewer"})
        assert r.status_code == 422 and "cannot take the admin role from yourself" in r.text
        r = await admin.post(f"/admin/operators/{me}/disable", data={"csrf": admin.csrf})
        assert r.status_code == 422 and "cannot disable your own account" in r.text
        r = await admin.post(f"/admin/operators/{me}/delete", data={"csrf": admin.csrf})
        assert r.status_code == 422 and "cannot delete your own account" in r.text
        assert (await admin.get("/admin")).status_code == 200  # still an admin, still logged in
    # Another admin can.
    async with logged_in(server, "admin") as other:
        r = await other.post(f"/admin/operators/{me}/role", data={"csrf": other.csrf, "role": "viewer"})
        assert r.status_code == 303


async def test_only_admins_see_or_post_and_every_form_needs_the_token(server):
    target = create_operator(server, "viewer")
    async with logged_in(server, "admin") as admin:
        target_id = _operator_id((await admin.get("/admin")).text, target)
        r = await admin.post("/admin/api-keys", data={"key_name": "no token", "key_role": "admin"})
        assert r.status_code == 403 and "security token" in r.text
        r = await admin.post(f"/admin/operators/{target_id}/role", data={"csrf": "stale", "role": "admin"})
        assert r.status_code == 403
    for role in ("viewer", "operator"):
        async with logged_in(server, role) as client:
            menu = re.search(r'<nav aria-label="Main">(.*?)</nav>', (await client.get("/")).text, re.S).group(1)
            assert 'href="/admin"' not in menu and 'href="/drivers"' in menu
            for path in ("/admin", f"/admin/operators/{target_id}"):
                r = await client.get(path)
                assert r.status_code == 403 and "needs the admin role" in r.text
            for path, data in (("/admin/api-keys", {"key_name": "mine", "key_role": "admin"}),
                               ("/admin/operators", {"email": f"{role}-x@example.com", "role": "admin"}),
                               (f"/admin/operators/{target_id}/role", {"role": "admin"}),
                               (f"/admin/operators/{target_id}/password", {}),
                               (f"/admin/operators/{target_id}/disable", {}),
                               (f"/admin/operators/{target_id}/delete", {}),
                               ("/admin/api-keys/1/revoke", {})):
                r = await client.post(path, data={"csrf": client.csrf, **data})
                assert r.status_code == 403, (role, path)
    async with logged_in(server, "admin") as admin:
        page = (await admin.get(f"/admin/operators/{target_id}")).text
        assert "<dd>viewer</dd>" in page and "<dd>enabled</dd>" in page
    async with httpx.AsyncClient(base_url=server.http_url) as anonymous:
        r = await anonymous.get("/admin")
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/admin")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")
async def test_the_admin_page_in_a_browser(sqlite_server):
    async with logged_in(sqlite_server, "admin") as admin:
        cookies = dict(admin.cookies)
    async with browser_page(sqlite_server.http_url, cookies) as (page, violations):
        await page.goto(f"{sqlite_server.http_url}/admin")
        await page.locator("#keys").get_by_label("Name").fill("screenshot key")
        await page.get_by_role("button", name="Create key").click()
        await page.locator("#new-key code").wait_for()
        assert len(await page.locator("#new-key code").inner_text()) > 20
        await page.screenshot(path=os.path.join(SCREENSHOTS, "admin.png"), full_page=True)
        assert violations == []

