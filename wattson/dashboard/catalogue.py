"""The catalogue page: vendors, charge point models with their capabilities, and vendor error
codes, read only (changes go through the API), filtered by vendor; all from CatalogueService."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from wattson.api.types import MAX_ID
from wattson.dashboard import auth
from wattson.dashboard.render import render

router = APIRouter(include_in_schema=False)
#: The most of each list the page shows (by id); the rest are in the API.
SHOWN = 200


def connector_text(connector: dict) -> str:
    """One connector capability as a line: where, which standard and format, which power."""
    where = f"EVSE {connector['evse']}" if connector.get("evse") else "each EVSE"
    power = f", {connector['max_power_w'] / 1000:g} kW" if connector.get("max_power_w") else ""
    return (f"{where}: {connector.get('standard', '?')} {str(connector.get('format', '')).lower()}, "
            f"{connector.get('power_type', '?')}{power}")


@router.get("/catalogue", response_class=HTMLResponse)
async def catalogue_page(request: Request, _=auth.viewer_page,
                         vendor: int | None = Query(None, ge=1, le=MAX_ID)):
    catalogue = request.app.state.services.catalogue
    vendors = await catalogue.find_vendors(SHOWN + 1)
    models = await catalogue.find_models(SHOWN + 1, vendor_id=vendor)
    codes = await catalogue.find_codes(SHOWN + 1, vendor_id=vendor)
    names = {v.id: v.name for v in vendors}
    if vendor is not None and vendor not in names:
        names[vendor] = (await catalogue.get_vendor(vendor)).name  # 404 page for an unknown vendor
    return render(request, "catalogue.html", vendors=vendors[:SHOWN], models=models[:SHOWN], codes=codes[:SHOWN],
                  more=any(len(rows) > SHOWN for rows in (vendors, models, codes)), vendor=vendor, names=names,
                  model_names={m.id: m.name for m in models},
                  shown=SHOWN, connector_text=connector_text)
