"""The catalogue: vendors, charge point models and vendor error codes (create, read, update,
delete, list, import), the errors 2.x stations report through NotifyEvent, and a station's
current errors decoded by its vendor's codes."""

from collections import defaultdict
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from wattson.catalogue import rules
from wattson.catalogue.models import ChargePointModel, StationError, Vendor, VendorErrorCode
from wattson.db import Database
from wattson.db.lookup import get_or_404
from wattson.errors import Conflict, Invalid
from wattson.stations.models import ChargePoint, StatusEvent

VENDOR_FIELDS = {"name", "website", "support_email", "support_phone", "notes", "discovered"}
MODEL_FIELDS = {"name", "evse_count", "connectors", "max_power_w", "ocpp_versions", "quirks", "tags", "discovered"}
CODE_FIELDS = {"code", "description", "severity", "suggested_action"}
#: what a null given for these means: the empty list
LISTS = ("connectors", "ocpp_versions", "tags")


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": f"body.{field}", "message": message}])


def _check(fields: dict, allowed: set, what: str, required: tuple = ()) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise Invalid(f"unknown {what} fields: {', '.join(sorted(unknown))}")
    for name in required:
        if name in fields and fields[name] is None:
            raise _invalid(name, f"{name} cannot be null")


@asynccontextmanager
async def _unique(message: str):
    """A unique key taken by a change saved at the same time: the 409 a check before would give."""
    try:
        yield
    except IntegrityError:
        raise Conflict(message) from None


