"""OCPP security profile 1 (HTTP Basic authentication at the handshake with a per-station password),
the rule that decides what each profile needs, the throttle on repeated attempts, and the API
without TLS. Profiles 2 and 3 over real TLS: tests/test_tls_profiles.py."""

import base64

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from ocpp_client import station
from wattson.ocpp.throttle import Throttle
from wattson.stations.passwords import hash_password
from wattson.stations.service import Credentials, credentials_problem

PASSWORD = "s3cret-Station-Pa55"


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def refused(server, cp: str, headers: dict | None) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as err:
        async with websockets.connect(f"{server.ws_url}/{cp}", subprotocols=["ocpp1.6"],
                                      additional_headers=headers or {}):
            pass
    return err.value


async def test_profile_1_needs_the_stations_password(server):
    cp = await server.add_station(security_profile=1, password=PASSWORD)
    for headers in (None, basic(cp, "wrong-password-123"), basic("SOMEONE-ELSE", PASSWORD),
                    {"Authorization": "Basic !!not-base64"}, {"Authorization": "Bearer " + PASSWORD}):
        error = await refused(server, cp, headers)
        assert error.response.status_code == 401
        assert b"unauthorized" in error.response.body
        assert error.response.headers["WWW-Authenticate"].startswith("Basic")
    async with websockets.connect(f"{server.ws_url}/{cp}", subprotocols=["ocpp1.6"],
                                  additional_headers=basic(cp, PASSWORD)) as ws:
        assert ws.subprotocol == "ocpp1.6"
    async with server.api() as api:
        body = (await api.get(f"/api/v1/charge-points/{cp}")).json()
        assert (body["security_profile"], body["has_password"], body["network_status"]) == (1, True, "offline")
        assert "password" not in body and "password_hash" not in body
        # Back to profile 0: the station connects without credentials again.
        assert (await api.patch(f"/api/v1/charge-points/{cp}", json={"security_profile": 0})).status_code == 200
    async with station(server.ws_url, cp) as st:
        assert (await st.boot())["status"] == "Accepted"


async def test_a_refused_station_is_not_marked_online(server):
    cp = await server.add_station(security_profile=1, password=PASSWORD)
    await refused(server, cp, basic(cp, "not-the-password!!"))
    async with server.api() as api:
        assert (await api.get(f"/api/v1/charge-points/{cp}")).json()["network_status"] == "never_connected"


async def test_profiles_2_and_3_need_tls_configured(server):
    async with server.api() as api:
        r = await api.post("/api/v1/charge-points", json={"id": "TLS-LESS", "security_profile": 2,
                                                          "password": PASSWORD})
        assert r.status_code == 422 and "WATTSON_TLS_CERT and WATTSON_TLS_KEY" in r.text, r.text
        cp = await server.add_station(security_profile=1, password=PASSWORD)
        for profile in (2, 3):
            r = await api.patch(f"/api/v1/charge-points/{cp}", json={"security_profile": profile})
            assert r.status_code == 422 and "WATTSON_TLS_CERT" in r.text, r.text
            assert r.json()["error"]["details"][0]["field"] == "body.security_profile"
        assert "WATTSON_TLS_CLIENT_CA" in r.text
        assert (await api.get(f"/api/v1/charge-points/{cp}")).json()["security_profile"] == 1


# --- what each profile needs (no I/O) -----------------------------------------------------------
HASH = hash_password(PASSWORD)
#: The service verified the password (argon2id, off the batch) against the stored hash.
VERIFIED = {"password": PASSWORD, "verified_against": HASH}


@pytest.mark.parametrize("profile, given, problem", [
    (0, Credentials(), None),
    (0, Credentials(tls=True), None),
    (1, Credentials(**VERIFIED), None),
    (1, Credentials(**VERIFIED, tls=True), None),
    (1, Credentials(), "no password"),
    (1, Credentials(password="wrong-password-123"), "wrong password"),  # did not verify
    (1, Credentials(password=PASSWORD, verified_against=hash_password(PASSWORD)), "wrong password"),  # since changed
    (1, Credentials(certificate=True, tls=True), "no password"),
    (2, Credentials(**VERIFIED, tls=True), None),
    (2, Credentials(**VERIFIED), "without TLS"),
    (2, Credentials(password="wrong-password-123", tls=True), "wrong password"),
    (2, Credentials(tls=True), "no password"),
    (3, Credentials(tls=True, certificate=True), None),
    (3, Credentials(tls=True, **VERIFIED), "no client certificate"),
    (3, Credentials(certificate=True), "without TLS"),
    (3, Credentials(), "without TLS"),
])
def test_credentials_problem(profile, given, problem):
    found = credentials_problem(profile, HASH if profile in (1, 2) else None, given)
    assert (found is None) if problem is None else (problem in found), found


# --- the throttle (no I/O) ----------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_refuses_after_the_free_attempts_and_backs_off():
    clock = Clock()
    throttle = Throttle(free=3, window=60, base=0.5, cap=5, clock=clock)
    assert [throttle.admit("k") for _ in range(3)] == [0, 0, 0]  # counted when admitted, before any check
    assert throttle.admit("k") == 0.5 and throttle.admit("k") == 0.5  # refused ones are not counted
    assert throttle.admit("other") == 0  # other keys are not affected
    waits = []
    for _ in range(6):
        clock.now += throttle.admit("k")
        assert throttle.admit("k") == 0
        waits.append(throttle.admit("k"))
    assert waits == [1, 2, 4, 5, 5, 5]
    throttle.cleared("k")
    assert throttle.admit("k") == 0
    clock.now += 61  # a quiet window forgets
    assert len(throttle) == 2 and throttle.admit("new") == 0 and len(throttle) == 1


def test_throttle_success_gives_its_attempt_back():
    clock = Clock()
    throttle = Throttle(free=2, clock=clock)
    for _ in range(10):
        assert throttle.admit("10.0.0.9") == 0
        throttle.succeeded("10.0.0.9")
    assert throttle.admit("10.0.0.9") == 0 and throttle.admit("10.0.0.9") == 0
    assert throttle.admit("10.0.0.9") > 0


def test_throttle_memory_is_bounded():
    clock = Clock()
    throttle = Throttle(max_entries=100, window=60, clock=clock)
    for n in range(1000):
        throttle.admit((f"CP-{n}", f"10.0.{n // 250}.{n % 250}"))
        clock.now += 0.01
    assert len(throttle) <= 100
    clock.now += 61
    throttle.admit("last")
    assert len(throttle) == 1


def test_a_throttle_of_failures_only_checks_before_and_counts_after():
    clock = Clock()
    throttle = Throttle(free=2, window=60, base=1, cap=5, clock=clock)
    assert [throttle.check("10.0.0.7") for _ in range(50)] == [0] * 50  # checking counts nothing
    throttle.failed("10.0.0.7")
    throttle.failed("10.0.0.7")
    assert throttle.check("10.0.0.7") == 1 and throttle.check("10.0.0.8") == 0
    clock.now += 1
    assert throttle.check("10.0.0.7") == 0
