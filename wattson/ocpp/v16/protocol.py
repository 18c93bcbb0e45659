"""OCPP 1.6J: station-initiated calls mapped onto the services, and commands mapped to calls.

1.6 has no EVSE level: connectorId N is EVSE N with connector 1, connectorId 0 the station.
"""

import logging
from datetime import datetime, timezone

from wattson.access.rules import AuthResult
from wattson.ocpp.convert import drop_none, format_time, parse_time
from wattson.ocpp.datatransfer import answer_data_transfer
from wattson.ocpp.protocol import Protocol
from wattson.ocpp.readings import report_dropped
from wattson.ocpp.rpc import RpcError
from wattson.ocpp.v16 import commands
from wattson.sessions.meter import ENERGY_REGISTER, BadReading, Sample, reading_problem
from wattson.stations.device_model import GET, SET, V16_CONFIGURATION, VariableAddress, VariableValue
from wattson.stations.service import BootInfo, StatusReport

log = logging.getLogger("wattson.ocpp")
_BOOT_EXTRA = ("chargeBoxSerialNumber", "iccid", "imsi", "meterType", "meterSerialNumber")


def id_tag_info(auth: AuthResult) -> dict:
    return drop_none({"status": auth.status, "expiryDate": format_time(auth.expires_at),
                      "parentIdTag": auth.parent_id_tag})


def samples_of(meter_values: list[dict], dropped: list[BadReading] | None = None) -> list[Sample]:
    """Flatten meterValue[].sampledValue[] with 1.6's defaults made explicit. A Raw value that is
    no usable number (``reading_problem``) is left out, and added to ``dropped``."""
    samples = []
    for mv in meter_values:
        at = parse_time(mv["timestamp"])
        for sv in mv["sampledValue"]:
            value, measurand, fmt = sv["value"], sv.get("measurand", ENERGY_REGISTER), sv.get("format", "Raw")
            problem = None if fmt == "SignedData" else reading_problem(value)
            if problem is not None:
                if dropped is not None:
                    dropped.append(BadReading(at, measurand, value, problem))
                continue
            samples.append(Sample(timestamp=at, value=value, measurand=measurand, unit=sv.get("unit", "Wh"),
                                  phase=sv.get("phase"), context=sv.get("context", "Sample.Periodic"),
                                  location=sv.get("location", "Outlet"), format=fmt))
    return samples


def configuration_values(keys: list[dict]) -> list[VariableValue]:
    """A GetConfiguration answer's keys as device model values (``V16_CONFIGURATION``)."""
    return [VariableValue(VariableAddress(V16_CONFIGURATION, k["key"][:50]), value=k.get("value"),
                          mutability="ReadOnly" if k["readonly"] else "ReadWrite") for k in keys]


