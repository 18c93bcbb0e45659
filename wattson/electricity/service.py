"""Electricity rates: create, read, update, delete, list; the rates as the pricing rules take them."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.db import Database
from wattson.db.lookup import get_or_404
from wattson.db.paging import by_id
from wattson.electricity.models import ElectricityRate, ElectricityRateLocation
from wattson.electricity.rules import Period, Rate, energy_cost, linear, rates_for
from wattson.electricity.schemas import assignment_problem, period_json
from wattson.errors import Invalid
from wattson.locations.models import Location


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": f"body.{field}", "message": message}])


def as_rule(row: ElectricityRate, location_ids) -> Rate:
    return Rate(id=row.id, currency=row.currency, price_per_kwh=Decimal(row.price_per_kwh),
                time_zone=row.time_zone, valid_from=row.valid_from, valid_to=row.valid_to,
                location_ids=frozenset(location_ids), is_default=row.is_default,
                periods=tuple(Period(frozenset(p["weekdays"]), p["from"], p["to"], Decimal(p["price_per_kwh"]))
                              for p in row.periods))


async def all_rates(s: AsyncSession) -> list[Rate]:
    """Every rate, as the pricing rules take them (an operator has a handful)."""
    rows = list(await s.scalars(select(ElectricityRate)))
    assigned = await _locations(s, [r.id for r in rows])
    return [as_rule(r, assigned.get(r.id, [])) for r in rows]


async def session_energy_costs(s: AsyncSession, sessions) -> dict[int, tuple[Decimal, str]]:
    """(energy cost, currency) of each (id, location_id, started_at, stopped_at, energy_wh) session,
    its energy spread linearly from start to stop; a session no rate covers is left out."""
    sessions = list(sessions)
    if not sessions:
        return {}
    rates = await all_rates(s)
    if not rates:
        return {}
    costs, by_location = {}, {}
    for id_, location_id, started_at, stopped_at, energy_wh in sessions:
        if location_id not in by_location:
            by_location[location_id] = rates_for(rates, location_id)
        cost = energy_cost(by_location[location_id], linear(started_at, stopped_at or started_at, energy_wh or 0))
        if cost is not None:
            costs[id_] = (cost.amount, cost.currency)
    return costs


async def _locations(s: AsyncSession, ids: list[int]) -> dict[int, list[int]]:
    assigned: dict[int, list[int]] = {}
    if ids:
        rows = await s.execute(select(ElectricityRateLocation.rate_id, ElectricityRateLocation.location_id)
                               .where(ElectricityRateLocation.rate_id.in_(ids))
                               .order_by(ElectricityRateLocation.location_id))
        for rate_id, location_id in rows:
            assigned.setdefault(rate_id, []).append(location_id)
    return assigned


def out(row: ElectricityRate, location_ids: list[int]) -> dict:
    return {"id": row.id, "name": row.name, "currency": row.currency, "price_per_kwh": float(row.price_per_kwh),
            "periods": [{**p, "price_per_kwh": float(p["price_per_kwh"])} for p in row.periods],
            "time_zone": row.time_zone, "valid_from": row.valid_from, "valid_to": row.valid_to,
            "location_ids": location_ids, "is_default": row.is_default, "created_at": row.created_at, "updated_at": row.updated_at}


class ElectricityRateService:
    def __init__(self, db: Database):
        self.db = db

    async def create(self, location_ids: list[int], periods: list, **fields) -> dict:
        async with self.db.session() as s:
            await _check_locations(s, location_ids)
            row = ElectricityRate(**_stored(fields), periods=[period_json(p) for p in periods])
            s.add(row)
            await s.flush()
            s.add_all(ElectricityRateLocation(rate_id=row.id, location_id=i) for i in location_ids)
            await s.flush()
            return out(row, sorted(location_ids))

    async def get(self, id: int) -> dict:
        async with self.db.session() as s:
            row = await get_or_404(s, ElectricityRate, id, "electricity rate")
            return out(row, (await _locations(s, [id])).get(id, []))

    async def find(self, limit: int, after_id: int | None = None, *, location_id: int | None = None,
                   currency: str | None = None, at: datetime | None = None) -> list[dict]:
        """Rates by id; ``location_id``: the rates assigned to it; ``at``: the rates in force then."""
        query = by_id(ElectricityRate, limit, after_id, currency=currency)
        if location_id is not None:
            query = query.where(ElectricityRate.id.in_(select(ElectricityRateLocation.rate_id)
                                                       .where(ElectricityRateLocation.location_id == location_id)))
        if at is not None:
            query = query.where((ElectricityRate.valid_from.is_(None)) | (ElectricityRate.valid_from <= at),
                                (ElectricityRate.valid_to.is_(None)) | (ElectricityRate.valid_to > at))
        async with self.db.session() as s:
            rows = list(await s.scalars(query))
            assigned = await _locations(s, [r.id for r in rows])
            return [out(r, assigned.get(r.id, [])) for r in rows]

    async def update(self, id: int, location_ids: list[int] | None = None, periods: list | None = None,
                     **changes) -> dict:
        async with self.db.session() as s:
            row = await get_or_404(s, ElectricityRate, id, "electricity rate")
            valid_from = changes.get("valid_from", row.valid_from)
            valid_to = changes.get("valid_to", row.valid_to)
            if valid_from is not None and valid_to is not None and valid_from >= valid_to:
                raise _invalid("valid_to", "valid_from must be before valid_to")
            current = (await _locations(s, [id])).get(id, [])
            problem = assignment_problem(changes.get("is_default", row.is_default),
                                         current if location_ids is None else location_ids)
            if problem:
                raise _invalid("location_ids", problem)
            for name, value in _stored(changes).items():
                setattr(row, name, value)
            if periods is not None:
                row.periods = [period_json(p) for p in periods]
            if location_ids is not None:
                await _check_locations(s, location_ids)
                await s.execute(delete(ElectricityRateLocation).where(ElectricityRateLocation.rate_id == id))
                s.add_all(ElectricityRateLocation(rate_id=id, location_id=i) for i in location_ids)
            await s.flush()
            return out(row, (await _locations(s, [id])).get(id, []))

    async def delete(self, id: int) -> None:
        async with self.db.session() as s:
            await s.delete(await get_or_404(s, ElectricityRate, id, "electricity rate"))


def _stored(fields: dict) -> dict:
    return {name: str(value) if name == "price_per_kwh" else value for name, value in fields.items()}


async def _check_locations(s: AsyncSession, ids: list[int]) -> None:
    if not ids:
        return
    known = set(await s.scalars(select(Location.id).where(Location.id.in_(ids))))
    missing = [i for i in ids if i not in known]
    if missing:
        raise _invalid("location_ids", f"no such location: {', '.join(map(str, missing))}")
