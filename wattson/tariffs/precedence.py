"""Which of the tariffs that could apply to a session wins: a pure rule, no I/O.

A candidate is a tariff assigned on its own (``tariff_assignments``) or one of a tariff group's
tariffs where the group applies (``tariff_group_assignments``, ``evses.tariff_group_id``). The best
is, in this order:

1. one limited to the driver's group (by its assignment or as the group's tariff for that driver
   group) before one for everyone;
2. the most specific place: connector, EVSE, charge point, location, the whole network;
3. a tariff assigned on its own before a group's tariff at the same place;
4. within a group, its tariff for the driver's group before its tariff for everyone, then the
   tariff listed first.

A candidate outside its validity window at the session's start is passed over before ranking;
when none is left, the network's default tariff applies.
"""

from dataclasses import dataclass

#: Places from the most specific to the least; a candidate at none of them covers the network.
SCOPES = ("connector_id", "evse_id", "charge_point_id", "location_id")


@dataclass(frozen=True, slots=True)
class Candidate:
    tariff: object
    scope: str | None = None  # one of SCOPES, None for the whole network
    value: object = None  # the connector, EVSE, charge point or location it is placed at
    driver_groups: tuple = ()  # the driver groups it is limited to (its assignment's, its group entry's)
    via_group: bool = False
    entry_for_group: bool = False  # the group lists it for one driver group (not only its assignment)
    position: int = 0  # its place in its tariff group's list


def rank(candidate: Candidate, here: dict, driver_group_id: int | None) -> tuple | None:
    """Lower is better; None when it does not apply ``here`` (a place's SCOPES → ids) for a
    driver of ``driver_group_id``."""
    if any(group != driver_group_id for group in candidate.driver_groups):
        return None
    if candidate.scope is not None and candidate.value != here.get(candidate.scope):
        return None
    specificity = len(SCOPES) if candidate.scope is None else SCOPES.index(candidate.scope)
    return (0 if candidate.driver_groups else 1, specificity, int(candidate.via_group),
            0 if candidate.entry_for_group else 1, candidate.position)


def best(candidates, here: dict, driver_group_id: int | None):
    """The winning candidate's tariff, or None."""
    ranked = [(r, c) for c in candidates if (r := rank(c, here, driver_group_id)) is not None]
    return min(ranked, key=lambda pair: pair[0])[1].tariff if ranked else None
