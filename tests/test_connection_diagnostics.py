"""Connection diagnostics (issue 16): every refused handshake recorded with the reason and what to
do, accepted connections and disconnects with their close code, repeats counted on one row, a
flood of unknown ids bounded; through the API, against real servers and WebSocket clients."""

import asyncio
import base64
from datetime import datetime, timedelta, timezone

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from certs import TestCa
from conftest import READY_BOUND_S, start_server, unique, until
from fixture_failures import started_once
from ocpp_client import station
from wattson.diagnostics import rules
from wattson.diagnostics.rules import Attempt, Folder, attempt, credential_reason, explain
from wattson.stations.service import Credentials, credentials_problem

PASSWORD = "s3cret-Station-Pa55"
IDS_PER_ADDRESS = 15


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --- rules, on their own ---------------------------------------------------------------------------
def test_every_credentials_problem_has_its_own_reason():
    """Pins the wording of stations.service.credentials_problem that credential_reason reads."""
    hashed = "stored-hash"
    cases = {
        (2, Credentials(password=PASSWORD, tls=False)): "tls_required",
        (3, Credentials(tls=True)): "certificate_missing",
        (1, Credentials()): "password_missing",
        (1, Credentials(password="wrong", verified_against=None)): "password_wrong",
    }
    for (profile, given), reason in cases.items():
        problem = credentials_problem(profile, hashed, given)
        assert problem and credential_reason(problem, False, None) == reason, (problem, reason)
    no_password = credentials_problem(1, hashed, Credentials())
    assert credential_reason(no_password, True, None) == "password_user_mismatch"
    no_certificate = credentials_problem(3, hashed, Credentials(tls=True))
    assert credential_reason(no_certificate, False, "certificate has expired") == "certificate_unverified"


def test_every_reason_explains_itself():
    for reason in rules.REASONS:
        text = explain(reason, "some detail", 1006)
        assert text and "{" not in text, reason
    assert "BasicAuthPassword" in explain("password_missing", "profile 1")
    assert "dropped without a close frame" in explain("closed", close_code=1006)
    assert "WATTSON_AUTO_REGISTER" in explain("unknown_station")


def test_repeats_fold_into_one_counted_row_and_a_flood_into_one_per_address():
    now = datetime(2026, 12, 4, tzinfo=timezone.utc)
    folder = Folder(ids_per_address=3)
    for n in range(3):
        folder.add(attempt("CP-1", "password_wrong", "10.0.0.1"), now + timedelta(seconds=n))
    for n in range(50):
        folder.add(attempt(f"GUESS-{n}", "unknown_station", "10.0.0.9"), now)
    folder.add(attempt("GUESS-0", "unknown_station", "10.0.0.9"), now)  # an id already admitted: its own row
    rows = {(p.attempt.charge_point_id, p.attempt.reason): p for p in folder.take()}
    assert rows[("CP-1", "password_wrong")].count == 3
    assert rows[("CP-1", "password_wrong")].last - rows[("CP-1", "password_wrong")].first == timedelta(seconds=2)
    assert rows[("GUESS-0", "unknown_station")].count == 2
    assert rows[(None, "unknown_station")].count == 47
    assert len(rows) == 1 + 3 + 1
    # the address's window passes: new ids get rows of their own again
    folder.add(attempt("GUESS-99", "unknown_station", "10.0.0.9"), now + rules.WINDOW + timedelta(seconds=1))
    assert [p.attempt.charge_point_id for p in folder.take()] == ["GUESS-99"]


def test_what_no_database_stores_is_replaced_not_refused():
    made = rules.attempt("bad\x00id", "invalid_identity", "10.0.0.1", detail="path /ocpp/bad\x00id \udcff",
                         subprotocols=("ocpp\x001.6",))
    assert (made.charge_point_id, made.detail, made.subprotocols) == ("bad\ufffdid", "path /ocpp/bad\ufffdid \ufffd",
                                                                      ("ocpp\ufffd1.6",))
    assert rules.storable("Plzeň, Křižíkova") == "Plzeň, Křižíkova"


def test_attempts_are_cut_to_what_is_kept():
    a = attempt("X" * 500, "invalid_identity", "", subprotocols=["p"] * 50, detail="d" * 5000)
    assert isinstance(a, Attempt)
    assert len(a.charge_point_id) == rules.MAX_ID and a.address == "unknown"
    assert len(a.subprotocols) == 10 and len(a.detail) == rules.MAX_DETAIL


# --- a real server ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    ca = TestCa(directory)
    return {"ca": ca, "server": ca.server()}


