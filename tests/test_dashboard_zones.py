"""The location page's charging zones and parking spaces: each zone with its bays, their floor,
type and EVSEs, bays outside zones apart; read-only, from the zones API."""

import re

from conftest import unique
from dashboard_kit import logged_in


async def test_the_location_page_lists_zones_and_bays(server):
    async with server.api() as api:
        location = (await api.post("/api/v1/locations", json={"name": unique("Site")})).json()["id"]
        async with logged_in(server, "viewer") as client:
            page = (await client.get(f"/locations/{location}")).text
            assert 'id="zones"' in page and "None yet" in page
        zone = (await api.post("/api/v1/charging-zones", json={"location_id": location, "name": "Level -1",
                                                               "floor": "-1"})).json()
        cp = await server.add_station(location_id=location)
        evse = (await api.post(f"/api/v1/charge-points/{cp}/evses", json={"number": 1})).json()
        r = await api.post("/api/v1/parking-spaces", json={"zone_id": zone["id"], "label": "B-12", "type": "ev_only",
                                                           "evse_ids": [evse["id"]]})
        assert r.status_code == 201, r.text
        r = await api.post("/api/v1/parking-spaces", json={"location_id": location, "label": "Gate 7",
                                                           "floor": "0", "type": "disabled"})
        assert r.status_code == 201, r.text
    async with logged_in(server, "viewer") as client:
        page = (await client.get(f"/locations/{location}")).text
    section = page[page.index('id="zones"'):page.index("</section>", page.index('id="zones"'))]
    rows = [re.sub(r"<[^>]+>|\s+", " ", row).split() for row in re.findall(r"<tr>(.*?)</tr>", section, re.S)]
    assert rows[1:] == [["Level", "-1", "-1", "B-12", "ev", "only", "EVSE", str(evse["id"])],
                    ["no", "zone", "0", "Gate", "7", "disabled", "none"]]
