"""Money and quantities as a driver reads them, per language: en "CZK 1,234.50" or "€1,234.50",
cs "1 234,50 Kč". One function for the driver page, the driver API and the receipts (HTML and
PDF), so an amount is never written two ways. CLDR's patterns through babel; no I/O."""

import re
from decimal import Decimal

from babel.numbers import format_currency, format_decimal

#: Our page languages and the CLDR locale each writes numbers like.
LOCALES = {"en": "en", "cs": "cs_CZ"}
NBSP = "\u00a0"
# CLDR's currencySpacing: a currency written with letters ("CZK") is kept apart from its digits.
_LETTERS_THEN_DIGIT = re.compile(r"([^\W\d_])(?=\d)")
_DIGIT_THEN_LETTERS = re.compile(r"(\d)(?=[^\W\d_])")


def locale_of(language: str | None) -> str:
    return LOCALES.get(language or "en", LOCALES["en"])


def money(amount, currency: str | None, language: str | None = "en") -> str:
    """``amount`` (Decimal, int, float or decimal text) in ``currency`` as ``language`` writes it;
    no currency (nothing priced yet): the number alone, with two decimals."""
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    locale = locale_of(language)
    if not currency:
        return format_decimal(value, format="#,##0.00", locale=locale)
    text = format_currency(value, currency, locale=locale)
    return _DIGIT_THEN_LETTERS.sub(r"\1" + NBSP, _LETTERS_THEN_DIGIT.sub(r"\1" + NBSP, text))


def number(value, language: str | None = "en", decimals: int | None = None) -> str:
    """A quantity (kWh, hours) as ``language`` writes it: fixed ``decimals``, or as many as it has."""
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    if decimals is None:
        places = max(0, -value.normalize().as_tuple().exponent)
        pattern = "#,##0" + ("." + "#" * places if places else "")
    else:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=locale_of(language), decimal_quantization=decimals is not None)
