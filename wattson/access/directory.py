"""Drivers, driver groups, charger groups and the access rights between them.

Lists are in id order and take ``after_id`` (the last id of the previous page) and ``limit``.
Drivers, groups and rights come back as dicts shaped like the API's answers, their related rows
(home group, tags, members) loaded in one query per page.
"""

import hashlib
from dataclasses import dataclass

from sqlalchemy import Select, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from wattson.access.models import AccessRight, ChargerGroup, ChargerGroupMember, Driver, DriverGroup, IdToken
from wattson.access.rules import rights_allow
from wattson.db import Database
from wattson.db.lookup import get_or_404
from wattson.errors import Conflict, Invalid, NotFound
from wattson.stations.models import ChargePoint, Evse
from wattson.stations.status import ONLINE


@dataclass(slots=True)
class DriverFilter:
    home_group_id: int | None = None
    external_id: str | None = None
    email: str | None = None


def _after(query: Select, id_column, after_id: int | None, limit: int) -> Select:
    query = query.order_by(id_column).limit(limit)
    return query if after_id is None else query.where(id_column > after_id)


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", [{"field": field, "message": message}])


def _group(row) -> dict | None:
    return None if row is None else {"id": row.id, "name": row.name}


class DirectoryService:
    def __init__(self, db: Database):
        self.db = db

    # --- driver groups --------------------------------------------------------------------
    async def create_driver_group(self, name: str, external_id: str | None = None,
                                  charging_priority: int | None = None) -> DriverGroup:
        row = DriverGroup(name=name, external_id=external_id, charging_priority=charging_priority)
        async with self.db.session() as s:
            s.add(row)
        return row

    async def get_driver_group(self, group_id: int) -> DriverGroup:
        async with self.db.session() as s:
            return await self._driver_group(s, group_id)

    async def update_driver_group(self, group_id: int, changes: dict) -> DriverGroup:
        async with self.db.session() as s:
            row = await self._driver_group(s, group_id)
            for field, value in changes.items():
                setattr(row, field, value)
        return row

    async def delete_driver_group(self, group_id: int) -> None:
        """Its access rights go with it; its drivers keep their tags and have no home group."""
        async with self.db.session() as s:
            await s.delete(await self._driver_group(s, group_id))

    async def list_driver_groups(self, limit: int, after_id: int | None = None,
                                 external_id: str | None = None) -> list[DriverGroup]:
        query = _after(select(DriverGroup), DriverGroup.id, after_id, limit)
        if external_id is not None:
            query = query.where(DriverGroup.external_id == external_id)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    @staticmethod
    async def _driver_group(s: AsyncSession, group_id: int) -> DriverGroup:
        row = await get_or_404(s, DriverGroup, group_id, "driver group")
        return row

    # --- charger groups -------------------------------------------------------------------
    async def create_charger_group(self, name: str, external_id: str | None = None) -> dict:
        row = ChargerGroup(name=name, external_id=external_id)
        async with self.db.session() as s:
            s.add(row)
        return self._charger_group_view(row, [])

    async def get_charger_group(self, group_id: int) -> dict:
        async with self.db.session() as s:
            row = await self._charger_group(s, group_id)
            return (await self._charger_group_views(s, [row]))[0]

    async def update_charger_group(self, group_id: int, changes: dict) -> dict:
        async with self.db.session() as s:
            row = await self._charger_group(s, group_id)
            for field, value in changes.items():
                setattr(row, field, value)
            await s.flush()
            return (await self._charger_group_views(s, [row]))[0]

    async def delete_charger_group(self, group_id: int) -> None:
        """Its memberships and access rights go with it; its chargers stay."""
        async with self.db.session() as s:
            await s.delete(await self._charger_group(s, group_id))

    async def list_charger_groups(self, limit: int, after_id: int | None = None, external_id: str | None = None,
                                  charge_point_id: str | None = None) -> list[dict]:
        query = _after(select(ChargerGroup), ChargerGroup.id, after_id, limit)
        if external_id is not None:
            query = query.where(ChargerGroup.external_id == external_id)
        if charge_point_id is not None:
            query = query.where(ChargerGroup.id.in_(select(ChargerGroupMember.charger_group_id)
                                                    .where(ChargerGroupMember.charge_point_id == charge_point_id)))
        async with self.db.session() as s:
            return await self._charger_group_views(s, list(await s.scalars(query)))

    async def add_charge_point(self, group_id: int, charge_point_id: str) -> dict:
        """Put a charger in a group; already there is fine."""
        for attempt in (1, 2):
            try:
                async with self.db.session() as s:
                    row = await self._charger_group(s, group_id)
                    await self._charge_point(s, charge_point_id)
                    if await s.get(ChargerGroupMember, (group_id, charge_point_id)) is None:
                        s.add(ChargerGroupMember(charger_group_id=group_id, charge_point_id=charge_point_id))
                        await s.flush()
                    return (await self._charger_group_views(s, [row]))[0]
            except IntegrityError:
                if attempt == 2:  # pragma: no cover - a second race in a row
                    raise Conflict("the charger group changed meanwhile; try again") from None
                # A concurrent request added it, or deleted the group or charger: look again.

    async def remove_charge_point(self, group_id: int, charge_point_id: str) -> dict:
        async with self.db.session() as s:
            row = await self._charger_group(s, group_id)
            member = await s.get(ChargerGroupMember, (group_id, charge_point_id))
            if member is None:
                raise NotFound(f"charge point {charge_point_id} is not in charger group {group_id}")
            await s.delete(member)
            await s.flush()
            return (await self._charger_group_views(s, [row]))[0]

    @staticmethod
    async def _charger_group(s: AsyncSession, group_id: int) -> ChargerGroup:
        row = await get_or_404(s, ChargerGroup, group_id, "charger group")
        return row

    @staticmethod
    async def _charge_point(s: AsyncSession, charge_point_id: str) -> None:
        if await s.scalar(select(ChargePoint.id).where(ChargePoint.id == charge_point_id)) is None:
            raise NotFound(f"charge point {charge_point_id} not found")

    @staticmethod
    def _charger_group_view(row: ChargerGroup, charge_point_ids: list[str]) -> dict:
        return {"id": row.id, "name": row.name, "external_id": row.external_id, "created_at": row.created_at,
                "updated_at": row.updated_at, "charge_point_ids": charge_point_ids}

    async def _charger_group_views(self, s: AsyncSession, rows: list[ChargerGroup]) -> list[dict]:
        members: dict[int, list[str]] = {row.id: [] for row in rows}
        if rows:
            for group_id, cp_id in await s.execute(
                    select(ChargerGroupMember.charger_group_id, ChargerGroupMember.charge_point_id)
                    .where(ChargerGroupMember.charger_group_id.in_(members))
                    .order_by(ChargerGroupMember.charge_point_id)):
                members[group_id].append(cp_id)
        return [self._charger_group_view(row, members[row.id]) for row in rows]

    # --- drivers --------------------------------------------------------------------------
    async def create_driver(self, name: str, email: str | None = None, external_id: str | None = None,
                            home_group_id: int | None = None) -> dict:
        row = Driver(name=name, email=email, external_id=external_id, home_group_id=home_group_id)
        async with self.db.session() as s:
            await self._check_home_group(s, home_group_id)
            await self._claim_external_id(s, external_id, None)
            s.add(row)
            await s.flush()
            return (await self._driver_views(s, [row]))[0]

    async def get_driver(self, driver_id: int) -> dict:
        async with self.db.session() as s:
            return (await self._driver_views(s, [await self._driver(s, driver_id)]))[0]

    async def update_driver(self, driver_id: int, changes: dict) -> dict:
        async with self.db.session() as s:
            row = await self._driver(s, driver_id)
            if changes.get("home_group_id") not in (None, row.home_group_id):
                await self._check_home_group(s, changes["home_group_id"])
            if changes.get("external_id") not in (None, row.external_id):
                await self._claim_external_id(s, changes["external_id"], row.id)
            for field, value in changes.items():
                setattr(row, field, value)
            await s.flush()
            return (await self._driver_views(s, [row]))[0]

    async def delete_driver(self, driver_id: int) -> None:
        """The driver's tags stay, belonging to no one (and so admitted at open chargers only)."""
        async with self.db.session() as s:
            await s.delete(await self._driver(s, driver_id))

    async def list_drivers(self, where: DriverFilter, limit: int, after_id: int | None = None) -> list[dict]:
        query = _after(select(Driver), Driver.id, after_id, limit)
        if where.home_group_id is not None:
            query = query.where(Driver.home_group_id == where.home_group_id)
        if where.external_id is not None:
            query = query.where(Driver.external_id == where.external_id)
        if where.email is not None:
            query = query.where(func.lower(Driver.email) == where.email.lower())
        async with self.db.session() as s:
            return await self._driver_views(s, list(await s.scalars(query)))

    @staticmethod
    async def _driver(s: AsyncSession, driver_id: int) -> Driver:
        row = await get_or_404(s, Driver, driver_id, "driver")
        return row

    @staticmethod
    async def _check_home_group(s: AsyncSession, group_id: int | None) -> None:
        if group_id is not None and await s.get(DriverGroup, group_id) is None:
            raise _invalid("home_group_id", f"no driver group {group_id}")

    async def _claim_external_id(self, s: AsyncSession, external_id: str | None, driver_id: int | None) -> None:
        """External ids are unique among drivers. The schema has no unique index for it, so the check
        and the write that follows must not interleave with another's: on PostgreSQL a transaction
        lock on the value serialises them; SQLite runs one transaction at a time anyway."""
        if external_id is None:
            return
        if self.db.dialect == "postgresql":
            key = int.from_bytes(hashlib.sha256(f"drivers.external_id:{external_id}".encode()).digest()[:8],
                                 "big", signed=True)
            await s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        query = select(Driver.id).where(Driver.external_id == external_id).limit(1)
        if driver_id is not None:
            query = query.where(Driver.id != driver_id)
        if await s.scalar(query) is not None:
            raise Conflict(f"a driver with external_id {external_id!r} already exists",
                           [{"field": "external_id", "message": "already taken"}])

    async def _driver_views(self, s: AsyncSession, rows: list[Driver]) -> list[dict]:
        """Drivers with their home group and tags, in two queries for the whole page."""
        group_ids = {row.home_group_id for row in rows if row.home_group_id is not None}
        groups = {g.id: g for g in await s.scalars(select(DriverGroup).where(DriverGroup.id.in_(group_ids)))
                  } if group_ids else {}
        tags: dict[int, list[IdToken]] = {row.id: [] for row in rows}
        if rows:
            for tag in await s.scalars(select(IdToken).where(IdToken.driver_id.in_(tags)).order_by(IdToken.id)):
                tags[tag.driver_id].append(tag)
        return [{"id": row.id, "name": row.name, "email": row.email, "external_id": row.external_id,
                 "home_group": _group(groups.get(row.home_group_id)), "tags": tags[row.id],
                 "created_at": row.created_at, "updated_at": row.updated_at} for row in rows]

    # --- access rights --------------------------------------------------------------------
    async def create_access_right(self, driver_group_id: int, charger_group_id: int) -> dict:
        try:
            async with self.db.session() as s:
                if await s.get(DriverGroup, driver_group_id) is None:
                    raise _invalid("driver_group_id", f"no driver group {driver_group_id}")
                if await s.get(ChargerGroup, charger_group_id) is None:
                    raise _invalid("charger_group_id", f"no charger group {charger_group_id}")
                if await s.scalar(select(AccessRight.id).where(AccessRight.driver_group_id == driver_group_id,
                                                               AccessRight.charger_group_id == charger_group_id)):
                    raise _duplicate_right(driver_group_id, charger_group_id)
                row = AccessRight(driver_group_id=driver_group_id, charger_group_id=charger_group_id)
                s.add(row)
        except IntegrityError:  # the same right created concurrently, or a group deleted meanwhile
            async with self.db.session() as s:
                if await s.get(DriverGroup, driver_group_id) is None or \
                        await s.get(ChargerGroup, charger_group_id) is None:
                    raise Invalid("a group of this access right was deleted meanwhile") from None
            raise _duplicate_right(driver_group_id, charger_group_id) from None
        return await self.get_access_right(row.id)

    async def get_access_right(self, right_id: int) -> dict:
        rows = await self._rights(select(AccessRight, DriverGroup, ChargerGroup).where(AccessRight.id == right_id))
        if not rows:
            raise NotFound(f"access right {right_id} not found")
        return rows[0]

    async def delete_access_right(self, right_id: int) -> None:
        async with self.db.session() as s:
            row = await get_or_404(s, AccessRight, right_id, "access right")
            await s.delete(row)

    async def list_access_rights(self, limit: int, after_id: int | None = None, driver_group_id: int | None = None,
                                 charger_group_id: int | None = None) -> list[dict]:
        query = _after(select(AccessRight, DriverGroup, ChargerGroup), AccessRight.id, after_id, limit)
        if driver_group_id is not None:
            query = query.where(AccessRight.driver_group_id == driver_group_id)
        if charger_group_id is not None:
            query = query.where(AccessRight.charger_group_id == charger_group_id)
        return await self._rights(query)

    async def _rights(self, query: Select) -> list[dict]:
        query = (query.join(DriverGroup, DriverGroup.id == AccessRight.driver_group_id)
                 .join(ChargerGroup, ChargerGroup.id == AccessRight.charger_group_id))
        async with self.db.session() as s:
            return [{"id": right.id, "driver_group": _group(dg), "charger_group": _group(cg),
                     "created_at": right.created_at} for right, dg, cg in await s.execute(query)]

    # --- who may charge where -------------------------------------------------------------
    async def authorized_drivers(self, charge_point_id: str, limit: int,
                                 after_id: int | None = None) -> tuple[bool, list[dict]]:
        """Whether the charger is restricted, and a page of the drivers allowed to charge there.

        The rule is ``rights_allow``, the one ``AccessService.authorize`` applies: a driver's
        standing depends on their home group only, so the rule is evaluated per driver group and the
        drivers of the admitted groups are listed."""
        async with self.db.session() as s:
            await self._charge_point(s, charge_point_id)
            charger_groups = set(await s.scalars(select(ChargerGroupMember.charger_group_id)
                                                 .where(ChargerGroupMember.charge_point_id == charge_point_id)))
            restricted = not rights_allow(charger_groups, set())
            query = _after(select(Driver), Driver.id, after_id, limit)
            grants: dict[int, list[dict]] = {}
            if restricted:
                granted: dict[int, set[int]] = {}
                for right, dg, cg in await s.execute(
                        select(AccessRight, DriverGroup, ChargerGroup)
                        .join(DriverGroup, DriverGroup.id == AccessRight.driver_group_id)
                        .join(ChargerGroup, ChargerGroup.id == AccessRight.charger_group_id)
                        .where(AccessRight.charger_group_id.in_(charger_groups)).order_by(AccessRight.id)):
                    granted.setdefault(dg.id, set()).add(cg.id)
                    grants.setdefault(dg.id, []).append(
                        {"access_right_id": right.id, "driver_group": _group(dg), "charger_group": _group(cg)})
                admitted = [group for group, rights in granted.items() if rights_allow(charger_groups, rights)]
                query = query.where(Driver.home_group_id.in_(admitted))
            drivers = await self._driver_views(s, list(await s.scalars(query)))
            usable = await _usable_chargers(s, {d["home_group"]["id"] for d in drivers if d["home_group"]})
        for driver in drivers:
            group = driver["home_group"]
            driver["granted_by"] = grants.get(group["id"], []) if group else []
            driver["charger_groups"], driver["chargers"] = usable.get(group["id"], ([], [])) if group else ([], [])
        return restricted, drivers


