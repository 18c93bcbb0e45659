"""The catalogue through the API and real stations, on SQLite and PostgreSQL: vendors, charge point
models and vendor error codes (create, read, list with filters and cursor, change, delete, bad
input), a boot matching its model or creating it as discovered, and a station's current error
(1.6 StatusNotification, 2.x NotifyEvent) decoded in its read model and on its dashboard page."""

import asyncio

import pytest

from conftest import unique
from dashboard_kit import logged_in
from ocpp_client import now, station
from test_protocol_answers import ts

CONNECTOR = {"standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE", "max_power_w": 22000}


async def post(server, path: str, body, **kwargs):
    async with server.api() as api:
        return await api.post(path, json=body, **kwargs)


async def created(server, path: str, body: dict) -> dict:
    r = await post(server, path, body)
    assert r.status_code == 201, r.text
    return r.json()


async def get(server, path: str, **params):
    async with server.api() as api:
        return await api.get(path, params=params)


async def patch(server, path: str, body: dict):
    async with server.api() as api:
        return await api.patch(path, json=body)


async def delete(server, path: str):
    async with server.api() as api:
        return await api.delete(path)


async def charge_point(server, cp: str) -> dict:
    r = await get(server, f"/api/v1/charge-points/{cp}")
    assert r.status_code == 200, r.text
    return r.json()


def assert_error(r, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()["error"]
    assert body["code"] and body["message"], body
    if field is not None:
        assert field in {d["field"] for d in body["details"]}, body
    return body


# --- vendors ------------------------------------------------------------------------------------
async def test_vendors_are_created_listed_changed_and_deleted(server):
    name = unique("Vendor")
    vendor = await created(server, "/api/v1/vendors", {"name": f"  {name} ", "website": "https://example.com/ev",
                                                       "support_email": "help@example.com", "notes": "line 1\nline 2"})
    assert (vendor["name"], vendor["discovered"], vendor["notes"]) == (name, False, "line 1\nline 2")
    assert (await get(server, f"/api/v1/vendors/{vendor['id']}")).json() == vendor
    # one name, compared as boots are: ignoring case and extra blanks
    assert_error(await post(server, "/api/v1/vendors", {"name": name.upper()}), 409)
    found = (await get(server, "/api/v1/vendors", name=f" {name.lower()}")).json()["data"]
    assert [v["id"] for v in found] == [vendor["id"]]
    changed = (await patch(server, f"/api/v1/vendors/{vendor['id']}", {"website": None, "support_phone": "+49 40 1"}))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["website"], changed.json()["support_phone"]) == (None, "+49 40 1")
    other = await created(server, "/api/v1/vendors", {"name": unique("Vendor")})
    assert_error(await patch(server, f"/api/v1/vendors/{other['id']}", {"name": name}), 409)
    model = await created(server, "/api/v1/charge-point-models", {"vendor_id": vendor["id"], "name": "M1"})
    assert_error(await delete(server, f"/api/v1/vendors/{vendor['id']}"), 409)  # it has a model
    assert (await delete(server, f"/api/v1/charge-point-models/{model['id']}")).status_code == 204
    assert (await delete(server, f"/api/v1/vendors/{vendor['id']}")).status_code == 204
    assert_error(await get(server, f"/api/v1/vendors/{vendor['id']}"), 404)


