"""How a command's outcome is told over HTTP, the same for typed commands and raw calls."""

from fastapi import Response

from wattson.api.errors import error_response
from wattson.stations import commands as c
from wattson.stations.schemas import CommandOut

OUTCOME_RESPONSES = {
    202: {"description": "Accepted for sending (`wait=false`); poll `GET /api/v1/commands/{id}`."},
    502: {"description": "The station answered with a CALLERROR, an unreadable reply or by disconnecting."},
    504: {"description": "The station did not answer within WATTSON_COMMAND_TIMEOUT."},
}


def command_answer(record, response: Response):
    """200 with the record once the station answered; 202 while pending; 502/504 with the record
    as the error's details when it failed or timed out."""
    out = CommandOut.model_validate(record)
    if record.state == c.PENDING:
        response.status_code = 202
    elif record.state == c.TIMEOUT:
        return error_response(504, f"{record.charge_point_id} did not answer {record.action} in time",
                              details=out.model_dump(mode="json"))
    elif record.state == c.FAILED:
        return error_response(502, f"{record.action} failed: {record.error_code} {record.error_description}",
                              details=out.model_dump(mode="json"))
    return out