@pytest.fixture(scope="module")
def diag_server(request, pki, tmp_path_factory):
    ca, cert = pki["ca"], pki["server"]
    yield from started_once(request, start_server(
        tmp_path_factory.mktemp("diagnostics"), "sqlite", tls_cert=str(cert.cert), tls_key=str(cert.key),
        tls_client_ca=str(ca.cert_path), diagnostics_ids_per_address=str(IDS_PER_ADDRESS)))


async def diagnostics(server, cp: str | None = None, **params) -> list[dict]:
    async with server.api() as api:
        path = f"/api/v1/charge-points/{cp}/connection-diagnostics" if cp else "/api/v1/connection-diagnostics"
        r = await api.get(path, params={"limit": 500, **params})
        assert r.status_code == 200, r.text
        return r.json()["data"]


async def recorded(server, cp: str | None, reason: str, count: int = 1, **params) -> dict:
    """Wait until the row of ``reason`` (for ``cp``) has counted ``count``; that row."""
    async def check():
        rows = [r for r in await diagnostics(server, cp, **params) if r["reason"] == reason]
        return rows[0] if rows and rows[0]["count"] >= count else None
    return await until(check, f"{reason} ×{count} recorded for {cp}")


async def refused(url: str, cp: str, subprotocols=("ocpp1.6",), **kwargs) -> int:
    with pytest.raises(InvalidStatus) as err:
        async with websockets.connect(f"{url}/{cp}", subprotocols=list(subprotocols), open_timeout=READY_BOUND_S,
                                      **kwargs):
            pass
    return err.value.response.status_code


async def test_unknown_station_then_known_and_connected(diag_server):
    cp = unique("NEW")
    assert await refused(diag_server.ws_url, cp) == 401
    row = await recorded(diag_server, cp, "unknown_station")
    assert (row["kind"], row["known"], row["tls"], row["subprotocols"]) == ("refused", False, False, ["ocpp1.6"])
    assert row["remote_address"] == "127.0.0.1" and "WATTSON_AUTO_REGISTER" in row["explanation"]
    assert row["charge_point_id"] == cp
    assert row in await diagnostics(diag_server, known="false", reason="unknown_station")
    await diag_server.add_station(cp)
    async with station(diag_server.ws_url, cp) as st:
        await st.boot()
        connected = await recorded(diag_server, cp, "accepted")
    assert connected["kind"] == "connected" and connected["known"] is True and "OCPP 1.6" in connected["detail"]
    closed = await recorded(diag_server, cp, "closed")
    assert (closed["kind"], closed["close_code"]) == ("disconnected", 1000) and "normal closure" in closed["explanation"]
    timeline = [r["reason"] for r in await diagnostics(diag_server, cp)]
    assert timeline == ["closed", "accepted", "unknown_station"]  # newest first


async def test_passwords_wrong_missing_and_for_someone_else(diag_server):
    cp = await diag_server.add_station(security_profile=1, password=PASSWORD)
    for _ in range(3):
        assert await refused(diag_server.ws_url, cp, additional_headers=basic(cp, "wrong-pass-1234")) == 401
    wrong = await recorded(diag_server, cp, "password_wrong", 3)
    assert wrong["count"] == 3 and wrong["known"] is True and "AuthorizationKey" in wrong["explanation"]
    assert wrong["first_at"] <= wrong["last_at"]
    assert await refused(diag_server.ws_url, cp) == 401
    missing = await recorded(diag_server, cp, "password_missing")
    assert "profile 1" in missing["explanation"] and "BasicAuthPassword" in missing["explanation"]
    assert await refused(diag_server.ws_url, cp, additional_headers=basic("someone-else", PASSWORD)) == 401
    other = await recorded(diag_server, cp, "password_user_mismatch")
    assert "'someone-else'" in other["explanation"]
    assert PASSWORD not in str(await diagnostics(diag_server, cp))
    async with websockets.connect(f"{diag_server.ws_url}/{cp}", subprotocols=["ocpp1.6"],
                                  additional_headers=basic(cp, PASSWORD), open_timeout=READY_BOUND_S):
        await recorded(diag_server, cp, "accepted")
    # "refused: wrong password ×3, then connected", newest first
    timeline = [(r["reason"], r["count"]) for r in await diagnostics(diag_server, cp, kind="refused")]
    assert timeline == [("password_user_mismatch", 1), ("password_missing", 1), ("password_wrong", 3)]


