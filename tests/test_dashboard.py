"""The dashboard over HTTP, as a browser sends it: logging in and out, throttled guesses, CSRF on
every form, roles, the station pages with their live fragments, connection diagnostics and the
live stream. The browser itself drives it in test_dashboard_browser.py."""

import asyncio

import httpx
import pytest

from conftest import READY_BOUND_S, start_server, unique, until
from dashboard_kit import PASSWORD, create_operator, csrf_of, logged_in
from ocpp_client import station


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    yield from start_server(tmp_path_factory.mktemp("dashboard"), "sqlite", command_timeout="5",
                            dashboard_login_attempts="3")


def client(server) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S)


async def _login(http, email: str, password: str = PASSWORD, **extra):
    token = csrf_of((await http.get("/login")).text)
    return await http.post("/login", data={"email": email, "password": password, "csrf": token, **extra})


async def test_pages_send_a_stranger_to_the_login_form_and_back_after_it(dash):
    email = create_operator(dash, "viewer")
    async with client(dash) as http:
        r = await http.get("/stations?status=online")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/stations%3Fstatus%3Donline"
        form = await http.get(r.headers["location"])
        assert 'name="email"' in form.text and 'name="password"' in form.text
        assert "content-security-policy" in form.headers
        r = await _login(http, email, next="/stations?status=online")
        assert r.status_code == 303 and r.headers["location"] == "/stations?status=online"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
        assert (await http.get("/stations")).status_code == 200


async def test_the_login_cookie_is_secure_behind_a_tls_proxy(dash):
    email = create_operator(dash, "viewer")
    async with client(dash) as http:
        r = await _login(http, email, next="/")
        assert "Secure" not in r.headers["set-cookie"]
    async with httpx.AsyncClient(base_url=dash.http_url, timeout=READY_BOUND_S,
                                 headers={"X-Forwarded-Proto": "https"}) as http:
        form = await http.get("/login")
        assert "Secure" in form.headers["set-cookie"]  # so httpx, on http, keeps it: sent by hand
        pre_login = form.headers["set-cookie"].split(";")[0]
        r = await http.post("/login", headers={"Cookie": pre_login},
                            data={"email": email, "password": PASSWORD, "csrf": csrf_of(form.text)})
        assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


async def test_a_wrong_password_is_refused_and_guessing_is_throttled(dash):
    email = create_operator(dash, "admin")
    async with client(dash) as http:
        for _ in range(3):
            r = await _login(http, email, "wrong password!")
            assert r.status_code == 401 and "Wrong email or password" in r.text
        r = await _login(http, email)  # even the right password waits now
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "try again in" in r.text
        r = await _login(http, "nobody@example.com", "whatever it is")
        assert r.status_code == 401  # other accounts are not locked by this one's guesses


async def test_the_login_form_needs_its_own_csrf_token(dash):
    email = create_operator(dash, "admin")
    async with client(dash) as http:
        await http.get("/login")
        r = await http.post("/login", data={"email": email, "password": PASSWORD, "csrf": "forged"})
        assert r.status_code == 403 and "expired" in r.text
        assert "wattson_login" not in r.headers.get("set-cookie", "")


async def test_logout_ends_the_session_everywhere(dash):
    async with logged_in(dash, "viewer") as http:
        cookie = http.cookies["wattson_login"]
        r = await http.post("/logout", data={"csrf": http.csrf})
        assert r.status_code == 303 and r.headers["location"] == "/login"
    async with client(dash) as other:
        other.cookies.set("wattson_login", cookie)
        assert (await other.get("/")).status_code == 303  # the stolen cookie is worth nothing now


async def test_a_form_without_the_csrf_token_is_refused(dash):
    cp = await dash.add_station()
    async with logged_in(dash, "operator") as http:
        r = await http.post(f"/stations/{cp}/commands/reset", data={"type": "soft"})
        assert r.status_code == 403 and "security token" in r.text
        r = await http.post(f"/stations/{cp}/commands/reset", data={"type": "soft", "csrf": "not-it"})
        assert r.status_code == 403
        r = await http.post("/logout")
        assert r.status_code == 403
    async with dash.api() as api:
        assert (await api.get(f"/api/v1/charge-points/{cp}/commands")).json()["data"] == []


async def test_a_viewer_sees_no_command_buttons_and_may_not_post_them(dash):
    cp = await dash.add_station()
    async with logged_in(dash, "viewer") as http:
        page = await http.get(f"/stations/{cp}")
        assert page.status_code == 200 and f"/stations/{cp}/commands/" not in page.text
        r = await http.post(f"/stations/{cp}/commands/reset", data={"type": "soft", "csrf": http.csrf})
        assert r.status_code == 403 and "operator role" in r.text
    async with logged_in(dash, "operator") as http:
        page = await http.get(f"/stations/{cp}")
        assert f"/stations/{cp}/commands/remote-start" in page.text


