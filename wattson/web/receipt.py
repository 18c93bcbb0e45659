"""The payment part of a direct-payment receipt: held, captured, released, refunded, the card."""

import html
from decimal import Decimal

from wattson.sessions.receipts import money_text


def with_payment(receipt_html: str, payment) -> str:
    cur = payment.currency
    rows = [("Card", payment.card or "—"), ("Held on the card", money_text(Decimal(payment.amount_held), cur)),
            ("Charged to the card", money_text(Decimal(payment.amount_captured or "0"), cur)),
            ("Released", money_text(Decimal(payment.amount_released or "0"), cur))]
    if Decimal(payment.amount_refunded):
        rows.append(("Refunded", money_text(Decimal(payment.amount_refunded), cur)))
    body = "".join(f"<tr><th scope='row'>{html.escape(k)}</th><td class='n'>{html.escape(v)}</td></tr>"
                   for k, v in rows)
    block = f"<h2>Payment</h2><table id='payment'><tbody>{body}</tbody></table>"
    return receipt_html.replace("</body>", block + "</body>", 1)
