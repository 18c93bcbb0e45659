"""Admin pages (the admin role only, to see and to post): API keys (created with the secret shown
once, listed, revoked) and operator accounts (created with a typed or generated password shown
once, role changed, disabled and enabled, password reset, deleted). An admin cannot disable,
demote or delete their own account (operators/rules.py)."""

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wattson.access.keys import ROLES
from wattson.access.schemas import ApiKeyCreate
from wattson.api.types import IdPath
from wattson.dashboard import auth, forms
from wattson.dashboard.forms import FormErrors
from wattson.dashboard.render import render
from wattson.errors import Invalid, WattsonError
from wattson.operators import passwords
from wattson.operators.rules import self_change_problem

router = APIRouter(include_in_schema=False)
PAGE = 50


def _services(request: Request):
    return request.app.state.services


def _role(data: dict) -> str:
    role = data.get("role", "")
    if role not in ROLES:
        raise FormErrors({"role": f"one of {', '.join(ROLES)}"})
    return role


def _refuse_self(login, operator_id: int, **change) -> None:
    problem = self_change_problem(login.operator_id, operator_id, **change)
    if problem:
        raise Invalid(problem)


@router.get("/admin", response_class=HTMLResponse)
async def admin_page(request: Request, _=auth.admin_page, cursor: str | None = Query(None, max_length=200)):
    return await _admin_page(request, cursor)


async def _admin_page(request, cursor=None, errors=None, values=None, created_key=None, created_operator=None,
                      status_code=200):
    after = forms.after(cursor, int)
    keys = await _services(request).access.list_api_keys(PAGE + 1, after[0] if after else None)
    keys, next_cursor = forms.next_cursor(keys, PAGE, lambda k: (k.id,))
    operators = await _services(request).operators.list()
    return render(request, "admin.html", status_code=status_code, keys=keys, next_cursor=next_cursor,
                  operators=operators, roles=ROLES, created_key=created_key, created_operator=created_operator,
                  errors=errors or {}, values=values or {"role": "viewer", "key_role": "viewer"})


@router.post("/admin/api-keys", response_class=HTMLResponse)
async def create_key(request: Request, _=auth.admin_action):
    """A new API key; its secret is on this answer only (stored hashed)."""
    data = await forms.fields(request)
    try:
        body = forms.checked(ApiKeyCreate, {"name": data.get("key_name", ""), "role": data.get("key_role", "")})
        row, secret = await _services(request).access.create_api_key(body.name, body.role)
    except WattsonError as error:
        errors, status = forms.problems(error)
        errors = {f"key_{k}" if k else k: v for k, v in errors.items()}
        return await _admin_page(request, errors=errors, values=data, status_code=status)
    return await _admin_page(request, created_key=(row, secret), status_code=201)


@router.post("/admin/api-keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: IdPath, _=auth.admin_action):
    await _services(request).access.revoke_api_key(key_id)
    return RedirectResponse("/admin#keys", status_code=303)


@router.post("/admin/operators", response_class=HTMLResponse)
async def create_operator(request: Request, _=auth.admin_action):
    """A new account with the typed password, or a generated one; either is shown once here."""
    data = await forms.fields(request)
    password = (await request.form()).get("password") or passwords.generate()  # not stripped: as typed
    try:
        operator = await _services(request).operators.create(data.get("email", ""), _role(data), password)
    except WattsonError as error:
        errors, status = forms.problems(error)
        if "password" in errors.get("", ""):
            errors["password"] = errors.pop("")
        elif "email" in errors.get("", "") or "operator with the email" in errors.get("", ""):
            errors["email"] = errors.pop("")
        return await _admin_page(request, errors=errors, values={**data, "password": ""}, status_code=status)
    return await _admin_page(request, created_operator=(operator, password), status_code=201)


@router.get("/admin/operators/{operator_id}", response_class=HTMLResponse)
async def operator_page(request: Request, operator_id: IdPath, _=auth.admin_page):
    return await _operator_page(request, operator_id)


async def _operator_page(request, operator_id, errors=None, new_password=None, status_code=200):
    operator = await _services(request).operators.get(operator_id)
    return render(request, "admin_operator.html", status_code=status_code, operator=operator, roles=ROLES,
                  myself=request.state.login.operator_id == operator.id, new_password=new_password,
                  errors=errors or {}, values={"role": operator.role})


@router.post("/admin/operators/{operator_id}/role")
async def change_role(request: Request, operator_id: IdPath, login=auth.admin_action):
    data = await forms.fields(request)
    try:
        role = _role(data)
        _refuse_self(login, operator_id, role=role)
        await _services(request).operators.update(operator_id, role=role)
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _operator_page(request, operator_id, errors=errors, status_code=status)
    return RedirectResponse(f"/admin/operators/{operator_id}?saved=1", status_code=303)


@router.post("/admin/operators/{operator_id}/password", response_class=HTMLResponse)
async def reset_password(request: Request, operator_id: IdPath, _=auth.admin_action):
    """A new password (typed or generated), shown once; the account's logins end."""
    password = (await request.form()).get("password") or passwords.generate()
    operators = _services(request).operators
    try:
        operator = await operators.get(operator_id)
        await operators.set_password(operator.email, password if isinstance(password, str) else "")
    except WattsonError as error:
        errors, status = forms.problems(error)
        return await _operator_page(request, operator_id, errors={"password": errors.get("", "")},
                                    status_code=status)
    return await _operator_page(request, operator_id, new_password=password)


@router.post("/admin/operators/{operator_id}/delete")
async def delete_operator(request: Request, operator_id: IdPath, login=auth.admin_action):
    _refuse_self(login, operator_id, delete=True)
    await _services(request).operators.delete(operator_id)
    return RedirectResponse("/admin#operators", status_code=303)


# Last: its path would also match /role, /password and /delete.
@router.post("/admin/operators/{operator_id}/{change}")
async def enable(request: Request, operator_id: IdPath, change: str = Path(pattern="^(disable|enable)$"),
                 login=auth.admin_action):
    """Disable an account (its logins end at once) or enable it again."""
    disable = change == "disable"
    _refuse_self(login, operator_id, disable=disable)
    await _services(request).operators.update(operator_id, disabled=disable)
    return RedirectResponse(f"/admin/operators/{operator_id}", status_code=303)
