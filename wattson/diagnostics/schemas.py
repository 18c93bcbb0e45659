"""HTTP shapes of the connection diagnostics and the OCPP message log."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from wattson.diagnostics.rules import KINDS

Kind = Literal[KINDS]

EVENT_EXAMPLE = {
    "id": 42, "charge_point_id": "CP-0001", "known": True, "kind": "refused", "reason": "password_wrong",
    "explanation": "The station's password is wrong. Set its AuthorizationKey (1.6) or BasicAuthPassword (2.x) "
                   "to the password stored in Wattson, or set a new one on the charge point (PATCH "
                   "/api/v1/charge-points/<id> with password) and on the station.",
    "remote_address": "203.0.113.7", "tls": False, "subprotocols": ["ocpp1.6"], "close_code": None,
    "detail": "charge point 'CP-0001' is on security profile 1: wrong password", "node_id": "gw-1",
    "count": 3, "first_at": "2026-12-04T09:12:01.120000Z", "last_at": "2026-12-04T09:14:31.501000Z"}


class ConnectionEventOut(BaseModel):
    """A run of one handshake outcome: ``count`` times between ``first_at`` and ``last_at``."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [EVENT_EXAMPLE]})
    id: int
    charge_point_id: str | None  # None: many station ids from one address, folded (a flood)
    known: bool
    kind: Kind
    reason: str
    explanation: str
    remote_address: str
    tls: bool
    subprotocols: list[str]
    close_code: int | None
    detail: str
    node_id: str | None
    count: int
    first_at: datetime
    last_at: datetime


class FrameOut(BaseModel):
    at: datetime
    direction: Literal["in", "out"]
    type: Literal["CALL", "CALLRESULT", "CALLERROR", "INVALID"]
    action: str | None
    unique_id: str | None
    frame: str


LOG_EXAMPLE = {"frames": [
    {"at": "2026-12-04T09:14:31.502000Z", "direction": "out", "type": "CALLRESULT", "action": "BootNotification",
     "unique_id": "19223201", "frame": '[3,"19223201",{"currentTime":"2026-12-04T09:14:31.502Z","interval":300,'
                                       '"status":"Accepted"}]'},
    {"at": "2026-12-04T09:14:31.480000Z", "direction": "in", "type": "CALL", "action": "BootNotification",
     "unique_id": "19223201", "frame": '[2,"19223201","BootNotification",{"chargePointVendor":"VendorX",'
                                       '"chargePointModel":"SingleSocketCharger"}]'}],
    "capacity": 100, "note": None}


class OcppLogOut(BaseModel):
    """The station's last frames, newest first; ``capacity`` is how many are kept
    (WATTSON_OCPP_LOG_FRAMES); ``note`` says why the log may be empty or partial."""

    model_config = ConfigDict(json_schema_extra={"examples": [LOG_EXAMPLE]})
    frames: list[FrameOut]
    capacity: int
    note: str | None = None
