"""HTTP endpoints of the catalogue: vendors, charge point models and vendor error codes."""

import csv
import io

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import ValidationError

from wattson.api import auth, pagination
from wattson.api.pagination import CursorParam, Limit, Page
from wattson.api.types import MAX_ID
from wattson.catalogue.schemas import (
    CodeCreate, CodeEntry, CodeImport, CodeOut, CodeUpdate, ImportResult, ModelCreate, ModelOut, ModelUpdate,
    Severity, VendorCreate, VendorOut, VendorUpdate,
)
from wattson.errors import Invalid

router = APIRouter(prefix="/api/v1")
VendorId = Path(ge=1, le=MAX_ID, description="The vendor's id.")
ModelId = Path(ge=1, le=MAX_ID, description="The charge point model's id.")
CodeId = Path(ge=1, le=MAX_ID, description="The vendor error code's id.")
NameQuery = Query(None, min_length=1, max_length=50, pattern=r"^[^\x00]+$",
                  description="The name, compared as a boot's is (ignoring case and extra blanks).")
CSV_COLUMNS = ("code", "description", "severity", "suggested_action")
#: a CSV import's size at most, as the JSON one's 5,000 codes
CSV_MAX_BYTES = 2_000_000


def _inline(schema: dict) -> dict:
    """A JSON schema with its ``$defs`` put in place: an OpenAPI document resolves ``#/…`` from its root."""
    defs = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        return [resolve(item) for item in node] if isinstance(node, list) else node
    return resolve(schema)


def _catalogue(request: Request):
    return request.app.state.services.catalogue


def _after(cursor: str | None) -> int | None:
    after = pagination.decode(cursor, int)
    if after is not None and not 0 <= after[0] <= MAX_ID:
        raise Invalid("invalid cursor", [{"field": "cursor", "message": "not a cursor this API issued"}])
    return after[0] if after else None


# --- vendors ------------------------------------------------------------------------------------
@router.post("/vendors", status_code=201, response_model=VendorOut, dependencies=[auth.operator], tags=["vendors"])
async def create_vendor(request: Request, body: VendorCreate):
    """Add a vendor. 409 when one has this name (ignoring case and extra blanks)."""
    return await _catalogue(request).create_vendor(**body.model_dump())


@router.get("/vendors", response_model=Page[VendorOut], dependencies=[auth.viewer], tags=["vendors"])
async def list_vendors(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                       name: str | None = NameQuery,
                       discovered: bool | None = Query(None, description="Only those created by a boot (true) or "
                                                                         "by hand (false).")):
    """Vendors by id."""
    rows = await _catalogue(request).find_vendors(limit + 1, _after(cursor), name=name, discovered=discovered)
    return pagination.page(rows, limit, lambda vendor: (vendor.id,))


@router.get("/vendors/{vendor_id}", response_model=VendorOut, dependencies=[auth.viewer], tags=["vendors"])
async def get_vendor(request: Request, vendor_id: int = VendorId):
    return await _catalogue(request).get_vendor(vendor_id)


@router.patch("/vendors/{vendor_id}", response_model=VendorOut, dependencies=[auth.operator], tags=["vendors"])
async def update_vendor(request: Request, body: VendorUpdate, vendor_id: int = VendorId):
    """Change only the fields sent; null clears a nullable field. A new name is what boots match."""
    return await _catalogue(request).update_vendor(vendor_id, **body.model_dump(exclude_unset=True))


@router.delete("/vendors/{vendor_id}", status_code=204, response_class=Response, dependencies=[auth.operator],
               tags=["vendors"])
async def delete_vendor(request: Request, vendor_id: int = VendorId):
    """Delete a vendor with its error codes; 409 while it has models."""
    await _catalogue(request).delete_vendor(vendor_id)
    return Response(status_code=204)


# --- charge point models ------------------------------------------------------------------------
@router.post("/charge-point-models", status_code=201, response_model=ModelOut, dependencies=[auth.operator],
             tags=["charge point models"])
async def create_model(request: Request, body: ModelCreate):
    """Add a model of a vendor with its capabilities. 409 when the vendor has a model of this name
    (ignoring case and extra blanks); 422 when the vendor does not exist."""
    fields = body.model_dump(mode="json", exclude_unset=True)
    return await _catalogue(request).create_model(fields.pop("vendor_id"), **fields)


