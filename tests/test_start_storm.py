"""A start storm, bounded: many stations (1.6 and 2.0.1) come up at once, boot and start a
transaction each with their own tag; every start is answered with a transaction, none with a
CALLERROR, and every session is stored once. The timed version is ``make bench`` (starts)."""

import asyncio
import random

from ocpp_client import now, station

STATIONS = 60  # half on each version
WINDOW_S = 2.0


async def _start(server, cp: str, tag: str, version: str) -> list:
    await asyncio.sleep(random.uniform(0, WINDOW_S))
    async with station(server.ws_url, cp, subprotocols=(version,)) as st:
        if version == "ocpp1.6":
            await st.boot()
            return await st.call("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                      "timestamp": now()}, timeout=120)
        await st.ok("BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "T", "vendorName": "V"}})
        return await st.call("TransactionEvent", {
            "eventType": "Started", "timestamp": now(), "triggerReason": "Authorized", "seqNo": 0,
            "transactionInfo": {"transactionId": f"TX-{cp}"}, "idToken": {"idToken": tag, "type": "ISO14443"},
            "evse": {"id": 1, "connectorId": 1}}, timeout=120)


async def test_a_start_storm_is_answered_whole(server):
    cps = [await server.add_station() for _ in range(STATIONS)]
    tags = [await server.add_tag() for _ in range(STATIONS)]
    versions = ["ocpp1.6", "ocpp2.0.1"] * (STATIONS // 2)
    replies = await asyncio.gather(*(_start(server, cp, tag, v) for cp, tag, v in zip(cps, tags, versions)))
    errors = [r for r in replies if r[0] != 3]
    assert errors == []
    assert all(isinstance(r[2]["transactionId"], int) for r, v in zip(replies, versions) if v == "ocpp1.6")
    assert all(r[2]["idTokenInfo"]["status"] == "Accepted" for r, v in zip(replies, versions) if v == "ocpp2.0.1")
    async with server.api() as api:
        for cp in cps:
            sessions = (await api.get("/api/v1/sessions", params={"charge_point_id": cp})).json()["data"]
            assert [s["status"] for s in sessions] == ["active"], (cp, sessions)
