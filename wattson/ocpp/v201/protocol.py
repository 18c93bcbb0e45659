"""OCPP 2.0.1 (and 2.1): station-initiated calls mapped onto the services, commands mapped to calls.

2.x addresses EVSEs and their connectors directly (evseId, connectorId), so they map one to one
onto the domain; evseId 0 is the station itself.
"""

import base64
import logging
from datetime import datetime, timezone

from wattson.db.errors import unavailable
from wattson.ocpp.convert import format_time, parse_time
from wattson.ocpp.datatransfer import answer_data_transfer
from wattson.ocpp.protocol import Protocol
from wattson.ocpp.readings import report_dropped
from wattson.ocpp.v201 import batching, commands
from wattson.ocpp.v201.charging_needs import ev_schedule_of, needs_answer, needs_of
from wattson.ocpp.v201.convert import (id_tag_of, id_token_info, read_values, reported_values, samples_of,
                                       tx_event, written_values)
from wattson.pki.contracts import ContractAnswer, ContractRequest
from wattson.pki.ocsp import OcspQuery
from wattson.stations.device_model import GET, REPORT, SET
from wattson.stations.reservations import EXPIRED, REMOVED
from wattson.stations.service import BootInfo, StatusReport

log = logging.getLogger("wattson.ocpp")
WRITE_ONLY_SECRET = ("SecurityCtrlr", "BasicAuthPassword")


