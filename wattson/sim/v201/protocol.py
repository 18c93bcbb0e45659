"""The station's calls in OCPP 2.0.1 and 2.1: EVSE statuses, and TransactionEvents Started /
Updated / Ended around a transaction id the station makes up itself.

Each of the station's connectors is an EVSE with one connector (connectorId 1), as the server's
1.6 adapter maps them, so the same station looks the same to the CSMS in either version.
"""

import asyncio
import math
import uuid
from datetime import datetime, timedelta
from functools import partial

from wattson.sim.connector import Connector, Reservation, Transaction
from wattson.sim.meter import VOLTAGE, readings
from wattson.sim.profiles import MIN_CURRENT_A, Profile
from wattson.sim.protocol import StationProtocol
from wattson.sim.v201 import commands
from wattson.sim.v201.certificates import CertificateStore
from wattson.sim.v201.device_model import DeviceModel
from wattson.sim.v201.shapes import CONNECTOR, id_token, sampled_values, shown_status
from wattson.sim.wire import iso, utc_now

ENERGY = "Energy.Active.Import.Register"
MAX_SCHEDULE_TUPLES = 24  # the periods the EV takes in one schedule (maxScheduleTuples)
EV_MAX_VOLTAGE = 400  # V, the EV's evMaxVoltage
CHARGING_STATES = {"Charging": "Charging", "SuspendedEV": "SuspendedEV", "SuspendedEVSE": "SuspendedEVSE"}
#: why a transaction ended -> the Ended event's triggerReason
ENDED_BY = {"Local": "StopAuthorized", "Remote": "RemoteStop", "EVDisconnected": "EVCommunicationLost",
            "DeAuthorized": "Deauthorized", "ImmediateReset": "ResetCommand"}


