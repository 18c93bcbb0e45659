"""Charging zones and parking spaces: create, read, update, delete, list; placing EVSEs in them."""

from collections import defaultdict

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.db import Database, utcnow
from wattson.db.lookup import get_or_404
from wattson.db.paging import by_id
from wattson.errors import Conflict, Invalid
from wattson.locations.models import Location
from wattson.stations.models import ChargePoint, Evse
from wattson.zones.models import ChargingZone, ParkingSpace
from wattson.zones.rules import PlacementError, Spot, placed_zone, space_zone_problem

ZONE_FIELDS = {"location_id", "name", "floor", "description"}
SPACE_FIELDS = {"location_id", "zone_id", "label", "floor", "type"}


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": f"body.{field}", "message": message}])


class ZoneService:
    """Zones come back with ``parking_space_ids`` and ``evse_ids``, spaces with ``evse_ids``."""

    def __init__(self, db: Database):
        self.db = db

    # --- zones -----------------------------------------------------------------------------
    async def create_zone(self, **fields) -> ChargingZone:
        _check(fields, ZONE_FIELDS)
        async with self._unique("name", "a charging zone of that name exists at the location"):
            async with self.db.session() as s:
                if await s.get(Location, fields["location_id"]) is None:
                    raise _invalid("location_id", f"location {fields['location_id']} does not exist")
                await self._zone_name_free(s, fields["location_id"], fields["name"])
                zone = ChargingZone(**fields)
                s.add(zone)
                await s.flush()
                await _attach_to_zones(s, [zone])
        return zone

    async def get_zone(self, id: int) -> ChargingZone:
        async with self.db.session() as s:
            zone = await get_or_404(s, ChargingZone, id, "charging zone")
            await _attach_to_zones(s, [zone])
        return zone

    async def find_zones(self, limit: int, after_id: int | None = None, *, location_id: int | None = None,
                         floor: str | None = None) -> list[ChargingZone]:
        async with self.db.session() as s:
            rows = list(await s.scalars(by_id(ChargingZone, limit, after_id, location_id=location_id, floor=floor)))
            await _attach_to_zones(s, rows)
        return rows

    async def update_zone(self, id: int, **changes) -> ChargingZone:
        _check(changes, ZONE_FIELDS - {"location_id"})
        if "name" in changes and changes["name"] is None:
            raise _invalid("name", "name cannot be null")
        async with self._unique("name", "a charging zone of that name exists at the location"):
            async with self.db.session() as s:
                zone = await get_or_404(s, ChargingZone, id, "charging zone")
                if changes.get("name") not in (None, zone.name):
                    await self._zone_name_free(s, zone.location_id, changes["name"])
                for name, value in changes.items():
                    setattr(zone, name, value)
                await s.flush()
                await _attach_to_zones(s, [zone])
        return zone

    async def delete_zone(self, id: int) -> None:
        """Delete a zone without parking spaces; its EVSEs stay where they are, in no zone."""
        async with self.db.session() as s:
            zone = await get_or_404(s, ChargingZone, id, "charging zone")
            spaces = await s.scalar(select(func.count()).select_from(ParkingSpace).where(ParkingSpace.zone_id == id))
            if spaces:
                raise Conflict(f"charging zone {id} still has {spaces} parking space{'s' if spaces != 1 else ''}; "
                               f"move or delete them first", {"parking_spaces": spaces})
            await s.execute(update(Evse).where(Evse.zone_id == id).values(zone_id=None, updated_at=utcnow()))
            await s.delete(zone)

    @staticmethod
    async def _zone_name_free(s: AsyncSession, location_id: int, name: str) -> None:
        other = await s.scalar(select(ChargingZone.id).where(ChargingZone.location_id == location_id,
                                                             ChargingZone.name == name))
        if other is not None:
            raise Conflict(f"location {location_id} already has a charging zone named {name!r} (zone {other})",
                           {"charging_zone": other})

    # --- parking spaces --------------------------------------------------------------------
    async def create_space(self, evse_ids: list[int] = (), **fields) -> ParkingSpace:
        _check(fields, SPACE_FIELDS)
        async with self._unique("label", "a parking space with that label exists at the location"):
            async with self.db.session() as s:
                zone = await _zone(s, fields.get("zone_id"))
                if fields.get("location_id") is None:
                    if zone is None:
                        raise _invalid("location_id", "location_id or zone_id is required")
                    fields["location_id"] = zone.location_id
                elif await s.get(Location, fields["location_id"]) is None:
                    raise _invalid("location_id", f"location {fields['location_id']} does not exist")
                _check_space_zone(fields["location_id"], zone)
                await self._label_free(s, fields["location_id"], fields["label"])
                space = ParkingSpace(**{k: v for k, v in fields.items() if v is not None})
                s.add(space)
                await s.flush()
                await _place_at(s, space, evse_ids)
                await _attach_to_spaces(s, [space])
        return space

    async def get_space(self, id: int) -> ParkingSpace:
        async with self.db.session() as s:
            space = await get_or_404(s, ParkingSpace, id, "parking space")
            await _attach_to_spaces(s, [space])
        return space

    async def find_spaces(self, limit: int, after_id: int | None = None, *, location_id: int | None = None,
                          zone_id: int | None = None, type: str | None = None, floor: str | None = None,
                          evse_id: int | None = None) -> list[ParkingSpace]:
        query = by_id(ParkingSpace, limit, after_id, location_id=location_id, zone_id=zone_id, type=type, floor=floor)
        if evse_id is not None:
            query = query.where(ParkingSpace.id.in_(select(Evse.parking_space_id).where(Evse.id == evse_id)))
        async with self.db.session() as s:
            rows = list(await s.scalars(query))
            await _attach_to_spaces(s, rows)
        return rows

    async def update_space(self, id: int, evse_ids: list[int] | None = None, **changes) -> ParkingSpace:
        """Only the fields given change; ``evse_ids`` replaces the EVSEs placed at the bay. A new
        zone moves the bay's EVSEs into it."""
        _check(changes, SPACE_FIELDS - {"location_id"})
        for required in ("label", "type"):
            if required in changes and changes[required] is None:
                raise _invalid(required, f"{required} cannot be null")
        async with self._unique("label", "a parking space with that label exists at the location"):
            async with self.db.session() as s:
                space = await get_or_404(s, ParkingSpace, id, "parking space")
                if "zone_id" in changes and changes["zone_id"] != space.zone_id:
                    _check_space_zone(space.location_id, await _zone(s, changes["zone_id"]))
                    if changes["zone_id"] is not None:
                        await s.execute(update(Evse).where(Evse.parking_space_id == id).values(
                            zone_id=changes["zone_id"], updated_at=utcnow()))
                if changes.get("label") not in (None, space.label):
                    await self._label_free(s, space.location_id, changes["label"])
                for name, value in changes.items():
                    setattr(space, name, value)
                await s.flush()
                if evse_ids is not None:
                    await _place_at(s, space, evse_ids)
                await _attach_to_spaces(s, [space])
        return space

    async def delete_space(self, id: int) -> None:
        """Delete a parking space; its EVSEs stay in their zone, at no bay."""
        async with self.db.session() as s:
            space = await get_or_404(s, ParkingSpace, id, "parking space")
            await s.execute(update(Evse).where(Evse.parking_space_id == id).values(parking_space_id=None,
                                                                                  updated_at=utcnow()))
            await s.delete(space)

    @staticmethod
    async def _label_free(s: AsyncSession, location_id: int, label: str) -> None:
        other = await s.scalar(select(ParkingSpace.id).where(ParkingSpace.location_id == location_id,
                                                             ParkingSpace.label == label))
        if other is not None:
            raise Conflict(f"location {location_id} already has a parking space labelled {label!r} (space {other})",
                           {"parking_space": other})

    @staticmethod
    def _unique(field: str, message: str):
        """A unique name or label taken by a change saved at the same time: 409, not 500."""
        return _UniqueRace(field, message)


