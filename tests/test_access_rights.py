"""Access rights: their API, and that stations and the authorized-drivers list answer by them alike.

Over real OCPP WebSockets: a driver's tag is admitted at a charger in no group, and at a charger in
groups only when the driver's home group has a right to one of them.
"""

from contextlib import AsyncExitStack

from conftest import unique
from ocpp_client import now, station
from test_drivers import BIG, assert_error, assert_invalid, collect, new_driver, new_group


async def new_right(api, driver_group: dict, charger_group: dict) -> dict:
    r = await api.post("/api/v1/access-rights", json={"driver_group_id": driver_group["id"],
                                                      "charger_group_id": charger_group["id"]})
    assert r.status_code == 201, r.text
    return r.json()


async def charger_in(api, group: dict, charge_point_id: str) -> None:
    r = await api.put(f"/api/v1/charger-groups/{group['id']}/charge-points/{charge_point_id}")
    assert r.status_code == 200, r.text


async def authorized(api, charge_point_id: str, limit: int = 100) -> tuple[bool, dict[int, dict]]:
    """``restricted`` and every authorized driver by id, page by page (``restricted`` the same on each)."""
    drivers, cursor, restricted = {}, None, set()
    while True:
        r = await api.get(f"/api/v1/charge-points/{charge_point_id}/authorized-drivers",
                          params={"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        restricted.add(page["restricted"])
        ids = [d["id"] for d in page["data"]]
        assert ids == sorted(ids) and not set(ids) & set(drivers) and len(ids) <= limit
        assert not drivers or not ids or min(ids) > max(drivers)
        drivers.update((d["id"], d) for d in page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(restricted) == 1
    return restricted.pop(), drivers


async def authorize(st, tag: str) -> str:
    return (await st.ok("Authorize", {"idTag": tag}))["idTagInfo"]["status"]


async def start(st, tag: str) -> dict:
    return await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": now()})


async def stop(st, transaction_id: int) -> None:
    await st.ok("StopTransaction", {"transactionId": transaction_id, "meterStop": 100, "timestamp": now()})


async def start_and_stop(st, tag: str) -> str:
    """The status a StartTransaction is answered with; the transaction is stopped again."""
    reply = await start(st, tag)
    await stop(st, reply["transactionId"])
    return reply["idTagInfo"]["status"]


# --- the access rights API ----------------------------------------------------------------
async def test_access_rights_crud(server):
    async with server.api() as api:
        dg1, dg2 = await new_group(api, "driver-groups"), await new_group(api, "driver-groups")
        cg1, cg2 = await new_group(api, "charger-groups"), await new_group(api, "charger-groups")
        right = await new_right(api, dg1, cg1)
        assert right["driver_group"] == {"id": dg1["id"], "name": dg1["name"]}
        assert right["charger_group"] == {"id": cg1["id"], "name": cg1["name"]}
        assert right["created_at"]
        assert (await api.get(f"/api/v1/access-rights/{right['id']}")).json() == right
        r12, r21, r22 = await new_right(api, dg1, cg2), await new_right(api, dg2, cg1), await new_right(api, dg2, cg2)

        assert_error(await api.post("/api/v1/access-rights", json={"driver_group_id": dg1["id"],
                                                                   "charger_group_id": cg1["id"]}), 409, "conflict")
        for body, field in [({"driver_group_id": 987654321, "charger_group_id": cg1["id"]}, "driver_group_id"),
                            ({"driver_group_id": dg1["id"], "charger_group_id": 987654321}, "charger_group_id"),
                            ({"driver_group_id": dg1["id"]}, "charger_group_id"),
                            ({"charger_group_id": cg1["id"]}, "driver_group_id"),
                            ({"driver_group_id": BIG, "charger_group_id": cg1["id"]}, "driver_group_id"),
                            ({"driver_group_id": dg1["id"], "charger_group_id": 0}, "charger_group_id"),
                            ({"driver_group_id": dg1["id"], "charger_group_id": None}, "charger_group_id"),
                            ({"driver_group_id": dg1["id"], "charger_group_id": cg2["id"], "x": 1}, "x")]:
            assert_invalid(await api.post("/api/v1/access-rights", json=body), field)

        by_driver_group = await collect(api, "/api/v1/access-rights", limit=1, driver_group_id=dg1["id"])
        assert [r["id"] for r in by_driver_group] == [right["id"], r12["id"]]
        by_charger_group = await collect(api, "/api/v1/access-rights", limit=1, charger_group_id=cg2["id"])
        assert [r["id"] for r in by_charger_group] == [r12["id"], r22["id"]]
        (both,) = (await api.get("/api/v1/access-rights", params={"driver_group_id": dg2["id"],
                                                                   "charger_group_id": cg1["id"]})).json()["data"]
        assert both["id"] == r21["id"]
        assert {right["id"], r12["id"], r21["id"], r22["id"]} <= {r["id"] for r in
                                                                  await collect(api, "/api/v1/access-rights")}
        assert_invalid(await api.get("/api/v1/access-rights", params={"driver_group_id": "x"}), "driver_group_id")

        assert (await api.delete(f"/api/v1/access-rights/{right['id']}")).status_code == 204
        assert_error(await api.get(f"/api/v1/access-rights/{right['id']}"), 404, "not_found")
        assert_error(await api.delete(f"/api/v1/access-rights/{right['id']}"), 404, "not_found")
        assert_invalid(await api.delete(f"/api/v1/access-rights/{BIG}"), "right_id")
        assert (await new_right(api, dg1, cg1))["id"] != right["id"]  # may be granted again

        # deleting a group deletes its rights
        assert (await api.delete(f"/api/v1/driver-groups/{dg2['id']}")).status_code == 204
        assert (await api.get("/api/v1/access-rights", params={"driver_group_id": dg2["id"]})).json()["data"] == []
        assert_error(await api.get(f"/api/v1/access-rights/{r21['id']}"), 404, "not_found")
        assert (await api.delete(f"/api/v1/charger-groups/{cg2['id']}")).status_code == 204
        assert (await api.get("/api/v1/access-rights", params={"charger_group_id": cg2["id"]})).json()["data"] == []
        assert [r["charger_group"]["id"] for r in
                (await api.get("/api/v1/access-rights", params={"driver_group_id": dg1["id"]})).json()["data"]] == \
            [cg1["id"]]


async def test_authorized_drivers_list(server):
    cp = await server.add_station()
    async with server.api() as api:
        assert_error(await api.get("/api/v1/charge-points/NO-SUCH-CP/authorized-drivers"), 404, "not_found")
        assert_invalid(await api.get(f"/api/v1/charge-points/{cp}/authorized-drivers", params={"cursor": "x"}),
                       "cursor")
        a, b, c = [await new_group(api, "driver-groups") for _ in range(3)]
        g1, g2, elsewhere = [await new_group(api, "charger-groups") for _ in range(3)]
        await charger_in(api, g1, cp)
        await charger_in(api, g2, cp)
        in_a = [await new_driver(api, home_group_id=a["id"], email=f"{unique('a').lower()}@example.com")
                for _ in range(3)]
        in_b = [await new_driver(api, home_group_id=b["id"]) for _ in range(2)]
        in_c = await new_driver(api, home_group_id=c["id"])
        homeless = await new_driver(api)
        tag = await server.add_tag(driver_id=in_a[0]["id"], visual_number="V-1", invoicable=True,
                                   valid_from="2026-01-01T00:00:00Z", expires_at="2040-01-01T00:00:00Z")
        a_g1, a_g2, b_g2 = await new_right(api, a, g1), await new_right(api, a, g2), await new_right(api, b, g2)
        await new_right(api, c, elsewhere)  # a right, but not to this charger

        restricted, drivers = await authorized(api, cp, limit=2)
        assert restricted is True
        assert set(drivers) == {d["id"] for d in in_a + in_b}
        assert in_c["id"] not in drivers and homeless["id"] not in drivers
        first = drivers[in_a[0]["id"]]
        assert {k: first[k] for k in ("name", "email", "external_id", "home_group")} == {
            "name": in_a[0]["name"], "email": in_a[0]["email"], "external_id": None,
            "home_group": {"id": a["id"], "name": a["name"]}}
        (t,) = first["tags"]
        assert {k: t[k] for k in ("uid", "status", "valid_from", "expires_at", "invoicable", "visual_number")} == {
            "uid": tag, "status": "Accepted", "valid_from": "2026-01-01T00:00:00Z",
            "expires_at": "2040-01-01T00:00:00Z", "invoicable": True, "visual_number": "V-1"}
        assert first["granted_by"] == [
            {"access_right_id": a_g1["id"], "driver_group": {"id": a["id"], "name": a["name"]},
             "charger_group": {"id": g1["id"], "name": g1["name"]}},
            {"access_right_id": a_g2["id"], "driver_group": {"id": a["id"], "name": a["name"]},
             "charger_group": {"id": g2["id"], "name": g2["name"]}}]
        assert [g["access_right_id"] for g in drivers[in_b[0]["id"]]["granted_by"]] == [b_g2["id"]]
        assert drivers[in_b[1]["id"]]["tags"] == []

        # Out of every group, the charger is open: everyone, granted by nothing.
        for group in (g1, g2):
            assert (await api.delete(f"/api/v1/charger-groups/{group['id']}/charge-points/{cp}")).status_code == 200
        restricted, drivers = await authorized(api, cp, limit=50)
        assert restricted is False
        assert {d["id"] for d in in_a + in_b + [in_c, homeless]} <= set(drivers)
        assert all(d["granted_by"] == [] for d in drivers.values())
        everyone = await collect(api, "/api/v1/drivers", limit=100)
        assert set(drivers) == {d["id"] for d in everyone}


# --- end to end: stations answer by the rights, and the list agrees -----------------------
async def test_access_rights_decide_at_the_station(server):
    cp1, cp2, cp3 = (await server.add_station(unique("CP1")), await server.add_station(unique("CP2")),
                     await server.add_station(unique("CP3")))
    async with server.api() as api:
        group_a = await new_group(api, "driver-groups", name="A")
        driver = await new_driver(api, home_group_id=group_a["id"])
        tag = await server.add_tag(driver_id=driver["id"])
        orphan = await server.add_tag()  # a tag with no driver
        g1, g2 = await new_group(api, "charger-groups", name="G1"), await new_group(api, "charger-groups", name="G2")
        await charger_in(api, g1, cp1)
        await charger_in(api, g2, cp2)
        a_g1 = await new_right(api, group_a, g1)

        async with AsyncExitStack() as stack:
            st1, st2, st3 = [await stack.enter_async_context(station(server.ws_url, cp)) for cp in (cp1, cp2, cp3)]
            for st in (st1, st2, st3):
                await st.boot()

            async def agree(expected: dict[str, bool]) -> None:
                """Authorize at each charger answers as ``expected``, and so does the authorized-drivers list."""
                for cp, st in ((cp1, st1), (cp2, st2), (cp3, st3)):
                    status = await authorize(st, tag)
                    assert status == ("Accepted" if expected[cp] else "Invalid"), (cp, status)
                    restricted, drivers = await authorized(api, cp)
                    assert restricted is (cp != cp3)
                    assert (driver["id"] in drivers) is expected[cp], cp
                    if restricted:  # G1 and G2 are this test's own: the driver is the only one
                        assert set(drivers) == ({driver["id"]} if expected[cp] else set())

            # A→G1 only: CP-1 (G1) and CP-3 (no group) admit the tag; CP-2 (G2) does not.
            await agree({cp1: True, cp2: False, cp3: True})
            assert await start_and_stop(st2, tag) == "Invalid"
            assert await start_and_stop(st3, tag) == "Accepted"
            reply = await start(st1, tag)
            assert reply["idTagInfo"]["status"] == "Accepted"
            (session,) = (await api.get("/api/v1/sessions", params={"charge_point_id": cp1})).json()["data"]
            detail = (await api.get(f"/api/v1/sessions/{session['id']}")).json()
            assert detail["auth_status"] == "Accepted" and detail["id_tag"] == tag
            if "driver_id" in detail:  # the session output gains driver_id in another change
                assert detail["driver_id"] == driver["id"]
            await stop(st1, reply["transactionId"])
            _, on_cp1 = await authorized(api, cp1)
            assert [g["access_right_id"] for g in on_cp1[driver["id"]]["granted_by"]] == [a_g1["id"]]

            # A right A→G2 opens CP-2.
            a_g2 = await new_right(api, group_a, g2)
            await agree({cp1: True, cp2: True, cp3: True})
            assert await start_and_stop(st2, tag) == "Accepted"
            _, on_cp2 = await authorized(api, cp2)
            assert [g["access_right_id"] for g in on_cp2[driver["id"]]["granted_by"]] == [a_g2["id"]]

            # Deleting it closes CP-2 again.
            assert (await api.delete(f"/api/v1/access-rights/{a_g2['id']}")).status_code == 204
            await agree({cp1: True, cp2: False, cp3: True})
            assert await start_and_stop(st2, tag) == "Invalid"

            # A tag with no driver: refused where rights apply, accepted at an open charger.
            assert await authorize(st1, orphan) == "Invalid"
            assert await start_and_stop(st1, orphan) == "Invalid"
            assert await authorize(st3, orphan) == "Accepted"
            assert await start_and_stop(st3, orphan) == "Accepted"

            # A blocked tag stays Blocked where the driver has the right: rights never widen a tag.
            blocked = await server.add_tag(driver_id=driver["id"], status="Blocked")
            assert await authorize(st1, blocked) == "Blocked"

            # Once the driver is deleted, their tag is a tag with no driver.
            assert (await api.delete(f"/api/v1/drivers/{driver['id']}")).status_code == 204
            assert await authorize(st1, tag) == "Invalid"
            assert await authorize(st3, tag) == "Accepted"
            assert (await authorized(api, cp1))[1] == {}