class Ocpp201(Protocol):
    version = "2.0.1"
    subprotocol = "ocpp2.0.1"
    schema_dir = "v201"
    csms_actions = frozenset({
        "CancelReservation", "CertificateSigned", "ChangeAvailability", "ClearCache", "ClearChargingProfile",
        "ClearDisplayMessage", "ClearVariableMonitoring", "CostUpdated", "CustomerInformation", "DataTransfer",
        "DeleteCertificate", "GetBaseReport", "GetChargingProfiles", "GetCompositeSchedule", "GetDisplayMessages",
        "GetInstalledCertificateIds", "GetLocalListVersion", "GetLog", "GetMonitoringReport", "GetReport",
        "GetTransactionStatus", "GetVariables", "InstallCertificate", "PublishFirmware", "RequestStartTransaction",
        "RequestStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
        "SetDisplayMessage", "SetMonitoringBase", "SetMonitoringLevel", "SetNetworkProfile",
        "SetVariableMonitoring", "SetVariables", "TriggerMessage", "UnlockConnector", "UnpublishFirmware",
        "UpdateFirmware",
    })

    # B02.FR.09: while Pending, a call that is not BootNotification, nor triggered by our
    # TriggerMessage, GetBaseReport or GetReport, is answered SecurityError (B03.FR.07: while
    # Rejected, anything but BootNotification). Wattson also lets a Pending station report on the
    # firmware update, log upload, monitoring report or customer information it was asked for.
    allowed_when = {
        "Accepted": None,
        "Pending": frozenset({"BootNotification"}),
        "Rejected": frozenset({"BootNotification"}),
    }
    follow_ups = {
        "GetBaseReport": frozenset({"NotifyReport"}),
        "GetReport": frozenset({"NotifyReport"}),
        "UpdateFirmware": frozenset({"FirmwareStatusNotification"}),
        "GetLog": frozenset({"LogStatusNotification"}),
        "GetMonitoringReport": frozenset({"NotifyMonitoringReport"}),
        "CustomerInformation": frozenset({"NotifyCustomerInformation"}),
        "PublishFirmware": frozenset({"PublishFirmwareStatusNotification"}),
    }
    triggered_actions = {"SignChargingStationCertificate": "SignCertificate", "SignV2GCertificate": "SignCertificate",
                         "SignCombinedCertificate": "SignCertificate"}
    #: NotifyEVChargingNeeds with nothing to plan a schedule by (2.1 has a status that says exactly so)
    no_schedule_status = "Rejected"
    #: longest ocspResult / exiResponse / additionalInfo the version's response schema allows
    ocsp_result_max, exi_response_max, info_max = 5500, 7500, 512

    def action_table(self):
        record = self._recorder
        return {
            "BootNotification": self.boot_notification,
            "Heartbeat": self.heartbeat,
            "StatusNotification": self.status_notification,
            "Authorize": self.authorize,
            "TransactionEvent": self.transaction_event,
            "MeterValues": self.meter_values,
            "NotifyReport": self.notify_report,
            "NotifyEvent": self.notify_event,
            "SecurityEventNotification": self.security_event,
            "SignCertificate": self.sign_certificate,
            "FirmwareStatusNotification": self.firmware_status,
            "LogStatusNotification": self.log_status,
            "ReservationStatusUpdate": self.reservation_status,
            "DataTransfer": self.data_transfer,
            "NotifyMonitoringReport": record("monitoring_report"),
            "NotifyChargingLimit": record("charging_limit"),
            "ClearedChargingLimit": record("charging_limit_cleared"),
            "ReportChargingProfiles": record("charging_profiles"),
            "NotifyEVChargingNeeds": self.ev_charging_needs,
            "NotifyEVChargingSchedule": self.ev_charging_schedule,
            "NotifyCustomerInformation": record("customer_information"),
            "NotifyDisplayMessages": record("display_messages"),
            "PublishFirmwareStatusNotification": record("publish_firmware_status"),
            "Get15118EVCertificate": self.ev_certificate,
            "GetCertificateStatus": self.certificate_status,
        }

    def command_table(self):
        return commands.TABLE

    async def on_reply(self, conn, action: str, request: dict, response: dict) -> None:
        """Values read with GetVariables or written with SetVariables join the device model."""
        learnt = None
        if action == "GetVariables":
            learnt, source = read_values(response["getVariableResult"]), GET
        elif action == "SetVariables":
            learnt, source = written_values(request["setVariableData"], response["setVariableResult"]), SET
            # a password the station took is never kept in clear (its hash is: security_upgrade.py)
            learnt = [v for v in learnt if (v.address.component, v.address.variable) != WRITE_ONLY_SECRET]
        if learnt:
            await self.services.device_model.store(conn.charge_point_id, learnt, source)

    async def batches(self, conn, action: str, payload: dict) -> batching.Plan | None:
        """GetVariables, SetVariables, GetReport, Set- and ClearVariableMonitoring cut to what the
        station said one message may hold (DeviceDataCtrlr's or MonitoringCtrlr's ItemsPerMessage /
        BytesPerMessage), else to the configured defaults."""
        if action not in batching.LISTS:
            return None
        try:
            items, size = await self.services.device_model.message_limits(conn.charge_point_id, action)
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("%s %s: its message limits not read (database unavailable): the defaults apply",
                        conn.charge_point_id, action)
            items = size = None
        settings = self.services.settings
        default = batching.Limits(settings.default_items_per_message, settings.default_bytes_per_message)
        plan = batching.split(action, payload, batching.limits_of(items, size, default))
        return plan if plan.needed else None

    def _recorder(self, kind: str, answer: dict | None = None):
        """A handler that keeps the message as a station event and gives a fixed answer."""
        async def record(conn, p: dict) -> dict:
            await self.services.stations.record_event(conn.charge_point_id, kind, p)
            return dict(answer or {})
        return record

    # --- provisioning and availability -----------------------------------------------------
    async def boot_notification(self, conn, p: dict) -> dict:
        station = p["chargingStation"]
        extra = {"reason": p["reason"], **({"modem": station["modem"]} if "modem" in station else {})}
        info = BootInfo(vendor=station["vendorName"], model=station["model"],
                        serial_number=station.get("serialNumber"), firmware_version=station.get("firmwareVersion"),
                        extra=extra)
        status = await self.services.stations.boot(conn.charge_point_id, info)
        conn.registration = status
        settings = self.services.settings
        interval = settings.heartbeat_interval if status == "Accepted" else settings.boot_retry_interval
        return {"status": status, "currentTime": _now(), "interval": interval}

    async def heartbeat(self, conn, p: dict) -> dict:
        await self.services.stations.heartbeat(conn.charge_point_id)
        return {"currentTime": _now()}

    async def status_notification(self, conn, p: dict) -> dict:
        evse = p["evseId"]
        report = StatusReport(evse=evse or None, connector=p["connectorId"] if evse else None,
                              status=p["connectorStatus"], timestamp=parse_time(p["timestamp"]))
        await self.services.stations.report_status(conn.charge_point_id, report)
        return {}

    async def data_transfer(self, conn, p: dict) -> dict:
        return await answer_data_transfer(self.services, conn.charge_point_id, self.version, p)

    async def notify_report(self, conn, p: dict) -> dict:
        values = reported_values(p.get("reportData", []))
        await self.services.device_model.store(conn.charge_point_id, values, REPORT)
        await self.services.stations.record_event(
            conn.charge_point_id, "report", {"request_id": p["requestId"], "seq_no": p["seqNo"],
                                             "tbc": p.get("tbc", False), "attributes": len(values)},
            parse_time(p["generatedAt"]))
        return {}

    async def notify_event(self, conn, p: dict) -> dict:
        """Kept as station events; those with a techCode are the station's current errors until
        cleared (catalogue/service.py)."""
        entries = [(entry, parse_time(entry["timestamp"])) for entry in p["eventData"]]
        await self.services.stations.record_events(conn.charge_point_id, "event", entries)
        if self.services.catalogue is not None:
            await self.services.catalogue.events_reported(conn.charge_point_id, entries)
        return {}

    async def security_event(self, conn, p: dict) -> dict:
        log.warning("%s security event %s: %s", conn.charge_point_id, p["type"], p.get("techInfo", ""))
        await self.services.stations.record_event(conn.charge_point_id, "security_event", p,
                                                  parse_time(p["timestamp"]))
        return {}

    async def sign_certificate(self, conn, p: dict) -> dict:
        """A02/A03: the CSR is checked and recorded now; the chain comes in a CertificateSigned of
        ours once signed (pki/service.py). A refusal says why in statusInfo."""
        refusal = await self.services.certificates.request(conn.charge_point_id, p["csr"], p.get("certificateType"))
        if refusal is None:
            return {"status": "Accepted"}
        return {"status": "Rejected", "statusInfo": {"reasonCode": refusal.code,
                                                     "additionalInfo": refusal.reason[:512]}}

    async def firmware_status(self, conn, p: dict) -> dict:
        await self.services.stations.record_event(conn.charge_point_id, "firmware_status", p,
                                                  firmware_status=p["status"])
        return {}

    async def log_status(self, conn, p: dict) -> dict:
        await self.services.stations.record_event(conn.charge_point_id, "log_status", p,
                                                  diagnostics_status=p["status"])
        return {}

    async def reservation_status(self, conn, p: dict) -> dict:
        status = EXPIRED if p["reservationUpdateStatus"] == "Expired" else REMOVED
        await self.services.reservations.station_update(conn.charge_point_id, p["reservationId"], status)
        await self.services.stations.record_event(conn.charge_point_id, "reservation_status", p)
        return {}

    # --- ISO 15118 charging needs and schedules (loadmgmt/needs_service.py) ----------------------
    async def ev_charging_needs(self, conn, p: dict) -> dict:
        """K15/K17: Accepted when Wattson can plan (a circuit or a tariff), the schedule following
        as a TxProfile; otherwise the version's refusal and why."""
        await self.services.stations.record_event(conn.charge_point_id, "ev_charging_needs", p)
        answer = await self.services.ev_needs.received(conn.charge_point_id, p["evseId"], needs_of(p),
                                                       self.no_schedule_status)
        return needs_answer(answer.status, answer.code, answer.reason and answer.reason[:self.info_max])

    async def ev_charging_schedule(self, conn, p: dict) -> dict:
        """K16.FR.06/07: Accepted when the EV's schedule keeps within what it was offered."""
        await self.services.stations.record_event(conn.charge_point_id, "ev_charging_schedule", p)
        time_base, unit, periods, duration = ev_schedule_of(p)
        within = await self.services.ev_needs.ev_schedule(conn.charge_point_id, p["evseId"], time_base, unit,
                                                          periods, duration)
        return {"status": "Accepted"} if within else {"status": "Rejected", "statusInfo": {
            "reasonCode": "OutOfLimits", "additionalInfo": "the EV's schedule exceeds the charging schedule sent"}}

    # --- certificates: OCSP and ISO 15118 contract certificates (pki/) ---------------------------
    async def certificate_status(self, conn, p: dict) -> dict:
        """The OCSP responder's answer, relayed (M06); Failed with the reason when there is none."""
        data = p["ocspRequestData"]
        answer = await self.services.ocsp.status(OcspQuery(
            data["hashAlgorithm"], data["issuerNameHash"], data["issuerKeyHash"], data["serialNumber"],
            data["responderURL"]))
        if answer.accepted:
            result = base64.b64encode(answer.result).decode()
            reply = ({"status": "Accepted", "ocspResult": result} if len(result) <= self.ocsp_result_max else
                     self._failed("TooLarge", f"the OCSP response has {len(result)} base64 characters; OCPP "
                                              f"{self.version} allows {self.ocsp_result_max}"))
        else:
            reply = self._failed(answer.reason, answer.info)
        await self._record_answered(conn, "certificate_status_request", p, reply)
        return reply

    async def ev_certificate(self, conn, p: dict) -> dict:
        """The contract certificate provider's EXI response, relayed (M01 / M02)."""
        answer = await self.services.contracts.certificate(ContractRequest(
            conn.charge_point_id, self.version, p["iso15118SchemaVersion"], p["action"], p["exiRequest"],
            p.get("maximumContractCertificateChains"), tuple(p.get("prioritizedEMAIDs", ()))))
        if len(answer.exi_response) > self.exi_response_max:
            answer = ContractAnswer.failed("TooLarge", f"the exiResponse has {len(answer.exi_response)} characters; "
                                                       f"OCPP {self.version} allows {self.exi_response_max}")
        reply = {"status": answer.status, "exiResponse": answer.exi_response}
        if answer.reason:
            reply["statusInfo"] = self._failed(answer.reason, answer.info)["statusInfo"]
        if answer.remaining_contracts is not None and self.version != "2.0.1":
            reply["remainingContracts"] = answer.remaining_contracts
        await self._record_answered(conn, "ev_certificate_request", p, reply)
        return reply

    def _failed(self, reason: str, info: str | None) -> dict:
        status_info = {"reasonCode": reason[:20]}
        if info:
            status_info["additionalInfo"] = info[:self.info_max]
        return {"status": "Failed", "statusInfo": status_info}

    async def _record_answered(self, conn, kind: str, p: dict, reply: dict) -> None:
        """The request as a station event, with what it was answered (not the answer's bytes)."""
        outcome = {"status": reply["status"], **({"reason": reply["statusInfo"]["reasonCode"]}
                                                 if "statusInfo" in reply else {})}
        await self.services.stations.record_event(conn.charge_point_id, kind, {**p, "answer": outcome})

    # --- authorisation and transactions --------------------------------------------------------
    async def authorize(self, conn, p: dict) -> dict:
        id_tag = id_tag_of(p["idToken"])
        if id_tag is None:
            return {"idTokenInfo": {"status": "Invalid"}}
        auth = await self.services.sessions.authorize(id_tag, conn.charge_point_id)
        answer = {"idTokenInfo": id_token_info(auth)}
        if p.get("iso15118CertificateHashData") or "certificate" in p:  # C07: the contract certificate too
            verdict = await self.services.contract_auth.status(p.get("iso15118CertificateHashData"),
                                                               p.get("certificate"))
            answer["certificateStatus"] = verdict.status
            if not verdict.accepted:  # C07.FR.16: a certificate not known good authorises nothing
                if auth.accepted:
                    answer["idTokenInfo"]["status"] = "Invalid"
                log.info("%s Authorize of %s: certificate %s: %s", conn.charge_point_id, id_tag, verdict.status,
                         verdict.info)
            await self.services.stations.record_event(conn.charge_point_id, "contract_certificate_check", {
                "id_token": id_tag, "certificate_status": verdict.status, "info": verdict.info})
        return answer

    async def transaction_event(self, conn, p: dict) -> dict:
        dropped = []
        auth = await self.services.transactions.record(conn.charge_point_id, tx_event(p, dropped))
        await report_dropped(self.services.stations, conn.charge_point_id, "TransactionEvent", dropped)
        # A token Wattson inferred (its own remote start's, see sessions/remote_starts.py) is not
        # answered: idTokenInfo answers an idToken sent.
        answer = {"idTokenInfo": id_token_info(auth)} if auth is not None and "idToken" in p else {}
        if p["eventType"] == "Ended":  # I03: the final cost, the CDR's own figure (station_cost/)
            answer.update(await self.services.station_cost.ended_answer(conn.charge_point_id,
                                                                        p["transactionInfo"]["transactionId"]))
        return answer

    async def meter_values(self, conn, p: dict) -> dict:
        """Meter values outside transactions (the station's or an EVSE's own meter)."""
        dropped = []
        await self.services.sessions.add_meter_values(conn.charge_point_id, evse=p["evseId"], connector=None,
                                                      transaction_id=None, samples=samples_of(p["meterValue"], dropped))
        await report_dropped(self.services.stations, conn.charge_point_id, "MeterValues", dropped)
        return {}


class Ocpp21(Ocpp201):
    version = "2.1"
    subprotocol = "ocpp2.1"
    schema_dir = "v21"
    no_schedule_status = "NoChargingProfile"
    ocsp_result_max, exi_response_max, info_max = 18000, 17000, 1024
    csms_actions = Ocpp201.csms_actions | frozenset({
        "AdjustPeriodicEventStream", "AFRRSignal", "ChangeTransactionTariff", "ClearDERControl", "ClearTariffs",
        "ClosePeriodicEventStream", "GetCertificateChainStatus", "GetDERControl", "GetPeriodicEventStream",
        "GetTariffs", "NotifyAllowedEnergyTransfer", "NotifyWebPaymentStarted", "RequestBatterySwap",
        "SetDERControl", "SetDefaultTariff", "UpdateDynamicSchedule", "UsePriorityCharging",
    })


def _now() -> str:
    return format_time(datetime.now(timezone.utc))
