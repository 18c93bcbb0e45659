"""An eMSP for the OCPI tests: a plain httpx client to call Wattson, and a small loopback server
(FastAPI under uvicorn, in the test's own event loop) with the eMSP's versions, credentials,
tokens (real-time authorisation) and receiver endpoints, recording every request it gets."""

import asyncio
import base64
import json
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jsonschema
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from conftest import READY_BOUND_S, free_port

SCHEMAS = json.loads((Path(__file__).parent / "ocpi_schemas" / "ocpi-2.2.1.json").read_text())


def check(name: str, value) -> None:
    """``value`` against the OCPI 2.2.1 definition ``name`` (tests/ocpi_schemas)."""
    jsonschema.validate(value, {**SCHEMAS, "$ref": f"#/$defs/{name}"})


def header(token: str, encode: bool = True) -> dict:
    return {"Authorization": "Token " + (base64.b64encode(token.encode()).decode() if encode else token)}


def envelope(data=None, status_code: int = 1000) -> JSONResponse:
    body = {"status_code": status_code, "timestamp": "2026-01-01T00:00:00Z"}
    if data is not None:
        body["data"] = data
    return JSONResponse(body)


@dataclass
class Peer:
    """The eMSP: ``url`` its OCPI root, ``requests`` what it received, ``tokens`` (issued by it)."""

    url: str
    country_code: str = "DE"
    party_id: str = "EMS"
    token_b: str = field(default_factory=lambda: f"emsp-b-{uuid.uuid4().hex}")  # what Wattson calls us with
    token_a: str = field(default_factory=lambda: f"emsp-a-{uuid.uuid4().hex}")  # when we are the receiver
    token_c: str = field(default_factory=lambda: f"emsp-c-{uuid.uuid4().hex}")
    wattson_token: str | None = None  # what we call Wattson with
    wattson_versions: str | None = None
    requests: list[dict] = field(default_factory=list)
    authorize_answer: dict = field(default_factory=lambda: {"allowed": "ALLOWED", "authorization_reference": "RT-REF-1"})
    fail_pushes: bool = False
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def versions_url(self) -> str:
        return f"{self.url}/versions"

    def credentials(self, token: str) -> dict:
        return {"token": token, "url": self.versions_url, "roles": [{
            "role": "EMSP", "business_details": {"name": "Test eMSP"}, "party_id": self.party_id,
            "country_code": self.country_code}]}

    def received(self, method: str, path_part: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and path_part in r["path"]]

    async def wait_for(self, method: str, path_part: str, where=lambda r: True,
                       timeout: float = READY_BOUND_S) -> dict:
        async def find():
            while True:
                found = [r for r in self.received(method, path_part) if where(r)]
                if found:
                    return found[-1]
                self.arrived.clear()
                await self.arrived.wait()
        return await asyncio.wait_for(find(), timeout)

    def app(self) -> FastAPI:
        app = FastAPI()
        tokens_we_accept = {self.token_b, self.token_c}

        @app.middleware("http")
        async def record(request: Request, call_next):
            body = await request.body()
            self.requests.append({"method": request.method, "path": request.url.path, "query": str(request.url.query),
                                  "headers": dict(request.headers), "body": json.loads(body) if body else None})
            self.arrived.set()
            value = request.headers.get("authorization", "").removeprefix("Token ")
            try:
                value = base64.b64decode(value).decode()
            except ValueError:
                pass
            if value not in tokens_we_accept | {self.token_a}:
                return JSONResponse({"status_code": 2000, "timestamp": "2026-01-01T00:00:00Z"}, 401)
            if self.fail_pushes and request.method in ("PUT", "PATCH", "POST") and "/receiver/" in request.url.path:
                return JSONResponse({"status_code": 3000, "timestamp": "2026-01-01T00:00:00Z"}, 503)
            return await call_next(request)

        @app.get("/versions")
        async def versions():
            return envelope([{"version": "2.2.1", "url": f"{self.url}/2.2.1"}])

        @app.get("/2.2.1")
        async def details():
            base = f"{self.url}/2.2.1"
            return envelope({"version": "2.2.1", "endpoints": [
                {"identifier": "credentials", "role": "SENDER", "url": f"{base}/credentials"},
                {"identifier": "tokens", "role": "SENDER", "url": f"{base}/tokens"},
                {"identifier": "locations", "role": "RECEIVER", "url": f"{base}/receiver/locations"},
                {"identifier": "sessions", "role": "RECEIVER", "url": f"{base}/receiver/sessions"},
                {"identifier": "cdrs", "role": "RECEIVER", "url": f"{base}/receiver/cdrs"},
                {"identifier": "tariffs", "role": "RECEIVER", "url": f"{base}/receiver/tariffs"},
                {"identifier": "commands", "role": "SENDER", "url": f"{base}/commands"}]})

        @app.post("/2.2.1/credentials")
        async def credentials(request: Request):
            """Wattson registers with us: read its versions with the token it sent, answer with C."""
            body = await request.json()
            self.wattson_token, self.wattson_versions = body["token"], body["url"]
            async with httpx.AsyncClient(timeout=READY_BOUND_S) as client:
                r = await client.get(body["url"], headers=header(body["token"]))
                assert r.status_code == 200, r.text
            return envelope(self.credentials(self.token_c))

        @app.post("/2.2.1/tokens/{uid}/authorize")
        async def authorize(uid: str):
            return envelope({**self.authorize_answer, "token": {"uid": uid}})

        @app.api_route("/2.2.1/receiver/{rest:path}", methods=["PUT", "PATCH", "POST", "DELETE"])
        async def receiver(rest: str):
            return envelope()

        @app.post("/2.2.1/commands/{ref}")
        async def command_result(ref: str):
            return envelope()

        return app


@asynccontextmanager
async def running_peer():
    port = free_port()
    peer = Peer(url=f"http://127.0.0.1:{port}/emsp")
    outer = FastAPI()
    outer.mount("/emsp", peer.app())
    server = uvicorn.Server(uvicorn.Config(outer, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    deadline = asyncio.get_running_loop().time() + READY_BOUND_S
    while not server.started:
        assert not task.done(), f"the eMSP peer stopped before it started: {task.exception()!r}"
        assert asyncio.get_running_loop().time() < deadline, "the eMSP peer did not start"
        await asyncio.sleep(0.02)
    try:
        yield peer
    finally:
        server.should_exit = True
        await task


async def register(server, peer: Peer, api) -> dict:
    """The eMSP registers with Wattson (token A from the operator); returns the partner."""
    r = await api.post("/api/v1/ocpi/partners", json={"name": "Test eMSP"})
    assert r.status_code == 201, r.text
    partner = r.json()
    async with httpx.AsyncClient(base_url=server.http_url, timeout=READY_BOUND_S) as client:
        r = await client.post("/ocpi/2.2.1/credentials", json=peer.credentials(peer.token_b),
                              headers=header(partner["token_a"]))
        assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text
    peer.wattson_token = r.json()["data"]["token"]
    return partner
