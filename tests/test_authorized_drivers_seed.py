"""Seed 003: the authorized-drivers answer lists, for each driver, the charger groups their home
group has rights to (with their chargers and EVSE counts online, offline, faulted) and the chargers
in them; id tags carry updated_at."""

from datetime import datetime

from conftest import unique, until
from ocpp_client import now, station
from test_access_rights import authorized, charger_in, new_right
from test_drivers import new_driver, new_group

T2 = {"number": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE"}


async def test_drivers_with_their_charger_groups_and_chargers(server):
    here, faulted, dark = (await server.add_station(unique("HERE")), await server.add_station(unique("FLT")),
                           await server.add_station(unique("DARK")))
    async with server.api() as api:
        for cp, evses in ((here, 2), (faulted, 1), (dark, 1)):
            for number in range(1, evses + 1):
                r = await api.post(f"/api/v1/charge-points/{cp}/evses", json={"number": number, "connectors": [T2]})
                assert r.status_code == 201, r.text
        a, b = await new_group(api, "driver-groups"), await new_group(api, "driver-groups")
        depot = await new_group(api, "charger-groups", external_id=unique("EXT"))
        elsewhere = await new_group(api, "charger-groups")
        await charger_in(api, depot, here)
        await charger_in(api, depot, faulted)
        await charger_in(api, elsewhere, dark)
        await new_right(api, a, depot)
        await new_right(api, a, elsewhere)  # a right to chargers other than this one: listed too
        await new_right(api, b, depot)
        driver = await new_driver(api, home_group_id=a["id"])
        other = await new_driver(api, home_group_id=b["id"])
        tag = await server.add_tag(driver_id=driver["id"])

        async with station(server.ws_url, here) as st_here, station(server.ws_url, faulted) as st_faulted:
            for st in (st_here, st_faulted):
                await st.boot()
            await st_faulted.ok("StatusNotification", {"connectorId": 1, "status": "Faulted",
                                                       "errorCode": "GroundFailure", "timestamp": now()})
            await st_here.ok("StatusNotification", {"connectorId": 1, "status": "Available",
                                                    "errorCode": "NoError", "timestamp": now()})

            async def counted():
                _, drivers = await authorized(api, here)
                groups = {g["id"]: g for g in drivers[driver["id"]]["charger_groups"]}
                return drivers if groups[depot["id"]]["faulted_evses"] == 1 and groups[depot["id"]][
                    "online_evses"] == 2 else None
            drivers = await until(counted, "the depot's EVSE counts")

        mine = drivers[driver["id"]]
        assert [g["id"] for g in mine["charger_groups"]] == sorted([depot["id"], elsewhere["id"]])
        groups = {g["id"]: g for g in mine["charger_groups"]}
        assert groups[depot["id"]] == {"id": depot["id"], "name": depot["name"], "external_id": depot["external_id"],
                                       "charge_point_ids": sorted([here, faulted]), "online_evses": 2,
                                       "offline_evses": 0, "faulted_evses": 1}
        assert (groups[elsewhere["id"]]["charge_point_ids"], groups[elsewhere["id"]]["offline_evses"]) == ([dark], 1)
        chargers = {c["id"]: c for c in mine["chargers"]}
        assert list(chargers) == sorted([here, faulted, dark])
        assert (chargers[here]["vendor"], chargers[here]["model"], chargers[here]["evse_count"]) == (
            "TestVendor", "T1", 2)
        assert chargers[dark]["network_status"] == "never_connected" and chargers[dark]["last_seen"] is None
        # the other driver's group has a right to the depot only
        assert [c["id"] for c in drivers[other["id"]]["chargers"]] == sorted([here, faulted])

        (listed,) = mine["tags"]
        assert listed["uid"] == tag and datetime.fromisoformat(listed["updated_at"]) >= datetime.fromisoformat(
            listed["created_at"])
        r = await api.get("/api/v1/id-tokens", params={"uid": tag})
        (token,) = r.json()["data"]
        r = await api.patch(f"/api/v1/id-tokens/{token['id']}", json={"visual_number": "V-9"})
        assert r.status_code == 200, r.text
        _, drivers = await authorized(api, here)
        (changed,) = drivers[driver["id"]]["tags"]
        assert changed["updated_at"] > listed["updated_at"] and changed["updated_at"] == r.json()["updated_at"]

        # a driver in no group, at an open charger: nothing to list beyond the open chargers
        homeless = await new_driver(api)
        open_cp = await server.add_station()
        restricted, drivers = await authorized(api, open_cp)
        assert restricted is False and (drivers[homeless["id"]]["charger_groups"], drivers[homeless["id"]][
            "chargers"]) == ([], [])
        assert [g["id"] for g in drivers[driver["id"]]["charger_groups"]] == sorted([depot["id"], elsewhere["id"]])
