"""Driver pages: drivers with their tags, the tags (id tokens: block, unblock, expiry), driver
groups, charger groups and the access rights between them. The forms go through the same
request models and services as the JSON API (access/directory_routes.py, access/routes.py)."""

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wattson.access.directory import DriverFilter
from wattson.access.schemas import (DriverCreate, DriverUpdate, GroupCreate, GroupUpdate, IdTokenCreate,
                                    IdTokenUpdate, TokenStatus)
from wattson.api.types import MAX_ID, IdPath
from wattson.dashboard import auth, forms
from wattson.dashboard.forms import FormErrors
from wattson.dashboard.render import render
from wattson.errors import WattsonError

router = APIRouter(include_in_schema=False)
PAGE = 50
TOKEN_TYPES = ("ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress", "eMAID", "Central", "NoAuthorization")
TOKEN_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")
TAG_FIELDS = ("uid", "type", "status", "valid_from", "expires_at", "parent_id_tag", "visual_number", "driver_id")
Refused = WattsonError  # FormErrors included: shown on the form


def _directory(request: Request):
    return request.app.state.services.directory


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _after_id(cursor: str | None) -> int | None:
    key = forms.after(cursor, int)
    return key[0] if key else None


def _id_key(row) -> tuple:
    return (row["id"] if isinstance(row, dict) else row.id,)


def _tag_values(tag) -> dict:
    values = {name: getattr(tag, name) for name in TAG_FIELDS}
    for name in ("valid_from", "expires_at"):  # as a datetime-local field shows it (UTC)
        values[name] = values[name].strftime("%Y-%m-%dT%H:%M") if values[name] else ""
    values["invoicable"] = tag.invoicable
    return values


# --- drivers ------------------------------------------------------------------------------------
@router.get("/drivers", response_class=HTMLResponse)
async def driver_list(request: Request, _=auth.viewer_page,
                      email: str | None = Query(None, max_length=255, pattern=forms.NO_NUL),
                      home_group_id: int | None = Query(None, ge=1, le=MAX_ID),
                      cursor: str | None = Query(None, max_length=200)):
    return await _driver_list(request, email, home_group_id, cursor)


async def _driver_list(request, email=None, home_group_id=None, cursor=None, errors=None, values=None,
                       status_code=200):
    where = DriverFilter(home_group_id=home_group_id, email=(email or "").strip() or None)
    rows = await _directory(request).list_drivers(where, PAGE + 1, _after_id(cursor))
    rows, next_cursor = forms.next_cursor(rows, PAGE, _id_key)
    groups = await _directory(request).list_driver_groups(500)
    return render(request, "drivers.html", status_code=status_code, drivers=rows, next_cursor=next_cursor,
                  groups=groups, filters={"email": email or "", "home_group_id": home_group_id or ""},
                  errors=errors or {}, values=values or {})


