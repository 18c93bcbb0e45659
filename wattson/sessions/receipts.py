"""A driver's receipt for a priced session, as HTML and as PDF. No I/O: the caller brings the
session's CDR, the names, the seller and (for a card payment) what the card was held and charged;
both renderings show the same lines, which add up to the total, in the receipt's language, with
money written one way (``web.money``). The PDF embeds a Unicode font (Roboto, from the
``font-roboto`` package), so "Plzeň, Křižíkova" prints as written."""

import html
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import font_roboto
from fpdf import FPDF

from wattson.payments.tokens import is_payment_token
from wattson.tariffs.pricing import PricedSession
from wattson.web.money import money, number

_DIMENSIONS = (("energy", "energy", "kWh"), ("time", "charging_time", "h"), ("parking", "parking_time", "h"),
               ("flat", "session_fee", ""))

TEXTS = {
    "en": {"title": "Charging receipt", "receipt": "Receipt", "session": "Session", "issued": "Issued",
           "charger": "Charger", "location": "Location", "started": "Started", "stopped": "Stopped",
           "time_zone": "Time zone", "energy": "Energy", "tag": "Card / tag", "card": "Card",
           "card_payment": "paid by card",
           "seller": "Seller", "seller_address": "Address", "vat_id": "VAT ID", "item": "Item", "quantity": "Quantity",
           "excl_vat": "Excl. VAT", "vat_rate": "VAT rate", "vat": "VAT", "incl_vat": "Incl. VAT", "total": "Total",
           "rate": "Rate", "base": "Base", "charging_time": "Charging time", "parking_time": "Parking time",
           "session_fee": "Session fee", "price_cap": "Price cap", "minimum_price": "Minimum price",
           "payment": "Payment", "held": "Held on the card", "captured": "Charged to the card",
           "released": "Released", "refunded": "Refunded"},
    "cs": {"title": "Doklad o nabíjení", "receipt": "Doklad", "session": "Nabíjení", "issued": "Vystaveno",
           "charger": "Nabíječka", "location": "Místo", "started": "Začátek", "stopped": "Konec",
           "time_zone": "Časové pásmo", "energy": "Energie", "tag": "Karta / čip", "card": "Karta",
           "card_payment": "placeno kartou",
           "seller": "Prodávající", "seller_address": "Sídlo", "vat_id": "DIČ", "item": "Položka", "quantity": "Množství",
           "excl_vat": "Bez DPH", "vat_rate": "Sazba DPH", "vat": "DPH", "incl_vat": "Vč. DPH", "total": "Celkem",
           "rate": "Sazba", "base": "Základ", "charging_time": "Doba nabíjení", "parking_time": "Doba stání",
           "session_fee": "Poplatek za nabíjení", "price_cap": "Cenový strop", "minimum_price": "Minimální cena",
           "payment": "Platba", "held": "Blokováno na kartě", "captured": "Strženo z karty",
           "released": "Uvolněno", "refunded": "Vráceno"},
}


@dataclass(frozen=True, slots=True)
class Seller:
    """Who issues the receipt (settings WATTSON_SELLER_*)."""

    name: str | None = None
    address: str | None = None
    vat_id: str | None = None

    def __bool__(self) -> bool:
        return any((self.name, self.address, self.vat_id))


@dataclass(frozen=True, slots=True)
class CardPayment:
    """What a direct payment did on the driver's card."""

    card: str | None  # as the provider told it, e.g. "visa •••• 4242"
    held: Decimal
    captured: Decimal
    released: Decimal
    refunded: Decimal


