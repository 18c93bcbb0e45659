"""OCPP 2.x payloads to neutral values and back. No I/O."""

from decimal import Decimal

from wattson.access.rules import INVALID, NOT_HERE, NOT_YET_VALID, UNKNOWN, AuthResult
from wattson.ocpp.convert import drop_none, format_time, parse_time
from wattson.ocpp.rpc import RpcError
from wattson.sessions.meter import ENERGY_REGISTER, BadReading, Sample, reading_problem
from wattson.sessions.transactions import TxEvent
from wattson.stations.device_model import VariableAddress, VariableValue

#: Wattson stores tokens of up to 36 characters (OCPP 1.6 and 2.0.1); 2.1 allows 255.
MAX_ID_TOKEN = 36
NO_AUTHORIZATION = "NoAuthorization"
_INVALID_BECAUSE = {UNKNOWN: "Unknown", NOT_HERE: "NotAtThisLocation", NOT_YET_VALID: "NotAtThisTime"}


def id_tag_of(token: dict | None) -> str | None:
    """The token a driver presented; None when there is none (type NoAuthorization)."""
    if token is None or token["type"] == NO_AUTHORIZATION:
        return None
    value = token["idToken"]
    if len(value) > MAX_ID_TOKEN:
        raise RpcError("PropertyConstraintViolation",
                       f"idToken: tokens longer than {MAX_ID_TOKEN} characters are not supported")
    return value


def id_token_info(auth: AuthResult) -> dict:
    """IdTokenInfo, saying why a token is refused where 2.x has a status for it."""
    status = _INVALID_BECAUSE.get(auth.reason, INVALID) if auth.status == INVALID else auth.status
    group = {"idToken": auth.parent_id_tag, "type": "Central"} if auth.parent_id_tag else None
    return drop_none({"status": status, "cacheExpiryDateTime": format_time(auth.expires_at), "groupIdToken": group})


def samples_of(meter_values: list[dict], dropped: list[BadReading] | None = None) -> list[Sample]:
    """Flatten meterValue[].sampledValue[] with 2.x's defaults made explicit; a value is scaled
    by its unit's power-of-ten multiplier (exactly, in decimal). A value that is no usable
    reading (``reading_problem``) is left out, and added to ``dropped``."""
    samples = []
    for mv in meter_values:
        at = parse_time(mv["timestamp"])
        for sv in mv["sampledValue"]:
            unit = sv.get("unitOfMeasure", {})
            value, multiplier = sv["value"], unit.get("multiplier", 0)
            measurand = sv.get("measurand", ENERGY_REGISTER)
            problem = reading_problem(repr(value), multiplier)
            if problem is not None:
                if dropped is not None:
                    dropped.append(BadReading(at, measurand, _shown(value, multiplier), problem))
                continue
            samples.append(Sample(
                timestamp=at, value=value_text(value, multiplier), measurand=measurand, unit=unit.get("unit", "Wh"),
                phase=sv.get("phase"), context=sv.get("context", "Sample.Periodic"),
                location=sv.get("location", "Outlet"), format="Raw"))
    return samples


def _shown(value: int | float, multiplier: int) -> str:
    return f"{value!r}e{multiplier}" if multiplier else repr(value)


def value_text(value: int | float, multiplier: int) -> str:
    """A sampled value times ten to the ``multiplier``, in plain decimal notation."""
    if not multiplier:  # the common case, without Decimal
        text = repr(value)
        if isinstance(value, int):
            return text
        if "e" not in text and "n" not in text:
            return text[:-2] if text.endswith(".0") else text
    return _plain(Decimal(str(value)).scaleb(multiplier))


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def tx_event(p: dict, dropped: list[BadReading] | None = None) -> TxEvent:
    info = p["transactionInfo"]
    evse = p.get("evse") or {}
    if evse and evse["id"] < 1:
        raise RpcError("PropertyConstraintViolation", "evse/id of a transaction must be 1 or more")
    return TxEvent(
        transaction_id=info["transactionId"], event_type=p["eventType"].lower(), seq_no=p["seqNo"],
        timestamp=parse_time(p["timestamp"]), trigger_reason=p["triggerReason"], evse=evse.get("id"),
        connector=evse.get("connectorId"), id_tag=id_tag_of(p.get("idToken")),
        charging_state=info.get("chargingState"), stopped_reason=info.get("stoppedReason"),
        remote_start_id=info.get("remoteStartId"), reservation_id=p.get("reservationId"),
        offline=p.get("offline", False), samples=samples_of(p.get("meterValue", []), dropped))


def address_of(component: dict, variable: dict, attribute_type: str | None) -> VariableAddress:
    evse = component.get("evse") or {}
    return VariableAddress(component=component["name"], variable=variable["name"],
                           component_instance=component.get("instance"), evse=evse.get("id"),
                           connector=evse.get("connectorId"), variable_instance=variable.get("instance"),
                           attribute_type=attribute_type or "Actual")


def reported_values(report_data: list[dict]) -> list[VariableValue]:
    """NotifyReport's reportData: one value per variable attribute, with the characteristics."""
    values = []
    for entry in report_data:
        traits = entry.get("variableCharacteristics", {})
        for attribute in entry["variableAttribute"]:
            values.append(VariableValue(
                address=address_of(entry["component"], entry["variable"], attribute.get("type")),
                value=attribute.get("value"), mutability=attribute.get("mutability"),
                persistent=attribute.get("persistent"), constant=attribute.get("constant"),
                data_type=traits.get("dataType"), unit=traits.get("unit"), min_limit=traits.get("minLimit"),
                max_limit=traits.get("maxLimit"), values_list=traits.get("valuesList"),
                supports_monitoring=traits.get("supportsMonitoring")))
    return values


def read_values(results: list[dict]) -> list[VariableValue]:
    """GetVariables results: the values the station gave."""
    return [VariableValue(address_of(r["component"], r["variable"], r.get("attributeType")),
                          value=r["attributeValue"])
            for r in results if r["attributeStatus"] == "Accepted" and "attributeValue" in r]


def written_values(requested: list[dict], results: list[dict]) -> list[VariableValue]:
    """SetVariables: the requested values the station took (now, or after its next reboot)."""
    taken = {address_of(r["component"], r["variable"], r.get("attributeType")).key
             for r in results if r["attributeStatus"] in ("Accepted", "RebootRequired")}
    values = [VariableValue(address_of(d["component"], d["variable"], d.get("attributeType")),
                            value=d["attributeValue"]) for d in requested]
    return [v for v in values if v.address.key in taken]