class _UniqueRace:
    def __init__(self, field: str, message: str):
        self.field, self.message = field, message

    async def __aenter__(self):
        return self

    async def __aexit__(self, kind, error, traceback):
        if isinstance(error, IntegrityError):
            raise Conflict(f"{self.message} (saved at the same time), or what it refers to was just deleted") from None
        return False


# --- placing EVSEs ---------------------------------------------------------------------------
async def check_placement(s: AsyncSession, evse: Evse | None, location_id: int | None, changes: dict) -> None:
    """Check the ``zone_id`` and ``parking_space_id`` an EVSE create or update gives (``evse``:
    the EVSE as it is, None when new; ``location_id``: its charge point's) and set ``zone_id`` to
    the zone they put it in: a parking space in a zone puts the EVSE in that zone."""
    if "zone_id" not in changes and "parking_space_id" not in changes:
        return
    explicit_zone = "zone_id" in changes
    zone_id = changes["zone_id"] if explicit_zone else (evse.zone_id if evse is not None else None)
    space_id = changes["parking_space_id"] if "parking_space_id" in changes else (
        evse.parking_space_id if evse is not None else None)
    zone = await _zone(s, zone_id, "zone_id" if explicit_zone else None)
    space = await s.get(ParkingSpace, space_id) if space_id is not None else None
    if space_id is not None and space is None:
        raise _invalid("parking_space_id", f"parking space {space_id} does not exist")
    space_spot = _spot(space)
    if not explicit_zone and space_spot is not None and space_spot.zone_id is not None:
        zone = None  # a new bay in a zone takes the EVSE into that zone
    try:
        changes["zone_id"] = placed_zone(location_id, _spot(zone), space_spot)
    except PlacementError as error:
        raise _invalid(error.field, str(error)) from None


