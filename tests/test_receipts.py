"""Receipts as a demanding driver and operator read them: a real server with the seller configured
(a Czech company in Plzeň), a raw OCPP 1.6 station charging a card-paid session, and the receipt
fetched as HTML and as PDF, in English and Czech. The PDF's text is extracted with pypdf: the
letters with diacritics survive (an embedded Unicode font), the seller and the payment section are
there as on the HTML, the card shows as its last four digits, and the payment's one-off token that
started the charger appears nowhere. Money is written by one function per language (web.money)."""

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from ocpp_client import now, station
from payment_kit import pay, priced_evse, serve, wait_for_state
from wattson.sessions.receipts import card_text, duration
from wattson.web.money import money, number

SELLER = {"seller_name": "Nabíjíme s.r.o.", "seller_address": "Plzeň, Křižíkova 12, 301 00",
          "seller_vat_id": "CZ12345678"}


@pytest.fixture(scope="module")
def receipt_server(tmp_path_factory):
    yield from serve(tmp_path_factory.mktemp("receipts"), **SELLER)


def plain(text: str) -> str:
    """Spaces as spaces: money keeps its parts together with no-break spaces, which a PDF's text
    extraction may give back as either."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def page_text(html: str) -> str:
    """What a reader of the HTML sees, roughly: the text between the tags."""
    return plain(re.sub(r"<[^>]+>", " ", html))


def pdf_text(content: bytes) -> str:
    return plain("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def embedded_fonts(content: bytes) -> list[str]:
    """The fonts the PDF carries inside it (a font program, not a reference to a built-in one)."""
    found = []
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if "/FontFile2" in descriptor:
                    found.append(str(font["/BaseFont"]))
    return found


async def a_paid_session(server) -> tuple[dict, str]:
    """Pay with the Visa test card, charge 2.5 kWh at a raw station, stop: (the settled payment as
    the driver API gives it, the token the charger was started with)."""
    async with server.api() as api:
        place = await priced_evse(api)
        async with station(server.ws_url, place["cp_id"]) as st:
            await st.boot()
            await st.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"})
            r = await pay(api, place["evse_id"], place["products"][0])
            assert r.status_code == 201, r.text
            payment = r.json()
            frame = await st.next_call()
            assert frame[2] == "RemoteStartTransaction", frame
            await st.answer(frame, {"status": "Accepted"})
            tag = frame[3]["idTag"]
            tx = (await st.ok("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                                   "timestamp": now()}))["transactionId"]
            await st.ok("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
                {"timestamp": now(), "sampledValue": [{"value": "1200", "measurand": "Energy.Active.Import.Register",
                                                       "unit": "Wh"}]}]})
            await wait_for_state(api, payment["session_id"], "charging")
            assert (await api.post(f"/driver/api/v1/payments/{payment['session_id']}/stop")).status_code == 200
            frame = await st.next_call()
            assert frame[2] == "RemoteStopTransaction", frame
            await st.answer(frame, {"status": "Accepted"})
            await st.ok("StopTransaction", {"transactionId": tx, "meterStop": 2500, "timestamp": now(),
                                            "reason": "Remote"})
            done = await wait_for_state(api, payment["session_id"], "captured")
    return done, tag


async def test_the_receipt_names_the_seller_shows_the_card_and_never_the_token(receipt_server):
    done, token = await a_paid_session(receipt_server)
    captured = Decimal(str(done["amount_captured"]))
    assert captured > 0 and done["card"] == "Visa •••• 4242"
    assert done["text"]["amount_captured"] == money(captured, "CZK", "en")
    async with receipt_server.api() as api:
        page = await api.get(done["receipt_url"])
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        pdf = await api.get(done["receipt_pdf_url"])
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"

    html = page_text(page.text)
    text = pdf_text(pdf.content)
    for rendering in (html, text):
        assert "Nabíjíme s.r.o." in rendering and "Plzeň, Křižíkova 12, 301 00" in rendering
        assert "CZ12345678" in rendering
        assert "Smíchov garage" in rendering and "Nádražní" in rendering  # the location, diacritics kept
        assert "Visa •••• 4242" in rendering
        assert token not in rendering and token.lower() not in rendering.lower()
        # The payment section, on the PDF as on the HTML, money written one way.
        assert "Charged to the card" in rendering and "Held on the card" in rendering
        assert plain(money(captured, "CZK", "en")) in rendering
        assert plain(money(Decimal("50"), "CZK", "en")) in rendering  # the hold
        assert "CZK" in rendering and "21 %" in rendering
        assert re.search(r"Charging time 0:00:\d\d ", rendering)  # h:mm:ss, not 0.000278 h
    assert token.encode() not in pdf.content
    assert any("Roboto" in name for name in embedded_fonts(pdf.content))


async def test_the_operators_receipt_of_a_paid_session_does_not_show_the_token_either(receipt_server):
    done, token = await a_paid_session(receipt_server)
    async with receipt_server.api() as api:
        live = (await api.get(f"/driver/api/v1/charging_points/by_code/{done['evse_id']}",
                              params={"session_id": done["session_id"]})).json()
        page = await api.get(f"/api/v1/sessions/{live['id_transaction']}/receipt")
        pdf = await api.get(f"/api/v1/sessions/{live['id_transaction']}/receipt.pdf")
    assert page.status_code == 200 and pdf.status_code == 200
    for rendering in (page_text(page.text), pdf_text(pdf.content)):
        assert "paid by card" in rendering and token not in rendering
        assert "Smíchov garage" in rendering


async def test_a_czech_driver_gets_a_czech_receipt_with_czech_money(receipt_server):
    done, token = await a_paid_session(receipt_server)
    captured = Decimal(str(done["amount_captured"]))
    async with receipt_server.api() as api:
        payment = (await api.get(f"/driver/api/v1/payments/{done['session_id']}", params={"lang": "cs"})).json()
        page = await api.get(done["receipt_url"], params={"lang": "cs"})
        pdf = await api.get(done["receipt_pdf_url"], params={"lang": "cs"})
    assert payment["text"]["amount_captured"] == money(captured, "CZK", "cs")
    assert payment["text"]["amount_held"] == money(Decimal(50), "CZK", "cs") == "50,00\u00a0Kč"
    assert 'lang="cs"' in page.text
    for rendering in (page_text(page.text), pdf_text(pdf.content)):
        assert "Doklad o nabíjení" in rendering and "Strženo z karty" in rendering
        assert "DIČ" in rendering and "CZ12345678" in rendering and "Plzeň, Křižíkova" in rendering
        assert plain(money(captured, "CZK", "cs")) in rendering and "Kč" in rendering
        assert "2,500 kWh" in rendering  # 2.5 kWh, with a decimal comma
        assert "Visa •••• 4242" in rendering and token not in rendering


async def test_no_receipt_before_the_payment_settles_and_unknown_ones_are_404(receipt_server):
    async with receipt_server.api() as api:
        for path in ("/driver/api/v1/payments/nope/receipt", "/driver/api/v1/payments/nope/receipt.pdf"):
            r = await api.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"]


@pytest.mark.parametrize(("amount", "currency", "language", "written"), [
    ("1234.5", "CZK", "en", "CZK\u00a01,234.50"), ("1234.5", "EUR", "en", "€1,234.50"),
    ("1234.5", "CZK", "cs", "1\u00a0234,50\u00a0Kč"), ("1234.5", "EUR", "cs", "1\u00a0234,50\u00a0€"),
    ("-0.5", "CZK", "en", "-CZK\u00a00.50"), ("0", "EUR", "xx", "€0.00"), ("5.757", "CZK", "cs", "5,76\u00a0Kč"),
])
def test_money_is_written_one_way_per_language(amount, currency, language, written):
    assert money(Decimal(amount), currency, language) == written
    assert money(float(amount), currency, language) == written


def test_quantities_and_cards_as_a_receipt_shows_them():
    assert number(Decimal("2.5"), "cs", 3) == "2,500" and number(Decimal("2.5"), "en", 3) == "2.500"
    assert number(Decimal("0.25"), "cs") == "0,25" and number(Decimal("12000"), "en") == "12,000"
    assert card_text("visa •••• 4242") == "Visa •••• 4242"
    assert card_text("mastercard 5555555555554444") == "Mastercard •••• 4444"
    assert card_text("•••• 1881") == "•••• 1881"
    assert card_text(None) is None and card_text("visa") is None
    assert duration(Decimal("0.000278")) == "0:00:01" and duration(Decimal("1.5")) == "1:30:00"
