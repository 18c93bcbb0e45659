"""OCPP security profile 1: HTTP Basic authentication at the handshake with a per-station password."""

import base64

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from ocpp_client import station

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
