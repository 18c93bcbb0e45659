"""Locations: create, read, update, delete, list."""

from collections import defaultdict

from sqlalchemy import func, select

from wattson.db import Database
from wattson.db.lookup import get_or_404
from wattson.errors import Conflict, Invalid
from wattson.locations.models import Location
from wattson.locations.rules import coordinates_problem
from wattson.stations.models import ChargePoint
from wattson.zones.service import zones_of

FIELDS = {"name", "street", "house_number", "building_number", "postal_code", "city", "country", "latitude",
          "longitude", "time_zone", "opening_hours", "parking_type", "publish"}


class LocationService:
    """Locations come back with ``charge_point_ids`` (the ids of the charge points standing there)
    and ``zones`` (their charging zones, zones/)."""

    def __init__(self, db: Database):
        self.db = db

    async def create(self, **fields) -> Location:
        _check_fields(fields)
        location = Location(**{k: v for k, v in fields.items() if v is not None})
        _check_coordinates(location)
        async with self.db.session() as s:
            s.add(location)
        location.charge_point_ids, location.zones = [], []
        return location

    async def get(self, id: int) -> Location:
        async with self.db.session() as s:
            location = await get_or_404(s, Location, id, "location")
            await _attach_charge_points(s, [location])
        return location

    async def find(self, limit: int, after_id: int | None = None, *, city: str | None = None,
                   country: str | None = None, publish: bool | None = None) -> list[Location]:
        """Locations by id; ``city`` matches ignoring case, ``country`` is alpha-3."""
        query = select(Location).order_by(Location.id).limit(limit)
        if after_id is not None:
            query = query.where(Location.id > after_id)
        if city is not None:
            query = query.where(func.lower(Location.city) == city.lower())
        if country is not None:
            query = query.where(Location.country == country)
        if publish is not None:
            query = query.where(Location.publish == publish)
        async with self.db.session() as s:
            rows = list(await s.scalars(query))
            await _attach_charge_points(s, rows)
        return rows

    async def update(self, id: int, **changes) -> Location:
        """Apply ``changes`` (only the fields given; None clears a nullable one)."""
        _check_fields(changes)
        for required in ("name", "time_zone", "publish"):
            if required in changes and changes[required] is None:
                raise Invalid(f"{required} cannot be null", [{"field": f"body.{required}", "message": "required"}])
        async with self.db.session() as s:
            location = await get_or_404(s, Location, id, "location")
            for name, value in changes.items():
                setattr(location, name, value)
            _check_coordinates(location)
            await s.flush()
            await _attach_charge_points(s, [location])
        return location

    async def delete(self, id: int) -> None:
        """Delete a location without charge points; one with charge points is a conflict."""
        async with self.db.session() as s:
            location = await get_or_404(s, Location, id, "location")
            count = await s.scalar(select(func.count()).select_from(ChargePoint).where(ChargePoint.location_id == id))
            if count:
                raise Conflict(f"location {id} still has {count} charge point{'s' if count != 1 else ''}; "
                               f"move or delete them first", {"charge_points": count})
            await s.delete(location)


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - FIELDS
    if unknown:
        raise Invalid(f"unknown location fields: {', '.join(sorted(unknown))}")


def _check_coordinates(location: Location) -> None:
    problem = coordinates_problem(location.latitude, location.longitude)
    if problem:
        missing = "latitude" if location.latitude is None else "longitude"
        raise Invalid(problem, [{"field": f"body.{missing}", "message": problem}])


async def _attach_charge_points(s, locations: list[Location]) -> None:
    """Set ``charge_point_ids`` and ``zones`` on each location (plain attributes, not columns)."""
    ids = defaultdict(list)
    if locations:
        rows = await s.execute(select(ChargePoint.location_id, ChargePoint.id)
                               .where(ChargePoint.location_id.in_([loc.id for loc in locations]))
                               .order_by(ChargePoint.id))
        for location_id, charge_point_id in rows:
            ids[location_id].append(charge_point_id)
    zones = await zones_of(s, [loc.id for loc in locations])
    for location in locations:
        location.charge_point_ids, location.zones = ids[location.id], zones[location.id]