class Ocpp16(Protocol):
    version = "1.6"
    subprotocol = "ocpp1.6"
    schema_dir = "v16"
    error_names = {
        "FormatViolation": "FormationViolation",
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",  # sic, as 1.6 spells it
        "RpcFrameworkError": "ProtocolError",
        "MessageTypeNotSupported": "ProtocolError",
    }
    csms_actions = frozenset({
        "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache", "ClearChargingProfile",
        "DataTransfer", "GetCompositeSchedule", "GetConfiguration", "GetDiagnostics", "GetLocalListVersion",
        "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList",
        "SetChargingProfile", "TriggerMessage", "UnlockConnector", "UpdateFirmware",
        # the OCPP 1.6 security extension
        "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage", "GetInstalledCertificateIds", "GetLog",
        "InstallCertificate", "SignedUpdateFirmware",
    })
    # 1.6 section 4.2: a Pending charge point "SHALL NOT send request messages to the Central
    # System unless it has been instructed by the Central System to do so with a
    # TriggerMessage.req"; so a Pending station may boot again, send what we triggered and report
    # on a firmware update or diagnostics upload we asked for. Anything else is a SecurityError.
    allowed_when = {
        "Accepted": None,
        "Pending": frozenset({"BootNotification"}),
        "Rejected": frozenset({"BootNotification"}),
    }
    follow_ups = {
        "UpdateFirmware": frozenset({"FirmwareStatusNotification"}),
        "SignedUpdateFirmware": frozenset({"SignedFirmwareStatusNotification", "FirmwareStatusNotification"}),
        "GetDiagnostics": frozenset({"DiagnosticsStatusNotification"}),
        "GetLog": frozenset({"LogStatusNotification"}),
    }
    triggered_actions = {"SignChargePointCertificate": "SignCertificate"}

    def action_table(self):
        return {
            "BootNotification": self.boot_notification,
            "Heartbeat": self.heartbeat,
            "StatusNotification": self.status_notification,
            "Authorize": self.authorize,
            "StartTransaction": self.start_transaction,
            "MeterValues": self.meter_values,
            "StopTransaction": self.stop_transaction,
            "DataTransfer": self.data_transfer,
            "DiagnosticsStatusNotification": self.diagnostics_status,
            "FirmwareStatusNotification": self.firmware_status,
            "SignCertificate": self.sign_certificate,  # the security extension (pki/)
            # the OCPP 1.6 security extension: the same facts as 2.x's messages of these names
            "SecurityEventNotification": self.security_event,
            "LogStatusNotification": self.log_status,
            "SignedFirmwareStatusNotification": self.firmware_status,
        }

    def command_table(self):
        return commands.TABLE

    async def on_reply(self, conn, action: str, request: dict, response: dict) -> None:
        """Configuration keys read with GetConfiguration, or changed with ChangeConfiguration,
        join the device model (a California pricing station says so there: station_cost/)."""
        learnt = None
        if action == "GetConfiguration":
            learnt, source = configuration_values(response.get("configurationKey", [])), GET
        elif action == "ChangeConfiguration" and response["status"] == "Accepted":
            learnt, source = [VariableValue(VariableAddress(V16_CONFIGURATION, request["key"][:50]),
                                            value=request["value"])], SET
        if learnt:
            await self.services.device_model.store(conn.charge_point_id, learnt, source)

    # --- station-initiated ------------------------------------------------------------------
    async def boot_notification(self, conn, p: dict) -> dict:
        info = BootInfo(vendor=p["chargePointVendor"], model=p["chargePointModel"],
                        serial_number=p.get("chargePointSerialNumber"), firmware_version=p.get("firmwareVersion"),
                        extra={k: p[k] for k in _BOOT_EXTRA if k in p})
        status = await self.services.stations.boot(conn.charge_point_id, info)
        conn.registration = status
        settings = self.services.settings
        interval = settings.heartbeat_interval if status == "Accepted" else settings.boot_retry_interval
        return {"status": status, "currentTime": _now(), "interval": interval}

    async def heartbeat(self, conn, p: dict) -> dict:
        await self.services.stations.heartbeat(conn.charge_point_id)
        return {"currentTime": _now()}

    async def status_notification(self, conn, p: dict) -> dict:
        connector_id = p["connectorId"]
        report = StatusReport(
            evse=connector_id or None, connector=1 if connector_id else None, status=p["status"],
            timestamp=parse_time(p.get("timestamp"), datetime.now(timezone.utc)),
            error_code=p["errorCode"], info=p.get("info"), vendor_id=p.get("vendorId"),
            vendor_error_code=p.get("vendorErrorCode"))
        await self.services.stations.report_status(conn.charge_point_id, report)
        return {}

    async def authorize(self, conn, p: dict) -> dict:
        """The token's own answer at this charger. 1.6 keeps ConcurrentTx for StartTransaction.conf,
        so a tag already charging elsewhere is Accepted here and refused when it starts."""
        auth = await self.services.access.authorize(p["idTag"], conn.charge_point_id)
        return {"idTagInfo": id_tag_info(auth)}

    async def start_transaction(self, conn, p: dict) -> dict:
        if p["connectorId"] < 1:
            raise RpcError("PropertyConstraintViolation", "connectorId of a transaction must be 1 or more")
        session, auth = await self.services.sessions.start(
            conn.charge_point_id, evse=p["connectorId"], connector=1, id_tag=p["idTag"],
            meter_start=p["meterStart"], timestamp=parse_time(p["timestamp"]),
            reservation_id=p.get("reservationId"))
        return {"transactionId": int(session.transaction_id), "idTagInfo": id_tag_info(auth)}

    async def meter_values(self, conn, p: dict) -> dict:
        connector_id = p["connectorId"]
        tx = p.get("transactionId")
        dropped = []
        await self.services.sessions.add_meter_values(
            conn.charge_point_id, evse=connector_id, connector=1 if connector_id else None,
            transaction_id=None if tx is None else str(tx), samples=samples_of(p["meterValue"], dropped))
        await report_dropped(self.services.stations, conn.charge_point_id, "MeterValues", dropped)
        return {}

    async def stop_transaction(self, conn, p: dict) -> dict:
        id_tag = p.get("idTag")
        dropped = []
        await self.services.sessions.stop(
            conn.charge_point_id, transaction_id=str(p["transactionId"]), meter_stop=p["meterStop"],
            timestamp=parse_time(p["timestamp"]), reason=p.get("reason", "Local"), id_tag=id_tag,
            samples=samples_of(p.get("transactionData", []), dropped))
        await report_dropped(self.services.stations, conn.charge_point_id, "StopTransaction", dropped)
        if id_tag is None:
            return {}
        return {"idTagInfo": id_tag_info(await self.services.access.authorize(id_tag, conn.charge_point_id))}

    async def data_transfer(self, conn, p: dict) -> dict:
        return await answer_data_transfer(self.services, conn.charge_point_id, self.version, p)

    async def diagnostics_status(self, conn, p: dict) -> dict:
        await self.services.stations.record_event(conn.charge_point_id, "diagnostics_status", p,
                                                  diagnostics_status=p["status"])
        return {}

    async def sign_certificate(self, conn, p: dict) -> dict:
        """Security extension: the CSR is checked and recorded now; the chain comes in a
        CertificateSigned of ours once signed (pki/service.py)."""
        refusal = await self.services.certificates.request(conn.charge_point_id, p["csr"])
        return {"status": "Accepted" if refusal is None else "Rejected"}

    async def firmware_status(self, conn, p: dict) -> dict:
        """FirmwareStatusNotification, and the security extension's SignedFirmwareStatusNotification
        (its statuses and a requestId): both are the station's firmware status."""
        await self.services.stations.record_event(conn.charge_point_id, "firmware_status", p,
                                                  firmware_status=p["status"])
        return {}

    async def security_event(self, conn, p: dict) -> dict:
        log.warning("%s security event %s: %s", conn.charge_point_id, p["type"], p.get("techInfo", ""))
        await self.services.stations.record_event(conn.charge_point_id, "security_event", p,
                                                  parse_time(p["timestamp"]))
        return {}

    async def log_status(self, conn, p: dict) -> dict:
        """A log upload asked for by GetLog: its progress is the station's diagnostics status."""
        await self.services.stations.record_event(conn.charge_point_id, "log_status", p,
                                                  diagnostics_status=p["status"])
        return {}


def _now() -> str:
    return format_time(datetime.now(timezone.utc))