@dataclass(frozen=True, slots=True)
class Receipt:
    number: str  # the CDR's id
    session_id: int
    issued_at: datetime
    started_at: datetime
    stopped_at: datetime
    time_zone: str
    charge_point_id: str
    evse_id: str | None
    location: str | None  # name and address, one line
    id_tag: str | None  # the driver's tag; a direct payment's one-off token is internal: never shown
    energy_kwh: Decimal
    priced: PricedSession
    tariff: dict  # the snapshot it was priced with: the VAT rate of each line comes from it
    seller: Seller | None = None
    payment: CardPayment | None = None
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    quantity: str
    excl_vat: Decimal
    vat_percent: Decimal | None
    vat: Decimal
    incl_vat: Decimal


def _t(receipt: Receipt) -> dict:
    return TEXTS.get(receipt.language, TEXTS["en"])


def lines(receipt: Receipt) -> list[Line]:
    """One line per priced dimension (those that cost nothing and measured nothing are left out)."""
    t, result = _t(receipt), []
    for name, label, unit in _DIMENSIONS:
        d = getattr(receipt.priced, name)
        if not d.incl_vat and not d.volume:
            continue
        quantity = (duration(d.billed_volume) if unit == "h" else
                    f"{number(d.billed_volume, receipt.language)} {unit}" if unit else "")
        result.append(Line(t[label], quantity, d.excl_vat, _vat_percent(receipt.tariff, name), d.vat, d.incl_vat))
    return result


_TYPES = {"energy": "ENERGY", "time": "TIME", "parking": "PARKING_TIME", "flat": "FLAT"}


def _vat_percent(tariff: dict, dimension: str) -> Decimal | None:
    """The VAT rate of the tariff's components of that dimension (one rate, as tariffs have)."""
    for element in tariff.get("elements", []):
        for component in element["price_components"]:
            if component["type"] == _TYPES[dimension]:
                vat = component.get("vat")
                return None if vat is None else Decimal(str(vat))
    return None


def duration(hours: Decimal) -> str:
    """Billed time as h:mm:ss (0.000278 h reads as 0:00:01), the same in every language."""
    seconds = int((hours * 3600).to_integral_value())
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def card_text(card: str | None) -> str | None:
    """A card as a receipt shows it: its brand and last four digits ("Visa •••• 4242"), whatever
    else the provider's text held; None when it told no digits."""
    digits = re.sub(r"\D", "", card or "")
    if len(digits) < 4:
        return None
    brand = next((w for w in (card or "").split() if w.isalpha()), "")
    return f"{brand.capitalize()} •••• {digits[-4:]}".strip()


def _local(receipt: Receipt, at: datetime) -> str:
    return at.astimezone(ZoneInfo(receipt.time_zone)).strftime("%Y-%m-%d %H:%M")


def _money(receipt: Receipt, amount: Decimal) -> str:
    return money(amount, receipt.priced.currency, receipt.language)


def seller_lines(receipt: Receipt) -> list[tuple[str, str]]:
    s, t = receipt.seller, _t(receipt)
    if not s:
        return []
    return [(t[key], value) for key, value in (("seller", s.name), ("seller_address", s.address),
                                                ("vat_id", s.vat_id)) if value]


def facts(receipt: Receipt) -> list[tuple[str, str]]:
    t = _t(receipt)
    if receipt.payment is not None:
        who = (t["card"], card_text(receipt.payment.card) or "—")
    elif is_payment_token(receipt.id_tag):  # a paid session's receipt without its payment (the operator's)
        who = (t["tag"], t["card_payment"])
    else:
        who = (t["tag"], receipt.id_tag or "—")
    return [(t["receipt"], receipt.number), (t["session"], str(receipt.session_id)),
            (t["issued"], _local(receipt, receipt.issued_at)),
            (t["charger"], receipt.evse_id or receipt.charge_point_id), (t["location"], receipt.location or "—"),
            (t["started"], _local(receipt, receipt.started_at)), (t["stopped"], _local(receipt, receipt.stopped_at)),
            (t["time_zone"], receipt.time_zone),
            (t["energy"], f"{number(receipt.energy_kwh, receipt.language, 3)} kWh"), who]


