"""ISO 15118 contract certificates (Get15118EVCertificate) relayed to a provider: none configured,
the pool of prepared answers, a PKI gateway over HTTP (a small server in the test), and a plugin
provider that raises, hangs or answers nonsense — each answered, none a traceback."""

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import STARTUP_BOUND_S, start_server, started_once
from ocpp_client import station

BOOT = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}
RESPONSE_EXI = b"\x80\x98\x02\x10CertificateInstallationRes(test bytes)"


def exi(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def request(text: str, action: str = "Install", **extra) -> dict:
    return {"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": action, "exiRequest": exi(text),
            **extra}


async def ask(server, payload: dict, subprotocol: str = "ocpp2.0.1") -> dict:
    cp = await server.add_station()
    async with station(server.ws_url, cp, (subprotocol,)) as st:
        await st.ok("BootNotification", BOOT)
        return await st.ok("Get15118EVCertificate", payload)


def reason(reply: dict) -> str:
    assert reply["status"] == "Failed", reply
    return reply["statusInfo"]["reasonCode"]


# --- no provider ---------------------------------------------------------------------------------
@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])
async def test_without_a_provider_every_request_is_failed_no_cert_service(sqlite_server, subprotocol):
    reply = await ask(sqlite_server, request("any EV"), subprotocol)
    assert reply == {"status": "Failed", "exiResponse": "", "statusInfo": {
        "reasonCode": "NoCertService", "additionalInfo": "no ISO 15118 contract certificate service is configured"}}


# --- the pool -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    directory = tmp_path_factory.mktemp("contract-pool")
    digest = hashlib.sha256(b"EV one's CertificateInstallationReq").hexdigest()
    (directory / f"{digest}.exi").write_bytes(RESPONSE_EXI)
    return directory


@pytest.fixture(scope="module")
def pool_server(request, tmp_path_factory, pool):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("pool"), "sqlite",
                                                  contract_cert_provider="pool", contract_cert_pool=str(pool)))


async def test_the_pool_answers_the_request_it_has_a_response_for(pool_server, pool):
    reply = await ask(pool_server, request("EV one's CertificateInstallationReq"))
    assert reply == {"status": "Accepted", "exiResponse": base64.b64encode(RESPONSE_EXI).decode()}
    assert reason(await ask(pool_server, request("another EV"))) == "NoCertificate"
    (pool / "default.exi").write_bytes(b"default answer")
    try:
        reply = await ask(pool_server, request("another EV", "Update"), "ocpp2.1")
        assert reply == {"status": "Accepted", "exiResponse": base64.b64encode(b"default answer").decode()}
    finally:
        (pool / "default.exi").unlink()


async def test_an_exi_request_that_is_not_base64_is_failed(pool_server):
    reply = await ask(pool_server, {**request("x"), "exiRequest": "not base64!"})
    assert reason(reply) == "InvalidInput"