@router.post("/drivers")
async def create_driver(request: Request, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        body = forms.checked(DriverCreate, data)
        driver = await _directory(request).create_driver(body.name, body.email, body.external_id, body.home_group_id)
    except Refused as error:
        errors, status = forms.problems(error)
        return await _driver_list(request, errors=errors, values=data, status_code=status)
    return _see(f"/drivers/{driver['id']}")


@router.get("/drivers/tags", response_class=HTMLResponse)
async def tag_list(request: Request, _=auth.viewer_page,
                   uid: str | None = Query(None, max_length=36, pattern=forms.NO_NUL),
                   status: TokenStatus | None = None, cursor: str | None = Query(None, max_length=200)):
    return await _tag_list(request, uid, status, cursor)


async def _tag_list(request, uid=None, status=None, cursor=None, errors=None, values=None, status_code=200):
    rows = await request.app.state.services.access.list_id_tokens(
        PAGE + 1, _after_id(cursor), uid=(uid or "").strip() or None, status=status)
    rows, next_cursor = forms.next_cursor(rows, PAGE, _id_key)
    return render(request, "drivers_tags.html", status_code=status_code, tags=rows, next_cursor=next_cursor,
                  filters={"uid": uid or "", "status": status or ""}, types=TOKEN_TYPES, statuses=TOKEN_STATUSES,
                  errors=errors or {}, values=values or {"type": "ISO14443", "status": "Accepted"})


def _tag_body(data: dict, model, clearable=()):
    data = dict(data)
    data["invoicable"] = "true" if forms.boolean(data, "invoicable") else "false"
    return forms.checked(model, data, clearable)


@router.post("/drivers/tags")
async def create_tag(request: Request, _=auth.operator_action):
    """A new tag; from a driver's page (``back`` = the driver) it belongs to that driver."""
    data = await forms.fields(request)
    back = data.pop("back", "")
    try:
        body = _tag_body(data, IdTokenCreate)
        tag = await request.app.state.services.access.create_id_token(
            body.uid, body.status, body.type, body.valid_from, body.expires_at, body.parent_id_tag,
            visual_number=body.visual_number, invoicable=body.invoicable, driver_id=body.driver_id)
    except Refused as error:
        errors, status = forms.problems(error)
        if back.isdigit() and data.get("driver_id") == back:
            return await _driver_page(request, int(back), errors=errors, tag_values=data, status_code=status)
        return await _tag_list(request, errors=errors, values=data, status_code=status)
    return _see(f"/drivers/{tag.driver_id}#tags" if back.isdigit() and tag.driver_id else f"/drivers/tags/{tag.id}")


@router.get("/drivers/tags/{tag_id}", response_class=HTMLResponse)
async def tag_page(request: Request, tag_id: IdPath, _=auth.viewer_page):
    return await _tag_page(request, tag_id)


async def _tag_page(request, tag_id, errors=None, values=None, status_code=200):
    tag = await request.app.state.services.access.get_id_token(tag_id)
    driver = await _directory(request).get_driver(tag.driver_id) if tag.driver_id else None
    return render(request, "drivers_tag.html", status_code=status_code, tag=tag, driver=driver, types=TOKEN_TYPES,
                  statuses=TOKEN_STATUSES, errors=errors or {}, values=values or _tag_values(tag))


@router.post("/drivers/tags/{tag_id}")
async def update_tag(request: Request, tag_id: IdPath, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        body = _tag_body(data, IdTokenUpdate, clearable=("valid_from", "expires_at", "parent_id_tag",
                                                         "visual_number", "driver_id"))
        await request.app.state.services.access.update_id_token(tag_id, body.model_dump(exclude_unset=True))
    except Refused as error:
        errors, status = forms.problems(error)
        return await _tag_page(request, tag_id, errors=errors, values=data, status_code=status)
    return _see(f"/drivers/tags/{tag_id}?saved=1")


@router.post("/drivers/tags/{tag_id}/delete")
async def delete_tag(request: Request, tag_id: IdPath, _=auth.operator_action):
    await request.app.state.services.access.delete_id_token(tag_id)
    return _see("/drivers/tags")


@router.post("/drivers/tags/{tag_id}/{change}")
async def tag_status(request: Request, tag_id: IdPath, change: str = Path(pattern="^(block|unblock)$"),
                     _=auth.operator_action):
    """Block a tag (stations refuse it from their next authorisation on) or accept it again."""
    tag = await request.app.state.services.access.update_id_token(
        tag_id, {"status": "Blocked" if change == "block" else "Accepted"})
    back = (await forms.fields(request)).get("back", "")
    return _see(f"/drivers/{tag.driver_id}#tags" if back == "driver" and tag.driver_id else f"/drivers/tags/{tag_id}")


# --- driver groups ------------------------------------------------------------------------------
@router.get("/drivers/groups", response_class=HTMLResponse)
async def group_list(request: Request, _=auth.viewer_page, cursor: str | None = Query(None, max_length=200)):
    return await _group_list(request, cursor)


async def _group_list(request, cursor=None, errors=None, values=None, status_code=200, kind="driver"):
    directory = _directory(request)
    rows = await directory.list_driver_groups(PAGE + 1, _after_id(cursor))
    rows, next_cursor = forms.next_cursor(rows, PAGE, _id_key)
    return render(request, "drivers_groups.html", status_code=status_code, kind=kind, groups=rows,
                  next_cursor=next_cursor, errors=errors or {}, values=values or {})


@router.post("/drivers/groups")
async def create_group(request: Request, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        body = forms.checked(GroupCreate, data)
        group = await _directory(request).create_driver_group(body.name, body.external_id)
    except Refused as error:
        errors, status = forms.problems(error)
        return await _group_list(request, errors=errors, values=data, status_code=status)
    return _see(f"/drivers/groups/{group.id}")


@router.get("/drivers/groups/{group_id}", response_class=HTMLResponse)
async def group_page(request: Request, group_id: IdPath, _=auth.viewer_page):
    return await _group_page(request, group_id)


async def _group_page(request, group_id, errors=None, values=None, status_code=200):
    directory = _directory(request)
    group = await directory.get_driver_group(group_id)
    members = await directory.list_drivers(DriverFilter(home_group_id=group_id), 200)
    rights = await directory.list_access_rights(200, driver_group_id=group_id)
    charger_groups = await directory.list_charger_groups(500)
    return render(request, "drivers_group.html", status_code=status_code, kind="driver", group=group,
                  members=members, rights=rights, other_groups=charger_groups, errors=errors or {},
                  values=values or {"name": group.name, "external_id": group.external_id})


@router.post("/drivers/groups/{group_id}")
async def update_group(request: Request, group_id: IdPath, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        body = forms.checked(GroupUpdate, data, clearable=("external_id",))
        await _directory(request).update_driver_group(group_id, body.model_dump(exclude_unset=True))
    except Refused as error:
        errors, status = forms.problems(error)
        return await _group_page(request, group_id, errors=errors, values=data, status_code=status)
    return _see(f"/drivers/groups/{group_id}?saved=1")


@router.post("/drivers/groups/{group_id}/delete")
async def delete_group(request: Request, group_id: IdPath, _=auth.operator_action):
    await _directory(request).delete_driver_group(group_id)
    return _see("/drivers/groups")


# --- charger groups -----------------------------------------------------------------------------
@router.get("/drivers/charger-groups", response_class=HTMLResponse)
async def charger_group_list(request: Request, _=auth.viewer_page, cursor: str | None = Query(None, max_length=200)):
    return await _charger_group_list(request, cursor)


async def _charger_group_list(request, cursor=None, errors=None, values=None, status_code=200):
    rows = await _directory(request).list_charger_groups(PAGE + 1, _after_id(cursor))
    rows, next_cursor = forms.next_cursor(rows, PAGE, _id_key)
    return render(request, "drivers_groups.html", status_code=status_code, kind="charger", groups=rows,
                  next_cursor=next_cursor, errors=errors or {}, values=values or {})


@router.post("/drivers/charger-groups")
async def create_charger_group(request: Request, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        body = forms.checked(GroupCreate, data)
        group = await _directory(request).create_charger_group(body.name, body.external_id)
    except Refused as error:
        errors, status = forms.problems(error)
        return await _charger_group_list(request, errors=errors, values=data, status_code=status)
    return _see(f"/drivers/charger-groups/{group['id']}")


@router.get("/drivers/charger-groups/{group_id}", response_class=HTMLResponse)
async def charger_group_page(request: Request, group_id: IdPath, _=auth.viewer_page):
    return await _charger_group_page(request, group_id)


async def _charger_group_page(request, group_id, errors=None, values=None, status_code=200):
    directory = _directory(request)
    group = await directory.get_charger_group(group_id)
    rights = await directory.list_access_rights(200, charger_group_id=group_id)
    driver_groups = await directory.list_driver_groups(500)
    return render(request, "drivers_group.html", status_code=status_code, kind="charger", group=group,
                  rights=rights, other_groups=driver_groups, errors=errors or {},
                  values=values or {"name": group["name"], "external_id": group["external_id"]})


@router.post("/drivers/charger-groups/{group_id}")
async def update_charger_group(request: Request, group_id: IdPath, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        body = forms.checked(GroupUpdate, data, clearable=("external_id",))
        await _directory(request).update_charger_group(group_id, body.model_dump(exclude_unset=True))
    except Refused as error:
        errors, status = forms.problems(error)
        return await _charger_group_page(request, group_id, errors=errors, values=data, status_code=status)
    return _see(f"/drivers/charger-groups/{group_id}?saved=1")


@router.post("/drivers/charger-groups/{group_id}/delete")
async def delete_charger_group(request: Request, group_id: IdPath, _=auth.operator_action):
    await _directory(request).delete_charger_group(group_id)
    return _see("/drivers/charger-groups")


@router.post("/drivers/charger-groups/{group_id}/members")
async def add_member(request: Request, group_id: IdPath, _=auth.operator_action):
    data = await forms.fields(request)
    cp_id = data.get("charge_point_id", "")
    try:
        if not cp_id or len(cp_id) > 48:
            raise FormErrors({"charge_point_id": "a charge point id of 1 to 48 characters"})
        await _directory(request).add_charge_point(group_id, cp_id)
    except Refused as error:
        errors, status = forms.problems(error)
        return await _charger_group_page(request, group_id, errors=errors, values=data, status_code=status)
    return _see(f"/drivers/charger-groups/{group_id}#members")


@router.post("/drivers/charger-groups/{group_id}/members/remove")
async def remove_member(request: Request, group_id: IdPath, _=auth.operator_action):
    cp_id = (await forms.fields(request)).get("charge_point_id", "")
    await _directory(request).remove_charge_point(group_id, cp_id[:48])
    return _see(f"/drivers/charger-groups/{group_id}#members")


# --- access rights ------------------------------------------------------------------------------
@router.post("/drivers/rights")
async def create_right(request: Request, _=auth.operator_action):
    """A right from a driver group's page or a charger group's (``back`` says which to return to)."""
    data = await forms.fields(request)
    back = "charger" if data.get("back") == "charger" else "driver"
    try:
        driver_group_id = forms.whole_number(data, "driver_group_id", required=True)
        charger_group_id = forms.whole_number(data, "charger_group_id", required=True)
        await _directory(request).create_access_right(driver_group_id, charger_group_id)
    except Refused as error:
        errors, status = forms.problems(error)
        own = data.get(f"{back}_group_id", "")
        if not own.isdigit():
            raise
        page = _charger_group_page if back == "charger" else _group_page
        return await page(request, int(own), errors=errors, status_code=status)
    own = charger_group_id if back == "charger" else driver_group_id
    return _see(f"/drivers/{'charger-groups' if back == 'charger' else 'groups'}/{own}#rights")


@router.post("/drivers/rights/{right_id}/delete")
async def delete_right(request: Request, right_id: IdPath, _=auth.operator_action):
    right = await _directory(request).get_access_right(right_id)
    await _directory(request).delete_access_right(right_id)
    back = (await forms.fields(request)).get("back")
    if back == "charger":
        return _see(f"/drivers/charger-groups/{right['charger_group']['id']}#rights")
    return _see(f"/drivers/groups/{right['driver_group']['id']}#rights")


# --- who may charge where (seed 003: the drivers having access to a charger) ---------------------
@router.get("/drivers/authorized", response_class=HTMLResponse)
async def authorized(request: Request, _=auth.viewer_page,
                     charge_point_id: str | None = Query(None, max_length=48, pattern=r"^[^/\s\x00]*$"),
                     cursor: str | None = Query(None, max_length=200)):
    """The drivers allowed to charge at a charger, with the access rights that admit them (the rule
    ``AccessService.authorize`` applies); an open charger (in no group) admits every valid tag."""
    restricted, rows, next_cursor = None, [], None
    if charge_point_id:
        restricted, rows = await _directory(request).authorized_drivers(charge_point_id, PAGE + 1,
                                                                        _after_id(cursor))
        rows, next_cursor = forms.next_cursor(rows, PAGE, _id_key)
    return render(request, "drivers_authorized.html", charge_point_id=charge_point_id or "", restricted=restricted,
                  drivers=rows, next_cursor=next_cursor)


# --- one driver ---------------------------------------------------------------------------------
@router.get("/drivers/{driver_id}", response_class=HTMLResponse)
async def driver_page(request: Request, driver_id: IdPath, _=auth.viewer_page):
    return await _driver_page(request, driver_id)


async def _driver_page(request, driver_id, errors=None, values=None, tag_values=None, status_code=200):
    directory = _directory(request)
    driver = await directory.get_driver(driver_id)
    groups = await directory.list_driver_groups(500)
    values = values or {"name": driver["name"], "email": driver["email"], "external_id": driver["external_id"],
                        "home_group_id": driver["home_group"]["id"] if driver["home_group"] else ""}
    return render(request, "drivers_driver.html", status_code=status_code, driver=driver, groups=groups,
                  types=TOKEN_TYPES, errors=errors or {}, values={**(tag_values or {"type": "ISO14443"}), **values})


@router.post("/drivers/{driver_id}")
async def update_driver(request: Request, driver_id: IdPath, _=auth.operator_action):
    data = await forms.fields(request)
    try:
        body = forms.checked(DriverUpdate, data, clearable=("email", "external_id", "home_group_id"))
        await _directory(request).update_driver(driver_id, body.model_dump(exclude_unset=True))
    except Refused as error:
        errors, status = forms.problems(error)
        return await _driver_page(request, driver_id, errors=errors, values=data, status_code=status)
    return _see(f"/drivers/{driver_id}?saved=1")


@router.post("/drivers/{driver_id}/delete")
async def delete_driver(request: Request, driver_id: IdPath, _=auth.operator_action):
    await _directory(request).delete_driver(driver_id)
    return _see("/drivers")
