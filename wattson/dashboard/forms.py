"""Form handling shared by the dashboard's edit pages: the posted fields as text, checked by the
API's own request models (so a form accepts exactly what the JSON API accepts), their errors as
one message per field to show beside it, and the cursor of a list page."""

from pydantic import BaseModel, ValidationError
from fastapi import Request

from wattson.api import pagination
from wattson.errors import Invalid, WattsonError

MAX_FIELD = 2000  # no form field here is longer; more is refused, not stored
#: For free-text query parameters (filters): no NUL, which PostgreSQL cannot compare.
NO_NUL = r"^[^\x00]*$"


class FormErrors(Invalid):
    """The form cannot be used: ``errors`` maps a field (or ``""`` for the whole form) to why. Not
    caught by a page, it is a 422 error page like any Invalid."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in errors.items()))
        self.errors = errors


async def fields(request: Request) -> dict[str, str]:
    """The posted fields as stripped text (the csrf token left out); a file or an over-long value
    is a FormErrors."""
    form = await request.form()
    out: dict[str, str] = {}
    for name, value in form.multi_items():
        if name == "csrf":
            continue
        if not isinstance(value, str):
            raise FormErrors({name: "files are not accepted here"})
        if len(value) > MAX_FIELD:
            raise FormErrors({name: f"at most {MAX_FIELD} characters"})
        if "\x00" in value:  # PostgreSQL cannot store it: refused here, not a 500 there
            raise FormErrors({name: "must not contain NUL characters"})
        out[name] = value.strip()
    return out


def checked(model: type[BaseModel], data: dict, clearable: tuple[str, ...] = ()) -> BaseModel:
    """``data`` as ``model``: empty fields are left out, except those in ``clearable``, which an
    edit form empties to clear them (sent as null). FormErrors with the model's messages."""
    values = {}
    for name, value in data.items():
        if value == "" or value is None:
            if name in clearable:
                values[name] = None
            continue
        values[name] = value
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise FormErrors(validation_messages(error)) from None


def validation_messages(error: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body",)]
        field = loc[0] if loc else ""
        message = item.get("msg", "invalid").removeprefix("Value error, ")
        if item.get("type") == "extra_forbidden":
            message = "not a field of this form"
        out.setdefault(field, message)
    return out


def domain_errors(error: WattsonError) -> dict[str, str]:
    """A service's error as form errors: its per-field details where it gave them, else the message."""
    out: dict[str, str] = {}
    if isinstance(error.details, list):
        for item in error.details:
            if isinstance(item, dict) and "field" in item:
                out.setdefault(str(item["field"]).removeprefix("body."), str(item.get("message", error.message)))
    out.setdefault("", error.message)
    return out


def problems(error: WattsonError) -> tuple[dict[str, str], int]:
    """(errors by field, HTTP status) of a refused form: FormErrors are 422, a service's error its own."""
    if isinstance(error, FormErrors):
        return error.errors, 422
    return domain_errors(error), error.status


def boolean(data: dict, name: str) -> bool:
    """A checkbox: present (any value but "false") is true."""
    return data.get(name, "false") not in ("", "false", "0", "off")


def after(cursor: str | None, *types: type) -> tuple | None:
    """The key a list page's cursor holds (pagination.decode: a tampered one is a 422 page)."""
    return pagination.decode(cursor, *types)


def next_cursor(rows: list, limit: int, key) -> tuple[list, str | None]:
    """The page (``rows`` fetched with ``limit + 1``) and the cursor of the next, if any."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (pagination.encode(*key(rows[-1])) if more and rows else None)


def whole_number(data: dict, name: str, required: bool = False) -> int | None:
    """A numeric id field of a form (a select or text box), as an int; FormErrors otherwise."""
    value = data.get(name, "")
    if value == "":
        if required:
            raise FormErrors({name: "required"})
        return None
    if not value.isdigit() or len(value) > 10 or int(value) == 0:
        raise FormErrors({name: f"must be a whole number from 1, not {value[:20]!r}"})
    return int(value)

