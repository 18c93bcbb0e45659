"""Which catalogue model a booting station is: its reported vendor and model names matched to a
known model (``rules.name_key``: ignoring case and extra blanks), a vendor and model unknown so far
created as discovered.

Boots come in batches (``stations/writer.py``): one query finds the models of a whole batch, with
two more inserts and a second look only when the batch names a model seen for the first time.
No cache: a model renamed or deleted through the API (in any process) is matched as it is now.
Two batches at once (PostgreSQL) may discover the same model: the inserts skip what the other
wrote, and the second look finds it.
"""

from sqlalchemy import ARRAY, any_, bindparam, select

from wattson.catalogue.models import ChargePointModel, Vendor
from wattson.catalogue.rules import name_key
from wattson.db import utcnow

_vendors, _models = Vendor.__table__, ChargePointModel.__table__
#: the longest name a vendor or model keeps (OCPP 2.x allows 50 and 20; 1.6 20 each)
NAME_MAX = 50


def _one_of(conn, column, values):
    """``column IN values``, one statement whatever their number on PostgreSQL (``db/one_of.py``)."""
    values = sorted(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def _insert(conn, table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


def reported_keys(vendor: str | None, model: str | None) -> tuple[str, str] | None:
    """The (vendor, model) key a boot is matched by; None when either name is blank."""
    vendor_key, model_key = name_key(_cut(vendor)), name_key(_cut(model))
    return (vendor_key, model_key) if vendor_key and model_key else None


def _cut(name: str | None) -> str | None:
    return None if name is None else " ".join(name.split())[:NAME_MAX]


async def model_ids(conn, reported: list[tuple[str | None, str | None]]) -> dict[tuple[str, str], int]:
    """(vendor key, model key) → model id for each reported (vendor name, model name) with both
    names given, creating the unknown ones as discovered (named as first reported)."""
    names = {}
    for vendor, model in reported:
        key = reported_keys(vendor, model)
        if key is not None:
            names.setdefault(key, (_cut(vendor), _cut(model)))
    if not names:
        return {}
    found = await _find(conn, names)
    missing = {key: names[key] for key in names if key not in found}
    if missing:
        await _discover(conn, missing)
        found.update(await _find(conn, missing))
    return found


async def _find(conn, names: dict) -> dict[tuple[str, str], int]:
    query = (select(_models.c.id, _vendors.c.name_key, _models.c.name_key)
             .join(_vendors, _vendors.c.id == _models.c.vendor_id)
             .where(_one_of(conn, _vendors.c.name_key, {v for v, _ in names}),
                    _one_of(conn, _models.c.name_key, {m for _, m in names})))
    return {(vendor, model): id for id, vendor, model in await conn.execute(query) if (vendor, model) in names}


async def _discover(conn, missing: dict) -> None:
    """Insert the vendors and models not known yet, in key order (two batches at once lock alike)."""
    now = utcnow()
    vendors = {}
    for (vendor_key, _), (vendor, _) in sorted(missing.items()):
        vendors.setdefault(vendor_key, vendor)
    await conn.execute(_insert(conn, _vendors), [
        {"name": name, "name_key": key, "discovered": True, "created_at": now, "updated_at": now}
        for key, name in sorted(vendors.items())])
    vendor_ids = dict((key, id) for id, key in await conn.execute(
        select(_vendors.c.id, _vendors.c.name_key).where(_one_of(conn, _vendors.c.name_key, vendors))))
    await conn.execute(_insert(conn, _models), [
        {"vendor_id": vendor_ids[vendor_key], "name": model, "name_key": model_key, "connectors": [],
         "ocpp_versions": [], "tags": [], "discovered": True, "created_at": now, "updated_at": now}
        for (vendor_key, model_key), (_, model) in sorted(missing.items()) if vendor_key in vendor_ids])