def payment_lines(receipt: Receipt) -> list[tuple[str, str]]:
    """The payment section, the same on the HTML and the PDF; [] without a card payment."""
    p, t = receipt.payment, _t(receipt)
    if p is None:
        return []
    rows = [(t["card"], card_text(p.card) or "—"), (t["held"], _money(receipt, p.held)),
            (t["captured"], _money(receipt, p.captured)), (t["released"], _money(receipt, p.released))]
    if p.refunded:
        rows.append((t["refunded"], _money(receipt, p.refunded)))
    return rows


def _percent(value: Decimal | None, language: str) -> str:
    return "—" if value is None else f"{number(value, language)} %"


def _reduction_label(receipt: Receipt) -> str:
    return _t(receipt)["price_cap" if receipt.priced.reduction > 0 else "minimum_price"]


_CSS = """body{font-family:system-ui,sans-serif;max-width:44rem;margin:1rem auto;padding:0 1rem;color:#111;
overflow-wrap:anywhere}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;
padding:.3rem .4rem;border-bottom:1px solid #ddd;vertical-align:top}.n{text-align:right;white-space:nowrap}
tfoot td{font-weight:bold}h1{font-size:1.5rem}h2{font-size:1.2rem}#seller th,#facts th{width:35%}
@media (max-width:36rem){body{padding:0 .6rem}table.lines thead{display:none}
table.lines,table.lines tbody,table.lines tfoot,table.lines tr,table.lines td{display:block;width:100%}
table.lines tr{border-bottom:1px solid #bbb;padding:.3rem 0}table.lines td{border:0;padding:.1rem 0;
display:flex;justify-content:space-between;gap:1rem;text-align:right}
table.lines td::before{content:attr(data-label);text-align:left;color:#555;font-weight:normal}
table.lines td:empty{display:none}table.lines td:first-child{font-weight:600}
table.lines td:first-child::before{content:none}}"""