async def test_vendors_page_by_cursor_and_filter_on_discovered(server):
    ids = [(await created(server, "/api/v1/vendors", {"name": unique("Paged")}))["id"] for _ in range(3)]
    seen, cursor = [], None
    while True:
        paging = {"cursor": cursor} if cursor else {}
        page = (await get(server, "/api/v1/vendors", limit=2, discovered="false", **paging)).json()
        assert len(page["data"]) <= 2 and all(not v["discovered"] for v in page["data"])
        seen += [v["id"] for v in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and set(ids) <= set(seen)


@pytest.mark.parametrize("body, field", [
    ({}, "body.name"), ({"name": "  "}, "body.name"), ({"name": "x" * 51}, "body.name"),
    ({"name": "A", "website": "ftp://example.com"}, "body.website"),
    ({"name": "A", "support_email": "nobody"}, "body.support_email"),
    ({"name": "A", "notes": "bell\x07"}, "body.notes"), ({"name": "A", "colour": "red"}, "body.colour"),
])
async def test_a_bad_vendor_is_a_422(server, body, field):
    assert_error(await post(server, "/api/v1/vendors", body), 422, field)


async def test_bad_vendor_requests_are_4xx(server):
    assert_error(await get(server, "/api/v1/vendors/2147483648"), 422)
    assert_error(await get(server, "/api/v1/vendors/2147483647"), 404)
    assert_error(await get(server, "/api/v1/vendors", cursor="not-a-cursor"), 422)
    assert_error(await patch(server, "/api/v1/vendors/2147483647", {"notes": "x"}), 404)
    assert_error(await delete(server, "/api/v1/vendors/2147483647"), 404)
    vendor = await created(server, "/api/v1/vendors", {"name": unique("V")})
    assert_error(await patch(server, f"/api/v1/vendors/{vendor['id']}", {"name": None}), 422)
    assert_error(await get(server, "/api/v1/vendors", name="a\x00b"), 422)


# --- charge point models ------------------------------------------------------------------------
async def test_models_keep_their_capabilities(server):
    vendor = await created(server, "/api/v1/vendors", {"name": unique("Maker")})
    body = {"vendor_id": vendor["id"], "name": "Terra AC W22", "evse_count": 2,
            "connectors": [{**CONNECTOR, "evse": 1}, {"standard": "IEC_62196_T2_COMBO", "format": "CABLE",
                                                        "power_type": "DC", "max_power_w": 50000, "evse": 2}],
            "max_power_w": 72000, "ocpp_versions": ["1.6", "2.0.1"], "quirks": "Sends kWh as Wh before 1.6.6.",
            "tags": ["meter-unit-kwh"]}
    model = await created(server, "/api/v1/charge-point-models", body)
    assert {k: model[k] for k in body} == body and model["vendor_name"] == vendor["name"] and not model["discovered"]
    assert (await get(server, f"/api/v1/charge-point-models/{model['id']}")).json() == model
    assert_error(await post(server, "/api/v1/charge-point-models", {**body, "name": " terra  ac w22"}), 409)
    listed = (await get(server, "/api/v1/charge-point-models", vendor_id=vendor["id"])).json()["data"]
    assert [m["id"] for m in listed] == [model["id"]]
    assert [m["id"] for m in (await get(server, "/api/v1/charge-point-models", vendor_id=vendor["id"],
                                        name="TERRA AC W22")).json()["data"]] == [model["id"]]
    r = await patch(server, f"/api/v1/charge-point-models/{model['id']}", {"max_power_w": None, "tags": None,
                                                                          "ocpp_versions": ["2.1"]})
    assert r.status_code == 200, r.text
    assert (r.json()["max_power_w"], r.json()["tags"], r.json()["ocpp_versions"]) == (None, [], ["2.1"])
    # fewer EVSEs than a connector is on
    assert_error(await patch(server, f"/api/v1/charge-point-models/{model['id']}", {"evse_count": 1}), 422,
                 "body.evse_count")


@pytest.mark.parametrize("change, field", [
    ({"vendor_id": 2147483647}, "body.vendor_id"), ({"vendor_id": 0}, "body.vendor_id"),
    ({"evse_count": 0}, "body.evse_count"), ({"max_power_w": -1}, "body.max_power_w"),
    ({"ocpp_versions": ["1.5"]}, "body.ocpp_versions.0"), ({"ocpp_versions": ["1.6", "1.6"]}, "body.ocpp_versions"),
    ({"connectors": [{**CONNECTOR, "standard": "SCHUKO"}]}, "body.connectors.0.standard"),
    ({"connectors": [{**CONNECTOR, "colour": "red"}]}, "body.connectors.0.colour"),
    ({"evse_count": 1, "connectors": [{**CONNECTOR, "evse": 2}]}, "body"),
    ({"tags": ["a", "a"]}, "body.tags"), ({"name": None}, "body.name"),
])
async def test_a_bad_model_is_a_422(server, change, field):
    vendor = await created(server, "/api/v1/vendors", {"name": unique("Bad")})
    body = {"vendor_id": vendor["id"], "name": "M", **change}
    assert_error(await post(server, "/api/v1/charge-point-models", body), 422, field)


# --- a boot fills the station's model ------------------------------------------------------------
async def test_a_boot_matches_its_model_ignoring_case_or_discovers_it(server):
    vendor_name, model_name = unique("Acme"), unique("Wallbox")
    first, second, v201 = await server.add_station(), await server.add_station(), await server.add_station()
    async with station(server.ws_url, first) as st:
        assert (await st.boot(chargePointVendor=vendor_name, chargePointModel=model_name))["status"] == "Accepted"
    model_id = (await charge_point(server, first))["model_id"]
    model = (await get(server, f"/api/v1/charge-point-models/{model_id}")).json()
    vendor = (await get(server, f"/api/v1/vendors/{model['vendor_id']}")).json()
    assert (model["name"], model["discovered"], vendor["name"], vendor["discovered"]) == (model_name, True,
                                                                                         vendor_name, True)
    async with station(server.ws_url, second) as st:  # the same, as another firmware spells it
        await st.boot(chargePointVendor=f" {vendor_name.lower()}", chargePointModel=model_name.upper())
    async with station(server.ws_url, v201, subprotocols=("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", {"chargingStation": {"vendorName": vendor_name, "model": model_name},
                                         "reason": "PowerUp"})
    assert (await charge_point(server, second))["model_id"] == model_id
    assert (await charge_point(server, v201))["model_id"] == model_id
    assert len((await get(server, "/api/v1/charge-point-models", vendor_id=vendor["id"])).json()["data"]) == 1
    # the operator confirms it; a deleted model leaves its stations without one until they boot
    assert (await patch(server, f"/api/v1/charge-point-models/{model_id}", {"discovered": False})).status_code == 200
    assert (await delete(server, f"/api/v1/charge-point-models/{model_id}")).status_code == 204
    assert (await charge_point(server, first))["model_id"] is None


async def test_a_boot_finds_a_model_entered_by_hand(server):
    vendor = await created(server, "/api/v1/vendors", {"name": unique("Known")})
    model = await created(server, "/api/v1/charge-point-models", {"vendor_id": vendor["id"], "name": "DC 50"})
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot(chargePointVendor=vendor["name"].upper(), chargePointModel="dc   50")
    assert (await charge_point(server, cp))["model_id"] == model["id"]
    assert (await get(server, f"/api/v1/charge-point-models/{model['id']}")).json()["discovered"] is False


async def test_many_stations_booting_a_new_model_at_once_discover_it_once(server):
    vendor_name = unique("Storm")
    ids = [await server.add_station() for _ in range(20)]

    async def boot(cp):
        async with station(server.ws_url, cp) as st:
            assert (await st.boot(chargePointVendor=vendor_name, chargePointModel="S1"))["status"] == "Accepted"
    await asyncio.gather(*(boot(cp) for cp in ids))
    vendors = (await get(server, "/api/v1/vendors", name=vendor_name)).json()["data"]
    assert len(vendors) == 1
    models = (await get(server, "/api/v1/charge-point-models", vendor_id=vendors[0]["id"])).json()["data"]
    assert len(models) == 1
    assert {(await charge_point(server, cp))["model_id"] for cp in ids} == {models[0]["id"]}


async def test_a_charge_point_s_model_is_set_by_hand(server):
    vendor = await created(server, "/api/v1/vendors", {"name": unique("Hand")})
    model = await created(server, "/api/v1/charge-point-models", {"vendor_id": vendor["id"], "name": "H1"})
    cp = await server.add_station()
    r = await patch(server, f"/api/v1/charge-points/{cp}", {"model_id": model["id"]})
    assert r.status_code == 200 and r.json()["model_id"] == model["id"], r.text
    assert_error(await patch(server, f"/api/v1/charge-points/{cp}", {"model_id": 2147483647}), 422, "body.model_id")
    assert (await patch(server, f"/api/v1/charge-points/{cp}", {"model_id": None})).json()["model_id"] is None


# --- vendor error codes ---------------------------------------------------------------------------
async def catalogue(server) -> tuple[dict, dict]:
    vendor = await created(server, "/api/v1/vendors", {"name": unique("Errs")})
    model = await created(server, "/api/v1/charge-point-models", {"vendor_id": vendor["id"], "name": "E1"})
    return vendor, model


async def test_error_codes_are_created_listed_changed_and_deleted(server):
    vendor, model = await catalogue(server)
    wide = await created(server, "/api/v1/vendor-error-codes", {
        "vendor_id": vendor["id"], "code": "E-12", "description": "RCD tripped", "severity": "error",
        "suggested_action": "Reset the RCD on site."})
    own = await created(server, "/api/v1/vendor-error-codes", {
        "vendor_id": vendor["id"], "model_id": model["id"], "code": "E-12", "description": "RCD tripped (E1)"})
    assert (wide["model_id"], own["model_id"], own["severity"]) == (None, model["id"], "error")
    for body in ({"vendor_id": vendor["id"], "code": "e-12", "description": "again"},
                 {"vendor_id": vendor["id"], "model_id": model["id"], "code": " E-12", "description": "again"}):
        assert_error(await post(server, "/api/v1/vendor-error-codes", body), 409)
    listed = lambda **q: get(server, "/api/v1/vendor-error-codes", vendor_id=vendor["id"], **q)  # noqa: E731
    assert [c["id"] for c in (await listed()).json()["data"]] == [wide["id"], own["id"]]
    assert [c["id"] for c in (await listed(vendor_wide="true")).json()["data"]] == [wide["id"]]
    assert [c["id"] for c in (await listed(model_id=model["id"], code="e-12")).json()["data"]] == [own["id"]]
    assert (await listed(severity="critical")).json()["data"] == []
    page = (await listed(limit=1)).json()
    assert [c["id"] for c in page["data"]] == [wide["id"]]
    assert [c["id"] for c in (await listed(limit=1, cursor=page["next_cursor"])).json()["data"]] == [own["id"]]
    r = await patch(server, f"/api/v1/vendor-error-codes/{own['id']}", {"severity": "critical",
                                                                       "suggested_action": None})
    assert (r.json()["severity"], r.json()["suggested_action"]) == ("critical", None), r.text
    assert (await delete(server, f"/api/v1/vendor-error-codes/{own['id']}")).status_code == 204
    assert_error(await get(server, f"/api/v1/vendor-error-codes/{own['id']}"), 404)


async def test_bad_error_codes_are_4xx(server):
    vendor, model = await catalogue(server)
    other, _ = await catalogue(server)
    base = {"vendor_id": vendor["id"], "code": "X", "description": "d"}
    for body, field in (({**base, "model_id": 2147483647}, "body.model_id"),
                        ({**base, "vendor_id": other["id"], "model_id": model["id"]}, "body.model_id"),
                        ({**base, "vendor_id": 2147483647}, "body.vendor_id"),
                        ({**base, "severity": "fatal"}, "body.severity"),
                        ({**base, "code": ""}, "body.code"), ({**base, "description": None}, "body.description")):
        assert_error(await post(server, "/api/v1/vendor-error-codes", body), 422, field)
    assert_error(await get(server, "/api/v1/vendor-error-codes", severity="fatal"), 422)
    assert_error(await get(server, "/api/v1/vendor-error-codes/0"), 422)
    assert_error(await patch(server, "/api/v1/vendor-error-codes/2147483647", {"severity": "info"}), 404)


async def test_codes_are_imported_and_exported_as_json_and_csv(server):
    vendor, model = await catalogue(server)
    r = await post(server, "/api/v1/vendor-error-codes/import", {"vendor_id": vendor["id"], "codes": [
        {"code": "E-1", "description": "Overtemperature", "severity": "warning"},
        {"code": "E-2", "description": "Contactor welded", "severity": "critical",
         "suggested_action": "Call service."}]})
    assert r.status_code == 200 and r.json() == {"created": 2, "updated": 0}, r.text
    csv_text = ("code,description,severity,suggested_action\n"
                "e-1,\"Overtemperature, power reduced\",warning,\n"
                "E-3,Meter lost,error,\"Check the meter's bus, then reset\"\n")
    async with server.api() as api:
        r = await api.post("/api/v1/vendor-error-codes/import", params={"vendor_id": vendor["id"]},
                           content=csv_text.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json() == {"created": 1, "updated": 1}, r.text
    exported = (await get(server, "/api/v1/vendor-error-codes/export", vendor_id=vendor["id"])).json()
    assert [(c["code"], c["description"]) for c in exported["codes"]] == [
        ("e-1", "Overtemperature, power reduced"), ("E-2", "Contactor welded"), ("E-3", "Meter lost")]
    as_csv = await get(server, "/api/v1/vendor-error-codes/export", vendor_id=vendor["id"], format="csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines()[0] == "code,description,severity,suggested_action"
    assert "E-3,Meter lost,error,\"Check the meter's bus, then reset\"" in as_csv.text
    # what one exports, another imports: here a model's own codes
    async with server.api() as api:
        r = await api.post("/api/v1/vendor-error-codes/import", params={"vendor_id": vendor["id"],
                                                                        "model_id": model["id"]},
                           content=as_csv.content, headers={"Content-Type": "text/csv"})
    assert r.json() == {"created": 3, "updated": 0}, r.text
    assert len((await get(server, "/api/v1/vendor-error-codes", model_id=model["id"])).json()["data"]) == 3


@pytest.mark.parametrize("csv_text", [
    "", "code,description,severity,suggested_action\n",  # no codes
    "code,meaning\nE-1,x\n",  # other columns
    "code,description,severity,suggested_action\nE-1,x,fatal,\n",  # a bad severity
    "code,description,severity,suggested_action\nE-1,x,error,,extra\n",  # a cell too many
    "code,description,severity,suggested_action\nE-1,x,error,\ne-1,y,error,\n",  # one code twice
])
async def test_a_bad_csv_import_is_a_422_and_imports_nothing(server, csv_text):
    vendor, _ = await catalogue(server)
    async with server.api() as api:
        r = await api.post("/api/v1/vendor-error-codes/import", params={"vendor_id": vendor["id"]},
                           content=csv_text.encode(), headers={"Content-Type": "text/csv"})
    assert_error(r, 422)
    assert (await get(server, "/api/v1/vendor-error-codes", vendor_id=vendor["id"])).json()["data"] == []


async def test_bad_json_imports_are_422(server):
    vendor, _ = await catalogue(server)
    entry = {"code": "E-1", "description": "x"}
    for body in (None, [], {"vendor_id": vendor["id"], "codes": []},
                 {"vendor_id": vendor["id"], "codes": [entry, {**entry, "code": "e-1"}]},
                 {"vendor_id": 2147483647, "codes": [entry]}, {"vendor_id": vendor["id"], "codes": [{"code": "E"}]}):
        assert_error(await post(server, "/api/v1/vendor-error-codes/import", body), 422)
    async with server.api() as api:
        r = await api.post("/api/v1/vendor-error-codes/import", content=b"{not json",
                           headers={"Content-Type": "application/json"})
        assert_error(r, 422)
        assert_error(await api.post("/api/v1/vendor-error-codes/import", content=b"code,description\nE,x\n",
                                    headers={"Content-Type": "text/csv"}), 422, "query.vendor_id")
    assert_error(await get(server, "/api/v1/vendor-error-codes/export", vendor_id=vendor["id"], format="xml"), 422)
    assert_error(await get(server, "/api/v1/vendor-error-codes/export", vendor_id=2147483647), 422)


# --- a station's current error, decoded ----------------------------------------------------------
async def test_a_1_6_station_s_error_is_decoded_by_its_model_s_code(server):
    vendor, model = await catalogue(server)
    await created(server, "/api/v1/vendor-error-codes", {"vendor_id": vendor["id"], "code": "E-12",
                                                         "description": "RCD tripped", "severity": "error"})
    await created(server, "/api/v1/vendor-error-codes", {
        "vendor_id": vendor["id"], "model_id": model["id"], "code": "E-12", "description": "RCD tripped on E1",
        "severity": "critical", "suggested_action": "Replace the RCD."})
    await created(server, "/api/v1/vendor-error-codes", {"vendor_id": vendor["id"], "code": "GroundFailure",
                                                         "description": "Earth fault", "severity": "critical"})
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot(chargePointVendor=vendor["name"], chargePointModel=model["name"])
        at = now()
        await st.ok("StatusNotification", {"connectorId": 1, "status": "Faulted", "errorCode": "OtherError",
                                           "vendorId": "acme", "vendorErrorCode": "e-12", "info": "lid",
                                           "timestamp": at})
        await st.ok("StatusNotification", {"connectorId": 2, "status": "Faulted", "errorCode": "GroundFailure",
                                           "timestamp": at})
        await st.ok("StatusNotification", {"connectorId": 3, "status": "Faulted", "errorCode": "OtherError",
                                           "vendorErrorCode": "UNKNOWN-9", "timestamp": at})
        errors = (await charge_point(server, cp))["current_errors"]
        assert [(e["evse"], e["error_code"], e["vendor_error_code"]) for e in errors] == [
            (1, "OtherError", "e-12"), (2, "GroundFailure", None), (3, "OtherError", "UNKNOWN-9")]
        first = errors[0]
        assert (first["source"], first["status"], first["info"], first["vendor_id"]) == (
            "StatusNotification", "Faulted", "lid", "acme")
        assert {k: first["decoded"][k] for k in ("model_id", "description", "severity", "suggested_action")} == {
            "model_id": model["id"], "description": "RCD tripped on E1", "severity": "critical",
            "suggested_action": "Replace the RCD."}
        assert errors[1]["decoded"]["description"] == "Earth fault" and errors[2]["decoded"] is None
        listed = (await get(server, "/api/v1/charge-points", limit=500)).json()["data"]
        assert [c["current_errors"] for c in listed if c["id"] == cp] == [errors]
        for connector in (1, 2, 3):  # repaired
            await st.ok("StatusNotification", {"connectorId": connector, "status": "Available",
                                               "errorCode": "NoError", "timestamp": now()})
    assert (await charge_point(server, cp))["current_errors"] == []


async def test_a_station_without_a_model_is_decoded_by_its_vendor_s_name(server):
    vendor, _ = await catalogue(server)
    await created(server, "/api/v1/vendor-error-codes", {"vendor_id": vendor["id"], "code": "E-5",
                                                         "description": "Door open", "severity": "warning"})
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot(chargePointVendor=vendor["name"], chargePointModel="  ")  # a model name of blanks: no model
        await st.ok("StatusNotification", {"connectorId": 0, "status": "Faulted", "errorCode": "OtherError",
                                           "vendorErrorCode": "E-5", "timestamp": now()})
    got = await charge_point(server, cp)
    assert got["model_id"] is None
    assert [(e["evse"], e["decoded"]["description"]) for e in got["current_errors"]] == [(None, "Door open")]


async def test_a_2_x_station_s_notify_event_error_is_decoded_until_cleared(server):
    vendor, model = await catalogue(server)
    await created(server, "/api/v1/vendor-error-codes", {
        "vendor_id": vendor["id"], "code": "T-77", "description": "Cable overtemperature", "severity": "warning",
        "suggested_action": "Let it cool; check the cable."})
    cp = await server.add_station()

    def notify(at: str, **entry) -> dict:
        return {"generatedAt": at, "seqNo": 0, "eventData": [{
            "eventId": 1, "timestamp": at, "trigger": "Alerting", "actualValue": "true",
            "eventNotificationType": "HardWiredNotification", "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "Problem"}, **entry}]}
    async with station(server.ws_url, cp, subprotocols=("ocpp2.0.1",)) as st:
        await st.ok("BootNotification", {"chargingStation": {"vendorName": vendor["name"], "model": model["name"]},
                                         "reason": "PowerUp"})
        assert await st.ok("NotifyEvent", notify(ts(), techCode="t-77", techInfo="82 C")) == {}
        errors = (await charge_point(server, cp))["current_errors"]
        assert [(e["source"], e["evse"], e["component"], e["variable"], e["vendor_error_code"], e["info"])
                for e in errors] == [("NotifyEvent", 1, "EVSE", "Problem", "t-77", "82 C")]
        assert errors[0]["decoded"]["suggested_action"] == "Let it cool; check the cable."
        assert await st.ok("NotifyEvent", notify("2020-01-01T00:00:00Z", cleared=True, techCode="t-77")) == {}
        assert len((await charge_point(server, cp))["current_errors"]) == 1  # older news changes nothing
        assert await st.ok("NotifyEvent", notify(ts(), actualValue="false", cleared=True)) == {}
    assert (await charge_point(server, cp))["current_errors"] == []


async def test_the_station_page_shows_the_model_and_the_decoded_error(server):
    vendor, model = await catalogue(server)
    await created(server, "/api/v1/vendor-error-codes", {
        "vendor_id": vendor["id"], "code": "E-40", "description": "Contactor welded", "severity": "critical",
        "suggested_action": "Switch off and call service."})
    cp = await server.add_station()
    async with station(server.ws_url, cp) as st:
        await st.boot(chargePointVendor=vendor["name"], chargePointModel=model["name"])
        await st.ok("StatusNotification", {"connectorId": 1, "status": "Faulted", "errorCode": "OtherError",
                                           "vendorErrorCode": "E-40", "timestamp": now()})
    async with logged_in(server, role="viewer") as page:
        html = (await page.get(f"/stations/{cp}")).text
    assert f"{vendor['name']} {model['name']}" in html and "Current errors" in html
    assert "Contactor welded" in html and "Switch off and call service." in html and "critical" in html