async def _place_at(s: AsyncSession, space: ParkingSpace, evse_ids: list[int]) -> None:
    """Make ``evse_ids`` the EVSEs at ``space``: each moves into the space's zone (or keeps its own
    zone at the same location when the space has none); EVSEs no longer listed leave the bay."""
    rows = {}
    if evse_ids:
        rows = {evse.id: (evse, location_id) for evse, location_id in await s.execute(
            select(Evse, ChargePoint.location_id).join(ChargePoint, ChargePoint.id == Evse.charge_point_id)
            .where(Evse.id.in_(evse_ids)))}
    missing = [i for i in evse_ids if i not in rows]
    if missing:
        raise _invalid("evse_ids", f"EVSE {missing[0]} does not exist")
    now = utcnow()
    await s.execute(update(Evse).where(Evse.parking_space_id == space.id, Evse.id.not_in(list(evse_ids) or [0]))
                    .values(parking_space_id=None, updated_at=now))
    space_spot = _spot(space)
    for evse_id in evse_ids:
        evse, location_id = rows[evse_id]
        own_zone = None
        if space.zone_id is None and evse.zone_id is not None:
            own_zone = _spot(await s.get(ChargingZone, evse.zone_id))
            if own_zone is not None and own_zone.location_id != space.location_id:
                own_zone = None  # a zone at another location: it leaves it
        try:
            zone_id = placed_zone(location_id, own_zone, space_spot)
        except PlacementError as error:
            raise _invalid("evse_ids", f"EVSE {evse_id}: {error}") from None
        if (evse.parking_space_id, evse.zone_id) != (space.id, zone_id):
            evse.parking_space_id, evse.zone_id, evse.updated_at = space.id, zone_id, now


async def _zone(s: AsyncSession, zone_id: int | None, field: str | None = "zone_id") -> ChargingZone | None:
    if zone_id is None:
        return None
    zone = await s.get(ChargingZone, zone_id)
    if zone is None and field is not None:
        raise _invalid(field, f"charging zone {zone_id} does not exist")
    return zone


def _spot(row) -> Spot | None:
    if row is None:
        return None
    return Spot(row.id, row.location_id, getattr(row, "zone_id", None))


def _check_space_zone(location_id: int, zone: ChargingZone | None) -> None:
    problem = space_zone_problem(location_id, _spot(zone))
    if problem:
        raise _invalid("zone_id", problem)


def _check(fields: dict, allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise Invalid(f"unknown fields: {', '.join(sorted(unknown))}")


async def _attach_to_zones(s: AsyncSession, zones: list[ChargingZone]) -> None:
    """Set ``parking_space_ids`` and ``evse_ids`` on each zone (plain attributes, not columns)."""
    spaces, evses = defaultdict(list), defaultdict(list)
    ids = [z.id for z in zones]
    if ids:
        for zone_id, space_id in await s.execute(select(ParkingSpace.zone_id, ParkingSpace.id)
                                                 .where(ParkingSpace.zone_id.in_(ids)).order_by(ParkingSpace.id)):
            spaces[zone_id].append(space_id)
        for zone_id, evse_id in await s.execute(select(Evse.zone_id, Evse.id).where(Evse.zone_id.in_(ids))
                                                .order_by(Evse.id)):
            evses[zone_id].append(evse_id)
    for zone in zones:
        zone.parking_space_ids, zone.evse_ids = spaces[zone.id], evses[zone.id]


async def _attach_to_spaces(s: AsyncSession, spaces: list[ParkingSpace]) -> None:
    evses = defaultdict(list)
    ids = [x.id for x in spaces]
    if ids:
        for space_id, evse_id in await s.execute(select(Evse.parking_space_id, Evse.id)
                                                 .where(Evse.parking_space_id.in_(ids)).order_by(Evse.id)):
            evses[space_id].append(evse_id)
    for space in spaces:
        space.evse_ids = evses[space.id]


async def zones_of(s: AsyncSession, location_ids: list[int]) -> dict[int, list[ChargingZone]]:
    """Each location's zones by id, for the location's own read."""
    found = defaultdict(list)
    if location_ids:
        for zone in await s.scalars(select(ChargingZone).where(ChargingZone.location_id.in_(location_ids))
                                    .order_by(ChargingZone.id)):
            found[zone.location_id].append(zone)
    return found