def render_html(receipt: Receipt) -> str:
    p, t, e = receipt.priced, _t(receipt), html.escape
    heads = (t["item"], t["quantity"], t["excl_vat"], t["vat_rate"], t["vat"], t["incl_vat"])

    def cell(i: int, head: str, text: str) -> str:
        """Each cell names its column, shown beside it in the narrow (phone) layout."""
        number_class = " class='n'" if i >= 2 else ""
        label = f" data-label='{e(head)}'" if text else ""
        return f"<td{number_class}{label}>{e(text)}</td>"

    def row(cells) -> str:
        return "<tr>" + "".join(cell(i, head, text) for i, (head, text) in enumerate(zip(heads, cells))) + "</tr>"

    def pairs(rows) -> str:
        return "".join(f"<tr><th scope='row'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)

    seller, fact_rows = pairs(seller_lines(receipt)), pairs(facts(receipt))
    rows = "".join(row((line.label, line.quantity, _money(receipt, line.excl_vat),
                        _percent(line.vat_percent, receipt.language), _money(receipt, line.vat),
                        _money(receipt, line.incl_vat))) for line in lines(receipt))
    if p.reduction:
        rows += row((_reduction_label(receipt), "", _money(receipt, -p.reduction), "", "", ""))
    total = row((t["total"], "", _money(receipt, p.total_excl_vat), "", _money(receipt, p.total_vat),
                 _money(receipt, p.total_incl_vat)))
    vat = "".join(f"<tr><td>{e(t['vat'])} {e(_percent(percent, receipt.language))}</td>"
                  f"<td class='n'>{e(_money(receipt, base))}</td><td class='n'>{e(_money(receipt, amount))}</td></tr>"
                  for percent, base, amount in p.vat_lines)
    payment = ""
    if receipt.payment is not None:
        body = "".join(f"<tr><th scope='row'>{e(k)}</th><td class='n'>{e(v)}</td></tr>"
                       for k, v in payment_lines(receipt))
        payment = f"<h2>{e(t['payment'])}</h2><table id='payment'><tbody>{body}</tbody></table>"
    head_cells = "".join(f"<th{' class=n' if i >= 2 else ''}>{e(h)}</th>" for i, h in enumerate(heads))
    return f"""<!doctype html>
<html lang="{e(receipt.language)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t['receipt'])} {e(receipt.number)}</title><style>{_CSS}</style>
</head><body><h1>{e(t['title'])}</h1>{f"<table id='seller'><tbody>{seller}</tbody></table>" if seller else ""}
<table id='facts'><tbody>{fact_rows}</tbody></table>
<table class='lines' id='lines'><thead><tr>{head_cells}</tr></thead><tbody>{rows}</tbody>
<tfoot>{total}</tfoot></table>
<h2>{e(t['vat'])}</h2><table id='vat'><thead><tr><th>{e(t['rate'])}</th><th class='n'>{e(t['base'])}</th>
<th class='n'>{e(t['vat'])}</th></tr></thead><tbody>{vat}</tbody></table>{payment}</body></html>"""


_FONT = "Roboto"
_WIDTHS = (46, 30, 28, 18, 28, 30)  # 180 mm: A4 less 15 mm margins


def render_pdf(receipt: Receipt) -> bytes:
    """An A4 PDF with the same content, Roboto embedded (a subset) for every letter."""
    p, t = receipt.priced, _t(receipt)
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.add_font(_FONT, "", font_roboto.Roboto)
    pdf.add_font(_FONT, "B", font_roboto.RobotoBold)
    pdf.set_title(f"{t['receipt']} {receipt.number}")
    pdf.set_lang(receipt.language)
    pdf.add_page()
    pdf.set_font(_FONT, "B", 16)
    pdf.cell(0, 10, t["title"], new_x="LMARGIN", new_y="NEXT")
    _pairs(pdf, seller_lines(receipt))
    pdf.ln(2)
    _pairs(pdf, facts(receipt))
    pdf.ln(4)
    _row(pdf, _WIDTHS, (t["item"], t["quantity"], t["excl_vat"], t["vat_rate"], t["vat"], t["incl_vat"]), bold=True)
    for line in lines(receipt):
        _row(pdf, _WIDTHS, (line.label, line.quantity, _money(receipt, line.excl_vat),
                            _percent(line.vat_percent, receipt.language), _money(receipt, line.vat),
                            _money(receipt, line.incl_vat)))
    if p.reduction:
        _row(pdf, _WIDTHS, (_reduction_label(receipt), "", _money(receipt, -p.reduction), "", "", ""))
    _row(pdf, _WIDTHS, (t["total"], "", _money(receipt, p.total_excl_vat), "", _money(receipt, p.total_vat),
                        _money(receipt, p.total_incl_vat)), bold=True)
    pdf.ln(4)
    _heading(pdf, t["vat"])
    _row(pdf, (46, 40, 40), (t["rate"], t["base"], t["vat"]), bold=True)
    for percent, base, amount in p.vat_lines:
        _row(pdf, (46, 40, 40), (f"{t['vat']} {_percent(percent, receipt.language)}", _money(receipt, base),
                                 _money(receipt, amount)))
    if receipt.payment is not None:
        pdf.ln(4)
        _heading(pdf, t["payment"])
        for key, value in payment_lines(receipt):
            _row(pdf, (60, 40), (key, value))
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font(_FONT, "B", 12)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")


def _pairs(pdf: FPDF, pairs: list[tuple[str, str]]) -> None:
    """Label and value rows; a long value (an address) wraps within its column."""
    for key, value in pairs:
        pdf.set_font(_FONT, "", 10)
        pdf.cell(40, 6, key)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")


def _row(pdf: FPDF, widths, cells, bold: bool = False) -> None:
    pdf.set_font(_FONT, "B" if bold else "", 9)
    for i, (width, text) in enumerate(zip(widths, cells)):
        pdf.cell(width, 6, text, border="B", align="L" if i < 2 else "R")
    pdf.ln()
