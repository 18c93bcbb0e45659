"""Tariffs: storage, assignments, network settings, and which tariff applies to a new session."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.access.models import DriverGroup
from wattson.db import Database
from wattson.db.lookup import get_or_404
from wattson.db.one_of import one_of
from wattson.db.paging import by_id
from wattson.errors import Conflict, Invalid
from wattson.locations.models import Location
from wattson.stations.models import ChargePoint, Connector, Evse
from wattson.tariffs.models import (AD_HOC, REGULAR, NetworkSettings, Tariff, TariffAssignment, TariffGroupAssignment,
                                    TariffGroupTariff)
from wattson.tariffs.precedence import SCOPES, Candidate, best

_TARGETS = {"connector_id": (Connector, "connector"), "evse_id": (Evse, "EVSE"),
            "charge_point_id": (ChargePoint, "charge point"), "location_id": (Location, "location"),
            "driver_group_id": (DriverGroup, "driver group")}


@dataclass(frozen=True, slots=True)
class Place:
    """Where (and for whom) a session runs: what tariff resolution looks at."""

    charge_point_id: str
    evse_id: int | None = None  # the EVSE row
    connector: int | None = None  # the connector number on that EVSE
    location_id: int | None = None
    driver_group_id: int | None = None


class TariffService:
    def __init__(self, db: Database):
        self.db = db

    # --- tariffs ------------------------------------------------------------------------------
    async def create(self, body: dict) -> Tariff:
        tariff_id = body.pop("id", None) or uuid.uuid4().hex[:12].upper()
        async with self.db.session() as s:
            if await s.get(Tariff, tariff_id) is not None:
                raise Conflict(f"tariff {tariff_id!r} already exists")
            tariff = Tariff(id=tariff_id, **_columns(body), body=body)
            s.add(tariff)
        tariff.assignment_count = 0
        return tariff

    async def get(self, tariff_id: str) -> Tariff:
        async with self.db.session() as s:
            tariff = await get_or_404(s, Tariff, tariff_id, "tariff")
            await _count_assignments(s, [tariff])
        return tariff

    async def find(self, limit: int, after_id: str | None = None, currency: str | None = None,
                   type: str | None = None) -> list[Tariff]:
        query = by_id(Tariff, limit, after_id, currency=currency.upper() if currency else None, type=type)
        async with self.db.session() as s:
            rows = list(await s.scalars(query))
            await _count_assignments(s, rows)
        return rows

    async def replace(self, tariff_id: str, body: dict) -> Tariff:
        """A new version of the tariff; sessions already begun keep the copy they took."""
        async with self.db.session() as s:
            tariff = await get_or_404(s, Tariff, tariff_id, "tariff")
            for name, value in _columns(body).items():
                setattr(tariff, name, value)
            tariff.body = body
            await s.flush()
            await _count_assignments(s, [tariff])
        return tariff

    async def delete(self, tariff_id: str) -> None:
        """Only a tariff nothing points at: assignments and settings must let go of it first."""
        async with self.db.session() as s:
            tariff = await get_or_404(s, Tariff, tariff_id, "tariff")
            await _count_assignments(s, [tariff])
            settings = await s.get(NetworkSettings, 1)
            named = settings is not None and tariff_id in (settings.default_tariff_id, settings.ad_hoc_tariff_id)
            grouped = await s.scalar(select(func.count()).where(TariffGroupTariff.tariff_id == tariff_id))
            if tariff.assignment_count or named or grouped:
                raise Conflict(f"tariff {tariff_id!r} is still in use",
                               {"assignments": tariff.assignment_count, "network_settings": named,
                                "tariff_groups": grouped})
            await s.delete(tariff)

    # --- assignments --------------------------------------------------------------------------
    async def assign(self, tariff_id: str, kind: str = REGULAR, **scope) -> TariffAssignment:
        """Put a tariff on a connector, EVSE, charge point, location, or (for a driver group or
        the ad hoc tariff) the whole network. One assignment per place, kind and group."""
        scope = {k: v for k, v in scope.items() if v is not None}
        if not any(k in scope for k in SCOPES) and "driver_group_id" not in scope and kind == REGULAR:
            raise Invalid("a regular tariff for the whole network is the default tariff: "
                          "set it with PATCH /api/v1/settings",
                          [{"field": "body", "message": "name a place or a driver group"}])
        async with self.db.session() as s:
            await get_or_404(s, Tariff, tariff_id, "tariff")
            for name, value in scope.items():
                model, what = _TARGETS[name]
                if await s.get(model, value) is None:
                    raise Invalid(f"{what} {value!r} not found", [{"field": f"body.{name}", "message": "not found"}])
            same = select(TariffAssignment.id).where(TariffAssignment.kind == kind, *[
                getattr(TariffAssignment, name) == scope[name] if name in scope
                else getattr(TariffAssignment, name).is_(None) for name in (*SCOPES, "driver_group_id")])
            existing = await s.scalar(same)
            if existing is not None:
                raise Conflict(f"assignment {existing} already covers this place, kind and group; delete it first",
                               {"assignment_id": existing})
            assignment = TariffAssignment(tariff_id=tariff_id, kind=kind, **scope)
            s.add(assignment)
        return assignment

    async def assignments(self, limit: int, after_id: int | None = None, **filters) -> list[TariffAssignment]:
        async with self.db.session() as s:
            return list(await s.scalars(by_id(TariffAssignment, limit, after_id, **filters)))

    async def unassign(self, assignment_id: int) -> None:
        async with self.db.session() as s:
            await s.delete(await get_or_404(s, TariffAssignment, assignment_id, "tariff assignment"))

    # --- settings -----------------------------------------------------------------------------
    async def settings(self) -> NetworkSettings:
        async with self.db.session() as s:
            return await s.get(NetworkSettings, 1) or NetworkSettings(id=1, updated_at=None)

    async def update_settings(self, **changes) -> NetworkSettings:
        async with self.db.session() as s:
            for name, value in changes.items():
                if value is not None and await s.get(Tariff, value) is None:
                    raise Invalid(f"tariff {value!r} not found", [{"field": f"body.{name}", "message": "not found"}])
            settings = await s.get(NetworkSettings, 1)
            if settings is None:
                settings = NetworkSettings(id=1)
                s.add(settings)
            for name, value in changes.items():
                setattr(settings, name, value)
        return settings

    # --- resolution ---------------------------------------------------------------------------
    async def applicable(self, charge_point_id: str, evse: int | None, connector: int | None,
                         driver_group_id: int | None, at: datetime, kind: str = REGULAR) -> Tariff | None:
        """The tariff a session starting ``at`` would get at this charge point (EVSE ``evse``,
        connector ``connector``: OCPP numbers) for a driver of ``driver_group_id``."""
        async with self.db.session() as s:
            station = await get_or_404(s, ChargePoint, charge_point_id, "charge point")
            evse_id = None
            if evse is not None:
                evse_id = await s.scalar(select(Evse.id).where(Evse.charge_point_id == charge_point_id,
                                                               Evse.number == evse))
            place = Place(charge_point_id=charge_point_id, evse_id=evse_id, connector=connector,
                          location_id=station.location_id, driver_group_id=driver_group_id)
            tariff = await self.resolve(s, place, at, kind)
            if tariff is not None:
                await _count_assignments(s, [tariff])
            return tariff

    async def resolve(self, s: AsyncSession, place: Place, at: datetime, kind: str = REGULAR) -> Tariff | None:
        """The tariff a session starting ``at`` in ``place`` gets: the driver group's own
        assignment first (most specific place first, the whole network last), then everyone's
        (most specific place first), then the network's default; a tariff group's tariffs count
        as assigned where the group is, after a tariff assigned on its own there
        (``precedence.py``). A tariff outside its validity window at ``at`` is passed over."""
        return (await self.resolve_many(s, [(place, at)], kind))[0]

    async def resolve_many(self, s: AsyncSession, asks: list[tuple[Place, datetime]],
                           kind: str = REGULAR) -> list[Tariff | None]:
        """``resolve`` for many sessions at once, as a start storm asks: the same few queries
        whatever their number (connectors, candidate assignments, the network's default)."""
        evse_ids = {p.evse_id for p, _ in asks if p.evse_id is not None and p.connector is not None}
        connectors = dict(((evse_id, number), id_) for id_, evse_id, number in await s.execute(
            select(Connector.id, Connector.evse_id, Connector.number).where(one_of(s, Connector.evse_id, evse_ids)))) \
            if evse_ids else {}
        heres = [{"connector_id": connectors.get((p.evse_id, p.connector)), "evse_id": p.evse_id,
                  "charge_point_id": p.charge_point_id, "location_id": p.location_id} for p, _ in asks]
        scoped = [one_of(s, getattr(TariffAssignment, name), values) for name in SCOPES
                  if (values := {here[name] for here in heres} - {None})]
        groups = {p.driver_group_id for p, _ in asks} - {None}
        candidates = [Candidate(tariff, *_placed(assignment), driver_groups=_limited(assignment.driver_group_id))
                      for assignment, tariff in (await s.execute(
                          select(TariffAssignment, Tariff).join(Tariff, Tariff.id == TariffAssignment.tariff_id)
                          .where(TariffAssignment.kind == kind,
                                 or_(TariffAssignment.driver_group_id.is_(None),
                                     one_of(s, TariffAssignment.driver_group_id, groups)),
                                 or_(*scoped, _network_wide())))).all()]
        candidates += await _group_candidates(s, heres, groups, kind)
        settings = await s.get(NetworkSettings, 1)
        default_id = settings and (settings.ad_hoc_tariff_id if kind == AD_HOC else settings.default_tariff_id)
        default = await s.get(Tariff, default_id) if default_id else None
        chosen = []
        for (place, at), here in zip(asks, heres):
            tariff = best([c for c in candidates if valid_at(c.tariff, at)], here, place.driver_group_id)
            chosen.append(tariff or (default if default is not None and valid_at(default, at) else None))
        return chosen


def valid_at(tariff: Tariff, at: datetime) -> bool:
    """Whether ``tariff``'s validity window holds ``at`` (from its start, up to its end)."""
    return ((tariff.start_date_time is None or tariff.start_date_time <= at)
            and (tariff.end_date_time is None or tariff.end_date_time > at))


def _placed(assignment: TariffAssignment) -> tuple[str | None, object]:
    """(scope, id) of the most specific place an assignment names; (None, None): the network."""
    for name in SCOPES:
        if getattr(assignment, name) is not None:
            return name, getattr(assignment, name)
    return None, None


def _limited(*driver_groups: int | None) -> tuple:
    return tuple(g for g in driver_groups if g is not None)


async def _group_candidates(s: AsyncSession, heres: list[dict], groups: set[int], kind: str) -> list[Candidate]:
    """The tariffs of the tariff groups that apply at these places: assigned to their locations,
    charge points or (for a driver group) the network, or named by their EVSEs. Two statements."""
    fits = (TariffGroupTariff.kind == kind,
            or_(TariffGroupTariff.driver_group_id.is_(None), one_of(s, TariffGroupTariff.driver_group_id, groups)))
    a = TariffGroupAssignment
    places = [one_of(s, getattr(a, name), values) for name in ("charge_point_id", "location_id")
              if (values := {here[name] for here in heres} - {None})]
    assigned = await s.execute(
        select(a.location_id, a.charge_point_id, a.driver_group_id, TariffGroupTariff, Tariff)
        .join(TariffGroupTariff, TariffGroupTariff.tariff_group_id == a.tariff_group_id)
        .join(Tariff, Tariff.id == TariffGroupTariff.tariff_id)
        .where(*fits, or_(a.driver_group_id.is_(None), one_of(s, a.driver_group_id, groups)),
               or_(*places, a.location_id.is_(None) & a.charge_point_id.is_(None))))
    candidates = [Candidate(tariff, *(("charge_point_id", cp) if cp is not None else ("location_id", location)
                                      if location is not None else (None, None)),
                            driver_groups=_limited(group, entry.driver_group_id), via_group=True,
                            entry_for_group=entry.driver_group_id is not None, position=entry.position)
                  for location, cp, group, entry, tariff in assigned]
    evse_ids = {here["evse_id"] for here in heres} - {None}
    if evse_ids:
        named = await s.execute(
            select(Evse.id, TariffGroupTariff, Tariff)
            .join(TariffGroupTariff, TariffGroupTariff.tariff_group_id == Evse.tariff_group_id)
            .join(Tariff, Tariff.id == TariffGroupTariff.tariff_id).where(one_of(s, Evse.id, evse_ids), *fits))
        candidates += [Candidate(tariff, "evse_id", evse_id, driver_groups=_limited(entry.driver_group_id),
                                 via_group=True, entry_for_group=entry.driver_group_id is not None,
                                 position=entry.position) for evse_id, entry, tariff in named]
    return candidates


def _network_wide():
    return TariffAssignment.connector_id.is_(None) & TariffAssignment.evse_id.is_(None) & \
        TariffAssignment.charge_point_id.is_(None) & TariffAssignment.location_id.is_(None)


def _columns(body: dict) -> dict:
    """The searchable columns of a tariff body (JSON-mode: times are ISO strings)."""
    return {"currency": body["currency"], "type": body.get("type"),
            "start_date_time": _time(body.get("start_date_time")), "end_date_time": _time(body.get("end_date_time"))}


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _count_assignments(s: AsyncSession, tariffs: list[Tariff]) -> None:
    counts = {}
    if tariffs:
        counts = dict((await s.execute(select(TariffAssignment.tariff_id, func.count())
                                       .where(TariffAssignment.tariff_id.in_([t.id for t in tariffs]))
                                       .group_by(TariffAssignment.tariff_id))).all())
    for tariff in tariffs:
        tariff.assignment_count = counts.get(tariff.id, 0)