class CatalogueService:
    def __init__(self, db: Database):
        self.db = db

    # --- vendors ----------------------------------------------------------------------------
    async def create_vendor(self, **fields) -> Vendor:
        _check(fields, VENDOR_FIELDS, "vendor")
        vendor = Vendor(**fields, name_key=rules.name_key(fields["name"]))
        async with _unique(f"a vendor named {fields['name']!r} exists"):
            async with self.db.session() as s:
                await self._free_vendor_name(s, vendor.name_key, fields["name"])
                s.add(vendor)
        return vendor

    async def get_vendor(self, id: int) -> Vendor:
        async with self.db.session() as s:
            return await get_or_404(s, Vendor, id, "vendor")

    async def find_vendors(self, limit: int, after_id: int | None = None, *, name: str | None = None,
                           discovered: bool | None = None) -> list[Vendor]:
        """Vendors by id; ``name`` matches as a boot's vendor name does."""
        query = select(Vendor).order_by(Vendor.id).limit(limit)
        if after_id is not None:
            query = query.where(Vendor.id > after_id)
        if name is not None:
            query = query.where(Vendor.name_key == rules.name_key(name))
        if discovered is not None:
            query = query.where(Vendor.discovered == discovered)
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def update_vendor(self, id: int, **changes) -> Vendor:
        _check(changes, VENDOR_FIELDS, "vendor", ("name", "discovered"))
        async with _unique(f"a vendor named {changes.get('name')!r} exists"):
            async with self.db.session() as s:
                vendor = await get_or_404(s, Vendor, id, "vendor")
                if "name" in changes:
                    vendor.name_key = rules.name_key(changes["name"])
                    await self._free_vendor_name(s, vendor.name_key, changes["name"], id)
                for name, value in changes.items():
                    setattr(vendor, name, value)
        return vendor

    async def delete_vendor(self, id: int) -> None:
        """Delete a vendor and its error codes; 409 while it has models."""
        async with _unique(f"vendor {id} got a model at the same time"):
            async with self.db.session() as s:
                vendor = await get_or_404(s, Vendor, id, "vendor")
                count = await s.scalar(select(func.count()).select_from(ChargePointModel)
                                       .where(ChargePointModel.vendor_id == id))
                if count:
                    raise Conflict(f"vendor {id} still has {count} model{'s' if count != 1 else ''}; delete them "
                                   f"first", {"models": count})
                await s.execute(delete(VendorErrorCode).where(VendorErrorCode.vendor_id == id))
                await s.delete(vendor)

    @staticmethod
    async def _free_vendor_name(s, key: str, name: str, own_id: int | None = None) -> None:
        other = await s.scalar(select(Vendor.id).where(Vendor.name_key == key))
        if other is not None and other != own_id:
            raise Conflict(f"vendor {other} is named {name!r} already (names compare ignoring case and extra "
                           f"blanks)", {"vendor_id": other})

    # --- charge point models ------------------------------------------------------------------
    async def create_model(self, vendor_id: int, **fields) -> ChargePointModel:
        _check(fields, MODEL_FIELDS, "model")
        values = {**fields, **{name: fields.get(name) or [] for name in LISTS}}
        model = ChargePointModel(vendor_id=vendor_id, name_key=rules.name_key(fields["name"]), **values)
        async with _unique(f"vendor {vendor_id} was deleted, or got a model named {fields['name']!r}, at the same "
                           f"time"):
            async with self.db.session() as s:
                vendor = await s.get(Vendor, vendor_id)
                if vendor is None:
                    raise _invalid("vendor_id", f"vendor {vendor_id} does not exist")
                await self._free_model_name(s, vendor_id, model.name_key, fields["name"])
                s.add(model)
        model.vendor_name = vendor.name
        return model

    async def get_model(self, id: int) -> ChargePointModel:
        async with self.db.session() as s:
            model = await get_or_404(s, ChargePointModel, id, "charge point model")
            await _attach_vendor_names(s, [model])
        return model

    async def find_models(self, limit: int, after_id: int | None = None, *, vendor_id: int | None = None,
                          name: str | None = None, discovered: bool | None = None) -> list[ChargePointModel]:
        """Models by id; ``name`` matches as a boot's model name does."""
        query = select(ChargePointModel).order_by(ChargePointModel.id).limit(limit)
        if after_id is not None:
            query = query.where(ChargePointModel.id > after_id)
        if vendor_id is not None:
            query = query.where(ChargePointModel.vendor_id == vendor_id)
        if name is not None:
            query = query.where(ChargePointModel.name_key == rules.name_key(name))
        if discovered is not None:
            query = query.where(ChargePointModel.discovered == discovered)
        async with self.db.session() as s:
            models = list(await s.scalars(query))
            await _attach_vendor_names(s, models)
        return models

    async def update_model(self, id: int, **changes) -> ChargePointModel:
        _check(changes, MODEL_FIELDS, "model", ("name", "discovered"))
        changes = {name: ([] if name in LISTS and value is None else value) for name, value in changes.items()}
        async with _unique(f"a model named {changes.get('name')!r} exists"):
            async with self.db.session() as s:
                model = await get_or_404(s, ChargePointModel, id, "charge point model")
                if "name" in changes:
                    model.name_key = rules.name_key(changes["name"])
                    await self._free_model_name(s, model.vendor_id, model.name_key, changes["name"], id)
                for name, value in changes.items():
                    setattr(model, name, value)
                _check_evse_count(model)
                await s.flush()
                await _attach_vendor_names(s, [model])
        return model

    async def delete_model(self, id: int) -> None:
        """Delete a model and its own error codes; its charge points keep no model until they boot."""
        async with self.db.session() as s:
            model = await get_or_404(s, ChargePointModel, id, "charge point model")
            await s.execute(delete(VendorErrorCode).where(VendorErrorCode.model_id == id))
            await s.delete(model)

    @staticmethod
    async def _free_model_name(s, vendor_id: int, key: str, name: str, own_id: int | None = None) -> None:
        other = await s.scalar(select(ChargePointModel.id).where(ChargePointModel.vendor_id == vendor_id,
                                                                 ChargePointModel.name_key == key))
        if other is not None and other != own_id:
            raise Conflict(f"model {other} of vendor {vendor_id} is named {name!r} already (names compare "
                           f"ignoring case and extra blanks)", {"model_id": other})

    # --- vendor error codes -------------------------------------------------------------------
    async def create_code(self, vendor_id: int, model_id: int | None = None, **fields) -> VendorErrorCode:
        _check(fields, CODE_FIELDS, "vendor error code")
        code = VendorErrorCode(vendor_id=vendor_id, model_id=model_id, key=rules.code_key(model_id, fields["code"]),
                               **fields)
        async with _unique(f"its vendor or model was deleted, or code {fields['code']!r} added, at the same time"):
            async with self.db.session() as s:
                await _check_scope(s, vendor_id, model_id)
                await self._free_code(s, code)
                s.add(code)
        return code

    async def get_code(self, id: int) -> VendorErrorCode:
        async with self.db.session() as s:
            return await get_or_404(s, VendorErrorCode, id, "vendor error code")

    async def find_codes(self, limit: int, after_id: int | None = None, *, vendor_id: int | None = None,
                         model_id: int | None = None, vendor_wide: bool | None = None, code: str | None = None,
                         severity: str | None = None) -> list[VendorErrorCode]:
        """Codes by id; ``code`` matches ignoring case; ``vendor_wide``: only those for every model
        of their vendor (true) or only those for one model (false)."""
        query = select(VendorErrorCode).order_by(VendorErrorCode.id).limit(limit)
        if after_id is not None:
            query = query.where(VendorErrorCode.id > after_id)
        for name, value in (("vendor_id", vendor_id), ("model_id", model_id), ("severity", severity)):
            if value is not None:
                query = query.where(getattr(VendorErrorCode, name) == value)
        if vendor_wide is not None:
            query = query.where(VendorErrorCode.model_id.is_(None) if vendor_wide else
                                VendorErrorCode.model_id.is_not(None))
        if code is not None:
            query = query.where(func.lower(VendorErrorCode.code) == code.strip().lower())
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def update_code(self, id: int, **changes) -> VendorErrorCode:
        _check(changes, CODE_FIELDS, "vendor error code", ("code", "description", "severity"))
        async with _unique(f"code {changes.get('code')!r} exists"):
            async with self.db.session() as s:
                code = await get_or_404(s, VendorErrorCode, id, "vendor error code")
                for name, value in changes.items():
                    setattr(code, name, value)
                code.key = rules.code_key(code.model_id, code.code)
                await self._free_code(s, code)
        return code

    async def delete_code(self, id: int) -> None:
        async with self.db.session() as s:
            await s.delete(await get_or_404(s, VendorErrorCode, id, "vendor error code"))

    async def import_codes(self, vendor_id: int, model_id: int | None, entries: list[dict]) -> tuple[int, int]:
        """Add the codes not known for this vendor and model, change the known ones (same code
        ignoring case), in one transaction: (created, updated)."""
        for entry in entries:
            _check(entry, CODE_FIELDS, "vendor error code")
        created = updated = 0
        async with _unique("its vendor or model was deleted, or the same codes imported, at the same time"):
            async with self.db.session() as s:
                await _check_scope(s, vendor_id, model_id)
                known = {code.key: code for code in await s.scalars(select(VendorErrorCode).where(
                    VendorErrorCode.vendor_id == vendor_id, _same_model(model_id)))}
                for entry in entries:
                    key = rules.code_key(model_id, entry["code"])
                    code = known.get(key)
                    if code is None:
                        s.add(VendorErrorCode(vendor_id=vendor_id, model_id=model_id, key=key, **entry))
                        created += 1
                    else:
                        for name, value in entry.items():
                            setattr(code, name, value)
                        updated += 1
        return created, updated

    async def export_codes(self, vendor_id: int, model_id: int | None = None) -> list[VendorErrorCode]:
        """A vendor's codes (or one model's own), by code: what ``import_codes`` takes back."""
        async with self.db.session() as s:
            await _check_scope(s, vendor_id, model_id, field="query")
            return list(await s.scalars(select(VendorErrorCode).where(
                VendorErrorCode.vendor_id == vendor_id, _same_model(model_id)).order_by(VendorErrorCode.key)))

    @staticmethod
    async def _free_code(s, code: VendorErrorCode) -> None:
        other = await s.scalar(select(VendorErrorCode.id).where(VendorErrorCode.vendor_id == code.vendor_id,
                                                                VendorErrorCode.key == code.key))
        if other is not None and other != code.id:
            scope = f"model {code.model_id}" if code.model_id else "all models"
            raise Conflict(f"vendor error code {other} is {code.code!r} for {scope} of vendor {code.vendor_id} "
                           f"already (codes compare ignoring case)", {"vendor_error_code_id": other})

    # --- what stations report -----------------------------------------------------------------
    async def events_reported(self, charge_point_id: str, entries: list[tuple[dict, datetime]]) -> None:
        """A 2.x NotifyEvent's entries: each address's error now, or none (``rules.event_states``).
        An entry older than what is kept for its address (queued while offline) changes nothing."""
        states = rules.event_states(entries)
        if not states:
            return
        async with self.db.session() as s:
            kept = {row.key: row for row in await s.scalars(select(StationError).where(
                StationError.charge_point_id == charge_point_id, StationError.key.in_(sorted(states))))}
            for key, (error, at) in states.items():
                row = kept.get(key)
                if row is not None and row.reported_at > at:
                    continue
                if error is None:
                    if row is not None:
                        await s.delete(row)
                    continue
                if row is None:
                    row = StationError(charge_point_id=charge_point_id, key=key)
                    s.add(row)
                row.evse, row.connector, row.component, row.variable = (error.evse, error.connector,
                                                                         error.component, error.variable)
                row.tech_code, row.tech_info, row.reported_at = error.vendor_error_code, error.info, at

    async def current_errors(self, stations: list[ChargePoint]) -> dict[str, list[rules.ReportedError]]:
        """Each station's current errors (loaded with its EVSEs and connectors), each decoded by its
        vendor's codes where one fits: the 1.6 errors of the connectors (and the station) that show
        an errorCode other than NoError, read from the newest status report there, and the 2.x
        errors kept from NotifyEvent."""
        errors: dict[str, list[rules.ReportedError]] = {cp.id: [] for cp in stations}
        if not stations:
            return errors
        async with self.db.session() as s:
            for cp in stations:
                shown = [(None, None, cp.error_code)] + [(evse.number, c.number, c.error_code)
                                                          for evse in cp.evses for c in evse.connectors]
                for evse, connector, error_code in shown:
                    if rules.is_error(error_code):
                        errors[cp.id].append(await _status_error(s, cp.id, evse, connector, error_code))
            for row in await s.scalars(select(StationError).where(StationError.charge_point_id.in_(list(errors)))
                                       .order_by(StationError.reported_at.desc(), StationError.id.desc())):
                errors[row.charge_point_id].append(rules.ReportedError(
                    "NotifyEvent", row.evse, row.connector, row.reported_at, vendor_error_code=row.tech_code,
                    info=row.tech_info, component=row.component, variable=row.variable))
            await _decode(s, {cp.id: cp for cp in stations}, errors)
        return errors

    async def attach_errors(self, stations: list[ChargePoint]) -> list[ChargePoint]:
        """Set ``current_errors`` on each station (a plain attribute, not a column)."""
        errors = await self.current_errors(stations)
        for cp in stations:
            cp.current_errors = errors[cp.id]
        return stations