async def test_a_command_button_reaches_the_station_and_its_answer_shows(dash):
    cp = await dash.add_station()
    async with station(dash.ws_url, cp) as st, logged_in(dash, "operator") as http:
        await st.boot()
        r = await http.post(f"/stations/{cp}/commands/reset", data={"type": "hard", "csrf": http.csrf})
        assert r.status_code == 303 and r.headers["location"].startswith(f"/stations/{cp}?sent=")
        call = await st.next_call()
        assert call[2] == "Reset" and call[3] == {"type": "Hard"}
        await st.answer(call, {"status": "Accepted"})

        async def answered():
            rows = (await http.get(f"/stations/{cp}?fragment=command_rows")).text
            return "Accepted" in rows and "completed" in rows
        await until(answered, "the command history to show the station's answer")
        page = (await http.get(f"/stations/{cp}?action=Reset&fragment=frames")).text
        assert "CALL" in page and "Reset" in page and "Hard" in page and "CALLRESULT" in page


async def test_bad_input_on_a_page_is_a_readable_4xx(dash):
    cp = await dash.add_station()
    async with logged_in(dash, "operator") as http:
        r = await http.get("/stations/no-such-station")
        assert r.status_code == 404 and "text/html" in r.headers["content-type"] and "not found" in r.text
        r = await http.post(f"/stations/{cp}/commands/unlock", data={"evse": "one", "csrf": http.csrf})
        assert r.status_code == 422 and "evse must be a number" in r.text
        r = await http.post(f"/stations/{cp}/commands/format-disk", data={"csrf": http.csrf})
        assert r.status_code == 422
        r = await http.get("/stations", params={"status": "x" * 500})
        assert r.status_code == 422
        r = await http.get("/diagnostics", params={"after": "garbage"})
        assert r.status_code == 422 and "cursor" in r.text
    async with dash.api() as api:  # the JSON API keeps its JSON errors
        r = await api.get("/api/v1/charge-points/no-such-station")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_the_station_list_filters_by_status_version_and_text(dash):
    online, offline = await dash.add_station(unique("FLT")), await dash.add_station(unique("FLT"))
    async with station(dash.ws_url, online, subprotocols=("ocpp1.6",)) as st, logged_in(dash, "viewer") as http:
        await st.boot(chargePointVendor="Acme Volt")
        async def listed():
            return online in (await http.get("/stations", params={"status": "online", "q": "FLT"})).text
        await until(listed, "the station to be listed online")
        page = (await http.get("/stations", params={"status": "online", "q": "flt", "ocpp": "1.6"})).text
        assert online in page and offline not in page
        page = (await http.get("/stations", params={"q": "acme volt"})).text
        assert online in page and offline not in page
        page = (await http.get("/stations", params={"status": "never_connected", "q": "FLT"})).text
        assert offline in page and online not in page


async def test_an_unknown_station_knocking_is_explained_and_can_be_registered(dash):
    identity = unique("NEW")
    for _ in range(2):
        with pytest.raises(Exception):
            async with station(dash.ws_url, identity):
                pass
    async with logged_in(dash, "operator") as http:
        async def shown():
            page = (await http.get("/diagnostics")).text
            return identity in page and "Unknown stations knocking" in page and page
        page = await until(shown, "the refused identity to appear")
        assert "No charge point with this identity is registered" in page
        r = await http.post("/diagnostics/register", data={"charge_point_id": identity, "csrf": http.csrf})
        assert r.status_code == 303 and r.headers["location"] == f"/stations/{identity}"
        r = await http.post("/diagnostics/register", data={"charge_point_id": "bad/id", "csrf": http.csrf})
        assert r.status_code == 422
    async with station(dash.ws_url, identity) as st:
        assert (await st.boot())["status"] == "Accepted"


async def test_the_live_stream_says_what_changed(dash):
    cp = await dash.add_station()
    async with logged_in(dash, "viewer") as http:
        async with http.stream("GET", "/live") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert await anext(lines) == "retry: 3000"

            async def connect():
                async with station(dash.ws_url, cp) as st:
                    await st.boot()
                    await asyncio.sleep(3)  # connected long enough for a beat of the stream to see it
            task = asyncio.create_task(connect())
            seen = []
            try:
                async with asyncio.timeout(READY_BOUND_S):
                    async for line in lines:
                        seen.append(line)
                        if line.startswith("data:") and "stations" in line:
                            break
            finally:
                await task
            assert "event: change" in seen
