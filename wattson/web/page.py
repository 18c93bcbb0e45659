"""The driver page, ``/driver/{evse_id}``: what the QR code on the charger opens. Rendered on the
server (fast on a phone, readable without JavaScript); ``static/driver.js`` pays, follows the
session through the driver API and shows the receipt."""

import html
import json
import re
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from wattson.downtime.rules import message_for
from wattson.errors import NotFound
from wattson.payments.driver_routes import PREFIX, _language, charging_point_data, rate_limit
from wattson.web.i18n import TEXTS
from wattson.web.money import money, number

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=STATIC)


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


@router.get("/driver/{evse_id}", response_class=HTMLResponse, dependencies=[Depends(rate_limit)])
async def driver_page(request: Request, evse_id: str, lang: str | None = Query(None, max_length=8),
                      session: str | None = Query(None, max_length=64)):
    language = _language(request, lang)
    t = TEXTS[language]
    try:
        cp = await charging_point_data(request, evse_id, None, language)
    except NotFound:
        message = t["unknown_code"].format(code=evse_id[:64])
        return HTMLResponse(_shell(language, t["title"], f"<h1>{_e(t['title'])}</h1><p role='alert' "
                                                         f"class='error'>{_e(message)}</p>"), status_code=404)
    offer = await request.app.state.services.payments.offer(evse_id)
    currency = offer.currency or ""
    address = cp["address"] or {}
    place = ", ".join(x for x in (" ".join(x for x in (address.get("street"), address.get("house_number")) if x),
                                  " ".join(x for x in (address.get("post_code"), address.get("city")) if x)) if x)
    state = cp["state"]["code"]
    facts = [(t["state"], f"<span id='state' data-code='{_e(state)}'>{_e(t['states'].get(state, state))}</span>")]
    if cp["rated_power"]:
        facts.append((t["power"], _e(f"{cp['rated_power']:g} kW")))
    if cp["connector"]:
        facts.append((t["connector"], _e(cp["connector"]["name"])))
    if cp["inclusion"]:
        facts.append((t["price"], _e(cp["inclusion"])))
    dl = "".join(f"<div><dt>{_e(k)}</dt><dd>{v}</dd></div>" for k, v in facts)
    notices = "".join(f"<p class='notice downtime' role='status'>{_e(message_for(n.messages, language))}</p>"
                      for n in await request.app.state.services.downtime.notices_for_evse(offer.evse.id))
    products = []
    for i, p in enumerate(cp["products"]):
        limits = []
        if p["reservation_time"]:
            limits.append(t["up_to_min"].format(n=p["reservation_time"]))
        product = next(x for x, _ in offer.products if x.id == p["id_product"])
        if product.max_energy_wh:
            limits.append(t["up_to_kwh"].format(n=f"{product.max_energy_wh / 1000:g}"))
        products.append(
            f"<label class='product'><input type='radio' name='product' value='{_e(p['id'])}'"
            f"{' checked' if i == 0 else ''} required><span class='name'>{_e(p['name'])}</span>"
            f"<span class='limits'>{_e(' · '.join(limits))}</span>"
            f"<span class='amount'>{_e(money(p['amount_with_vat'], currency, language))}</span>"
            f"<span class='hold'>{_e(money(p['blocking_value'], currency, language))} {_e(t['held'])}</span></label>")
    config = request.app.state.services.payments.provider.client_config()
    if not cp["is_possible_to_charge_direct_payment"]:
        notice = t["no_products"] if not products else t["not_available"]
        prices = "".join(products).replace("<label", "<div").replace("</label>", "</div>")
        prices = re.sub(r"<input[^>]*>", "", prices)
        form = f"<p class='notice' role='status'>{_e(notice)}</p><div class='prices'>{prices}</div>"
    else:
        hint = ""
        if config.get("provider") == "sandbox":
            cards = ", ".join(f"{c['number']} ({t['test_cards'].get(c.get('code'), c['outcome'])})"
                              for c in config["test_cards"])
            hint = f"<p class='hint'>{_e(t['sandbox_hint'])}: {_e(cards)}</p>"
        card = (f"<div id='stripe-card' class='field'></div>" if config.get("provider") == "stripe" else
                f"<label class='field'>{_e(t['card_number'])}<input name='card_number' inputmode='numeric' "
                f"autocomplete='cc-number' required maxlength='23'></label>"
                f"<div class='row'><label class='field'>{_e(t['expiry'])}<input name='expiry' "
                f"autocomplete='cc-exp' placeholder='MM/YY' required maxlength='7'></label>"
                f"<label class='field'>{_e(t['cvc'])}<input name='cvc' inputmode='numeric' autocomplete='cc-csc' "
                f"required maxlength='4'></label></div>")
        form = (f"<form id='pay-form' novalidate><fieldset><legend>{_e(t['choose'])}</legend>{''.join(products)}"
                f"</fieldset><fieldset><legend>{_e(t['card'])}</legend>{hint}{card}"
                f"<label class='field'>{_e(t['email'])}<input name='email' type='email' autocomplete='email'>"
                f"</label></fieldset><p class='note'>{_e(t['hold_note'])}</p>"
                f"<button type='submit' id='pay'>{_e(t['pay'])}</button></form>")
    other = t["other_lang"]
    body = f"""<header><h1 id='name'>{_e(cp['name'])}</h1><p class='address'>{_e(place)}</p>
<p class='code'>{_e(cp['code'])}</p><a class='lang' href='?lang={other}' hreflang='{other}'>{_e(t['language'])}</a></header>
<dl class='facts'>{dl}</dl>
{notices}{form}
<p id='error' role='alert' class='error' hidden></p>
<section id='progress' hidden aria-live='polite'><h2 id='status'></h2>
<dl class='facts live'><div><dt>{_e(t['elapsed'])}</dt><dd id='elapsed'>0:00:00</dd></div>
<div><dt>{_e(t['energy'])}</dt><dd id='energy'>{_e(number(0, language, 3))} kWh</dd></div>
<div><dt>{_e(t['cost'])}</dt><dd id='cost'>–</dd></div>
<div><dt>{_e(t['progress'])}</dt><dd><progress id='percent' max='100' value='0'></progress> <span id='percent-text'>0 %</span></dd></div></dl>
<button type='button' id='stop' class='stop'>{_e(t['stop'])}</button></section>
<section id='done' hidden aria-live='polite'><h2>{_e(t['done'])}</h2>
<dl class='facts'><div><dt>{_e(t['charged'])}</dt><dd id='captured'></dd></div>
<div><dt>{_e(t['released'])}</dt><dd id='released'></dd></div></dl>
<p><a id='receipt' href='#'>{_e(t['receipt'])}</a> · <a id='receipt-pdf' href='#'>{_e(t['receipt_pdf'])}</a></p></section>"""
    data = {"api": PREFIX, "evse": cp["code"], "lang": language, "session": session,
            "provider": config, "t": t}
    return HTMLResponse(_shell(language, f"{cp['name']} – {t['title']}", body, data))


def _shell(language: str, title: str, body: str, data: dict | None = None) -> str:
    script = ""
    if data is not None:
        payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
        script = (f"<script type='application/json' id='page-data'>{payload}</script>"
                  f"<script defer src='/driver/static/driver.js'></script>")
    return f"""<!doctype html>
<html lang="{language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{_e(title)}</title><link rel="stylesheet" href="/driver/static/driver.css">{script}</head>
<body><main>{body}</main></body></html>"""
