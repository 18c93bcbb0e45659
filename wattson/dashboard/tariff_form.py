"""The tariff editor's form, without I/O: what was typed (a ``Draft`` of strings, nested as the
OCPI tariff is) from the posted fields or from a stored tariff; the buttons that add and remove
elements and components without JavaScript; the OCPI body the API's schema then validates; and
that schema's errors, keyed by the form field they belong next to.

Field names: ``e{i}_{restriction}``, ``e{i}_day_of_week`` (checkboxes), ``e{i}c{j}_{type|price|vat|
step_size}``; the counts of elements and of each element's components travel as ``elements`` and
``e{i}_components`` so that an empty row is kept too."""

import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from wattson.tariffs.schemas import TariffCreate, TariffReplace

DIMENSIONS = ("ENERGY", "TIME", "PARKING_TIME", "FLAT")
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
TYPES = ("REGULAR", "AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN")
#: Restriction fields typed as text (day_of_week and reservation have their own inputs).
RESTRICTIONS = ("start_time", "end_time", "start_date", "end_date", "min_kwh", "max_kwh", "min_current",
                "max_current", "min_power", "max_power", "min_duration", "max_duration")
COMPONENT = ("type", "price", "vat", "step_size")
TOP = ("id", "currency", "type", "alt_text", "tariff_alt_url", "min_excl", "min_incl", "max_excl", "max_incl",
       "start_date_time", "end_date_time")
MAX_ELEMENTS, MAX_COMPONENTS = 100, 10
#: Plain words for the schema's patterns, by field.
_HH_MM = "write the time as HH:MM, 00:00 to 23:59"
_PATTERNS = {"start_time": _HH_MM, "end_time": _HH_MM, "id": "letters, digits and . _ - only, up to 36"}
_ALT = re.compile(r"^\s*([a-z]{2})\s*:\s*(.+?)\s*$")


def _component(**values) -> dict:
    return {"type": "ENERGY", "price": "", "vat": "", "step_size": "1", **values}


def _element() -> dict:
    return {**{name: "" for name in RESTRICTIONS}, "day_of_week": [], "reservation": "",
            "components": [_component()]}


@dataclass
class Draft:
    """What the form shows: every value as typed (strings), elements as dicts of them."""

    top: dict = field(default_factory=lambda: {**{name: "" for name in TOP}, "currency": "EUR", "type": "REGULAR"})
    elements: list = field(default_factory=lambda: [_element()])


def _count(value, low: int, high: int) -> int:
    text = (value or "").strip()
    return min(max(int(text), low), high) if text.isdigit() else low


def from_form(form) -> Draft:
    """The draft from posted fields (a mapping with ``get``, and ``getlist`` for checkboxes)."""
    top = {name: (form.get(name) or "").strip() for name in TOP}
    top["alt_text"] = (form.get("alt_text") or "").strip()
    elements = []
    for i in range(_count(form.get("elements"), 1, MAX_ELEMENTS)):
        element = {name: (form.get(f"e{i}_{name}") or "").strip() for name in RESTRICTIONS}
        element["day_of_week"] = [d for d in form.getlist(f"e{i}_day_of_week") if d in DAYS]
        element["reservation"] = (form.get(f"e{i}_reservation") or "").strip()
        element["components"] = [{name: (form.get(f"e{i}c{j}_{name}") or "").strip() for name in COMPONENT}
                                 for j in range(_count(form.get(f"e{i}_components"), 1, MAX_COMPONENTS))]
        elements.append(element)
    return Draft(top, elements)


def _text(value) -> str:
    """A stored number as typed: 21, not 21.0."""
    if value is None:
        return ""
    text = str(value)
    return text[:-2] if isinstance(value, float) and text.endswith(".0") else text


def _local(value: str | None) -> str:
    """A stored ISO time as a datetime-local input shows it (UTC, seconds kept)."""
    return "" if not value else value.replace("Z", "").replace("+00:00", "")[:19]


def from_tariff(tariff_id: str, body: dict) -> Draft:
    """The draft of a stored tariff (its OCPI body), for editing."""
    low, high = body.get("min_price") or {}, body.get("max_price") or {}
    top = {"id": tariff_id, "currency": body.get("currency", ""), "type": body.get("type") or "",
           "alt_text": "\n".join(f"{t['language']}: {t['text']}" for t in body.get("tariff_alt_text") or []),
           "tariff_alt_url": _text(body.get("tariff_alt_url")),
           "min_excl": _text(low.get("excl_vat")), "min_incl": _text(low.get("incl_vat")),
           "max_excl": _text(high.get("excl_vat")), "max_incl": _text(high.get("incl_vat")),
           "start_date_time": _local(body.get("start_date_time")), "end_date_time": _local(body.get("end_date_time"))}
    elements = []
    for raw in body.get("elements") or []:
        restrictions = raw.get("restrictions") or {}
        element = {name: _text(restrictions.get(name)) for name in RESTRICTIONS}
        element["day_of_week"] = list(restrictions.get("day_of_week") or [])
        element["reservation"] = restrictions.get("reservation") or ""
        element["components"] = [_component(type=c["type"], price=_text(c["price"]), vat=_text(c.get("vat")),
                                            step_size=_text(c.get("step_size", 1)))
                                 for c in raw.get("price_components") or []] or [_component()]
        elements.append(element)
    return Draft(top, elements or [_element()])


