"""The seed-000 ChargingPoint from an offer and, with a session_id, its payment. No I/O."""

from datetime import datetime, timedelta
from decimal import Decimal

import pycountry

from wattson.payments import machine as m
from wattson.payments.service import Offer, limits_of

_STATES = {"AVAILABLE": (1, "Available"), "PREPARING": (2, "Preparing"), "CHARGING": (3, "Charging"),
           "FINISHING": (4, "Finishing"), "RESERVED": (5, "Reserved"), "UNAVAILABLE": (6, "Unavailable"),
           "FAULTED": (7, "Faulted"), "OFFLINE": (8, "Offline"), "UNKNOWN": (9, "Unknown")}
_HARDWARE = {"available": "AVAILABLE", "preparing": "PREPARING", "charging": "CHARGING", "suspendedev": "CHARGING",
             "suspendedevse": "CHARGING", "occupied": "CHARGING", "finishing": "FINISHING", "reserved": "RESERVED",
             "unavailable": "UNAVAILABLE", "faulted": "FAULTED"}
#: AFIR (Regulation 2023/1804, Annex III) power categories: (code, id, name, from kW, to kW, to included).
#: AC: slow < 7.4 kW, medium 7.4-22 kW inclusive, fast > 22 kW; DC: slow < 50, fast 50 to < 150,
#: ultra-fast from 150 kW. The last band of each also takes anything above its "to" (it is a display bound).
_SPEEDS = {"AC": [("AC_SLOW", 1, "Slow AC", 0, 7.4, False), ("AC_MEDIUM", 2, "Medium AC", 7.4, 22, True),
                  ("AC_FAST", 3, "Fast AC", 22, 43, True)],
           "DC": [("DC_SLOW", 4, "Slow DC", 0, 50, False), ("DC_FAST", 5, "Fast DC", 50, 150, False),
                  ("DC_ULTRA_FAST", 6, "Ultra-fast DC", 150, 350, True)]}
_CONNECTOR_NAMES = {"IEC_62196_T2": "Type 2", "IEC_62196_T2_COMBO": "CCS Combo 2", "IEC_62196_T1": "Type 1",
                    "IEC_62196_T1_COMBO": "CCS Combo 1", "CHADEMO": "CHAdeMO", "DOMESTIC_E": "Domestic E",
                    "DOMESTIC_F": "Schuko", "TESLA_S": "Tesla", "GBT_AC": "GB/T AC", "GBT_DC": "GB/T DC"}
_PARKING = {"ON_STREET": (1, "On street"), "PARKING_GARAGE": (2, "Parking garage"),
            "PARKING_LOT": (3, "Parking lot"), "ALONG_MOTORWAY": (4, "Along motorway"),
            "ON_DRIVEWAY": (5, "On driveway"), "UNDERGROUND_GARAGE": (6, "Underground garage")}


def code_list(id: int, code: str | None, name: str | None, is_cabel: bool = False) -> dict:
    return {"id": id, "code": code, "name": name, "is_cabel": is_cabel}


def state_code(offer: Offer) -> str:
    if offer.station.network_status != "online":
        return "OFFLINE"
    if offer.station.admin_status != "enabled" or offer.evse.admin_status != "enabled":
        return "UNAVAILABLE"
    if offer.hardware_status is None:
        return "AVAILABLE" if offer.available else "UNKNOWN"
    return _HARDWARE.get(offer.hardware_status.lower(), "UNKNOWN")


def current_type(offer: Offer) -> str:
    if offer.evse.current_type:
        return offer.evse.current_type
    return "DC" if any(c.power_type == "DC" for c in offer.connectors) else "AC"


def speed(offer: Offer) -> tuple | None:
    if not offer.evse.max_power_w:
        return None
    return power_band(current_type(offer), offer.evse.max_power_w)


def power_band(kind: str, max_power_w: int) -> tuple:
    """The AFIR category of an AC or DC EVSE of this maximum power (watts, exact: no float edges)."""
    bands = _SPEEDS[kind]
    for band in bands:
        to_w = Decimal(str(band[4])) * 1000
        if max_power_w < to_w or (band[5] and max_power_w == to_w):
            return band
    return bands[-1]


def country(alpha: str | None) -> dict | None:
    found = pycountry.countries.get(alpha_3=alpha) if alpha and len(alpha) == 3 else None
    if found is None and alpha and len(alpha) == 2:
        found = pycountry.countries.get(alpha_2=alpha)
    if found is None:
        return None
    return code_list(int(found.numeric), found.alpha_2, found.name)


