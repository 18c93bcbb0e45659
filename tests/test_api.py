"""The HTTP API: keys and roles, charge points, id tokens, errors and pagination."""

import httpx

from conftest import unique


async def test_missing_or_wrong_key_is_401_json(server):
    async with httpx.AsyncClient(base_url=server.http_url) as anon:
        r = await anon.get("/api/v1/charge-points")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        r = await anon.get("/api/v1/sessions", headers={"Authorization": "Bearer wsk_not-a-key"})
        assert r.status_code == 401 and r.json()["error"]["message"] == "unknown or revoked API key"
        r = await anon.get("/api/v1/sessions", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert r.status_code == 401


async def test_roles_and_revocation(server):
    async with server.api() as admin:
        viewer = (await admin.post("/api/v1/api-keys", json={"name": "dash", "role": "viewer"})).json()
        operator = (await admin.post("/api/v1/api-keys", json={"name": "ops", "role": "operator"})).json()
        assert viewer["key"].startswith("wsk_") and viewer["prefix"] == viewer["key"][:10]
    async with server.api(viewer["key"]) as v:
        assert (await v.get("/api/v1/charge-points")).status_code == 200
        r = await v.post("/api/v1/charge-points", json={"id": unique()})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert (await v.post("/api/v1/id-tokens", json={"uid": unique("T")})).status_code == 403
    async with server.api(operator["key"]) as o:
        assert (await o.post("/api/v1/charge-points", json={"id": unique()})).status_code == 201
        assert (await o.get("/api/v1/api-keys")).status_code == 403  # keys are for admins only
    async with server.api() as admin:
        listed = {k["name"]: k for k in (await admin.get("/api/v1/api-keys")).json()["data"]}
        assert listed["dash"]["last_used_at"] is not None and "key" not in listed["dash"]
        assert (await admin.delete(f"/api/v1/api-keys/{viewer['id']}")).json()["revoked_at"] is not None
        assert (await admin.delete("/api/v1/api-keys/999999")).status_code == 404
    async with server.api(viewer["key"]) as v:
        assert (await v.get("/api/v1/charge-points")).status_code == 401


async def test_charge_point_crud_and_errors(server):
    cp = unique()
    async with server.api() as api:
        r = await api.post("/api/v1/charge-points", json={"id": cp, "name": "Depot 1",
                                                          "registration_status": "Pending"})
        assert r.status_code == 201
        body = r.json()
        assert (body["id"], body["name"], body["registration_status"]) == (cp, "Depot 1", "Pending")
        assert (body["network_status"], body["hardware_status"], body["evses"]) == ("never_connected", None, [])
        dup = await api.post("/api/v1/charge-points", json={"id": cp})
        assert dup.status_code == 409 and dup.json()["error"]["code"] == "conflict"
        for bad in ({"id": ""}, {"id": "a/b"}, {"id": "x" * 49}, {}, {"id": cp + "x", "registration_status": "Maybe"},
                    {"id": cp + "y", "colour": "red"}):
            r = await api.post("/api/v1/charge-points", json=bad)
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["error"]["code"] == "validation_error" and r.json()["error"]["details"]
        r = await api.post("/api/v1/charge-points", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422
        missing = await api.get("/api/v1/charge-points/NOPE-404")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert (await api.get("/api/v1/sessions/987654321")).status_code == 404
        assert (await api.get("/api/v1/sessions/not-a-number")).status_code == 422
        assert (await api.get("/api/v1/nothing-here")).status_code == 404
        assert (await api.get("/api/v1/sessions", params={"limit": 0})).status_code == 422
        assert (await api.get("/api/v1/sessions", params={"status": "paused"})).status_code == 422


async def test_id_tokens(server):
    uid = unique("TAG")
    async with server.api() as api:
        r = await api.post("/api/v1/id-tokens", json={"uid": uid})
        assert r.status_code == 201
        assert (r.json()["status"], r.json()["type"], r.json()["expires_at"]) == ("Accepted", "ISO14443", None)
        assert (await api.post("/api/v1/id-tokens", json={"uid": uid})).status_code == 409
        r = await api.post("/api/v1/id-tokens", json={"uid": unique("TAG"), "status": "Blocked",
                                                      "expires_at": "2030-01-01T00:00:00", "parent_id_tag": "P1"})
        assert r.json()["expires_at"] == "2030-01-01T00:00:00Z"  # zone-less input is UTC
        for bad in ({"uid": ""}, {"uid": "x" * 37}, {"uid": "ok", "status": "ConcurrentTx"},
                    {"uid": "ok", "expires_at": "someday"}):
            assert (await api.post("/api/v1/id-tokens", json=bad)).status_code == 422, bad
        uids, cursor = [], None
        while True:
            page = (await api.get("/api/v1/id-tokens", params={"limit": 3, **({"cursor": cursor} if cursor else {})}
                                  )).json()
            uids += [t["uid"] for t in page["data"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert uid in uids and len(uids) == len(set(uids))


async def test_tampered_cursor_is_422(server):
    async with server.api() as api:
        for cursor in ("garbage", "W10", "WyJ4Il0"):
            r = await api.get("/api/v1/sessions", params={"cursor": cursor})
            assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "cursor"


async def test_openapi_and_health(server):
    async with httpx.AsyncClient(base_url=server.http_url) as anon:
        spec = (await anon.get("/api/openapi.json")).json()
        assert "/api/v1/charge-points/{charge_point_id}/commands/remote-start" in spec["paths"]
        assert (await anon.get("/api/docs")).status_code == 200
        assert (await anon.get("/health")).json()["status"] == "ok"
