"""Sessions priced end to end: a station charges across a time-of-day boundary, and its session,
its CDR, the seed-004 breakdown and the receipt carry the amounts worked out by hand here.

The tariff (Europe/Prague, CET = UTC+1 in November), all prices excl. 21 % VAT:
ENERGY 0.40/kWh by day, 0.20/kWh from 22:00 to 06:00 local; PARKING_TIME 6.00/h in steps of
60 s; FLAT 1.00 per session.

The session (UTC): 20:30 start at 0 Wh (21:30 local); 21:00 5,000 Wh (22:00 local: the night rate
begins); 21:30 8,000 Wh, then the EV suspends (charging time, not parking); 21:40 Finishing
(parking); 21:50 stop at 8,000 Wh.
- energy: 5 kWh x 0.40 + 3 kWh x 0.20 = 2.60; VAT 0.546 -> 0.55; 3.15
- parking: 10 min = 1/6 h x 6.00 = 1.00; VAT 0.21; 1.21
- flat: 1.00; VAT 0.21; 1.21
- total: 4.60 excl., 0.97 VAT, 5.57 incl.
"""

import csv
import io
from datetime import datetime, timezone

import pytest

from conftest import unique
from ocpp_client import station

DAY = datetime(2026, 11, 20, tzinfo=timezone.utc)


def at(hour: int, minute: int) -> str:
    return DAY.replace(hour=hour, minute=minute).isoformat().replace("+00:00", "Z")


def tariff_body(tariff_id: str, night_price: float = 0.20) -> dict:
    return {
        "id": tariff_id, "currency": "EUR", "type": "REGULAR",
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": night_price, "vat": 21, "step_size": 1}],
             "restrictions": {"start_time": "22:00", "end_time": "06:00"}},
            {"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 21, "step_size": 1}]},
            {"price_components": [{"type": "PARKING_TIME", "price": 6.00, "vat": 21, "step_size": 60},
                                  {"type": "FLAT", "price": 1.00, "vat": 21, "step_size": 1}]},
        ],
    }


async def priced_station(api) -> tuple[str, str, int]:
    """A charge point at a Prague location with its own tariff: (charge point, tariff, location)."""
    location = (await api.post("/api/v1/locations", json={"name": "Smíchov garage", "street": "Nádražní",
                                                           "house_number": "1", "city": "Praha",
                                                           "postal_code": "150 00", "country": "CZ",
                                                           "time_zone": "Europe/Prague"})).json()
    cp_id, tariff_id = unique(), unique("T")
    assert (await api.post("/api/v1/charge-points", json={"id": cp_id, "location_id": location["id"]})).status_code == 201
    r = await api.post("/api/v1/tariffs", json=tariff_body(tariff_id))
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/tariff-assignments", json={"tariff_id": tariff_id, "charge_point_id": cp_id})
    assert r.status_code == 201, r.text
    return cp_id, tariff_id, location["id"]


def sample(ts: str, wh: int) -> dict:
    return {"timestamp": ts, "sampledValue": [{"value": str(wh), "measurand": "Energy.Active.Import.Register",
                                               "unit": "Wh"}]}


def status(ts: str, value: str) -> dict:
    return {"connectorId": 1, "errorCode": "NoError", "status": value, "timestamp": ts}


