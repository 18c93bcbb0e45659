"""A driver's receipt for a priced session, as HTML and as PDF. No I/O: the caller brings the
session's CDR and names; both renderings show the same lines, which add up to the total."""

import html
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fpdf import FPDF

from wattson.tariffs.pricing import PricedSession

_LABELS = (("energy", "Energy", "kWh"), ("time", "Charging time", "h"), ("parking", "Parking time", "h"),
           ("flat", "Session fee", ""))


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
    id_tag: str | None
    energy_kwh: Decimal
    priced: PricedSession
    tariff: dict  # the snapshot it was priced with: the VAT rate of each line comes from it


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    quantity: str
    excl_vat: Decimal
    vat_percent: Decimal | None
    vat: Decimal
    incl_vat: Decimal


def lines(receipt: Receipt) -> list[Line]:
    """One line per priced dimension (those that cost nothing and measured nothing are left out)."""
    result = []
    for name, label, unit in _LABELS:
        d = getattr(receipt.priced, name)
        if not d.incl_vat and not d.volume:
            continue
        quantity = f"{d.billed_volume.normalize():f} {unit}".strip() if unit else ""
        result.append(Line(label, quantity, d.excl_vat, _vat_percent(receipt.tariff, name), d.vat, d.incl_vat))
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


def _local(receipt: Receipt, at: datetime) -> str:
    return at.astimezone(ZoneInfo(receipt.time_zone)).strftime("%Y-%m-%d %H:%M")


def money_text(amount: Decimal, currency: str) -> str:
    """An amount as receipts print it: thousands separated, two decimals, the currency after."""
    return f"{amount:,.2f} {currency}"


def _facts(receipt: Receipt) -> list[tuple[str, str]]:
    return [("Receipt", receipt.number), ("Session", str(receipt.session_id)),
            ("Issued", _local(receipt, receipt.issued_at)),
            ("Charger", receipt.evse_id or receipt.charge_point_id), ("Location", receipt.location or "—"),
            ("Started", _local(receipt, receipt.started_at)), ("Stopped", _local(receipt, receipt.stopped_at)),
            ("Time zone", receipt.time_zone), ("Energy", f"{receipt.energy_kwh:.3f} kWh"),
            ("Card / tag", receipt.id_tag or "—")]


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f} %"


def render_html(receipt: Receipt) -> str:
    p, cur = receipt.priced, receipt.priced.currency
    e = html.escape
    facts = "".join(f"<tr><th scope='row'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _facts(receipt))
    rows = "".join(
        f"<tr><td>{e(line.label)}</td><td>{e(line.quantity)}</td><td class='n'>{money_text(line.excl_vat, cur)}</td>"
        f"<td class='n'>{_percent(line.vat_percent)}</td><td class='n'>{money_text(line.vat, cur)}</td>"
        f"<td class='n'>{money_text(line.incl_vat, cur)}</td></tr>" for line in lines(receipt))
    if p.reduction:
        rows += (f"<tr><td>{'Price cap' if p.reduction > 0 else 'Minimum price'}</td><td></td>"
                 f"<td class='n'>{money_text(-p.reduction, cur)}</td><td></td><td></td><td></td></tr>")
    vat = "".join(f"<tr><td>VAT {_percent(percent)}</td><td class='n'>{money_text(base, cur)}</td>"
                  f"<td class='n'>{money_text(amount, cur)}</td></tr>" for percent, base, amount in p.vat_lines)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Receipt {e(receipt.number)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:1rem auto;padding:0 1rem;color:#111}}
table{{border-collapse:collapse;width:100%;margin:1rem 0}}th,td{{text-align:left;padding:.3rem .4rem;
border-bottom:1px solid #ddd}}.n{{text-align:right;white-space:nowrap}}tfoot td{{font-weight:bold}}</style>
</head><body><h1>Charging receipt</h1>
<table><tbody>{facts}</tbody></table>
<table><thead><tr><th>Item</th><th>Quantity</th><th class='n'>Excl. VAT</th><th class='n'>VAT rate</th>
<th class='n'>VAT</th><th class='n'>Incl. VAT</th></tr></thead><tbody>{rows}</tbody>
<tfoot><tr><td>Total</td><td></td><td class='n'>{money_text(p.total_excl_vat, cur)}</td><td></td>
<td class='n'>{money_text(p.total_vat, cur)}</td><td class='n'>{money_text(p.total_incl_vat, cur)}</td></tr></tfoot></table>
<h2>VAT</h2><table><thead><tr><th>Rate</th><th class='n'>Base</th><th class='n'>VAT</th></tr></thead>
<tbody>{vat}</tbody></table></body></html>"""


def render_pdf(receipt: Receipt) -> bytes:
    """An A4 PDF with the same content. The built-in PDF fonts are Latin-1, so other letters are
    written without their accents (Smíchov → Smichov) rather than dropped."""
    p, cur = receipt.priced, receipt.priced.currency
    pdf = FPDF(format="A4")
    pdf.set_title(f"Receipt {receipt.number}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Charging receipt", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for key, value in _facts(receipt):
        pdf.cell(35, 6, _latin1(key))
        pdf.cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (48, 30, 28, 20, 26, 28)
    _row(pdf, widths, ("Item", "Quantity", "Excl. VAT", "VAT rate", "VAT", "Incl. VAT"), bold=True)
    for line in lines(receipt):
        _row(pdf, widths, (line.label, line.quantity, money_text(line.excl_vat, cur), _percent(line.vat_percent),
                           money_text(line.vat, cur), money_text(line.incl_vat, cur)))
    if p.reduction:
        _row(pdf, widths, ("Price cap" if p.reduction > 0 else "Minimum price", "", money_text(-p.reduction, cur),
                           "", "", ""))
    _row(pdf, widths, ("Total", "", money_text(p.total_excl_vat, cur), "", money_text(p.total_vat, cur),
                       money_text(p.total_incl_vat, cur)), bold=True)
    pdf.ln(4)
    for percent, base, amount in p.vat_lines:
        _row(pdf, (48, 40, 40), (f"VAT {_percent(percent)}", money_text(base, cur), money_text(amount, cur)))
    return bytes(pdf.output())


def _row(pdf: FPDF, widths, cells, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 9)
    for i, (width, text) in enumerate(zip(widths, cells)):
        pdf.cell(width, 6, _latin1(text), border="B", align="L" if i < 2 else "R")
    pdf.ln()


def _latin1(text: str) -> str:
    text = text.replace("—", "-").replace("–", "-")
    if all(ord(ch) < 256 for ch in text):
        return text
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return stripped.encode("latin-1", "replace").decode("latin-1")
