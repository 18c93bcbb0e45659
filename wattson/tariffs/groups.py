"""Tariff groups: storage, their tariffs, where they apply. Which tariff wins is ``precedence.py``;
``TariffService.resolve_many`` reads the groups for it."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.access.models import DriverGroup
from wattson.db import Database
from wattson.db.lookup import get_or_404
from wattson.errors import Conflict, Invalid, NotFound
from wattson.locations.models import Location
from wattson.stations.models import ChargePoint, Evse
from wattson.tariffs.models import Tariff, TariffGroup, TariffGroupAssignment, TariffGroupTariff

MAX_EVSES_SHOWN = 1000
_TARGETS = {"location_id": (Location, "location"), "charge_point_id": (ChargePoint, "charge point"),
            "driver_group_id": (DriverGroup, "driver group")}


@dataclass
class GroupView:
    """A group with what it holds and where it applies, as the API shows it."""

    id: int
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    tariffs: list[TariffGroupTariff] = field(default_factory=list)
    assignments: list[TariffGroupAssignment] = field(default_factory=list)
    evse_ids: list[int] = field(default_factory=list)


class TariffGroupService:
    def __init__(self, db: Database):
        self.db = db

    async def create(self, name: str, description: str | None, tariffs: list[dict]) -> GroupView:
        async with self.db.session() as s:
            await self._check(s, name, tariffs)
            group = TariffGroup(name=name, description=description)
            s.add(group)
            await s.flush()
            self._set_tariffs(s, group.id, tariffs)
            await s.flush()
            (view,) = await _views(s, [group])
        return view

    async def get(self, group_id: int) -> GroupView:
        async with self.db.session() as s:
            (view,) = await _views(s, [await get_or_404(s, TariffGroup, group_id, "tariff group")])
        return view

    async def find(self, limit: int, after_id: int | None = None, tariff_id: str | None = None,
                   driver_group_id: int | None = None, location_id: int | None = None,
                   charge_point_id: str | None = None, name: str | None = None) -> list[GroupView]:
        """In id order. ``tariff_id``: groups holding that tariff; ``driver_group_id``: holding a tariff
        for that driver group or assigned for it; ``location_id``/``charge_point_id``: assigned
        there; ``name``: whose name contains it (any case)."""
        query = select(TariffGroup).order_by(TariffGroup.id).limit(limit)
        if after_id is not None:
            query = query.where(TariffGroup.id > after_id)
        held = select(TariffGroupTariff.tariff_group_id)
        placed = select(TariffGroupAssignment.tariff_group_id)
        if tariff_id is not None:
            query = query.where(TariffGroup.id.in_(held.where(TariffGroupTariff.tariff_id == tariff_id)))
        if driver_group_id is not None:
            query = query.where(or_(
                TariffGroup.id.in_(held.where(TariffGroupTariff.driver_group_id == driver_group_id)),
                TariffGroup.id.in_(placed.where(TariffGroupAssignment.driver_group_id == driver_group_id))))
        if location_id is not None:
            query = query.where(TariffGroup.id.in_(placed.where(TariffGroupAssignment.location_id == location_id)))
        if charge_point_id is not None:
            query = query.where(TariffGroup.id.in_(placed.where(
                TariffGroupAssignment.charge_point_id == charge_point_id)))
        if name:
            query = query.where(func.lower(TariffGroup.name).contains(name.lower(), autoescape=True))
        async with self.db.session() as s:
            return await _views(s, list(await s.scalars(query)))

    async def replace(self, group_id: int, name: str, description: str | None, tariffs: list[dict]) -> GroupView:
        """A new content for the group; sessions already begun keep the tariff they took."""
        async with self.db.session() as s:
            group = await get_or_404(s, TariffGroup, group_id, "tariff group")
            await self._check(s, name, tariffs, group_id)
            group.name, group.description = name, description
            await s.execute(delete(TariffGroupTariff).where(TariffGroupTariff.tariff_group_id == group_id))
            self._set_tariffs(s, group_id, tariffs)
            await s.flush()
            (view,) = await _views(s, [group])
        return view

    async def delete(self, group_id: int) -> None:
        """Only a group nothing applies: its assignments and the EVSEs naming it must let go first."""
        async with self.db.session() as s:
            group = await get_or_404(s, TariffGroup, group_id, "tariff group")
            assignments = await s.scalar(select(func.count()).where(TariffGroupAssignment.tariff_group_id == group_id))
            evses = await s.scalar(select(func.count()).where(Evse.tariff_group_id == group_id))
            if assignments or evses:
                raise Conflict(f"tariff group {group_id} is still in use", {"assignments": assignments, "evses": evses})
            await s.execute(delete(TariffGroupTariff).where(TariffGroupTariff.tariff_group_id == group_id))
            await s.delete(group)

    async def assign(self, group_id: int, **scope) -> TariffGroupAssignment:
        """One assignment per place and driver group (another group there: 409)."""
        scope = {k: v for k, v in scope.items() if v is not None}
        async with self.db.session() as s:
            await get_or_404(s, TariffGroup, group_id, "tariff group")
            for name, value in scope.items():
                model, what = _TARGETS[name]
                if await s.get(model, value) is None:
                    raise Invalid(f"{what} {value!r} not found", [{"field": f"body.{name}", "message": "not found"}])
            existing = await s.scalar(select(TariffGroupAssignment.id).where(*[
                getattr(TariffGroupAssignment, name) == scope[name] if name in scope
                else getattr(TariffGroupAssignment, name).is_(None) for name in _TARGETS]))
            if existing is not None:
                raise Conflict(f"tariff group assignment {existing} already covers this place and driver group; "
                               "delete it first", {"assignment_id": existing})
            assignment = TariffGroupAssignment(tariff_group_id=group_id, **scope)
            s.add(assignment)
        return assignment

    async def unassign(self, group_id: int, assignment_id: int) -> None:
        async with self.db.session() as s:
            assignment = await get_or_404(s, TariffGroupAssignment, assignment_id, "tariff group assignment")
            if assignment.tariff_group_id != group_id:
                raise NotFound(f"tariff group {group_id} has no assignment {assignment_id}")
            await s.delete(assignment)

    # --- inside ---------------------------------------------------------------------------
    @staticmethod
    async def _check(s: AsyncSession, name: str, tariffs: list[dict], group_id: int | None = None) -> None:
        same = await s.scalar(select(TariffGroup.id).where(TariffGroup.name == name))
        if same is not None and same != group_id:
            raise Conflict(f"tariff group {same} is named {name!r} already", {"tariff_group_id": same})
        for index, entry in enumerate(tariffs):
            if await s.get(Tariff, entry["tariff_id"]) is None:
                raise Invalid(f"tariff {entry['tariff_id']!r} not found",
                              [{"field": f"body.tariffs.{index}.tariff_id", "message": "not found"}])
            if entry.get("driver_group_id") is not None and await s.get(DriverGroup, entry["driver_group_id"]) is None:
                raise Invalid(f"driver group {entry['driver_group_id']} not found",
                              [{"field": f"body.tariffs.{index}.driver_group_id", "message": "not found"}])

    @staticmethod
    def _set_tariffs(s: AsyncSession, group_id: int, tariffs: list[dict]) -> None:
        s.add_all([TariffGroupTariff(tariff_group_id=group_id, position=position, **entry)
                   for position, entry in enumerate(tariffs)])


async def check_tariff_group(s: AsyncSession, group_id: int | None, field_name: str = "body.tariff_group_id") -> None:
    """For features that name a group (an EVSE's ``tariff_group_id``): 422 when it does not exist."""
    if group_id is not None and await s.get(TariffGroup, group_id) is None:
        raise Invalid(f"tariff group {group_id} not found", [{"field": field_name, "message": "not found"}])


async def _views(s: AsyncSession, groups: list[TariffGroup]) -> list[GroupView]:
    """The groups with their tariffs, assignments and EVSEs: three statements for any number."""
    views = {g.id: GroupView(g.id, g.name, g.description, g.created_at, g.updated_at) for g in groups}
    if views:
        ids = list(views)
        for entry in await s.scalars(select(TariffGroupTariff).where(TariffGroupTariff.tariff_group_id.in_(ids))
                                     .order_by(TariffGroupTariff.position, TariffGroupTariff.id)):
            views[entry.tariff_group_id].tariffs.append(entry)
        for assignment in await s.scalars(select(TariffGroupAssignment)
                                          .where(TariffGroupAssignment.tariff_group_id.in_(ids))
                                          .order_by(TariffGroupAssignment.id)):
            views[assignment.tariff_group_id].assignments.append(assignment)
        for evse_id, group_id in await s.execute(select(Evse.id, Evse.tariff_group_id)
                                                 .where(Evse.tariff_group_id.in_(ids)).order_by(Evse.id)):
            if len(views[group_id].evse_ids) < MAX_EVSES_SHOWN:
                views[group_id].evse_ids.append(evse_id)
    return list(views.values())
