"""Location pages: locations with address, time zone and opening hours, the charge points and
EVSEs standing there, and an EVSE's sticker to print: its EVSE ID and the QR code of its driver
page (wattson/web/qr.py; the URL is the one the API's qr-code endpoint encodes)."""

import re

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wattson.api.types import IdPath
from wattson.dashboard import auth, forms
from wattson.dashboard.forms import FormErrors
from wattson.dashboard.render import render
from wattson.errors import Conflict, WattsonError
from wattson.locations.rules import country_alpha3
from wattson.locations.schemas import LocationCreate, LocationUpdate
from wattson.payments.routes import driver_url
from wattson.web.qr import qr_code

router = APIRouter(include_in_schema=False)
PAGE = 50
PARKING = ("ALONG_MOTORWAY", "PARKING_GARAGE", "PARKING_LOT", "ON_DRIVEWAY", "ON_STREET", "UNDERGROUND_GARAGE")
TEXT_FIELDS = ("name", "street", "house_number", "building_number", "postal_code", "city", "country", "latitude",
               "longitude", "time_zone", "parking_type")
CLEARABLE = ("street", "house_number", "building_number", "postal_code", "city", "country", "latitude", "longitude",
             "parking_type")


def _locations(request: Request):
    return request.app.state.services.locations


def _values(location) -> dict:
    values = {name: getattr(location, name) for name in TEXT_FIELDS}
    values["publish"] = location.publish
    values["twentyfourseven"] = bool(location.opening_hours and location.opening_hours.get("twentyfourseven"))
    return values


def _regular_hours(location) -> bool:
    """Whether the location has opening hours a 24/7 checkbox cannot express (kept as they are)."""
    hours = location.opening_hours if location is not None else None
    return bool(hours) and not (hours.get("twentyfourseven") and not hours.get("exceptional_closings")
                                and not hours.get("exceptional_openings"))


def _body(data: dict, model, location=None):
    """The form as the API's request model: the 24/7 box sets the opening hours unless the location
    has detailed ones (set through the API), which it leaves alone."""
    data = dict(data)
    missing = {name: "required" for name in ("name", "time_zone") if not data.get(name)}
    if missing:
        raise FormErrors(missing)
    data["publish"] = "true" if forms.boolean(data, "publish") else "false"
    always = forms.boolean(data, "twentyfourseven")
    data.pop("twentyfourseven", None)
    body = forms.checked(model, data, clearable=CLEARABLE if location is not None else ())
    changes = body.model_dump(exclude_unset=True, mode="json")
    if not _regular_hours(location):
        changes["opening_hours"] = {"twentyfourseven": True} if always else None
    if location is None and changes.get("opening_hours") is None:
        changes.pop("opening_hours", None)
    return changes


@router.get("/locations", response_class=HTMLResponse)
async def location_list(request: Request, _=auth.viewer_page,
                        city: str | None = Query(None, max_length=100, pattern=forms.NO_NUL),
                        country: str | None = Query(None, max_length=3, pattern=forms.NO_NUL),
                        cursor: str | None = Query(None, max_length=200)):
    return await _location_list(request, city, country, cursor)


async def _location_list(request, city=None, country=None, cursor=None, errors=None, values=None, status_code=200):
    alpha3 = None
    if country:
        try:
            alpha3 = country_alpha3(country)
        except ValueError as error:
            raise FormErrors({"country": str(error)}) from None
    after = forms.after(cursor, int)
    rows = await _locations(request).find(PAGE + 1, after[0] if after else None, city=(city or "").strip() or None,
                                          country=alpha3)
    rows, next_cursor = forms.next_cursor(rows, PAGE, lambda row: (row.id,))
    return render(request, "locations.html", status_code=status_code, locations=rows, next_cursor=next_cursor,
                  filters={"city": city or "", "country": country or ""}, parking=PARKING, errors=errors or {},
                  values=values or {"time_zone": "UTC", "publish": True})


@router.post("/locations")
async def create_location(request: Request, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        location = await _locations(request).create(**_body(data, LocationCreate))
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _location_list(request, errors=errors, values=data, status_code=status)
    return RedirectResponse(f"/locations/{location.id}", status_code=303)


@router.get("/locations/evses/{evse_id}/sticker", response_class=HTMLResponse)
async def sticker(request: Request, evse_id: IdPath, _=auth.viewer_page):
    """The EVSE's sticker: its EVSE ID large, and the QR code of its driver page, to print."""
    services = request.app.state.services
    evse = await services.stations.get_evse(evse_id)
    if not evse.evse_id:
        raise Conflict(f"EVSE {evse_id} has no EVSE ID, so no driver page: set its EVSE ID first (PATCH "
                       f"/api/v1/evses/{evse_id})")
    cp = await services.stations.get(evse.charge_point_id)
    location = await _locations(request).get(cp.location_id) if cp.location_id else None
    url = driver_url(request, evse.evse_id)
    svg, _ = qr_code(url, "svg", scale=10)
    return render(request, "sticker.html", evse=evse, cp=cp, location=location, url=url, qr=_inline(svg))


def _inline(svg: bytes) -> str:
    """segno's SVG document as an element to put in the page: without its XML declaration, and
    with a viewBox instead of a fixed size, so that the print stylesheet scales the whole code
    (a fixed-size SVG shrunk by CSS is cut off, not scaled)."""
    text = svg.decode()
    text = text[text.index("<svg"):]
    size = re.match(r'<svg [^>]*?width="(\d+)" height="(\d+)"', text)
    if size:
        width, height = size.groups()
        text = text.replace(f'width="{width}" height="{height}"', f'viewBox="0 0 {width} {height}"', 1)
    return text


@router.get("/locations/{location_id}", response_class=HTMLResponse)
async def location_page(request: Request, location_id: IdPath, _=auth.viewer_page):
    return await _location_page(request, location_id)


async def _location_page(request, location_id, errors=None, values=None, status_code=200):
    location = await _locations(request).get(location_id)
    location.spaces = await request.app.state.services.zones.find_spaces(200, location_id=location_id)  # zones/
    stations = await request.app.state.services.stations.find(200, location_id=location_id)
    rates = await request.app.state.services.electricity_rates.find(20, location_id=location_id)
    return render(request, "locations_location.html", status_code=status_code, location=location, stations=stations,
                  rates=rates,
                  parking=PARKING, detailed_hours=_regular_hours(location), errors=errors or {},
                  values=values or _values(location))


@router.post("/locations/{location_id}")
async def update_location(request: Request, location_id: IdPath, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        location = await _locations(request).get(location_id)
        await _locations(request).update(location_id, **_body(data, LocationUpdate, location))
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _location_page(request, location_id, errors=errors, values=data, status_code=status)
    return RedirectResponse(f"/locations/{location_id}?saved=1", status_code=303)


@router.post("/locations/{location_id}/delete")
async def delete_location(request: Request, location_id: IdPath, _=auth.operator_action):
    """Refused (409, with the reason on the page) while charge points stand there."""
    await _locations(request).delete(location_id)
    return RedirectResponse("/locations", status_code=303)
