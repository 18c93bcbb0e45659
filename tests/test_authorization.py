"""Authorize and StartTransaction answer from the id tokens, over a real WebSocket."""

from datetime import datetime, timedelta, timezone

from ocpp_client import now, station


def iso(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) + delta).isoformat()


async def authorize(st, tag: str) -> dict:
    return (await st.ok("Authorize", {"idTag": tag}))["idTagInfo"]


async def authorize_201(st, tag: str) -> dict:
    return (await st.ok("Authorize", {"idToken": {"idToken": tag, "type": "ISO14443"}}))["idTokenInfo"]


async def test_token_statuses(server):
    cp = await server.add_station()
    accepted = await server.add_tag()
    blocked = await server.add_tag(status="Blocked")
    expired_status = await server.add_tag(status="Expired")
    invalid = await server.add_tag(status="Invalid")
    past_expiry = await server.add_tag(expires_at=iso(-timedelta(minutes=1)))
    not_yet = await server.add_tag(valid_from=iso(timedelta(days=1)))
    async with station(server.ws_url, cp) as st:
        await st.boot()
        assert (await authorize(st, accepted))["status"] == "Accepted"
        assert (await authorize(st, blocked))["status"] == "Blocked"
        assert (await authorize(st, expired_status))["status"] == "Expired"
        assert (await authorize(st, invalid))["status"] == "Invalid"
        assert (await authorize(st, past_expiry))["status"] == "Expired"
        assert (await authorize(st, not_yet))["status"] == "Invalid"
        assert (await authorize(st, "NEVER-SEEN-TAG"))["status"] == "Invalid"


async def test_expiry_and_parent_are_reported(server):
    cp = await server.add_station()
    expiry = datetime.now(timezone.utc) + timedelta(days=30)
    tag = await server.add_tag(expires_at=expiry.isoformat(), parent_id_tag="FLEET-7")
    async with station(server.ws_url, cp) as st:
        await st.boot()
        info = await authorize(st, tag)
    assert info["status"] == "Accepted" and info["parentIdTag"] == "FLEET-7"
    assert abs(datetime.fromisoformat(info["expiryDate"]) - expiry) < timedelta(milliseconds=2)


async def test_concurrent_transaction(server):
    cp1, cp2 = await server.add_station(), await server.add_station()
    tag = await server.add_tag()
    async with station(server.ws_url, cp1) as st1, station(server.ws_url, cp2) as st2:
        await st1.boot()
        await st2.boot()
        first = await st1.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                  "timestamp": now()})
        assert first["idTagInfo"]["status"] == "Accepted"
        # 1.6 keeps ConcurrentTx for StartTransaction.conf: Authorize answers from the token alone.
        assert (await authorize(st2, tag))["status"] == "Accepted"
        second = await st2.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": now()})
        assert second["idTagInfo"]["status"] == "ConcurrentTx"
        assert second["transactionId"] != first["transactionId"]  # the station's transaction exists anyway
        stop = await st1.ok("StopTransaction", {"transactionId": first["transactionId"], "meterStop": 10,
                                                "timestamp": now(), "idTag": tag})
        assert stop["idTagInfo"]["status"] == "Accepted"  # its own session is no conflict
        await st2.ok("StopTransaction", {"transactionId": second["transactionId"], "meterStop": 0,
                                         "timestamp": now(), "reason": "DeAuthorized"})
        assert (await authorize(st1, tag))["status"] == "Accepted"  # free again


async def test_start_with_refused_tag_is_recorded_with_its_status(server):
    cp = await server.add_station()
    tag = await server.add_tag(status="Blocked")
    async with station(server.ws_url, cp) as st:
        await st.boot()
        reply = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 5,
                                                 "timestamp": now()})
    assert reply["idTagInfo"]["status"] == "Blocked"
    async with server.api() as api:
        (session,) = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]
    assert session["auth_status"] == "Blocked" and session["transaction_id"] == str(reply["transactionId"])


async def test_a_reboot_releases_the_tag_but_keeps_the_session_open(server):
    cp1, cp2 = await server.add_station(), await server.add_station()
    tag = await server.add_tag()
    async with station(server.ws_url, cp1) as st:
        await st.boot()
        start = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": now()})
    # A 2.0.1 station asks: its Authorize answers ConcurrentTx (1.6's leaves that to StartTransaction).
    async with station(server.ws_url, cp2, ("ocpp2.0.1",)) as other:
        await other.ok("BootNotification", {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"})
        assert (await authorize_201(other, tag))["status"] == "ConcurrentTx"  # cp1 only went offline
        async with station(server.ws_url, cp1) as st:
            await st.boot()  # cp1 rebooted: its transaction is over on the station
            assert (await authorize_201(other, tag))["status"] == "Accepted"
            async with server.api() as api:
                (session,) = (await api.get("/api/v1/sessions", params={"charge_point_id": cp1})).json()["data"]
            assert session["status"] == "active"  # until the station's queued StopTransaction arrives
            await st.ok("StopTransaction", {"transactionId": start["transactionId"], "meterStop": 900,
                                            "timestamp": now(), "reason": "Reboot"})
        async with server.api() as api:
            (session,) = (await api.get("/api/v1/sessions", params={"charge_point_id": cp1})).json()["data"]
        assert (session["status"], session["energy_wh"], session["stop_reason"]) == ("finished", 900, "Reboot")
