"""One realistic example body per catalogue event type, for docs/webhooks.md and the OpenAPI
webhook definitions. Each ``data`` is built through the same pydantic schema the producers
serialise with (``producers.py``), so an example cannot drift from what is sent."""

from wattson.payments.schemas import PaymentOut
from wattson.sessions.schemas import CdrOut, SessionOut
from wattson.stations.schemas import ChargePointOut, CommandOut, EvseOut, ReservationOut
from wattson.webhooks.catalogue import TYPES

_AT = "2026-03-02T08:15:04.123456Z"

_CONNECTOR = {"id": 11, "number": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
              "hardware_status": "Available", "error_code": "NoError", "status_at": "2026-03-02T08:15:03Z"}
_EVSE = {"id": 7, "charge_point_id": "CP-0042", "number": 1, "evse_id": "DE*AB7*E840*6487",
         "physical_reference": "1", "label": None, "current_type": "AC", "max_power_w": 22000,
         "max_voltage_v": 400, "max_amperage_a": 32, "phases": 3, "admin_status": "enabled",
         "allows_reservation": True, "connectors": [_CONNECTOR],
         "created_at": "2026-01-10T09:00:00Z", "updated_at": "2026-03-02T08:15:03Z"}
_CHARGE_POINT = {"id": "CP-0042", "name": "Depot gate", "location_id": 3, "registration_status": "Accepted",
                 "admin_status": "enabled", "security_profile": 1, "password_hash": "$argon2id$…",
                 "ocpp_version": "ocpp1.6", "vendor": "Acme", "model": "Wallbox 22", "serial_number": "AC22-0042",
                 "firmware_version": "2.4.1", "hardware_status": "Available", "error_code": "NoError",
                 "status_at": "2026-03-02T08:15:03Z", "network_status": "online", "last_seen": _AT,
                 "connected_at": "2026-03-02T08:15:01Z", "booted_at": "2026-03-02T08:15:02Z",
                 "firmware_status": None, "diagnostics_status": None, "created_at": "2026-01-10T09:00:00Z",
                 "updated_at": _AT, "evses": [_EVSE]}
_SESSION = {"id": 1842, "charge_point_id": "CP-0042", "evse": 1, "evse_id": 7, "connector": 1,
            "transaction_id": "1842", "id_tag": "04A2B3C4D5E6F7", "driver_id": 12, "location_id": 3,
            "auth_status": "Accepted", "status": "active", "started_at": "2026-03-02T08:20:00Z",
            "stopped_at": None, "meter_start": 120500, "meter_stop": None, "meter_last": 120500, "energy_wh": 0,
            "stop_reason": None, "reservation_id": None, "start_reason": None, "charging_state": None,
            "remote_start_id": None, "tariff_id": "AC-STANDARD"}
_UPDATED = {**_SESSION, "meter_last": 128730, "energy_wh": 8230, "charging_state": "Charging"}
_ENDED = {**_UPDATED, "status": "finished", "stopped_at": "2026-03-02T09:05:12Z", "meter_stop": 136210,
          "meter_last": 136210, "energy_wh": 15710, "stop_reason": "EVDisconnected", "charging_state": None}
_CDR = {"id": 905, "session_id": 1842, "sequence": 0, "credit": False, "credit_of_id": None, "reason": None,
        "charge_point_id": "CP-0042", "location_id": 3, "driver_id": 12, "id_tag": "04A2B3C4D5E6F7",
        "start_date_time": "2026-03-02T08:20:00Z", "end_date_time": "2026-03-02T09:05:12Z", "currency": "EUR",
        "tariff_id": "AC-STANDARD", "total_energy_wh": 15710, "total_excl_vat": 5.49, "total_incl_vat": 6.64,
        "created_at": "2026-03-02T09:05:12.480211Z",
        "body": {"country_code": "NL", "party_id": "WAT", "id": "WAT-CDR-905", "currency": "EUR",
                 "start_date_time": "2026-03-02T08:20:00Z", "end_date_time": "2026-03-02T09:05:12Z",
                 "total_energy": 15.71, "total_time": 0.753,
                 "total_cost": {"excl_vat": 5.49, "incl_vat": 6.64}, "last_updated": "2026-03-02T09:05:12Z"}}
