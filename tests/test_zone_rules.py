"""Where an EVSE may be placed (zones/rules.py): zones and bays at its charge point's location."""

import pytest

from wattson.zones.rules import PlacementError, Spot, placed_zone, space_zone_problem

ZONE = Spot(3, location_id=1)
BAY_IN_ZONE = Spot(7, location_id=1, zone_id=3)
LOOSE_BAY = Spot(8, location_id=1)


def test_a_bay_in_a_zone_puts_the_evse_in_that_zone():
    assert placed_zone(1, None, BAY_IN_ZONE) == 3
    assert placed_zone(1, ZONE, BAY_IN_ZONE) == 3


def test_a_zone_alone_or_with_a_bay_outside_zones():
    assert placed_zone(1, ZONE, None) == 3
    assert placed_zone(1, ZONE, LOOSE_BAY) == 3
    assert placed_zone(1, None, LOOSE_BAY) is None
    assert placed_zone(None, None, None) is None  # nothing to place: no location needed


def test_a_bay_of_another_zone_is_refused():
    with pytest.raises(PlacementError) as error:
        placed_zone(1, Spot(4, location_id=1), BAY_IN_ZONE)
    assert error.value.field == "parking_space_id" and "zone 3, not in 4" in str(error.value)


@pytest.mark.parametrize("zone, space, field", [
    (Spot(3, location_id=2), None, "zone_id"),
    (None, Spot(7, location_id=2, zone_id=3), "parking_space_id"),
    (ZONE, Spot(8, location_id=2), "parking_space_id"),
])
def test_zones_and_bays_of_another_location_are_refused(zone, space, field):
    with pytest.raises(PlacementError) as error:
        placed_zone(1, zone, space)
    assert error.value.field == field and "location 2" in str(error.value)


def test_a_charge_point_at_no_location_has_no_zone():
    with pytest.raises(PlacementError) as error:
        placed_zone(None, ZONE, None)
    assert error.value.field == "zone_id" and "no location" in str(error.value)


def test_a_bay_lies_in_a_zone_of_its_own_location():
    assert space_zone_problem(1, ZONE) is None and space_zone_problem(1, None) is None
    assert "location 1, not at location 2" in space_zone_problem(2, ZONE)
