"""OCPI commands other than START_SESSION: each becomes Wattson's neutral station command, the
CommandResponse comes at once and the station's answer follows as a CommandResult."""

import httpx

from conftest import READY_BOUND_S, unique
from ocpp_client import now, station
from ocpi_peer import check, header, register, running_peer
from test_ocpi_roaming import roaming_site, token


async def test_unlock_reserve_cancel_and_stop(server):
    async with running_peer() as peer, server.api() as api, \
            httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as ocpi:
        location_id, cp_id, evse_uid, _ = await roaming_site(api)
        await register(server, peer, api)
        auth = header(peer.wattson_token)

        async def command(name: str, body: dict, ref: str) -> dict:
            r = await ocpi.post(f"/ocpi/2.2.1/commands/{name}", headers=auth,
                                json={"response_url": f"{peer.url}/2.2.1/commands/{ref}", **body})
            check("CommandResponse", r.json()["data"])
            return r.json()

        # Offline station: REJECTED at once. Unknown places and sessions: refused with the reason.
        unlock = {"location_id": str(location_id), "evse_uid": str(evse_uid), "connector_id": "1"}
        assert (await command("UNLOCK_CONNECTOR", unlock, "u0"))["data"]["result"] == "REJECTED"
        assert (await command("UNLOCK_CONNECTOR", {**unlock, "location_id": "999999"}, "u1"))["status_code"] == 2003
        assert (await command("STOP_SESSION", {"session_id": "123456"}, "s0"))["data"]["result"] == "UNKNOWN_SESSION"
        assert (await command("CANCEL_RESERVATION", {"reservation_id": "nope"}, "c0"))["data"]["result"] == "REJECTED"

        async with station(server.ws_url, cp_id) as st:
            await st.boot()
            assert (await command("UNLOCK_CONNECTOR", unlock, "u2"))["data"]["result"] == "ACCEPTED"
            call = await st.next_call()
            assert call[2] == "UnlockConnector" and call[3] == {"connectorId": 1}
            await st.answer(call, {"status": "Unlocked"})
            assert (await peer.wait_for("POST", "/commands/u2"))["body"]["result"] == "ACCEPTED"

            uid = unique("V")[:20]
            reserve = {"token": token(uid), "expiry_date": "2030-01-01T00:00:00Z", "reservation_id": "RES-1",
                       "location_id": str(location_id), "evse_uid": str(evse_uid), "authorization_reference": "R1"}
            assert (await command("RESERVE_NOW", reserve, "r1"))["data"]["result"] == "ACCEPTED"
            call = await st.next_call()
            assert call[2] == "ReserveNow" and call[3]["idTag"] == uid and call[3]["connectorId"] == 1
            reservation_id = call[3]["reservationId"]
            await st.answer(call, {"status": "Occupied"})
            assert (await peer.wait_for("POST", "/commands/r1"))["body"]["result"] == "EVSE_OCCUPIED"

            assert (await command("CANCEL_RESERVATION", {"reservation_id": "RES-1"}, "c1"))["data"]["result"] == "ACCEPTED"
            call = await st.next_call()
            assert call[2] == "CancelReservation" and call[3] == {"reservationId": reservation_id}
            await st.answer(call, {"status": "Rejected"})
            assert (await peer.wait_for("POST", "/commands/c1"))["body"]["result"] == "UNKNOWN_RESERVATION"

            # A session of this partner's driver can be stopped by it; the station times out here.
            started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": uid, "meterStart": 0,
                                                       "timestamp": now()})
            session = (await peer.wait_for("PUT", "/receiver/sessions/NL/WAT/"))["body"]
            assert session["auth_method"] == "COMMAND" and session["authorization_reference"] == "R1"
            assert (await command("STOP_SESSION", {"session_id": session["id"]}, "s1"))["data"]["result"] == "ACCEPTED"
            call = await st.next_call()
            assert call[2] == "RemoteStopTransaction" and call[3] == {"transactionId": started["transactionId"]}
            assert (await peer.wait_for("POST", "/commands/s1"))["body"]["result"] == "TIMEOUT"