async def test_each_request_is_a_station_event_with_its_outcome(pool_server):
    cp = await pool_server.add_station()
    async with station(pool_server.ws_url, cp, ("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", BOOT)
        await st.ok("Get15118EVCertificate", request("EV one's CertificateInstallationReq"))
    async with pool_server.api() as api:
        events = (await api.get(f"/api/v1/charge-points/{cp}/events", params={"limit": 10})).json()["data"]
    [event] = [e for e in events if e["kind"] == "ev_certificate_request"]
    assert event["data"]["action"] == "Install" and event["data"]["answer"] == {"status": "Accepted"}


# --- a PKI gateway over HTTP ----------------------------------------------------------------------
class Gateway(BaseHTTPRequestHandler):
    """What the request's EXI says decides the answer; every request is kept in ``seen``."""
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Gateway.seen.append((dict(self.headers), body))
        what = base64.b64decode(body["exiRequest"]).decode()
        if what == "slow":
            time.sleep(4)
        if what == "http 503":
            return self._send(503, b'{"error": "down"}')
        if what == "not json":
            return self._send(200, b"<html>hello</html>")
        if what == "refused":
            return self._send(200, json.dumps({"status": "Failed", "exiResponse": "", "statusInfo": {
                "reasonCode": "NoContract", "additionalInfo": "no contract for this EMAID"}}).encode())
        self._send(200, json.dumps({"status": "Accepted", "exiResponse": base64.b64encode(RESPONSE_EXI).decode(),
                                    "remainingContracts": 1}).encode())

    def _send(self, code: int, body: bytes):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/contract-certificates"
    server.shutdown()


@pytest.fixture(scope="module")
def http_server(request, tmp_path_factory, gateway):
    yield from started_once(request, start_server(tmp_path_factory.mktemp("http-provider"), "sqlite",
                                                  contract_cert_provider="http", contract_cert_url=gateway,
                                                  contract_cert_token="gw-secret", contract_cert_timeout_s="2"))


async def test_the_gateway_gets_the_request_and_its_answer_is_relayed(http_server):
    Gateway.seen.clear()
    reply = await ask(http_server, request("EV two", maximumContractCertificateChains=2,
                                           prioritizedEMAIDs=["DE8AAA1234567"]), "ocpp2.1")
    assert reply == {"status": "Accepted", "exiResponse": base64.b64encode(RESPONSE_EXI).decode(),
                     "remainingContracts": 1}
    [(headers, body)] = Gateway.seen
    assert headers["Authorization"] == "Bearer gw-secret"
    assert body["ocppVersion"] == "2.1" and body["action"] == "Install" and body["exiRequest"] == exi("EV two")
    assert body["chargingStationId"].startswith("CP-")
    assert (body["maximumContractCertificateChains"], body["prioritizedEMAIDs"]) == (2, ["DE8AAA1234567"])
    reply = await ask(http_server, request("EV two"))  # 2.0.1 has no remainingContracts
    assert reply == {"status": "Accepted", "exiResponse": base64.b64encode(RESPONSE_EXI).decode()}


@pytest.mark.parametrize("what, expected", [("refused", "NoContract"), ("http 503", "HttpError"),
                                            ("not json", "MalformedResponse"), ("slow", "Timeout")])
async def test_what_goes_wrong_at_the_gateway_is_failed_with_a_reason(http_server, what, expected):
    reply = await ask(http_server, request(what))
    assert reason(reply) == expected, reply
    assert reply["statusInfo"].get("additionalInfo")


# --- a plugin provider -----------------------------------------------------------------------------
PLUGIN = '''
import asyncio, base64
from wattson.pki.contracts import ContractAnswer


class Flaky:
    async def certificate(self, request):
        what = request.exi_bytes().decode()
        if what == "raise":
            raise RuntimeError("the PKI said no")
        if what == "hang":
            await asyncio.sleep(3600)
        if what == "junk":
            return {"status": "Accepted"}
        if what == "nonsense":
            return ContractAnswer("Accepted", "this is not base64!")
        return ContractAnswer("Accepted", base64.b64encode(b"from the plugin").decode(), remaining_contracts=3)


def provider(settings):
    return Flaky()
'''


@pytest.fixture(scope="module")
def plugin_server(request, tmp_path_factory):
    """A server whose provider is an installed entry point of wattson.contract_certificates."""
    tmp = tmp_path_factory.mktemp("contract-plugin")
    site = tmp / "site"
    info = site / "acme_pnc-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "acme_pnc.py").write_text(PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-pnc\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[wattson.contract_certificates]\nacme = acme_pnc:provider\n")
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), saved]))
    try:
        run = started_once(request, start_server(tmp, "sqlite", contract_cert_provider="acme",
                                                 contract_cert_timeout_s="2"))
        server = next(run)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    yield server
    next(run, None)


async def test_a_plugin_provider_answers(plugin_server):
    assert await ask(plugin_server, request("fine"), "ocpp2.1") == {
        "status": "Accepted", "exiResponse": base64.b64encode(b"from the plugin").decode(), "remainingContracts": 3}
    assert "contract certificate provider acme loaded" in plugin_server.log.read_text()


@pytest.mark.parametrize("what, expected", [("raise", "ProviderError"), ("hang", "Timeout"),
                                            ("junk", "ProviderError"), ("nonsense", "ProviderError")])
async def test_a_provider_that_fails_is_failed_with_a_reason(plugin_server, what, expected):
    reply = await ask(plugin_server, request(what))
    assert reason(reply) == expected, reply
    assert reply["exiResponse"] == "" and reply["statusInfo"]["additionalInfo"]


# --- misconfiguration stops start-up ----------------------------------------------------------------
@pytest.mark.parametrize("settings, message", [
    ({"WATTSON_CONTRACT_CERT_PROVIDER": "pool"}, "WATTSON_CONTRACT_CERT_POOL"),
    ({"WATTSON_CONTRACT_CERT_PROVIDER": "http"}, "WATTSON_CONTRACT_CERT_URL"),
    ({"WATTSON_CONTRACT_CERT_PROVIDER": "nobody"}, "wattson.contract_certificates"),
])
def test_an_unusable_provider_setting_stops_start_up_with_its_variable(tmp_path, settings, message):
    env = {**os.environ, "WATTSON_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", **settings}
    result = subprocess.run([sys.executable, "-m", "wattson", "serve", "--port", "0"], env=env,
                            capture_output=True, text=True, timeout=STARTUP_BOUND_S)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