@router.get("/charge-point-models", response_model=Page[ModelOut], dependencies=[auth.viewer],
            tags=["charge point models"])
async def list_models(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                      vendor_id: int | None = Query(None, ge=1, le=MAX_ID, description="Only this vendor's."),
                      name: str | None = NameQuery,
                      discovered: bool | None = Query(None, description="Only those created by a boot (true) or "
                                                                        "by hand (false).")):
    """Models by id, each with its vendor's name."""
    rows = await _catalogue(request).find_models(limit + 1, _after(cursor), vendor_id=vendor_id, name=name,
                                                 discovered=discovered)
    return pagination.page(rows, limit, lambda model: (model.id,))


@router.get("/charge-point-models/{model_id}", response_model=ModelOut, dependencies=[auth.viewer],
            tags=["charge point models"])
async def get_model(request: Request, model_id: int = ModelId):
    return await _catalogue(request).get_model(model_id)


@router.patch("/charge-point-models/{model_id}", response_model=ModelOut, dependencies=[auth.operator],
              tags=["charge point models"])
async def update_model(request: Request, body: ModelUpdate, model_id: int = ModelId):
    """Change only the fields sent; null clears evse_count, max_power_w or quirks, or empties a list.
    Setting `discovered` false confirms a model a boot created."""
    return await _catalogue(request).update_model(model_id, **body.model_dump(mode="json", exclude_unset=True))


@router.delete("/charge-point-models/{model_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator], tags=["charge point models"])
async def delete_model(request: Request, model_id: int = ModelId):
    """Delete a model with its own error codes; its charge points have no model until they boot again."""
    await _catalogue(request).delete_model(model_id)
    return Response(status_code=204)


# --- vendor error codes -------------------------------------------------------------------------
@router.post("/vendor-error-codes", status_code=201, response_model=CodeOut, dependencies=[auth.operator],
             tags=["vendor error codes"])
async def create_code(request: Request, body: CodeCreate):
    """Add what a vendor's code means, for all its models or one (`model_id`, which must be the
    vendor's). 409 when the vendor has this code (ignoring case) for the same models."""
    fields = body.model_dump()
    return await _catalogue(request).create_code(fields.pop("vendor_id"), fields.pop("model_id"), **fields)


@router.get("/vendor-error-codes", response_model=Page[CodeOut], dependencies=[auth.viewer],
            tags=["vendor error codes"])
async def list_codes(request: Request, limit: int = Limit, cursor: str | None = CursorParam,
                     vendor_id: int | None = Query(None, ge=1, le=MAX_ID, description="Only this vendor's."),
                     model_id: int | None = Query(None, ge=1, le=MAX_ID, description="Only those for this model."),
                     vendor_wide: bool | None = Query(None, description="Only those for every model of the vendor "
                                                                       "(true) or for one model (false)."),
                     code: str | None = Query(None, min_length=1, max_length=50, pattern=r"^[^\x00]+$",
                                              description="Only this code, ignoring case."),
                     severity: Severity | None = Query(None, description="Only critical, error, warning or info.")):
    """Vendor error codes by id."""
    rows = await _catalogue(request).find_codes(limit + 1, _after(cursor), vendor_id=vendor_id, model_id=model_id,
                                                vendor_wide=vendor_wide, code=code, severity=severity)
    return pagination.page(rows, limit, lambda row: (row.id,))


@router.post("/vendor-error-codes/import", response_model=ImportResult, dependencies=[auth.operator],
             tags=["vendor error codes"],
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": _inline(CodeImport.model_json_schema())},
                 "text/csv": {"schema": {"type": "string"}, "example": "code,description,severity,suggested_action\n"
                                                                        "0x0010,RCD tripped,error,Reset the RCD.\n"}}}})