async def _check_scope(s, vendor_id: int, model_id: int | None, field: str = "body") -> None:
    if await s.get(Vendor, vendor_id) is None:
        raise Invalid(f"vendor {vendor_id} does not exist",
                      [{"field": f"{field}.vendor_id", "message": f"vendor {vendor_id} does not exist"}])
    if model_id is not None:
        model = await s.get(ChargePointModel, model_id)
        if model is None or model.vendor_id != vendor_id:
            message = (f"charge point model {model_id} does not exist" if model is None else
                       f"charge point model {model_id} is not vendor {vendor_id}'s")
            raise Invalid(message, [{"field": f"{field}.model_id", "message": message}])


def _same_model(model_id: int | None):
    return VendorErrorCode.model_id.is_(None) if model_id is None else VendorErrorCode.model_id == model_id


def _check_evse_count(model: ChargePointModel) -> None:
    if model.evse_count is not None:
        beyond = [c["evse"] for c in model.connectors or [] if c.get("evse") and c["evse"] > model.evse_count]
        if beyond:
            raise _invalid("evse_count", f"a connector is on EVSE {beyond[0]} of a model with {model.evse_count} "
                                         f"EVSEs")


async def _attach_vendor_names(s, models: list[ChargePointModel]) -> None:
    ids = {model.vendor_id for model in models}
    names = dict((await s.execute(select(Vendor.id, Vendor.name).where(Vendor.id.in_(ids)))).all()) if ids else {}
    for model in models:
        model.vendor_name = names.get(model.vendor_id, "")


