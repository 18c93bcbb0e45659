"""The dashboard's security log (/security): a 1.6 station's SecurityEventNotification and a refused
handshake on the page with their severity badges and station links, the filters and the paging,
bad filter values answered with the page and what is wrong, and a station certificate's changes
as Wattson's own security events (signed, accepted by the station, refused by it)."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from conftest import unique, until
from dashboard_kit import logged_in
from ocpp_client import now, station
from test_security_events import PASSWORD, refuse_a_wrong_password
from test_station_certificates import ca_server, key_and_csr, pki, record_in, tls_station  # noqa: F401 - fixtures
from wattson.security_events import rules

ROW = re.compile(r"<tr class=\"(critical|warning|info)\">(.*?)</tr>", re.S)


def rows(html: str) -> list[str]:
    """The log's rows, as their text without tags."""
    return [re.sub(r"<[^>]+>", " ", row) for _, row in ROW.findall(html)]


def types(html: str) -> list[str]:
    return re.findall(r"<td><code>([A-Za-z]+)</code></td>", html)


async def page(client, **params) -> str:
    r = await client.get("/security", params=params)
    assert r.status_code == 200, r.text
    return r.text


def test_certificate_states_are_security_events():
    assert rules.certificate_change("accepted_by_station", None, "1f", None) == (
        rules.CERTIFICATE_CHANGED, rules.INFO, "ChargingStationCertificate 1f: accepted by station")
    assert rules.certificate_change("refused_by_station", "V2GCertificate", None, "it answered Rejected") == (
        rules.CERTIFICATE_REFUSED, rules.WARNING, "V2GCertificate: refused by station: it answered Rejected")
    assert rules.certificate_change("failed", None, None, "timeout")[:2] == (rules.CERTIFICATE_FAILED, rules.WARNING)
    assert rules.certificate_change("signed", None, "2a", None)[:2] == (rules.CERTIFICATE_SIGNED, rules.INFO)
    assert [rules.certificate_change(state, None, None, None) for state in ("requested", "rejected", "sent")] == \
        [None, None, None]


async def test_reports_and_refusals_on_the_page_with_filters(server):
    cp, guarded = await server.add_station(), unique()
    async with server.api() as api:
        r = await api.post("/api/v1/charge-points", json={"id": guarded, "security_profile": 1, "password": PASSWORD})
        assert r.status_code == 201, r.text
    async with station(server.ws_url, cp) as st:
        await st.boot()
        await st.ok("SecurityEventNotification", {"type": "TamperDetectionActivated", "timestamp": now(),
                                                  "techInfo": "lid opened"})
        await st.ok("SecurityEventNotification", {"type": "InvalidMessages", "timestamp": now()})
    await refuse_a_wrong_password(server, guarded)
    async with logged_in(server, "viewer") as client:
        html = await page(client, charge_point_id=cp)
        assert 'href="/security"' in html  # in the menu, for a viewer
        assert types(html) == ["InvalidMessages", "TamperDetectionActivated"]
        assert '<span class="state severity failed">critical</span>' in html
        assert '<span class="state severity paused">warning</span>' in html
        assert f'<a href="/stations/{cp}">{cp}</a>' in html and "lid opened" in html

        async def refused():
            html = await page(client, charge_point_id=guarded, type="HandshakeRefused")
            return html if rows(html) else None
        html = await until(refused, "the refused handshake on the page")
        [refusal] = rows(html)
        assert "HandshakeRefused" in refusal and "password wrong" in refusal and "connection" in refusal
        assert f'<a href="/stations/{guarded}">{guarded}</a>' in html

        assert types(await page(client, charge_point_id=cp, severity="critical")) == ["TamperDetectionActivated"]
        assert types(await page(client, charge_point_id=cp, type="InvalidMessages")) == ["InvalidMessages"]
        assert types(await page(client, charge_point_id=guarded, source="connection")) == ["HandshakeRefused"]
        assert types(await page(client, charge_point_id=cp, source="connection")) == []
        assert "No security events match." in await page(client, charge_point_id=cp, severity="info")
        later = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        earlier = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        assert types(await page(client, charge_point_id=cp, since=later)) == []
        assert types(await page(client, charge_point_id=cp, until=earlier)) == []
        assert len(types(await page(client, charge_point_id=cp, since=earlier, until=later))) == 2


