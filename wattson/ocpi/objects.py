"""Wattson's domain as OCPI 2.2.1 objects: pure functions, no I/O.

Locations are sites with their published EVSEs; an EVSE's ``uid`` is Wattson's EVSE row id (never
reused), a connector's ``id`` its number on the EVSE. Statuses follow
shared/reference/status-mapping.md. Optional fields without a value are left out, never null.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from wattson.ocpi.transport import iso, with_iso_times
from wattson.stations.status import ONLINE, evse_hardware_status
from wattson.tariffs.schemas import plain
from wattson.zones.rules import OCPI_RESTRICTION

#: OCPP connector status (1.6 and 2.x spellings, lower case) → OCPI EVSE status. 2.x "Occupied"
#: depends on whether a session runs (``evse_status``).
HARDWARE_STATUS = {"available": "AVAILABLE", "preparing": "BLOCKED", "charging": "CHARGING",
                   "suspendedev": "CHARGING", "suspendedevse": "CHARGING", "finishing": "BLOCKED",
                   "reserved": "RESERVED", "unavailable": "INOPERATIVE", "faulted": "OUTOFORDER"}
#: What a connector without its own figures is described with (documented in docs/ocpi.md).
DEFAULT_VOLTAGE = {"AC_1_PHASE": 230, "AC_3_PHASE": 230, "DC": 500}
DEFAULT_AMPERAGE = {"AC_1_PHASE": 16, "AC_3_PHASE": 16, "DC": 125}
CAPABILITIES = ("CHARGING_PROFILE_CAPABLE", "REMOTE_START_STOP_CAPABLE", "RFID_READER", "UNLOCK_CAPABLE")


@dataclass(frozen=True, slots=True)
class Party:
    country_code: str
    party_id: str

    def owns(self, body: dict) -> dict:
        return {"country_code": self.country_code, "party_id": self.party_id, **body}


def compact(value):
    """Drop None values all the way down (OCPI leaves absent optional fields out)."""
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


#: An EVSE's lifecycle (stations/models.py) → the OCPI status that outranks everything else.
LIFECYCLE_STATUS = {"planned": "PLANNED", "retired": "REMOVED"}


def evse_status(station, evse, charging: bool) -> str:
    """The OCPI status of an EVSE: its lifecycle first (planned, not yet commissioned: PLANNED;
    retired: REMOVED), then the operator's administrative status, then whether the station is
    connected, then what its connectors last reported."""
    if evse.lifecycle in LIFECYCLE_STATUS:
        return LIFECYCLE_STATUS[evse.lifecycle]
    admin = {station.admin_status, evse.admin_status}
    if "out_of_order" in admin:
        return "OUTOFORDER"
    if "disabled" in admin:
        return "INOPERATIVE"
    if station.network_status != ONLINE:
        return "UNKNOWN"
    whole = (station.hardware_status or "").lower()
    if whole in ("unavailable", "faulted"):
        return HARDWARE_STATUS[whole]
    reported = evse_hardware_status([c.hardware_status for c in evse.connectors])
    if reported is None:
        return "UNKNOWN"
    if reported.lower() == "occupied":
        return "CHARGING" if charging else "BLOCKED"
    return HARDWARE_STATUS.get(reported.lower(), "UNKNOWN")


def power_type(evse, connector) -> str:
    if connector.power_type:
        return connector.power_type
    if (evse.current_type or "").upper() == "DC":
        return "DC"
    return "AC_1_PHASE" if evse.phases == 1 else "AC_3_PHASE"


def connector_object(evse, connector, tariff_ids: list[str], last_updated: datetime) -> dict | None:
    """None for a connector whose plug standard the operator has not set: OCPI needs it, and a
    guessed plug would send drivers to a charger they cannot use."""
    if not connector.standard:
        return None
    kind = power_type(evse, connector)
    voltage = evse.max_voltage_v or DEFAULT_VOLTAGE.get(kind, 230)
    amperage = evse.max_amperage_a
    if amperage is None and evse.max_power_w:
        phases = 3 if kind == "AC_3_PHASE" else 1
        amperage = round(evse.max_power_w / (voltage * phases))
    return compact({
        "id": str(connector.number),
        "standard": connector.standard,
        "format": connector.format or ("CABLE" if kind == "DC" else "SOCKET"),
        "power_type": kind,
        "max_voltage": voltage,
        "max_amperage": amperage or DEFAULT_AMPERAGE.get(kind, 16),
        "max_electric_power": evse.max_power_w,
        "tariff_ids": tariff_ids,
        "last_updated": iso(last_updated),
    })


def evse_changed_at(station, evse) -> datetime:
    """When anything shown about the EVSE last changed: its own fields, a connector's status, the
    station connecting (``connected_at``) or being seen last before going offline (``last_seen``)."""
    times = [evse.updated_at, *[c.status_at for c in evse.connectors if c.status_at]]
    presence = station.connected_at if station.network_status == ONLINE else station.last_seen
    if presence is not None:
        times.append(presence)
    return max(times)


def evse_object(station, evse, charging: bool, tariff_ids: dict[int, list[str]], zone=None,
                space=None) -> dict | None:
    """None for an EVSE without a publishable connector. ``zone`` and ``space``: where it is
    placed (zones/), for ``floor_level`` (the bay's floor, else the zone's; OCPI allows 4
    characters, a longer one is left out) and ``parking_restrictions`` (the bay's type)."""
    changed = evse_changed_at(station, evse)
    connectors = [c for c in (connector_object(evse, x, tariff_ids.get(x.number, []), changed)
                              for x in evse.connectors) if c is not None]
    if not connectors:
        return None
    capabilities = list(CAPABILITIES) + (["RESERVABLE"] if evse.allows_reservation else [])
    return compact({
        "uid": str(evse.id),
        "evse_id": evse.evse_id,
        "status": evse_status(station, evse, charging),
        "capabilities": sorted(capabilities),
        "connectors": connectors,
        "physical_reference": evse.physical_reference,
        "floor_level": _floor_level(zone, space),
        "parking_restrictions": [OCPI_RESTRICTION[space.type]] if space is not None and space.type in OCPI_RESTRICTION
        else None,
        "last_updated": iso(changed),
    })


def _floor_level(zone, space) -> str | None:
    floor = (space.floor if space is not None else None) or (zone.floor if zone is not None else None)
    return floor if floor and len(floor) <= 4 else None


def location_object(party: Party, location, evses: list[dict], operator: str) -> dict:
    """``evses``: the OCPI EVSE objects of the charge points standing there."""
    changed = max([location.updated_at, *[_time(e["last_updated"]) for e in evses]])
    address = " ".join(p for p in (location.street, location.house_number) if p)
    return compact(party.owns({
        "id": str(location.id),
        "publish": location.publish,
        "name": location.name,
        "address": address[:45] or "#NA",
        "city": (location.city or "#NA")[:45],
        "postal_code": (location.postal_code or None) and location.postal_code[:10],
        "country": location.country,
        "coordinates": {"latitude": f"{location.latitude:.6f}", "longitude": f"{location.longitude:.6f}"},
        "parking_type": location.parking_type,
        "evses": evses,
        "operator": {"name": operator},
        "time_zone": location.time_zone,
        "opening_times": with_iso_times(location.opening_hours),
        "last_updated": iso(changed),
    }))


def publishable(location) -> bool:
    """OCPI needs a country and coordinates; the operator decides with ``publish``."""
    return bool(location.publish and location.country and location.latitude is not None
                and location.longitude is not None)


def tariff_object(party: Party, tariff) -> dict:
    body = {**tariff.body, "id": tariff.id, "last_updated": iso(tariff.updated_at)}
    return compact(party.owns(with_iso_times(body)))


def cdr_token(link) -> dict:
    """The partner's token as sessions and CDRs carry it (``link``: an OcpiAuthorization)."""
    return {"country_code": link.country_code, "party_id": link.party_id, "uid": link.uid,
            "type": link.token_type, "contract_id": link.contract_id}


def session_status(session) -> str:
    """INVALID when the token was refused, COMPLETED once finished; a running session whose energy
    transfer has not started (no energy yet, not Charging) is RESERVATION when it was started on a
    reservation (the bay held for its driver) and PENDING otherwise; then ACTIVE."""
    if session.auth_status is not None and session.auth_status != "Accepted":
        return "INVALID"
    if session.status != "active":
        return "COMPLETED"
    if not session.energy_wh and session.charging_state != "Charging":
        return "RESERVATION" if session.reservation_id is not None else "PENDING"
    return "ACTIVE"


def session_object(party: Party, session, link, priced, currency: str, meter_id: str | None) -> dict:
    """``priced``: the session's live or final cost (tariffs.pricing.PricedSession) or None."""
    cost = None
    if priced is not None:
        cost = {"excl_vat": plain(priced.total_excl_vat), "incl_vat": plain(priced.total_incl_vat)}
    return compact(party.owns({
        "id": str(session.id),
        "start_date_time": iso(session.started_at),
        "end_date_time": iso(session.stopped_at),
        "kwh": float(Decimal(session.energy_wh) / 1000),
        "cdr_token": cdr_token(link),
        "auth_method": link.auth_method,
        "authorization_reference": link.authorization_reference,
        "location_id": str(session.location_id) if session.location_id else "#NA",
        "evse_uid": str(session.evse_id) if session.evse_id else "#NA",
        "connector_id": str(session.connector),
        "meter_id": meter_id,
        "currency": priced.currency if priced is not None else currency,
        "charging_periods": with_iso_times(plain(priced.charging_periods)) if priced is not None else [],
        "total_cost": cost,
        "status": session_status(session),
        "last_updated": iso(session.updated_at),
    }))


def cdr_object(party: Party, cdr, link) -> dict:
    """The CDR body billing stored, owned by us and naming the partner's token; its times (stored
    with microseconds) in the OCPI format."""
    body = {**cdr.body, "cdr_token": cdr_token(link), "auth_method": link.auth_method,
            "authorization_reference": link.authorization_reference, "last_updated": iso(cdr.created_at),
            "tariffs": [party.owns(t) for t in cdr.body.get("tariffs") or []]}
    return compact(party.owns(with_iso_times(body)))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