async def import_codes(request: Request,
                       vendor_id: int | None = Query(None, ge=1, le=MAX_ID, description="CSV: the codes' vendor."),
                       model_id: int | None = Query(None, ge=1, le=MAX_ID, description="CSV: only for this model.")):
    """Many codes of one vendor (or one of its models) at once, all or none: the codes not known yet
    are added, the known ones (the same code, ignoring case) changed. JSON (`CodeImport`), or CSV
    (`Content-Type: text/csv`, a header row of code, description, severity and suggested_action,
    `vendor_id` and `model_id` in the query), as GET /vendor-error-codes/export writes them."""
    body = await request.body()
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "text/csv":
        if vendor_id is None:
            raise Invalid("vendor_id is required with CSV", [{"field": "query.vendor_id", "message": "required"}])
        entries = _csv_entries(body)
    else:
        try:
            parsed = CodeImport.model_validate_json(body or b"null")
        except ValidationError as error:
            raise Invalid("request validation failed", [
                {"field": ".".join(["body", *map(str, e["loc"])]), "message": e["msg"]}
                for e in error.errors(include_url=False)]) from None
        vendor_id, model_id, entries = parsed.vendor_id, parsed.model_id, parsed.codes
    created, updated = await _catalogue(request).import_codes(vendor_id, model_id,
                                                              [entry.model_dump() for entry in entries])
    return {"created": created, "updated": updated}


@router.get("/vendor-error-codes/export", dependencies=[auth.viewer], tags=["vendor error codes"],
            responses={200: {"content": {"application/json": {}, "text/csv": {}},
                             "description": "The codes, as POST /vendor-error-codes/import takes them."}})
async def export_codes(request: Request, vendor_id: int = Query(ge=1, le=MAX_ID, description="The vendor."),
                       model_id: int | None = Query(None, ge=1, le=MAX_ID,
                                                    description="Only this model's own codes; absent: the vendor-wide "
                                                                "ones."),
                       format: str = Query("json", pattern="^(json|csv)$", description="json or csv.")):
    """A vendor's codes (or one model's own) by code, ready to be imported elsewhere."""
    codes = await _catalogue(request).export_codes(vendor_id, model_id)
    entries = [{name: getattr(code, name) for name in CSV_COLUMNS} for code in codes]
    if format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(entries)
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")
    return {"vendor_id": vendor_id, "model_id": model_id, "codes": entries}


@router.get("/vendor-error-codes/{code_id}", response_model=CodeOut, dependencies=[auth.viewer],
            tags=["vendor error codes"])
async def get_code(request: Request, code_id: int = CodeId):
    return await _catalogue(request).get_code(code_id)


@router.patch("/vendor-error-codes/{code_id}", response_model=CodeOut, dependencies=[auth.operator],
              tags=["vendor error codes"])
async def update_code(request: Request, body: CodeUpdate, code_id: int = CodeId):
    """Change only the fields sent; null clears suggested_action. Vendor and model stay."""
    return await _catalogue(request).update_code(code_id, **body.model_dump(exclude_unset=True))


@router.delete("/vendor-error-codes/{code_id}", status_code=204, response_class=Response,
               dependencies=[auth.operator], tags=["vendor error codes"])
async def delete_code(request: Request, code_id: int = CodeId):
    await _catalogue(request).delete_code(code_id)
    return Response(status_code=204)


def _csv_entries(body: bytes) -> list[CodeEntry]:
    """The codes of a CSV import, each row checked as a JSON entry is; 422 naming the row."""
    if len(body) > CSV_MAX_BYTES:
        raise Invalid(f"a CSV import has {CSV_MAX_BYTES:,} bytes at most")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the CSV is not UTF-8") from None
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as error:
        raise Invalid(f"not CSV: {error}") from None
    if not rows:
        raise Invalid("the CSV has no codes: a header row (code,description,severity,suggested_action) and a row "
                      "per code")
    entries = []
    for number, row in enumerate(rows, start=2):
        if None in row or set(row) - set(CSV_COLUMNS):
            raise Invalid(f"row {number}: the columns are {', '.join(CSV_COLUMNS)}",
                          [{"field": f"body.row {number}", "message": "unknown or extra columns"}])
        values = {k: v for k, v in row.items() if v not in (None, "") or k in ("code", "description")}
        try:
            entries.append(CodeEntry.model_validate(values))
        except ValidationError as error:
            raise Invalid(f"row {number}: request validation failed", [
                {"field": ".".join([f"body.row {number}", *map(str, e["loc"])]), "message": e["msg"]}
                for e in error.errors(include_url=False)]) from None
    try:
        CodeImport(vendor_id=1, codes=entries)  # distinct codes and at most 5,000
    except ValidationError as error:
        raise Invalid("request validation failed", [{"field": "body", "message": e["msg"]}
                                                    for e in error.errors(include_url=False)]) from None
    return entries