async def test_older_events_on_the_next_page(sqlite_server):
    cp = await sqlite_server.add_station()
    async with station(sqlite_server.ws_url, cp) as st:
        await st.boot()
        for n in range(53):
            await st.ok("SecurityEventNotification", {"type": "InvalidMessages", "timestamp": now(),
                                                      "techInfo": f"report {n}"})
    async with logged_in(sqlite_server, "viewer") as client:
        first = await page(client, charge_point_id=cp)
        older = re.search(r'<a href="\?([^"]+)">Older', first)
        assert older and len(rows(first)) == 50 and "report 52 " in rows(first)[0]
        second = await client.get("/security?" + older.group(1).replace("&amp;", "&"))
        assert second.status_code == 200
        assert [re.search(r"report \d+", row).group() for row in rows(second.text)] == \
            ["report 2", "report 1", "report 0"]
        assert "Older" not in second.text


@pytest.mark.parametrize("params, message", [
    ({"severity": "bogus"}, "Severity: one of critical, warning, info"),
    ({"source": "moon"}, "Source: one of station, connection, csms"),
    ({"since": "yesterday"}, "Since: not a date and time"),
    ({"until": "2026-13-45T99:00"}, "Until: not a date and time"),
    ({"since": "2026-12-04T10:00", "until": "2026-12-04T09:00"}, "Since must be before Until"),
    ({"charge_point_id": "x" * 101}, "Station: at most 100 characters"),
    ({"type": "Tamper\x00"}, "Type: no NUL characters"),
    ({"after": "not-a-cursor"}, "not one this page made"),
    ({"after": "WyIyMDI2LTEyLTA0VDA5OjAwOjAwKzAwOjAwIiwibW9vbiIsMV0"}, "not one this page made"),  # source "moon"
])
async def test_bad_filters_give_the_page_saying_what_is_wrong(sqlite_server, params, message):
    async with logged_in(sqlite_server, "viewer") as client:
        r = await client.get("/security", params=params)
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    assert message in r.text and '<form class="filters"' in r.text and "Fix the filter above." in r.text


async def test_the_page_needs_a_login(sqlite_server):
    async with logged_in(sqlite_server, "viewer") as client:
        client.cookies.clear()
        r = await client.get("/security")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/security")


async def test_certificate_changes_are_security_events(ca_server, pki):  # noqa: F811 - the fixtures imported
    ca = pki["ca"]
    accepting, refusing = [await ca_server.add_station(security_profile=2, password=PASSWORD) for _ in range(2)]
    for cp, answer, state in ((accepting, "Accepted", "accepted_by_station"),
                              (refusing, "Rejected", "refused_by_station")):
        _, request = key_and_csr(cp)
        async with tls_station(ca_server, cp, ca.client_context(), password=PASSWORD) as st:
            assert (await st.boot())["status"] == "Accepted"
            assert await st.ok("SignCertificate", {"csr": request}) == {"status": "Accepted"}
            sent = await st.next_call()
            assert sent[2] == "CertificateSigned"
            await st.answer(sent, {"status": answer})
            row = await record_in(ca_server, cp, state)
    async with ca_server.api() as api:
        r = await api.get("/api/v1/security-events", params={"charge_point_id": accepting, "source": "csms"})
        assert r.status_code == 200, r.text
        changed, signed = r.json()["data"]
        r = await api.get("/api/v1/security-events", params={"charge_point_id": refusing, "source": "csms"})
        refused = r.json()["data"][0]
    assert (changed["type"], changed["severity"], signed["type"]) == \
        ("StationCertificateChanged", "info", "StationCertificateSigned")
    assert changed["data"]["serial"] == signed["data"]["serial"] and changed["data"]["not_after"]
    assert (refused["type"], refused["severity"], refused["data"]["serial"]) == \
        ("StationCertificateRefused", "warning", row["serial"])
    assert "the station answered Rejected" in refused["tech_info"]
    async with logged_in(ca_server, "viewer") as client:
        assert types(await page(client, charge_point_id=accepting)) == \
            ["StationCertificateChanged", "StationCertificateSigned"]
        html = await page(client, charge_point_id=refusing, severity="warning")
        assert types(html) == ["StationCertificateRefused"] and "refused by station" in html