async def test_a_session_across_the_night_rate_is_priced_and_gets_one_cdr(server):
    tag = await server.add_tag()
    async with server.api() as api:
        cp_id, tariff_id, _ = await priced_station(api)
        async with station(server.ws_url, cp_id) as st:
            await st.boot()
            await st.ok("StatusNotification", status(at(20, 30), "Charging"))
            started = await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                       "timestamp": at(20, 30)})
            tx = started["transactionId"]
            for ts, wh in ((at(21, 0), 5000), (at(21, 30), 8000)):
                await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [sample(ts, wh)]})
            await st.ok("StatusNotification", status(at(21, 30), "SuspendedEV"))
            await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [sample(at(21, 40), 8000)]})
            session = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"][0]
            live = (await api.get(f"/api/v1/sessions/{session['id']}")).json()
            assert live["tariff_id"] == tariff_id
            # Live: up to the latest reading (21:40), no parking yet: energy 3.15 + flat 1.21.
            assert (live["cost"]["energy"]["excl_vat"], live["cost"]["total_incl_vat"]) == (2.60, 4.36)
            await st.ok("StatusNotification", status(at(21, 40), "Finishing"))
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 8000, "timestamp": at(21, 50),
                                            "reason": "EVDisconnected"})

        detail = (await api.get(f"/api/v1/sessions/{session['id']}")).json()
        cost = detail["cost"]
        assert (cost["currency"], cost["energy"]["volume"], cost["energy"]["excl_vat"], cost["energy"]["incl_vat"]) \
            == ("EUR", 8.0, 2.60, 3.15)
        assert (cost["time"]["volume"], cost["time"]["excl_vat"]) == (0, 0)  # no TIME component prices it
        assert (cost["parking"]["volume"], cost["parking"]["excl_vat"], cost["parking"]["incl_vat"]) == \
            (pytest.approx(10 / 60, abs=1e-6), 1.00, 1.21)
        assert (cost["flat"]["excl_vat"], cost["flat"]["incl_vat"]) == (1.00, 1.21)
        assert (cost["total_excl_vat"], cost["total_vat"], cost["total_incl_vat"]) == (4.60, 0.97, 5.57)
        assert cost["vat_lines"] == [{"vat_percent": 21.0, "base_excl_vat": 4.60, "vat": 0.97}]

        cdrs = (await api.get("/api/v1/cdrs", params={"session_id": session["id"]})).json()["data"]
        assert len(cdrs) == 1
        cdr = cdrs[0]
        assert (cdr["total_excl_vat"], cdr["total_incl_vat"], cdr["total_energy_wh"], cdr["credit"]) == \
            (4.60, 5.57, 8000, False)
        ocpi = cdr["ocpi"]
        assert ocpi["total_cost"] == {"excl_vat": 4.60, "incl_vat": 5.57}
        assert ocpi["total_energy"] == 8.0 and ocpi["total_energy_cost"] == {"excl_vat": 2.60, "incl_vat": 3.15}
        assert ocpi["total_parking_cost"] == {"excl_vat": 1.00, "incl_vat": 1.21}
        assert ocpi["total_fixed_cost"] == {"excl_vat": 1.00, "incl_vat": 1.21}
        assert (ocpi["total_parking_time"], ocpi["total_time"]) == (0.1667, 1.3333)  # OCPI: 4 decimals
        assert ocpi["tariffs"][0]["id"] == tariff_id and ocpi["cdr_token"]["uid"] == tag
        assert ocpi["cdr_location"]["city"] == "Praha" and ocpi["cdr_location"]["country"] == "CZE"
        # The night rate starts a new charging period at 21:00 UTC (22:00 in Prague).
        starts = [p["start_date_time"] for p in ocpi["charging_periods"]]
        assert starts[0].startswith("2026-11-20T20:30") and any(s.startswith("2026-11-20T21:00") for s in starts)

        query = (await api.post("/api/v1/sessions/query", json={"charger_ids": [cp_id]})).json()["items"][0]
        assert {k: query[k] for k in ("currency", "vat_percent", "energy_price_excl_vat", "energy_price_incl_vat",
                                      "charging_time_price_excl_vat", "parking_time_price_excl_vat",
                                      "parking_time_price_incl_vat", "flat_fee_excl_vat", "flat_fee_incl_vat",
                                      "reduction_amount", "total_cost_excl_vat", "total_cost_incl_vat",
                                      "total_vat_amount", "unit_power_cost")} == {
            "currency": "EUR", "vat_percent": 21.0, "energy_price_excl_vat": 2.60, "energy_price_incl_vat": 3.15,
            "charging_time_price_excl_vat": 0.0, "parking_time_price_excl_vat": 1.00,
            "parking_time_price_incl_vat": 1.21, "flat_fee_excl_vat": 1.00, "flat_fee_incl_vat": 1.21,
            "reduction_amount": 0.0, "total_cost_excl_vat": 4.60, "total_cost_incl_vat": 5.57,
            "total_vat_amount": 0.97, "unit_power_cost": 0.325}
        exported = (await api.post("/api/v1/sessions/query.csv", json={"charger_ids": [cp_id]})).text
        header, row = list(csv.reader(io.StringIO(exported)))
        assert {k: v for k, v in zip(header, row) if k.startswith("total_")} == {
            "total_margin_amount": "", "total_cost_incl_vat": "5.57", "total_cost_excl_vat": "4.6",
            "total_vat_amount": "0.97"}

        receipt = await api.get(f"/api/v1/sessions/{session['id']}/receipt")
        assert receipt.status_code == 200 and "text/html" in receipt.headers["content-type"]
        assert "€5.57" in receipt.text and "Smíchov garage" in receipt.text and "21 %" in receipt.text
        assert "€4.60" in receipt.text and "€0.97" in receipt.text  # excl. VAT and the VAT, money written one way
        pdf = await api.get(f"/api/v1/sessions/{session['id']}/receipt.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == \
            "application/pdf"

        # Editing the tariff reprices nothing that already began.
        r = await api.put(f"/api/v1/tariffs/{tariff_id}", json={k: v for k, v in tariff_body(tariff_id, 9.99).items()
                                                                if k != "id"})
        assert r.status_code == 200, r.text
        again = (await api.get(f"/api/v1/sessions/{session['id']}")).json()["cost"]
        assert again["total_incl_vat"] == 5.57

        # A correction is a credit CDR, then (optionally) a new one; never an edit.
        r = await api.post(f"/api/v1/cdrs/{cdr['id']}/credit", json={"reason": "goodwill"})
        assert r.status_code == 201, r.text
        credit = r.json()["credit"]
        assert (credit["credit"], credit["credit_of_id"], credit["total_incl_vat"]) == (True, cdr["id"], -5.57)
        assert credit["ocpi"]["credit_reference_id"] == str(cdr["id"])
        assert credit["ocpi"]["total_cost"] == {"excl_vat": -4.60, "incl_vat": -5.57}
        assert (await api.post(f"/api/v1/cdrs/{cdr['id']}/credit", json={"reason": "twice"})).status_code == 409
        assert (await api.post(f"/api/v1/cdrs/{credit['id']}/credit", json={"reason": "x"})).status_code == 409
        assert (await api.get(f"/api/v1/sessions/{session['id']}/receipt")).status_code == 409
        assert (await api.get(f"/api/v1/cdrs/{cdr['id']}")).json() == cdr  # the original never changed


async def test_a_2_0_1_transaction_is_priced_like_a_1_6_one(server):
    tag = await server.add_tag()
    async with server.api() as api:
        cp_id, tariff_id, _ = await priced_station(api)

        def event(kind: str, seq: int, ts: str, wh: int, **extra) -> dict:
            return {"eventType": kind, "timestamp": ts, "triggerReason": "MeterValuePeriodic", "seqNo": seq,
                    "transactionInfo": {"transactionId": "T-1", **extra.pop("info", {})},
                    "meterValue": [{"timestamp": ts, "sampledValue": [
                        {"value": wh, "measurand": "Energy.Active.Import.Register",
                         "unitOfMeasure": {"unit": "Wh"}}]}], **extra}

        async with station(server.ws_url, cp_id, subprotocols=("ocpp2.0.1",)) as st:
            await st.ok("BootNotification", {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"})
            await st.ok("TransactionEvent", event("Started", 0, at(20, 30), 0, evse={"id": 1, "connectorId": 1},
                                                  idToken={"idToken": tag, "type": "ISO14443"},
                                                  info={"chargingState": "Charging"}))
            await st.ok("TransactionEvent", event("Updated", 1, at(21, 0), 5000, info={"chargingState": "Charging"}))
            await st.ok("TransactionEvent", event("Updated", 2, at(21, 30), 8000,
                                                  info={"chargingState": "SuspendedEV"}))
            await st.ok("TransactionEvent", event("Updated", 3, at(21, 40), 8000,
                                                  info={"chargingState": "EVConnected"}))
            await st.ok("TransactionEvent", event("Ended", 4, at(21, 50), 8000,
                                                  info={"stoppedReason": "EVDisconnected"}))
        session = (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"][0]
        cost = (await api.get(f"/api/v1/sessions/{session['id']}")).json()["cost"]
        assert (cost["energy"]["excl_vat"], cost["parking"]["excl_vat"], cost["total_incl_vat"]) == (2.60, 1.00, 5.57)
        cdrs = (await api.get("/api/v1/cdrs", params={"session_id": session["id"]})).json()["data"]
        assert [c["total_incl_vat"] for c in cdrs] == [5.57]


async def test_a_late_ended_credits_the_cdr_and_reissues_it_and_operators_can_reprice(server):
    tag = await server.add_tag()
    async with server.api() as api:
        cp_id, _, _ = await priced_station(api)
        free = unique("FREE")
        assert (await api.post("/api/v1/tariffs", json={"id": free, "currency": "EUR", "elements": [
            {"price_components": [{"type": "FLAT", "price": 0}]}]})).status_code == 201

        def event(kind: str, tx: str, seq: int, ts: str, wh: int, **extra) -> dict:
            return {"eventType": kind, "timestamp": ts, "triggerReason": "MeterValuePeriodic", "seqNo": seq,
                    "transactionInfo": {"transactionId": tx}, "meterValue": [{"timestamp": ts, "sampledValue": [
                        {"value": wh, "measurand": "Energy.Active.Import.Register"}]}], **extra}

        async with station(server.ws_url, cp_id, subprotocols=("ocpp2.0.1",)) as st:
            await st.ok("BootNotification", {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"})
            await st.ok("TransactionEvent", event("Started", "A", 0, at(10, 0), 0, evse={"id": 1, "connectorId": 1},
                                                  idToken={"idToken": tag, "type": "ISO14443"}))
            await st.ok("TransactionEvent", event("Updated", "A", 1, at(10, 30), 5000))
            # B starts on the same EVSE: A's Ended was lost, Wattson closes A at 10:30 and bills 5 kWh.
            await st.ok("TransactionEvent", event("Started", "B", 0, at(11, 0), 9000, evse={"id": 1, "connectorId": 1}))
            sessions = {s["transaction_id"]: s for s in
                        (await api.get("/api/v1/sessions", params={"charge_point_id": cp_id})).json()["data"]}
            first = (await api.get("/api/v1/cdrs", params={"session_id": sessions["A"]["id"]})).json()["data"]
            assert [(c["total_excl_vat"], c["credit"]) for c in first] == [(3.00, False)]  # 5 x 0.40 + flat
            # A's Ended arrives after all, with 6 kWh: the first CDR is credited and a new one issued.
            await st.ok("TransactionEvent", event("Ended", "A", 2, at(10, 40), 6000,
                                                  transactionInfo={"transactionId": "A",
                                                                   "stoppedReason": "EVDisconnected"}))
        cdrs = (await api.get("/api/v1/cdrs", params={"session_id": sessions["A"]["id"]})).json()["data"]
        assert [(c["sequence"], c["credit"], c["total_excl_vat"]) for c in cdrs] == \
            [(2, False, 3.40), (1, True, -3.00), (0, False, 3.00)]
        assert cdrs[1]["credit_of_id"] == cdrs[2]["id"]

        r = await api.post(f"/api/v1/cdrs/{cdrs[0]['id']}/credit", json={"reason": "goodwill",
                                                                           "reissue_with_tariff_id": free})
        assert r.status_code == 201, r.text
        assert (r.json()["credit"]["total_excl_vat"], r.json()["reissued"]["total_incl_vat"]) == (-3.40, 0.0)
        assert r.json()["reissued"]["tariff_id"] == free
        r = await api.post(f"/api/v1/cdrs/{cdrs[2]['id']}/credit", json={"reason": "x", "reissue_with_tariff_id": "NOPE"})
        assert r.status_code == 409  # credited already (checked before the tariff)
        assert "€0.00" in (await api.get(f"/api/v1/sessions/{sessions['A']['id']}/receipt")).text
