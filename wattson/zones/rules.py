"""Where an EVSE may be placed: pure rules, no I/O."""

from dataclasses import dataclass

#: What a parking space is kept for; all but ``standard`` are OCPI ParkingRestrictions.
SPACE_TYPES = ("standard", "ev_only", "disabled", "customers", "motorcycles")
OCPI_RESTRICTION = {"ev_only": "EV_ONLY", "disabled": "DISABLED", "customers": "CUSTOMERS",
                    "motorcycles": "MOTORCYCLES"}


@dataclass(frozen=True, slots=True)
class Spot:
    """A charging zone or a parking space as placement sees it (``zone_id``: a space's zone)."""

    id: int
    location_id: int
    zone_id: int | None = None


class PlacementError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def placed_zone(station_location_id: int | None, zone: Spot | None, space: Spot | None) -> int | None:
    """The zone an EVSE ends up in when placed in ``zone`` and/or ``space``: a space in a zone puts
    it in that zone. Both must be at the location its charge point stands at, and a space in a zone
    cannot go with another zone; PlacementError names the field at fault."""
    for field, spot, what in (("zone_id", zone, "charging zone"), ("parking_space_id", space, "parking space")):
        if spot is None:
            continue
        if station_location_id is None:
            raise PlacementError(field, f"its charge point stands at no location; set the charge point's "
                                        f"location_id before placing it in a {what}")
        if spot.location_id != station_location_id:
            raise PlacementError(field, f"{what} {spot.id} is at location {spot.location_id}, its charge point "
                                        f"at location {station_location_id}")
    if space is not None and space.zone_id is not None:
        if zone is not None and zone.id != space.zone_id:
            raise PlacementError("parking_space_id", f"parking space {space.id} lies in charging zone "
                                                     f"{space.zone_id}, not in {zone.id}")
        return space.zone_id
    return zone.id if zone is not None else None


def space_zone_problem(location_id: int, zone: Spot | None) -> str | None:
    """Why a parking space at ``location_id`` cannot lie in ``zone``, or None."""
    if zone is not None and zone.location_id != location_id:
        return f"charging zone {zone.id} is at location {zone.location_id}, not at location {location_id}"
    return None