async def _usable_chargers(s: AsyncSession, driver_groups: set[int]) -> dict[int, tuple[list[dict], list[dict]]]:
    """Per driver group, the charger groups its rights name (with their members and how many of
    their EVSEs are online, offline or faulted) and the chargers in them: where its drivers may
    charge besides the open chargers, which are in no group (seed 003's chargerGroups and chargers)."""
    if not driver_groups:
        return {}
    rights = (await s.execute(select(AccessRight.driver_group_id, ChargerGroup)
                              .join(ChargerGroup, ChargerGroup.id == AccessRight.charger_group_id)
                              .where(AccessRight.driver_group_id.in_(driver_groups))
                              .order_by(ChargerGroup.id))).all()
    group_ids = {group.id for _, group in rights}
    members: dict[int, list[str]] = {}
    stations: dict[str, ChargePoint] = {}
    if group_ids:
        for group_id, station in await s.execute(
                select(ChargerGroupMember.charger_group_id, ChargePoint)
                .join(ChargePoint, ChargePoint.id == ChargerGroupMember.charge_point_id)
                .where(ChargerGroupMember.charger_group_id.in_(group_ids)).order_by(ChargePoint.id)
                .options(selectinload(ChargePoint.evses).selectinload(Evse.connectors))):
            members.setdefault(group_id, []).append(station.id)
            stations[station.id] = station
    found: dict[int, tuple[list[dict], list[dict]]] = {}
    for driver_group_id, group in rights:
        groups, chargers = found.setdefault(driver_group_id, ([], []))
        ids = members.get(group.id, [])
        groups.append({"id": group.id, "name": group.name, "external_id": group.external_id, "charge_point_ids": ids,
                       **evse_counts([stations[i] for i in ids])})
        known = {c["id"] for c in chargers}
        chargers.extend(_charger(stations[i]) for i in ids if i not in known)
    for _, chargers in found.values():
        chargers.sort(key=lambda c: c["id"])
    return found


def evse_counts(stations: list[ChargePoint]) -> dict[str, int]:
    """How many of the stations' EVSEs are online and usable, offline, or faulted (seed 003's
    onlineSocket, offlineSocket, errorSocket)."""
    counts = {"online_evses": 0, "offline_evses": 0, "faulted_evses": 0}
    for station in stations:
        for evse in station.evses:
            if station.network_status != ONLINE:
                counts["offline_evses"] += 1
            elif "faulted" in {(station.hardware_status or "").lower(),
                               *[(c.hardware_status or "").lower() for c in evse.connectors]}:
                counts["faulted_evses"] += 1
            else:
                counts["online_evses"] += 1
    return counts


def _charger(station: ChargePoint) -> dict:
    return {"id": station.id, "name": station.name, "location_id": station.location_id, "vendor": station.vendor,
            "model": station.model, "serial_number": station.serial_number,
            "firmware_version": station.firmware_version, "network_status": station.network_status,
            "hardware_status": station.hardware_status, "last_seen": station.last_seen,
            "evse_count": len(station.evses)}


def _duplicate_right(driver_group_id: int, charger_group_id: int) -> Conflict:
    return Conflict(f"driver group {driver_group_id} already has a right to charger group {charger_group_id}")