async def test_no_common_subprotocol_and_an_invalid_identity(diag_server):
    cp = await diag_server.add_station()
    async with websockets.connect(f"{diag_server.ws_url}/{cp}", subprotocols=["ocpp1.2", "ocpp9"],
                                  open_timeout=READY_BOUND_S) as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), READY_BOUND_S)
    row = await recorded(diag_server, cp, "no_subprotocol")
    assert row["subprotocols"] == ["ocpp1.2", "ocpp9"] and "ocpp1.6" in row["explanation"]
    long_id = "L" * 60
    assert await refused(diag_server.ws_url, long_id) == 400
    bad = await recorded(diag_server, None, "invalid_identity", charge_point_id=long_id)
    assert "1 to 48" in bad["explanation"] and bad["known"] is False


async def test_tls_required_certificate_missing_and_mismatched(diag_server, pki):
    ca = pki["ca"]
    profile2 = await diag_server.add_station(security_profile=2, password=PASSWORD)
    assert await refused(diag_server.ws_url, profile2, additional_headers=basic(profile2, PASSWORD)) == 401
    row = await recorded(diag_server, profile2, "tls_required")
    assert row["tls"] is False and "wss://" in row["explanation"] and "profile 2" in row["explanation"]
    profile3 = await diag_server.add_station(security_profile=3)
    assert await refused(diag_server.wss_url, profile3, ssl=ca.client_context()) == 401
    row = await recorded(diag_server, profile3, "certificate_missing")
    assert row["tls"] is True and "WATTSON_TLS_CLIENT_CA" in row["explanation"]
    other = ca.client(unique())
    assert await refused(diag_server.wss_url, profile3, ssl=ca.client_context(other)) == 403
    row = await recorded(diag_server, profile3, "certificate_mismatch")
    assert "another charge point" in row["explanation"]


async def test_too_many_attempts_are_recorded_as_throttled(diag_server):
    cp = await diag_server.add_station(security_profile=1, password=PASSWORD)
    statuses = []
    while 429 not in statuses:  # the gateway's throttle: 10 free attempts per station and address, then waits
        assert len(statuses) < 30, statuses  # growing ones, so a slow machine gets there too
        statuses.append(await refused(diag_server.ws_url, cp, additional_headers=basic(cp, "wrong-pass-1234")))
    row = await recorded(diag_server, cp, "throttled", statuses.count(429))
    assert "Retry-After" in row["explanation"] and "retry after" in row["detail"]


async def test_a_second_connection_replaces_the_first(diag_server):
    cp = await diag_server.add_station()
    async with station(diag_server.ws_url, cp) as first:
        await first.boot()
        async with station(diag_server.ws_url, cp) as second:
            await second.boot()
            row = await recorded(diag_server, cp, "replaced")
    assert row["kind"] == "disconnected" and "connected again" in row["explanation"]
    assert (await recorded(diag_server, cp, "accepted", 2))["count"] == 2


async def test_a_flood_of_unknown_ids_stays_bounded(diag_server):
    flood = [unique("FLOOD") for _ in range(IDS_PER_ADDRESS * 3)]
    for cp in flood:
        assert await refused(diag_server.ws_url, cp) == 401

    async def all_counted():
        rows = [r for r in await diagnostics(diag_server, reason="unknown_station")
                if r["charge_point_id"] is None or r["charge_point_id"].startswith("FLOOD-")]
        return rows if sum(r["count"] for r in rows) == len(flood) else None
    rows = await until(all_counted, "every attempt of the flood counted")
    own = [r for r in rows if r["charge_point_id"] is not None]
    assert len(own) <= IDS_PER_ADDRESS  # earlier tests' unknown ids from this address used part of the bound
    folded = [r for r in rows if r["charge_point_id"] is None]
    assert len(folded) == 1 and folded[0]["count"] >= 2 * IDS_PER_ADDRESS, folded
    assert "many station ids" in folded[0]["detail"] and folded[0]["known"] is False


async def test_bad_filters_are_422(diag_server):
    async with diag_server.api() as api:
        for params in ({"reason": "nonsense"}, {"known": "maybe"}, {"since": "yesterday"}, {"kind": "x"},
                       {"cursor": "garbage"}):
            r = await api.get("/api/v1/connection-diagnostics", params=params)
            assert r.status_code == 422, (params, r.text)
        spec = (await api.get("/api/openapi.json")).json()
        for path in ("/api/v1/connection-diagnostics", "/api/v1/charge-points/{charge_point_id}/connection-diagnostics",
                     "/api/v1/charge-points/{charge_point_id}/ocpp-log"):
            assert path in spec["paths"], path
        assert spec["components"]["schemas"]["ConnectionEventOut"]["examples"]
