"""Telling stations what charging costs: the rules, without I/O.

Which stations hear of it (``listens``), when a running session is due for another update
(``due``), and the messages of each version with the amounts exactly as the CDR has them:
OCPP 2.x CostUpdated and TransactionEvent's totalCost (2.0.1 block I, TariffAndCost), OCPP 1.6
the DataTransfers of the Open Charge Alliance's "OCPP & California Pricing Requirements"
(vendorId ``org.openchargealliance.costmsg``: SetUserPrice, RunningCost, FinalCost).
docs/station-cost.md tells the whole story.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from wattson.ocpp.convert import format_time
from wattson.stations import commands as c
from wattson.stations.device_model import V16_CONFIGURATION, VariableAddress
from wattson.tariffs.pricing import ENERGY, FLAT, TIME, round_money
from wattson.tariffs.restrictions import to_decimal

VENDOR_ID = "org.openchargealliance.costmsg"
#: a station answering a cost message with one of these cannot take it: it is sent no more
REFUSALS = frozenset({"NotSupported", "NotImplemented"})
TARIFF_COST_CTRLR = "TariffCostCtrlr"
CALIFORNIA_KEY = "CustomDisplayCostAndPrice"
#: the worker's longest pause between two looks, whatever the update interval
MAX_ROUND_S = 15.0
#: a 1.6 session stopped longer ago than this gets no FinalCost any more (the driver has gone)
FINAL_WINDOW = timedelta(hours=1)

#: the device model attributes ``listens`` reads: key → (component, variable, variable instance)
WATCHED = {VariableAddress(component, variable, variable_instance=instance).key: (component, variable, instance)
           for component, variable, instance in ((TARIFF_COST_CTRLR, "Enabled", "Cost"),
                                                 (TARIFF_COST_CTRLR, "Available", "Cost"),
                                                 (V16_CONFIGURATION, CALIFORNIA_KEY, None))}


def listens(version: str | None, values: Mapping[tuple[str, str, str | None], str | None]) -> bool:
    """Whether a station of this OCPP version, with these known values (``WATCHED``), is sent
    running costs. 2.x: unless its TariffCostCtrlr says Cost is not available or not enabled (an
    unknown station is tried; a refusal is remembered elsewhere). 1.6: only once its configuration
    says CustomDisplayCostAndPrice is true (California pricing is an extension a station opts in to)."""
    if version is None:
        return False
    if version == "1.6":
        return _flag(values.get((V16_CONFIGURATION, CALIFORNIA_KEY, None))) is True
    return all(_flag(values.get((TARIFF_COST_CTRLR, variable, "Cost"))) is not False
               for variable in ("Enabled", "Available"))


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    value = value.strip().lower()
    return True if value == "true" else False if value == "false" else None


def round_s(interval_s: float) -> float:
    """How often the worker looks: every interval, but at least every ``MAX_ROUND_S`` (rate changes,
    final costs)."""
    return min(interval_s, MAX_ROUND_S) if interval_s > 0 else MAX_ROUND_S


def due(now: datetime, since: datetime, interval_s: float, changes: Sequence[datetime],
        energy_then: int, energy_now: int, energy_bounds: Sequence[Decimal]) -> bool:
    """Whether a running session gets its cost again: ``interval_s`` after the last update (or
    after Wattson learnt of the session), or as soon as its price may have changed since — a
    time-of-day, date or duration boundary passed (``changes``, from ``pricing.rate_changes``),
    or the energy so far crossed a kWh bound. ``interval_s`` 0 turns running updates off."""
    if interval_s <= 0:
        return False
    if (now - since).total_seconds() >= interval_s:
        return True
    if any(since < at <= now for at in changes):
        return True
    return any(energy_then < bound <= energy_now for bound in energy_bounds)


def amount(total: Decimal, currency: str) -> float:
    """A cost as the JSON number OCPP carries, at the currency's minor units (a CDR's total
    already is: this changes no digit of it)."""
    return float(round_money(total, currency))


def cost_updated(transaction_id: str, total: Decimal, currency: str) -> c.CostUpdated:
    """OCPP 2.x CostUpdated, as the neutral command (``cost-updated``)."""
    return c.CostUpdated(transaction_id=transaction_id, total_cost=round_money(total, currency))


def price_text(tariff: Mapping[str, Any] | None) -> str | None:
    """The tariff's own words for drivers (OCPI ``tariff_alt_text``), English first."""
    texts = (tariff or {}).get("tariff_alt_text") or []
    for text in sorted(texts, key=lambda t: t.get("language") != "en"):
        if text.get("text"):
            return text["text"][:512]
    return None


def total_text(total: Decimal, currency: str, energy_wh: int | None = None) -> str:
    """The final cost in words, for a display (2.x updatedPersonalMessage, 1.6 FinalCost)."""
    money = f"{round_money(total, currency)} {currency}"
    return f"Total {money} for {Decimal(energy_wh) / 1000:.3f} kWh" if energy_wh is not None else f"Total {money}"


def final_message(total: Decimal, currency: str, energy_wh: int) -> dict:
    """2.x TransactionEvent (Ended) answer's updatedPersonalMessage."""
    return {"format": "UTF8", "content": total_text(total, currency, energy_wh)}


def charging_price(tariff: Mapping[str, Any], currency: str) -> dict:
    """1.6 RunningCost's chargingPrice: the unit prices incl. VAT of the tariff's first element
    without restrictions (the one that holds whenever no other does). Prices that depend on the
    time or the energy are not expressed (the fields are optional): the cost itself is sent again
    whenever such a price may change (``due``)."""
    names = {ENERGY: "kWhPrice", TIME: "hourPrice", FLAT: "flatFee"}
    found: dict[str, float] = {}
    for element in tariff.get("elements") or ():
        if element.get("restrictions"):
            continue
        for component in element.get("price_components") or ():
            name = names.get(component["type"])
            if name is not None and name not in found:
                price = to_decimal(component["price"]) * (1 + to_decimal(component.get("vat") or 0) / 100)
                found[name] = float(price.quantize(Decimal("0.0001")))
        break
    return found


def _data_transfer(message_id: str, data: dict) -> c.DataTransfer:
    return c.DataTransfer(vendor_id=VENDOR_ID, message_id=message_id,
                          data=json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def user_price(id_tag: str, tariff: Mapping[str, Any], currency: str) -> c.DataTransfer | None:
    """1.6 SetUserPrice: the tariff in words for the driver; None when the tariff has none."""
    text = price_text(tariff)
    return None if text is None else _data_transfer("SetUserPrice", {"idToken": id_tag, "priceText": text})


def running_cost(transaction_id: str, at: datetime, meter_wh: int, total: Decimal, currency: str, charging: bool,
                 tariff: Mapping[str, Any]) -> c.DataTransfer:
    """1.6 RunningCost: the cost so far, the reading it rests on and the unit prices."""
    return _data_transfer("RunningCost", {
        "transactionId": int(transaction_id), "timestamp": format_time(at), "meterValue": meter_wh,
        "cost": amount(total, currency), "state": "Charging" if charging else "Idle",
        "chargingPrice": charging_price(tariff, currency)})


def final_cost(transaction_id: str, total: Decimal, currency: str, energy_wh: int) -> c.DataTransfer:
    """1.6 FinalCost, after StopTransaction: the CDR's total incl. VAT."""
    return _data_transfer("FinalCost", {"transactionId": int(transaction_id), "cost": amount(total, currency),
                                        "priceText": total_text(total, currency, energy_wh)})
