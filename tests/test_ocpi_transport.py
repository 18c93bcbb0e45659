"""OCPI versions, credentials and transport against a running server: the token A/B/C handshake
both ways, credential update and unregistration with the 401/405 rules, the envelope on every
answer (errors included), request/correlation ids and routing headers."""

import httpx

from ocpi_peer import check, header, register, running_peer


async def test_an_emsp_registers_updates_and_unregisters(server):
    async with running_peer() as peer, server.api() as api, httpx.AsyncClient(base_url=server.http_url) as ocpi:
        r = await api.post("/api/v1/ocpi/partners", json={"name": "eMSP one", "country_code": "de", "party_id": "EMS"})
        assert r.status_code == 201, r.text
        partner = r.json()
        token_a = partner["token_a"]
        assert partner["status"] == "pending" and partner["country_code"] == "DE"
        assert partner["our_versions_url"] == f"{server.http_url}/ocpi/versions"

        # Token A, base64 (2.2.1) or plain (older peers), opens versions and credentials only.
        for encode in (True, False):
            r = await ocpi.get("/ocpi/versions", headers=header(token_a, encode))
            assert r.status_code == 200 and r.json()["status_code"] == 1000
        check("Envelope", r.json())
        [version] = r.json()["data"]
        check("Version", version)
        r = await ocpi.get(version["url"].removeprefix(server.http_url), headers=header(token_a))
        check("VersionDetails", r.json()["data"])
        modules = {(e["identifier"], e["role"]) for e in r.json()["data"]["endpoints"]}
        assert {("locations", "SENDER"), ("tokens", "RECEIVER"), ("commands", "RECEIVER"), ("cdrs", "SENDER")} <= modules
        r = await ocpi.get("/ocpi/2.2.1/locations", headers=header(token_a))
        assert r.status_code == 401 and r.json()["status_code"] == 2000
        for method in ("PUT", "DELETE"):
            r = await ocpi.request(method, "/ocpi/2.2.1/credentials", headers=header(token_a),
                                   json=peer.credentials(peer.token_b) if method == "PUT" else None)
            assert r.status_code == 405 and r.json()["status_code"] >= 2000, r.text

        # Registration: Wattson reads our versions and details with token B, answers with token C.
        r = await ocpi.post("/ocpi/2.2.1/credentials", headers=header(token_a), json=peer.credentials(peer.token_b))
        assert r.status_code == 200, r.text
        credentials = r.json()["data"]
        check("Credentials", credentials)
        assert credentials["roles"][0]["role"] == "CPO" and credentials["url"] == f"{server.http_url}/ocpi/versions"
        token_c = credentials["token"]
        assert token_c != token_a
        assert [x["path"] for x in peer.requests] == ["/emsp/versions", "/emsp/2.2.1"]
        assert all(x["headers"]["authorization"] == header(peer.token_b)["Authorization"] for x in peer.requests)
        assert (await ocpi.get("/ocpi/versions", headers=header(token_a))).status_code == 401
        r = await ocpi.get("/ocpi/2.2.1/credentials", headers=header(token_c))
        assert r.json()["data"]["token"] == token_c
        r = await ocpi.post("/ocpi/2.2.1/credentials", headers=header(token_c), json=peer.credentials(peer.token_b))
        assert r.status_code == 405
        partner = (await api.get(f"/api/v1/ocpi/partners/{partner['id']}")).json()
        assert partner["status"] == "registered" and partner["versions_url"] == peer.versions_url
        assert {e["identifier"] for e in partner["endpoints"]} >= {"sessions", "cdrs", "tokens"}

        # PUT: the endpoints are read again and a new token replaces the old one.
        r = await ocpi.put("/ocpi/2.2.1/credentials", headers=header(token_c), json=peer.credentials(peer.token_c))
        assert r.status_code == 200, r.text
        token_c2 = r.json()["data"]["token"]
        assert peer.requests[-1]["headers"]["authorization"] == header(peer.token_c)["Authorization"]
        assert (await ocpi.get("/ocpi/versions", headers=header(token_c))).status_code == 401
        assert (await ocpi.get("/ocpi/2.2.1/locations", headers=header(token_c2))).status_code == 200

        # DELETE unregisters: the token opens nothing any more.
        r = await ocpi.delete("/ocpi/2.2.1/credentials", headers=header(token_c2))
        assert r.status_code == 200 and r.json()["status_code"] == 1000
        assert (await ocpi.get("/ocpi/versions", headers=header(token_c2))).status_code == 401
        assert (await api.get(f"/api/v1/ocpi/partners/{partner['id']}")).json()["status"] == "unregistered"