async def _status_error(s, charge_point_id: str, evse: int | None, connector: int | None,
                        shown_code: str) -> rules.ReportedError:
    """The error a 1.6 connector (or the station: ``evse`` None) shows, from its newest status
    report: the one the writer shows (``stations/status.py``: by timestamp, the later received at one)."""
    query = select(StatusEvent).where(StatusEvent.charge_point_id == charge_point_id)
    if evse is None:
        query = query.where(StatusEvent.evse.is_(None))
    else:
        query = query.where(StatusEvent.evse == evse, func.coalesce(StatusEvent.connector, 1) == connector)
    report = await s.scalar(query.order_by(StatusEvent.timestamp.desc(), StatusEvent.id.desc()).limit(1))
    if report is None or report.error_code != shown_code:  # shown by a report since pruned, or set otherwise
        return rules.ReportedError("StatusNotification", evse, connector, None, error_code=shown_code)
    return rules.ReportedError("StatusNotification", evse, connector, report.timestamp, error_code=report.error_code,
                               vendor_id=report.vendor_id, vendor_error_code=report.vendor_error_code,
                               info=report.info, status=report.status)


async def _decode(s, stations: dict[str, ChargePoint], errors: dict[str, list[rules.ReportedError]]) -> None:
    """Set ``decoded`` on each error: the station's vendor is its model's, else the vendor named as
    it booted, else (1.6) the vendorId of the report; its codes are looked up in one query."""
    reported = [(cp_id, error) for cp_id, found in errors.items() for error in found if error.codes]
    if not reported:
        return
    model_ids = {stations[cp_id].model_id for cp_id, _ in reported if stations[cp_id].model_id is not None}
    model_vendor = dict((await s.execute(select(ChargePointModel.id, ChargePointModel.vendor_id)
                                         .where(ChargePointModel.id.in_(model_ids)))).all()) if model_ids else {}
    names = {rules.name_key(n) for cp_id, error in reported for n in (stations[cp_id].vendor, error.vendor_id)} - {None}
    named = dict((await s.execute(select(Vendor.name_key, Vendor.id).where(Vendor.name_key.in_(names)))).all()) \
        if names else {}

    def vendor_of(cp: ChargePoint, error: rules.ReportedError) -> int | None:
        if cp.model_id in model_vendor:
            return model_vendor[cp.model_id]
        return named.get(rules.name_key(cp.vendor)) or named.get(rules.name_key(error.vendor_id))

    wanted = defaultdict(set)
    for cp_id, error in reported:
        vendor = vendor_of(stations[cp_id], error)
        if vendor is not None:
            model = stations[cp_id].model_id
            wanted[vendor].update(rules.code_key(m, code) for code in error.codes for m in {None, model})
    if not wanted:
        return
    entries = defaultdict(list)
    for vendor, keys in wanted.items():
        for code in await s.scalars(select(VendorErrorCode).where(VendorErrorCode.vendor_id == vendor,
                                                                  VendorErrorCode.key.in_(sorted(keys)))):
            entries[vendor].append(code)
    for cp_id, error in reported:
        vendor = vendor_of(stations[cp_id], error)
        if vendor is not None:
            error.decoded = rules.choose(error, entries[vendor], stations[cp_id].model_id)