class Ocpp201(StationProtocol):
    version = "2.0.1"
    subprotocol = "ocpp2.0.1"
    handlers = commands.HANDLERS
    #: reasons the station gives that 2.x has no word for become Other
    stopped_reasons = frozenset(("DeAuthorized", "EVDisconnected", "ImmediateReset", "Local", "Other", "Remote"))

    def __init__(self, station):
        super().__init__(station)
        self.shown: dict[int, str] = {}  # EVSE -> the connectorStatus last notified
        self.device_model = DeviceModel(station)
        self.certificates = CertificateStore()
        self.network_profiles: dict[int, dict] = {}  # configurationSlot -> connectionData (SetNetworkProfile)

    def boot_notification(self, reason: str) -> dict:
        config = self.station.config
        return {"reason": reason,
                "chargingStation": {"model": config.model[:20], "vendorName": config.vendor[:50],
                                    "serialNumber": f"SN-{self.station.station_id}"[:25],
                                    "firmwareVersion": self.station.firmware_version}}

    def send_status(self, connector_id: int) -> None:
        """2.x has no status of the station as a whole (connector 0): its EVSEs' statuses say it."""
        if connector_id == 0:
            return
        status = shown_status(self.station.status(connector_id))
        self.shown[connector_id] = status
        self.station.send("StatusNotification", {"timestamp": iso(utc_now()), "connectorStatus": status,
                                                 "evseId": connector_id, "connectorId": CONNECTOR})

    def status_changed(self, connector_id: int) -> None:
        """Preparing, Charging, Finishing are all Occupied: only a change of that is notified."""
        if shown_status(self.station.status(connector_id)) != self.shown.get(connector_id):
            self.send_status(connector_id)

    def authorize(self, id_tag: str, token_type: str) -> dict:
        return {"idToken": id_token(id_tag, token_type)}

    def authorized(self, reply: dict) -> bool:
        return reply.get("idTokenInfo", {}).get("status") == "Accepted"

    # --- transactions ----------------------------------------------------------------------------
    def transaction_started(self, connector: Connector, tx: Transaction) -> asyncio.Future:
        tx.id = str(uuid.uuid4())
        tx.charging_state = "Charging"
        info = {"chargingState": tx.charging_state}
        if tx.remote_start_id is not None:
            info["remoteStartId"] = tx.remote_start_id
        extra = {"idToken": id_token(tx.id_tag, tx.token_type),
                 "evse": {"id": connector.id, "connectorId": CONNECTOR},
                 "meterValue": [{"timestamp": iso(tx.started_at), "sampledValue": sampled_values(
                     readings([ENERGY], tx.meter_start, None), "Transaction.Begin")}]}
        if tx.reservation_id is not None:
            extra["reservationId"] = tx.reservation_id
        trigger = "RemoteStart" if tx.remote_start_id is not None else "Authorized"
        return self._event("Started", tx, trigger, tx.started_at, info, extra, on_reply=partial(self._started, tx))

    def _started(self, tx: Transaction, reply: dict) -> None:
        status = reply.get("idTokenInfo", {}).get("status", "Accepted")
        if status != "Accepted":
            tx.request_stop("DeAuthorized")
        elif self.station.config.charging_needs is not None and not tx.stopped.is_set():
            tx.iso15118 = True
            self.station.send("NotifyEVChargingNeeds", self.charging_needs(tx))
        self.station.notify()

    # --- ISO 15118 as the station relays it (K15–K17) ---------------------------------------------
    def charging_needs(self, tx: Transaction) -> dict:
        """NotifyEVChargingNeeds (K15.FR.01): the configured departure and energy, and the EV's
        AC limits (its on-board charger, within the station's maximum)."""
        departure_s, energy_wh = self.station.config.charging_needs
        phases = tx.ev.phases
        return {"evseId": tx.connector_id, "maxScheduleTuples": MAX_SCHEDULE_TUPLES, "chargingNeeds": {
            "requestedEnergyTransfer": "AC_three_phase" if phases == 3 else "AC_single_phase",
            "departureTime": iso(tx.started_at + timedelta(seconds=departure_s)),
            "acChargingParameters": {"energyAmount": round(energy_wh), "evMinCurrent": round(MIN_CURRENT_A),
                                     "evMaxCurrent": math.floor(self.ev_max_w(tx) / (phases * VOLTAGE)),
                                     "evMaxVoltage": EV_MAX_VOLTAGE}}}

    def ev_max_w(self, tx: Transaction) -> float:
        return min(tx.ev.onboard_max_w, self.station.config.max_power_w)

    def ev_schedule(self, tx: Transaction, profile: Profile) -> None:
        """K16.FR.04/05: the EV's own schedule within the TxProfile just installed (its limits,
        capped by what the EV can take), as NotifyEVChargingSchedule."""
        schedule = profile.schedule
        unit = schedule["chargingRateUnit"]
        phases = tx.ev.phases
        most = self.ev_max_w(tx) if unit == "W" else math.floor(self.ev_max_w(tx) / (phases * VOLTAGE))
        periods = [{"startPeriod": p["startPeriod"], "limit": min(float(p["limit"]), most),
                    **({"numberPhases": p["numberPhases"]} if "numberPhases" in p else {})}
                   for p in schedule["chargingSchedulePeriod"]]
        time_base = schedule.get("startSchedule") or iso(utc_now())
        ev = {"id": schedule.get("id", profile.id), "chargingRateUnit": unit, "chargingSchedulePeriod": periods,
              **({"duration": schedule["duration"]} if "duration" in schedule else {})}
        self.station.send("NotifyEVChargingSchedule", {"timeBase": time_base, "evseId": tx.connector_id,
                                                       "chargingSchedule": ev})

    def transaction_sampled(self, connector: Connector, tx: Transaction) -> None:
        self.transaction_meter_values(connector, tx, "MeterValuePeriodic", "Sample.Periodic")

    def transaction_meter_values(self, connector: Connector, tx: Transaction, trigger: str, context: str) -> None:
        """An Updated event with a meter reading (MeterValuePeriodic, or Trigger)."""
        values = sampled_values(readings(self.station.configuration.items("MeterValuesSampledData"),
                                         connector.register_wh, tx.ev, self.station.phases), context)
        now = utc_now()
        extra = {"meterValue": [{"timestamp": iso(now), "sampledValue": values}]} if values else {}
        self._event("Updated", tx, trigger, now, {"chargingState": tx.charging_state}, extra)

    def charging_state_changed(self, connector: Connector, tx: Transaction) -> None:
        state = CHARGING_STATES.get(connector.status, "EVConnected")
        if state != tx.charging_state:
            tx.charging_state = state
            self._event("Updated", tx, "ChargingStateChanged", utc_now(), {"chargingState": state})

    def transaction_ended(self, connector: Connector, tx: Transaction, stopped_at: datetime, meter_stop: int) -> None:
        reason = tx.stop_reason or "Local"
        info = {"stoppedReason": reason if reason in self.stopped_reasons else "Other",
                "chargingState": "Idle" if reason == "EVDisconnected" else "EVConnected"}
        measurands = self.station.configuration.items("StopTxnSampledData")
        extra = {"evse": {"id": connector.id, "connectorId": CONNECTOR}}
        if measurands:
            extra["meterValue"] = [{"timestamp": iso(stopped_at), "sampledValue": sampled_values(
                readings(measurands, meter_stop, tx.ev, self.station.phases), "Transaction.End")}]
        trigger = ENDED_BY.get(reason, "AbnormalCondition")
        if trigger == "StopAuthorized":  # the driver presented the tag again
            extra["idToken"] = id_token(tx.id_tag, tx.token_type)
        self._event("Ended", tx, trigger, stopped_at, info, extra)

    def _event(self, event_type: str, tx: Transaction, trigger: str, at: datetime, info: dict,
               extra: dict | None = None, **options) -> asyncio.Future:
        """One TransactionEvent, numbered in the transaction; marked offline when made without a connection."""
        payload = {"eventType": event_type, "timestamp": iso(at), "triggerReason": trigger, "seqNo": tx.seq_no,
                   "transactionInfo": {"transactionId": tx.id, **info}, **(extra or {})}
        if not self.station.accepted.is_set():
            payload["offline"] = True
        tx.seq_no += 1
        return self.station.send("TransactionEvent", payload, durable=True, **options)

    # --- other notifications ---------------------------------------------------------------------
    def meter_values(self, connector: Connector, context: str) -> None:
        """MeterValues of an EVSE outside any transaction event (a triggered reading)."""
        tx = connector.transaction
        values = sampled_values(readings(self.station.configuration.items("MeterValuesSampledData"),
                                         connector.register_wh, tx.ev if tx else None, self.station.phases), context)
        if values:
            self.station.send("MeterValues", {"evseId": connector.id,
                                              "meterValue": [{"timestamp": iso(utc_now()), "sampledValue": values}]})

    def reservation_expired(self, reservation: Reservation) -> None:
        self.station.send("ReservationStatusUpdate", {"reservationId": reservation.id,
                                                      "reservationUpdateStatus": "Expired"})


class Ocpp21(Ocpp201):
    """2.1 keeps 2.0.1's messages for everything the simulator does."""

    version = "2.1"
    subprotocol = "ocpp2.1"