async def test_a_registration_whose_versions_cannot_be_read_answers_3001(server):
    async with server.api() as api, httpx.AsyncClient(base_url=server.http_url) as ocpi:
        token_a = (await api.post("/api/v1/ocpi/partners", json={"name": "Unreachable"})).json()["token_a"]
        body = {"token": "b-token", "url": "http://127.0.0.1:9/versions", "roles": [
            {"role": "EMSP", "business_details": {"name": "X"}, "party_id": "XXX", "country_code": "NL"}]}
        r = await ocpi.post("/ocpi/2.2.1/credentials", headers=header(token_a), json=body)
        assert r.json()["status_code"] == 3001, r.text
        assert (await ocpi.get("/ocpi/versions", headers=header(token_a))).status_code == 200  # still token A


async def test_wattson_registers_with_an_emsp(server):
    async with running_peer() as peer, server.api() as api, httpx.AsyncClient(base_url=server.http_url) as ocpi:
        partner = (await api.post("/api/v1/ocpi/partners", json={"name": "eMSP two"})).json()
        r = await api.post(f"/api/v1/ocpi/partners/{partner['id']}/register",
                           json={"versions_url": peer.versions_url, "token": peer.token_a})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "registered" and r.json()["country_code"] == "DE"
        # The eMSP read our versions with the token we sent it; that token now opens our modules.
        assert (await ocpi.get("/ocpi/2.2.1/locations", headers=header(peer.wattson_token))).status_code == 200
        # And we call it with the token it answered with.
        r = await api.post(f"/api/v1/ocpi/partners/{partner['id']}/register",
                           json={"versions_url": peer.versions_url, "token": peer.token_a})
        assert r.status_code == 409


async def test_every_answer_is_an_envelope_with_ids_and_routing_headers(server):
    async with running_peer() as peer, server.api() as api, httpx.AsyncClient(base_url=server.http_url) as ocpi:
        await register(server, peer, api)
        auth = header(peer.wattson_token)
        r = await ocpi.get("/ocpi/2.2.1/locations", headers={**auth, "X-Request-ID": "req-1",
                                                              "X-Correlation-ID": "corr-1",
                                                              "OCPI-from-country-code": "DE", "OCPI-from-party-id": "EMS",
                                                              "OCPI-to-country-code": "NL", "OCPI-to-party-id": "WAT"})
        assert r.headers["X-Request-ID"] == "req-1" and r.headers["X-Correlation-ID"] == "corr-1"
        assert (r.headers["OCPI-to-country-code"], r.headers["OCPI-to-party-id"]) == ("DE", "EMS")
        assert (r.headers["OCPI-from-country-code"], r.headers["OCPI-from-party-id"]) == ("NL", "WAT")
        assert r.headers["X-Limit"] == "100" and "X-Total-Count" in r.headers
        r = await ocpi.get("/ocpi/2.2.1/locations", headers=auth)
        assert r.headers["X-Request-ID"]  # generated when the client sent none

        cases = [
            ("GET", "/ocpi/2.2.1/nothing-here", None, None, 404),
            ("POST", "/ocpi/2.2.1/locations", None, None, 405),
            ("GET", "/ocpi/2.2.1/locations?limit=abc", None, None, 400),
            ("GET", "/ocpi/2.2.1/locations?date_from=yesterday", None, None, 400),
            ("GET", "/ocpi/2.2.1/locations?offset=-1", None, None, 400),
            ("GET", "/ocpi/2.2.1/sessions", None, None, 400),  # date_from is required there
            ("GET", "/ocpi/2.2.1/locations/999999", None, None, 404),
            ("GET", "/ocpi/2.2.1/locations/%00", None, None, 404),
            ("PUT", "/ocpi/2.2.1/tokens/DE/EMS/abc", b"{not json", None, 400),
            ("PUT", "/ocpi/2.2.1/tokens/DE/EMS/abc", None, {"uid": "abc"}, 200),  # valid JSON, invalid object
            ("PUT", "/ocpi/2.2.1/tokens/XX/YYY/abc", None, {"uid": "abc"}, 404),  # not its party
            ("GET", "/ocpi/2.2.1/tokens/DE/EMS/unknown", None, None, 404),
            ("POST", "/ocpi/2.2.1/commands/SELF_DESTRUCT", None, {}, 400),
            ("POST", "/ocpi/2.2.1/commands/START_SESSION", None, {"response_url": "x"}, 200),
        ]
        for method, path, content, body, status in cases:
            r = await ocpi.request(method, path, headers=auth, content=content, json=body)
            assert r.status_code == status, (method, path, r.status_code, r.text)
            payload = r.json()
            check("Envelope", payload)
            expected = 1000 if status == 200 and body is None else None
            assert payload["status_code"] != 1000 or expected == 1000, (path, payload)
            assert r.headers["X-Request-ID"]
        r = await ocpi.put("/ocpi/2.2.1/tokens/DE/EMS/abc", headers=auth, json={"uid": "abc"})
        assert r.json()["status_code"] == 2001
        assert (await ocpi.get("/ocpi/versions")).status_code == 401
        assert (await ocpi.get("/ocpi/versions", headers={"Authorization": "Token nope"})).json()["status_code"] == 2000
