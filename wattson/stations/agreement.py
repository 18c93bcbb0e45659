"""Whether a station agreed to a command, from its recorded outcome: the rule the security upgrade
and Boot Pending provisioning share. No I/O."""

from wattson.stations import commands as c

ACCEPTED = ("Accepted",)


def refusal(record, agreed: tuple[str, ...] = ACCEPTED) -> str | None:
    """Why a command's outcome (a ``Command`` record) is no agreement — not answered, answered
    with an error, a status or a variable's attributeStatus not in ``agreed`` — or None when the
    station agreed."""
    if record.state == c.TIMEOUT:
        return f"{record.action}: no answer ({record.error_description})"
    if record.state != c.COMPLETED:
        return f"{record.action} failed: {record.error_code}: {record.error_description}"
    if record.status is not None and record.status not in agreed:
        return f"{record.action} answered {record.status}"
    response = record.response or {}
    for result in (*response.get("setVariableResult", ()), *response.get("getVariableResult", ())):
        if result.get("attributeStatus") not in agreed:
            return (f"{record.action}: {result['component']['name']}.{result['variable']['name']} "
                    f"{result.get('attributeStatus')}")
    return None