def apply(draft: Draft, op: str) -> bool:
    """A button of the form that changes its shape: ``add-element``, ``remove-element:i``,
    ``add-component:i``, ``remove-component:i:j``. False for anything else (save)."""
    parts = op.split(":")
    numbers = [int(p) for p in parts[1:] if p.isdigit()]
    if len(numbers) != len(parts) - 1:
        return False
    elements = draft.elements
    if parts[0] == "add-element" and not numbers and len(elements) < MAX_ELEMENTS:
        elements.append(_element())
    elif parts[0] == "remove-element" and len(numbers) == 1 and numbers[0] < len(elements):
        del elements[numbers[0]]
        if not elements:
            elements.append(_element())
    elif parts[0] == "add-component" and len(numbers) == 1 and numbers[0] < len(elements):
        components = elements[numbers[0]]["components"]
        if len(components) < MAX_COMPONENTS:
            components.append(_component())
    elif parts[0] == "remove-component" and len(numbers) == 2 and numbers[0] < len(elements):
        components = elements[numbers[0]]["components"]
        if numbers[1] < len(components):
            del components[numbers[1]]
        if not components:
            components.append(_component())
    else:
        return False
    return True


def body_of(draft: Draft) -> tuple[dict, dict[str, str]]:
    """The tariff as the API takes it (empty fields left out) and the problems found before the
    schema looks (a description line without its language)."""
    top, problems = draft.top, {}
    body: dict = {"currency": top["currency"]}
    for name in ("id", "type", "tariff_alt_url", "start_date_time", "end_date_time"):
        if top[name]:
            body[name] = top[name]
    texts = []
    for line in filter(str.strip, top["alt_text"].splitlines()):
        found = _ALT.match(line)
        if found:
            texts.append({"language": found.group(1), "text": found.group(2)})
        else:
            problems["alt_text"] = f"write each line as \"en: text\", not {line.strip()[:40]!r}"
    if texts:
        body["tariff_alt_text"] = texts
    for bound, excl, incl in (("min_price", "min_excl", "min_incl"), ("max_price", "max_excl", "max_incl")):
        if top[excl] or top[incl]:
            body[bound] = {name: top[key] for name, key in (("excl_vat", excl), ("incl_vat", incl)) if top[key]}
    body["elements"] = []
    for element in draft.elements:
        restrictions = {name: element[name] for name in RESTRICTIONS if element[name]}
        if element["day_of_week"]:
            restrictions["day_of_week"] = element["day_of_week"]
        if element["reservation"]:
            restrictions["reservation"] = element["reservation"]
        components = [{"type": c["type"], "step_size": c["step_size"] or "1",
                       **{name: c[name] for name in ("price", "vat") if c[name]}} for c in element["components"]]
        body["elements"].append({"price_components": components, **({"restrictions": restrictions}
                                                                     if restrictions else {})})
    return body, problems


def validate(body: dict, new: bool) -> tuple[dict | None, dict[str, str]]:
    """The OCPI body as the API stores it (``TariffCreate`` for a new tariff, ``TariffReplace``
    for an edit), or the schema's errors by form field."""
    if not new:
        body = {k: v for k, v in body.items() if k != "id"}
    try:
        model = (TariffCreate if new else TariffReplace).model_validate(body)
    except ValidationError as error:
        problems: dict[str, str] = {}
        for e in error.errors():
            name = field_of(e["loc"])
            problems.setdefault(name, _PATTERNS.get(name.split("_", 1)[-1] if name != "id" else "id", e["msg"])
                                if e["type"] == "string_pattern_mismatch" else e["msg"].removeprefix("Value error, "))
        return None, problems
    return model.model_dump(mode="json", exclude_none=True), {}


def field_of(loc: tuple) -> str:
    """The form field a schema error belongs next to (``form`` for the tariff as a whole)."""
    loc = tuple(loc)
    if not loc:
        return "form"
    head = loc[0]
    if head in ("min_price", "max_price"):
        return f"{head[:3]}_{'incl' if 'incl_vat' in loc else 'excl'}"
    if head == "tariff_alt_text":
        return "alt_text"
    if head != "elements":
        return str(head)
    if len(loc) < 2:
        return "elements"
    i = loc[1]
    if len(loc) >= 4 and loc[2] == "price_components":
        j = loc[3]
        return f"e{i}c{j}_{loc[4]}" if len(loc) >= 5 else f"e{i}c{j}"
    if len(loc) >= 3 and loc[2] == "restrictions":
        return f"e{i}_{loc[3]}" if len(loc) >= 4 else f"e{i}"
    return f"e{i}"
