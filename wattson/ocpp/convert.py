"""Value conversions shared by the OCPP adapters."""

from datetime import datetime, timezone

from wattson.ocpp.rpc import RpcError


def parse_time(value: str | None, default: datetime | None = None) -> datetime | None:
    """An OCPP timestamp as aware UTC. Schemas check the format; a zone-less time is read as UTC."""
    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RpcError("PropertyConstraintViolation", f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    if parsed.tzinfo is timezone.utc:  # "Z": what stations send
        return parsed
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is past year 9999 in UTC
        raise RpcError("PropertyConstraintViolation", f"{value!r} is out of range in UTC") from None


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def drop_none(payload: dict) -> dict:
    """OCPP omits optional fields rather than sending null."""
    return {k: v for k, v in payload.items() if v is not None}