def alt_text(tariff: dict | None, language: str) -> str | None:
    texts = (tariff or {}).get("tariff_alt_text") or []
    chosen = next((t for t in texts if t.get("language") == language), texts[0] if texts else None)
    return chosen["text"] if chosen else None


def _kw(watts: int | None) -> float | None:
    return None if watts is None else watts / 1000


def charging_point(offer: Offer, language: str = "en", payment=None, session=None, cost: Decimal | None = None,
                   current_a: float | None = None, now: datetime | None = None) -> dict:
    evse, station, location = offer.evse, offer.station, offer.location
    connector = offer.connectors[0] if offer.connectors else None
    band = speed(offer)
    kind = current_type(offer)
    parking = (location.parking_type if location else None) or None
    parking_id, parking_name = _PARKING.get(parking, (0, "Unknown"))
    out = {
        "id": evse.id,
        "id_transaction": None,
        "hw_code": evse.evse_code,
        "products": [{"id": p.uid, "name": p.name, "reservation_time": p.max_duration_min,
                      "blocking_value": float(p.blocking_value), "id_product": p.id,
                      "amount_with_vat": float(price)} for p, price in offer.products],
        "code": evse.evse_id,
        "name": evse.label or station.name or evse.evse_id,
        "inclusion": alt_text(offer.tariff, language),
        "is_possible_to_charge": offer.available,
        "is_possible_to_charge_direct_payment": offer.payable,
        "state": code_list(_STATES[state_code(offer)][0], state_code(offer), _STATES[state_code(offer)][1]),
        "charging_station": code_list(1 if kind == "AC" else 2, kind, f"{kind} charging station"),
        "address": None if location is None else {
            "id": location.id, "street": location.street, "descriptive_number": location.building_number,
            "house_number": location.house_number, "post_code": location.postal_code, "city": location.city,
            "country": country(location.country),
            "type": code_list(parking_id, parking, parking_name)},
        "charging_speed": None if band is None else code_list(band[1], band[0], band[2]),
        "is_socket": None if connector is None or connector.format is None else connector.format == "SOCKET",
        "is_public": location.publish if location else True,
        "location": None if location is None else code_list(location.id, parking, location.name),
        "rated_power": _kw(evse.max_power_w),
        "connector": None if connector is None else code_list(
            connector.id, connector.standard, _CONNECTOR_NAMES.get(connector.standard, connector.standard),
            connector.format == "CABLE"),
        "output_power_from_manufacturer": _kw(evse.max_power_w),
        "output_power_avaiable_max": _kw(evse.max_power_w),
        "output_current_manufacturer": None if evse.max_amperage_a is None else float(evse.max_amperage_a),
        "output_voltage_manufacturer": None if evse.max_voltage_v is None else float(evse.max_voltage_v),
        "output_power_from": None if band is None else float(band[3]),
        "output_power_to": None if band is None else float(band[4]),
        "output_current": None,
        "charging_start_hour": None, "charging_start_minute": None, "charging_start_second": None,
        "still_continues": None, "planned_charging_end": None, "charging_start": None, "percent": None,
    }
    if payment is not None:
        out.update(live_fields(offer, payment, session, cost, current_a, now))
    return out


def live_fields(offer: Offer, payment, session, cost: Decimal | None, current_a: float | None,
                now: datetime) -> dict:
    """What the seed's live fields say about one payment's session."""
    out = {"still_continues": payment.state in (m.AUTHORIZED, m.STARTING, m.CHARGING, m.STOPPING),
           "percent": 0}
    if session is None:
        return out
    end = session.stopped_at or now
    hours, minutes, seconds = m.elapsed_hms(session.started_at, end)
    limits = limits_of({**payment.product, "blocking_value": payment.amount_held})
    progress = m.Progress((end - session.started_at).total_seconds(), session.energy_wh, cost or Decimal(0))
    planned = None
    if limits.max_duration_s:
        planned = session.started_at + timedelta(seconds=limits.max_duration_s)
    if limits.max_energy_wh and offer.evse.max_power_w:
        by_energy = session.started_at + timedelta(hours=limits.max_energy_wh / offer.evse.max_power_w)
        planned = by_energy if planned is None else min(planned, by_energy)
    out.update(id_transaction=session.id, charging_start=session.started_at.replace(microsecond=0),
               charging_start_hour=hours, charging_start_minute=minutes, charging_start_second=seconds,
               still_continues=session.status == "active" and payment.state not in m.SETTLED,
               planned_charging_end=planned.replace(microsecond=0) if planned else None,
               percent=m.percent(limits, progress),  # after the stop too: the share really used
               output_current=None if current_a is None or session.status != "active" else round(current_a, 1))
    return out
