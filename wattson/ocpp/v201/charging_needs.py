"""OCPP 2.x ISO 15118 messages (NotifyEVChargingNeeds, NotifyEVChargingSchedule) read into the
neutral values of loadmgmt/ev_needs.py, and the answers written back. Pure functions."""

from wattson.loadmgmt.ev_needs import EvNeeds, Period
from wattson.ocpp.convert import parse_time

INFO_MAX = 512  # statusInfo.additionalInfo


def needs_of(p: dict) -> EvNeeds:
    """NotifyEVChargingNeedsRequest → EvNeeds. AC parameters take precedence over DC (K15.FR.06:
    a request carries one of them); 2.1's V2X and DER parameters are not planned by."""
    needs = p["chargingNeeds"]
    ac, dc = needs.get("acChargingParameters"), needs.get("dcChargingParameters")
    departure = needs.get("departureTime")
    common = {"transfer_mode": needs["requestedEnergyTransfer"],
              "departure": parse_time(departure) if departure else None, "max_periods": p.get("maxScheduleTuples")}
    if ac is not None:
        return EvNeeds(**common, energy_wh=_number(ac.get("energyAmount")),
                       min_current_a=_number(ac.get("evMinCurrent")), max_current_a=_number(ac.get("evMaxCurrent")),
                       max_voltage_v=_number(ac.get("evMaxVoltage")))
    if dc is not None:
        return EvNeeds(**common, energy_wh=_number(dc.get("energyAmount")),
                       max_current_a=_number(dc.get("evMaxCurrent")), max_voltage_v=_number(dc.get("evMaxVoltage")),
                       max_power_w=_number(dc.get("evMaxPower")))
    return EvNeeds(**common)


def ev_schedule_of(p: dict) -> tuple:
    """NotifyEVChargingScheduleRequest → (time base, unit, periods, duration)."""
    schedule = p["chargingSchedule"]
    periods = [Period(int(x["startPeriod"]), _number(x.get("limit"))) for x in schedule["chargingSchedulePeriod"]]
    return parse_time(p["timeBase"]), schedule["chargingRateUnit"], periods, schedule.get("duration")


def needs_answer(status: str, code: str | None, reason: str | None) -> dict:
    """NotifyEVChargingNeedsResponse: the status, and why when it is not Accepted."""
    if code is None:
        return {"status": status}
    return {"status": status, "statusInfo": {"reasonCode": code[:20], "additionalInfo": (reason or "")[:INFO_MAX]}}


def _number(value) -> float | None:
    return None if value is None else float(value)
