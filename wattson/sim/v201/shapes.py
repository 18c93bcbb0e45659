"""How the station's state is written in OCPP 2.x payloads: statuses, readings, tokens, profiles."""

from wattson.sim.meter import Reading
from wattson.sim.profiles import STATION_MAX, TX, TX_DEFAULT, Profile

CONNECTOR = 1  # every EVSE of the simulator has one connector
#: the station's detailed statuses as a 2.x connector shows them (the others are the same word)
SHOWN = dict.fromkeys(("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"), "Occupied")
PURPOSES = {"ChargingStationMaxProfile": STATION_MAX, "TxDefaultProfile": TX_DEFAULT, "TxProfile": TX}
KINDS = frozenset(("Absolute", "Recurring", "Relative"))


def shown_status(status: str) -> str:
    return SHOWN.get(status, status)


def sampled_values(values: list[Reading], context: str) -> list[dict]:
    """Readings as 2.x sampledValue entries: numbers, with the unit in unitOfMeasure."""
    return [{"value": round(r.value, r.decimals) if r.decimals else round(r.value), "context": context,
             "measurand": r.measurand, "location": r.location, "unitOfMeasure": {"unit": r.unit},
             **({"phase": r.phase} if r.phase else {})} for r in values]


def id_token(value: str, token_type: str) -> dict:
    return {"idToken": value, "type": token_type}


def profile_of(p: dict) -> Profile | None:
    """A 2.x chargingProfile as the station keeps it; None for what it cannot follow (external
    constraints, 2.1's dynamic and V2X profiles, a period without a limit). The first schedule
    is the one the station charges by."""
    purpose = PURPOSES.get(p["chargingProfilePurpose"])
    schedule = p["chargingSchedule"][0]
    if purpose is None or p["chargingProfileKind"] not in KINDS \
            or any("limit" not in period for period in schedule["chargingSchedulePeriod"]):
        return None
    return Profile(id=p["id"], purpose=purpose, stack_level=p["stackLevel"], kind=p["chargingProfileKind"],
                   schedule=schedule, recurrency=p.get("recurrencyKind"), valid_from=p.get("validFrom"),
                   valid_to=p.get("validTo"), transaction_id=p.get("transactionId"), source=p)
