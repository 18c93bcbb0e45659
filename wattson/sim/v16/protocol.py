"""The station's calls in OCPP 1.6: connector-numbered statuses, and StartTransaction / MeterValues /
StopTransaction around a transaction id the CSMS hands out."""

import asyncio
from datetime import datetime
from functools import partial

from wattson.sim.connector import Connector, Transaction
from wattson.sim.meter import Reading, readings
from wattson.sim.protocol import StationProtocol
from wattson.sim.v16 import commands
from wattson.sim.wire import iso, utc_now


def sampled_values(values: list[Reading], context: str) -> list[dict]:
    """Readings as 1.6 sampledValue entries: every value a string."""
    return [{"value": f"{r.value:.{r.decimals}f}", "context": context, "measurand": r.measurand, "unit": r.unit,
             "location": r.location, **({"phase": r.phase} if r.phase else {})} for r in values]


class Ocpp16(StationProtocol):
    version = "1.6"
    subprotocol = "ocpp1.6"
    handlers = commands.HANDLERS
    error_names = {"FormatViolation": "FormationViolation",
                   "OccurrenceConstraintViolation": "OccurenceConstraintViolation"}

    def boot_notification(self, reason: str) -> dict:
        config = self.station.config
        return {"chargePointVendor": config.vendor[:20], "chargePointModel": config.model[:20],
                "chargePointSerialNumber": f"SN-{self.station.station_id}"[:25],
                "firmwareVersion": self.station.firmware_version}

    def send_status(self, connector_id: int) -> None:
        self.station.send("StatusNotification", {"connectorId": connector_id, "errorCode": "NoError",
                                                 "status": self.station.status(connector_id),
                                                 "timestamp": iso(utc_now())})

    def status_changed(self, connector_id: int) -> None:
        self.send_status(connector_id)  # every status is a 1.6 status

    def authorize(self, id_tag: str, token_type: str) -> dict:
        return {"idTag": id_tag}

    def authorized(self, reply: dict) -> bool:
        return reply.get("idTagInfo", {}).get("status") == "Accepted"

    def transaction_started(self, connector: Connector, tx: Transaction) -> asyncio.Future:
        payload = {"connectorId": connector.id, "idTag": tx.id_tag, "meterStart": tx.meter_start,
                   "timestamp": iso(tx.started_at)}
        if tx.reservation_id is not None:
            payload["reservationId"] = tx.reservation_id
        return self.station.send("StartTransaction", payload, durable=True, on_reply=partial(self._started, tx))

    def _started(self, tx: Transaction, reply: dict) -> None:
        tx.id = reply.get("transactionId")
        if reply.get("idTagInfo", {}).get("status") != "Accepted":
            tx.request_stop("DeAuthorized")
        self.station.notify()

    def transaction_sampled(self, connector: Connector, tx: Transaction) -> None:
        self.meter_values(connector, "Sample.Periodic", durable=True)

    def transaction_ended(self, connector: Connector, tx: Transaction, stopped_at: datetime, meter_stop: int) -> None:
        """StopTransaction, with the meter at begin and end as transaction data."""
        payload = {"meterStop": meter_stop, "timestamp": iso(stopped_at), "reason": tx.stop_reason,
                   "idTag": tx.id_tag}
        measurands = self.station.configuration.items("StopTxnSampledData")
        if measurands:
            phases = self.station.phases
            payload["transactionData"] = [
                {"timestamp": iso(tx.started_at), "sampledValue": sampled_values(
                    readings(measurands, tx.meter_start, None, phases), "Transaction.Begin")},
                {"timestamp": iso(stopped_at), "sampledValue": sampled_values(
                    readings(measurands, meter_stop, tx.ev, phases), "Transaction.End")},
            ]
        self.station.send("StopTransaction", payload, durable=True, tx=tx)

    def meter_values(self, connector: Connector, context: str, *, durable: bool = False) -> None:
        """MeterValues of a connector; ``durable`` ones belong to its transaction and survive a lost connection."""
        tx = connector.transaction
        values = sampled_values(readings(self.station.configuration.items("MeterValuesSampledData"),
                                         connector.register_wh, tx.ev if tx else None, self.station.phases), context)
        if not values:
            return
        payload = {"connectorId": connector.id, "meterValue": [{"timestamp": iso(utc_now()), "sampledValue": values}]}
        if tx is not None and durable:
            self.station.send("MeterValues", payload, durable=True, tx=tx)
        else:
            if tx is not None and tx.id is not None:
                payload["transactionId"] = tx.id
            self.station.send("MeterValues", payload)