_PAYMENT = {"id": 311, "session_id": "ps_6f1c2b9e0a7d4c35", "state": "charging", "provider": "stripe",
            "provider_ref": "pi_3Pq8xY2eZvKYlo2C1a2b3c4d",
            "product": {"uid": "7d3e1f8a-3b7c-4e52-9a0d-5c1b2e3f4a5b", "name": "Up to 60 minutes",
                        "blocking_value": 20.0, "max_duration_min": 60},
            "charge_point_id": "CP-0042", "evse": 1, "evse_code": "DEAB7E8406487", "charging_session_id": 1842,
            "currency": "EUR", "amount_held": "20.00", "amount_captured": None, "amount_released": None,
            "amount_refunded": "0", "cdr_id": None, "stop_reason": None, "failure": None, "card": "visa •••• 4242",
            "created_at": "2026-03-02T08:18:40Z", "authorized_at": "2026-03-02T08:19:02Z",
            "started_at": "2026-03-02T08:20:00Z", "finished_at": None, "updated_at": "2026-03-02T08:20:00Z"}
_RESERVATION = {"id": 4711, "charge_point_id": "CP-0042", "evse": 1, "id_tag": "04A2B3C4D5E6F7",
                "parent_id_tag": None, "expires_at": "2026-03-02T09:00:00Z", "status": "active", "session_id": None,
                "command_id": "cmd_9b2f4e1a6c3d", "created_at": "2026-03-02T08:30:00Z",
                "updated_at": "2026-03-02T08:30:01Z"}
_COMMAND = {"id": "cmd_5e8a1c7b2d4f", "charge_point_id": "CP-0042", "name": "reset", "params": {"type": "soft"},
            "state": "completed", "action": "Reset", "request": {"type": "Soft"}, "response": {"status": "Accepted"},
            "status": "Accepted", "error_code": None, "error_description": None,
            "created_at": "2026-03-02T08:40:00.201Z", "completed_at": "2026-03-02T08:40:00.734Z"}
#: until issue 17 gives security events a resource of their own (producers.security_event_data)
_SECURITY_EVENT = {"charge_point_id": "CP-0042", "type": "InvalidCsmsCertificate",
                   "tech_info": "certificate chain does not verify", "timestamp": "2026-03-02T08:45:10Z",
                   "received_at": "2026-03-02T08:45:10.512Z"}
_FIRMWARE = {**_CHARGE_POINT, "ocpp_version": "ocpp2.0.1", "firmware_status": "Downloading"}
_PING = {"webhook_id": 5, "message": "A test event from Wattson."}


def _dump(schema, value: dict) -> dict:
    return schema.model_validate(value).model_dump(mode="json")


DATA: dict[str, dict] = {
    "charge_point.connected": _dump(ChargePointOut, {**_CHARGE_POINT, "booted_at": None}),
    "charge_point.disconnected": _dump(ChargePointOut, {**_CHARGE_POINT, "network_status": "offline"}),
    "charge_point.booted": _dump(ChargePointOut, _CHARGE_POINT),
    "evse.status_changed": _dump(EvseOut, {**_EVSE, "connectors": [{**_CONNECTOR, "hardware_status": "Charging",
                                                                    "status_at": "2026-03-02T08:20:01Z"}]}),
    "session.started": _dump(SessionOut, _SESSION),
    "session.updated": _dump(SessionOut, _UPDATED),
    "session.ended": _dump(SessionOut, _ENDED),
    "cdr.created": _dump(CdrOut, _CDR),
    "payment.state_changed": _dump(PaymentOut, _PAYMENT),
    "reservation.created": _dump(ReservationOut, _RESERVATION),
    "reservation.ended": _dump(ReservationOut, {**_RESERVATION, "status": "used", "session_id": 1842,
                                                "updated_at": "2026-03-02T08:52:10Z"}),
    "command.completed": _dump(CommandOut, _COMMAND),
    "security_event.received": _SECURITY_EVENT,
    "firmware.status_changed": _dump(ChargePointOut, _FIRMWARE),
    "ping": _PING,
}
_IDS = {name: f"evt_{n:04x}9c1e5a7b3d2f6e8a0b4c" for n, name in enumerate(TYPES, start=0x1a2b)}


def example(type: str) -> dict:
    """The body of a delivery of ``type``, as a receiver gets it."""
    return {"id": _IDS[type], "type": type, "created_at": _AT, "data": DATA[type]}


EXAMPLES: dict[str, dict] = {name: example(name) for name in TYPES}
