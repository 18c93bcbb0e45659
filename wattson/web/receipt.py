"""The payment part of a direct-payment receipt: held, captured, released, refunded, the card."""

import html
from decimal import Decimal


def with_payment(receipt_html: str, payment) -> str:
    cur = payment.currency
    rows = [("Card", payment.card or "—"), ("Held on the card", _money(payment.amount_held, cur)),
            ("Charged to the card", _money(payment.amount_captured or "0", cur)),
            ("Released", _money(payment.amount_released or "0", cur))]
    if Decimal(payment.amount_refunded):
        rows.append(("Refunded", _money(payment.amount_refunded, cur)))
    body = "".join(f"<tr><th scope='row'>{html.escape(k)}</th><td class='n'>{html.escape(v)}</td></tr>"
                   for k, v in rows)
    block = f"<h2>Payment</h2><table id='payment'><tbody>{body}</tbody></table>"
    return receipt_html.replace("</body>", block + "</body>", 1)


def _money(amount: str, currency: str) -> str:
    return f"{Decimal(amount):,.2f} {currency}"
