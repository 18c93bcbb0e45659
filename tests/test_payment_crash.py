"""kill -9 in the middle of a direct payment, with Stripe (tests/stripe_standin.py, which outlives
the server and so is the provider's record): the stand-in holds a call at a gate, the server is
killed while it waits, and started again on the same database. Afterwards Wattson and the
provider agree, nothing is captured twice and no hold is left behind:

- the hold placed, Wattson killed before it heard so: the restart releases it, the payment fails;
- killed while the car charges: the session goes on and is captured once after the restart;
- killed with the capture in flight (not yet at the provider, or done there with the answer lost):
  the restart captures under the same idempotency key, so the card is charged once.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from ocpp_client import station
from payment_kit import priced_evse, serve, wait_for_state
from stripe_standin import StripeStandIn
from test_payments import answer_stop, meter, online, start_charging

BOUND_S = 120  # any wait here, generously (polled)


@pytest.fixture(scope="module")
def standin():
    server = StripeStandIn()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


class Crashing:
    """A payment server on Stripe (the stand-in) that the test kills with SIGKILL and starts
    again on the same database and port."""

    def __init__(self, tmp, backend, standin):
        self.tmp = tmp
        self.servers = serve(tmp, backend, payment_provider="stripe", stripe_secret_key="sk_test_wattson",
                             stripe_publishable_key="pk_test_wattson", stripe_api_base=standin.url)
        self.server = next(self.servers)
        self.pid = self.server.pid
        self.restarted: list[tuple[subprocess.Popen, object]] = []

    def kill_and_restart(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        log = self.tmp / f"restart-{len(self.restarted) + 1}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "wattson", "serve", "--port", str(self.server.port)],
                                    env=self.server.env, stdout=out, stderr=subprocess.STDOUT)
        self.restarted.append((proc, log))
        self.pid = proc.pid
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{self.server.http_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert proc.poll() is None, f"the restarted server exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, "the server did not come back"
            time.sleep(0.2)

    def close(self) -> None:
        for proc, _ in self.restarted:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        next(self.servers, None)  # the first server's clean-up (the PostgreSQL database goes)
        for _, log in self.restarted:
            assert "Traceback" not in log.read_text(), log.read_text()[-5000:]


@pytest.fixture
def crashing(backend, standin, tmp_path):
    crash = Crashing(tmp_path, backend, standin)
    yield crash
    crash.close()


async def reached(gate) -> None:
    assert await asyncio.to_thread(gate.reached.wait, BOUND_S), "the call never reached the provider"


async def operator_view(api, cp_id: str, states: set[str]) -> dict:
    """The charger's one payment, with its events, once it is in one of ``states``."""
    deadline = asyncio.get_running_loop().time() + BOUND_S
    while True:
        [listed] = (await api.get("/api/v1/payments", params={"charge_point_id": cp_id})).json()["data"]
        if listed["state"] in states:
            return (await api.get(f"/api/v1/payments/{listed['id']}")).json()
        assert asyncio.get_running_loop().time() < deadline, f"payment stuck in {listed['state']}: {listed}"
        await asyncio.sleep(0.2)


def no_hold_left(standin, payment_uid: str) -> None:
    intents = [i for i in standin.intents.values() if i["metadata"]["wattson_key"].startswith(payment_uid)]
    assert intents and all(i["status"] != "requires_capture" and i["amount_capturable"] == 0 for i in intents)


async def test_killed_after_the_hold_was_placed_the_restart_releases_it(crashing, standin):
    server = crashing.server
    async with server.api() as api:
        place = await priced_evse(api)
        async with station(server.ws_url, place["cp_id"]) as st:
            await online(st)
            gate = standin.hold("create", recorded=True)  # the card is held; Wattson never hears so
            paying = asyncio.create_task(api.post("/driver/api/v1/payments", json={
                "evse_id": place["evse_id"], "product_id": place["products"][0]["uid"],
                "payment_method": "pm_card_visa"}))
            await reached(gate)
            crashing.kill_and_restart()
            gate.release(drop=True)
            with pytest.raises(httpx.TransportError):
                await paying
    async with server.api() as api:
        payment = await operator_view(api, place["cp_id"], {"failed", "released", "captured", "authorized"})
        assert payment["state"] == "failed" and "interrupted" in payment["failure"], payment
        intent = standin.intents[payment["provider_ref"]]
        assert intent["status"] == "canceled" and intent["amount_received"] == 0  # the provider agrees
        assert payment["amount_captured"] in (None, 0)
        no_hold_left(standin, payment["session_id"])
        tokens = (await api.get("/api/v1/id-tokens", params={"status": "Accepted"})).json()["data"]
        assert not [t for t in tokens if t["uid"].startswith("WP")]  # no start token left usable


@pytest.mark.parametrize("recorded", [False, True], ids=["capture-in-flight", "capture-done-answer-lost"])
async def test_killed_while_charging_and_during_the_capture_captures_once(crashing, standin, recorded):
    server = crashing.server
    async with server.api() as api:
        place = await priced_evse(api)
        async with station(server.ws_url, place["cp_id"]) as st:
            await online(st)
            r = await api.post("/driver/api/v1/payments", json={
                "evse_id": place["evse_id"], "product_id": place["products"][0]["uid"],
                "payment_method": "pm_card_visa"})
            assert r.status_code == 201, r.text
            payment = r.json()
            _, tx = await start_charging(st)
            await meter(st, tx, 800)
            await wait_for_state(api, payment["session_id"], "charging", timeout=BOUND_S)
            crashing.kill_and_restart()  # between the hold and the capture

    async with server.api() as api:
        async with station(server.ws_url, place["cp_id"]) as st:
            await st.boot()
            await meter(st, tx, 1500)
            gate = standin.hold("capture", recorded=recorded)
            r = await api.post(f"/driver/api/v1/payments/{payment['session_id']}/stop")
            assert r.status_code == 200, r.text
            await answer_stop(st, tx, 1600)
            await reached(gate)
            crashing.kill_and_restart()  # the capture in flight, or done with its answer lost
            gate.release(drop=True)

    async with server.api() as api:
        done = await wait_for_state(api, payment["session_id"], {"captured", "released"}, timeout=BOUND_S)
        assert done["state"] == "captured", done
        [cdr] = (await api.get("/api/v1/cdrs", params={"charge_point_id": place["cp_id"]})).json()["data"]
        intent = next(i for i in standin.intents.values()
                      if i["metadata"]["wattson_key"] == f"{payment['session_id']}:hold")
        captures = [p for m, p in standin.recorded if p == f"/v1/payment_intents/{intent['id']}/capture"]
        assert len(captures) == 1, standin.recorded  # the retry after the restart was answered from its key
        assert intent["status"] == "succeeded" and intent["amount_capturable"] == 0
        assert intent["amount_received"] == round(done["amount_captured"] * 100) == round(cdr["total_incl_vat"] * 100)
        assert done["amount_captured"] + done["amount_released"] == pytest.approx(50)
        no_hold_left(standin, payment["session_id"])
        [listed] = (await api.get("/api/v1/payments", params={"charge_point_id": place["cp_id"]})).json()["data"]
        events = (await api.get(f"/api/v1/payments/{listed['id']}")).json()["events"]
        assert [e["to_state"] for e in events].count("captured") == 1
