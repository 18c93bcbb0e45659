"""A small OCPP 2.x device model: components and variables over the station's own settings.

Most variables are the 1.6 configuration keys under their 2.x names (OCPPCommCtrlr.HeartbeatInterval
is HeartbeatInterval), so GetVariables / SetVariables and GetConfiguration / ChangeConfiguration
read and change the same settings; the rest are read-only facts about the station.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wattson.sim.v201.shapes import CONNECTOR, shown_status
from wattson.sim.wire import iso, utc_now

if TYPE_CHECKING:
    from wattson.sim.station import SimStation

ACTUAL = "Actual"  # the only attribute type the station keeps
REPORT_ITEMS = 20  # variables per NotifyReport message
SUMMARY = frozenset(("AvailabilityState",))  # what a SummaryInventory reports
CRITERIA = frozenset(("Active", "Available", "Enabled", "Problem"))  # GetReport's componentCriteria
STATES = "Available,Occupied,Reserved,Unavailable,Faulted"


@dataclass(frozen=True)
class Variable:
    """One variable; its value comes from exactly one of ``key``, ``constant`` or ``read``."""

    component: str
    name: str
    data_type: str  # string, decimal, integer, boolean, dateTime, OptionList, MemberList, SequenceList
    key: str | None = None  # the configuration key holding it: read-write unless the key is read-only
    constant: str | None = None  # a fact that never changes
    read: Callable[[SimStation], str] | None = None  # a read-only fact of the station's state
    instance: str | None = None
    evse: int | None = None
    connector: int | None = None
    unit: str | None = None
    max_limit: float | None = None
    values_list: str | None = None

    def component_json(self) -> dict:
        component = {"name": self.component}
        if self.evse is not None:
            component["evse"] = {"id": self.evse, **({"connectorId": self.connector} if self.connector else {})}
        return component

    def variable_json(self) -> dict:
        return {"name": self.name, **({"instance": self.instance} if self.instance is not None else {})}


def _station_variables(station: SimStation) -> list[Variable]:
    V = Variable
    config = station.config
    return [
        V("ChargingStation", "AvailabilityState", "OptionList",
          read=lambda s: "Available" if s.operative else "Unavailable", values_list="Available,Unavailable"),
        V("ChargingStation", "Available", "boolean", constant="true"),
        V("ChargingStation", "Model", "string", constant=config.model),
        V("ChargingStation", "VendorName", "string", constant=config.vendor),
        V("ChargingStation", "SupplyPhases", "integer", constant=str(station.phases)),
        V("ChargingStation", "FirmwareVersion", "string", read=lambda s: s.firmware_version),
        V("ClockCtrlr", "DateTime", "dateTime", read=lambda s: iso(utc_now())),
        V("ClockCtrlr", "TimeSource", "SequenceList", constant="Heartbeat"),
        V("OCPPCommCtrlr", "HeartbeatInterval", "integer", key="HeartbeatInterval", unit="s"),
        V("OCPPCommCtrlr", "MessageAttempts", "integer", key="TransactionMessageAttempts", instance="TransactionEvent"),
        V("OCPPCommCtrlr", "MessageAttemptInterval", "integer", key="TransactionMessageRetryInterval",
          instance="TransactionEvent", unit="s"),
        V("OCPPCommCtrlr", "ResetRetries", "integer", key="ResetRetries"),
        V("OCPPCommCtrlr", "WebSocketPingInterval", "integer", key="WebSocketPingInterval", unit="s"),
        V("OCPPCommCtrlr", "NetworkConfigurationPriority", "SequenceList",
          read=lambda s: ",".join(map(str, sorted(s.protocol.network_profiles))) or "0"),
        V("SampledDataCtrlr", "Enabled", "boolean", constant="true"),
        V("SampledDataCtrlr", "TxUpdatedInterval", "integer", key="MeterValueSampleInterval", unit="s"),
        V("SampledDataCtrlr", "TxUpdatedMeasurands", "MemberList", key="MeterValuesSampledData"),
        V("SampledDataCtrlr", "TxEndedMeasurands", "MemberList", key="StopTxnSampledData"),
        V("SampledDataCtrlr", "TxStartedMeasurands", "MemberList", constant="Energy.Active.Import.Register"),
        V("AlignedDataCtrlr", "Enabled", "boolean", constant="true"),
        V("AlignedDataCtrlr", "Interval", "integer", key="ClockAlignedDataInterval", unit="s"),
        V("AlignedDataCtrlr", "Measurands", "MemberList", key="MeterValuesAlignedData"),
        V("AlignedDataCtrlr", "TxEndedMeasurands", "MemberList", key="StopTxnAlignedData"),
        V("AuthCtrlr", "Enabled", "boolean", constant="true"),
        V("AuthCtrlr", "AuthorizeRemoteStart", "boolean", key="AuthorizeRemoteTxRequests"),
        V("AuthCtrlr", "LocalAuthorizeOffline", "boolean", key="LocalAuthorizeOffline"),
        V("AuthCtrlr", "LocalPreAuthorize", "boolean", key="LocalPreAuthorize"),
        V("AuthCacheCtrlr", "Enabled", "boolean", key="AuthorizationCacheEnabled"),
        V("LocalAuthListCtrlr", "Enabled", "boolean", key="LocalAuthListEnabled"),
        V("LocalAuthListCtrlr", "Entries", "integer", read=lambda s: str(len(s.local_list.entries))),
        V("LocalAuthListCtrlr", "ItemsPerMessage", "integer", key="SendLocalListMaxLength"),
        V("LocalAuthListCtrlr", "BytesPerMessage", "integer", constant="65000"),
        V("TxCtrlr", "EVConnectionTimeOut", "integer", key="ConnectionTimeOut", unit="s"),
        V("TxCtrlr", "StopTxOnEVSideDisconnect", "boolean", key="StopTransactionOnEVSideDisconnect"),
        V("TxCtrlr", "StopTxOnInvalidId", "boolean", key="StopTransactionOnInvalidId"),
        V("TxCtrlr", "TxStartPoint", "MemberList", constant="Authorized"),
        V("TxCtrlr", "TxStopPoint", "MemberList", constant="EVConnected,Authorized"),
        V("SmartChargingCtrlr", "Enabled", "boolean", constant="true"),
        V("SmartChargingCtrlr", "Entries", "integer", instance="ChargingProfiles",
          read=lambda s: str(len(s.profiles.select()))),
        V("SmartChargingCtrlr", "ProfileStackLevel", "integer", key="ChargeProfileMaxStackLevel"),
        V("SmartChargingCtrlr", "PeriodsPerSchedule", "integer", key="ChargingScheduleMaxPeriods"),
        V("SmartChargingCtrlr", "RateUnit", "MemberList", constant="A,W"),
        V("ReservationCtrlr", "Enabled", "boolean", constant="true"),
        V("ReservationCtrlr", "NonEvseSpecific", "boolean", key="ReserveConnectorZeroSupported"),
        V("SecurityCtrlr", "Identity", "string", read=lambda s: s.station_id),
        V("SecurityCtrlr", "OrganizationName", "string", constant=config.vendor),
        V("SecurityCtrlr", "SecurityProfile", "integer", constant="1"),
        V("SecurityCtrlr", "CertificateEntries", "integer", read=lambda s: str(len(s.protocol.certificates))),
        V("DeviceDataCtrlr", "ItemsPerMessage", "integer", instance="GetReport", constant=str(REPORT_ITEMS)),
        V("DeviceDataCtrlr", "ItemsPerMessage", "integer", instance="GetVariables", constant="50"),
        V("DeviceDataCtrlr", "ItemsPerMessage", "integer", instance="SetVariables", constant="50"),
        V("DeviceDataCtrlr", "BytesPerMessage", "integer", instance="GetReport", constant="65000"),
    ]


def _evse_variables(station: SimStation, evse: int) -> list[Variable]:
    def availability(s: SimStation) -> str:
        return shown_status(s.status(evse))

    def power(s: SimStation) -> str:
        tx = s.connectors[evse].transaction
        return f"{tx.ev.power_w:.0f}" if tx else "0"

    V = Variable
    return [
        V("EVSE", "AvailabilityState", "OptionList", read=availability, evse=evse, values_list=STATES),
        V("EVSE", "Available", "boolean", read=lambda s: str(s.connectors[evse].operative).lower(), evse=evse),
        V("EVSE", "Power", "decimal", read=power, evse=evse, unit="W", max_limit=station.config.max_power_w),
        V("EVSE", "SupplyPhases", "integer", constant=str(station.phases), evse=evse),
        V("Connector", "AvailabilityState", "OptionList", read=availability, evse=evse, connector=CONNECTOR,
          values_list=STATES),
        V("Connector", "ConnectorType", "string", constant="cType2", evse=evse, connector=CONNECTOR),
    ]


class DeviceModel:
    def __init__(self, station: SimStation):
        self.station = station
        self.variables = _station_variables(station) + [
            v for evse in station.connectors for v in _evse_variables(station, evse)]

    # --- reading and writing ---------------------------------------------------------------------
    def value(self, variable: Variable) -> str:
        if variable.key is not None:
            return self.station.configuration.value(variable.key)
        return variable.constant if variable.constant is not None else variable.read(self.station)

    def mutability(self, variable: Variable) -> str:
        writable = variable.key is not None and not self.station.configuration.readonly(variable.key)
        return "ReadWrite" if writable else "ReadOnly"

    def find(self, component: dict, variable: dict) -> Variable | str:
        """The variable addressed, or why there is none (UnknownComponent, UnknownVariable)."""
        evse = component.get("evse") or {}
        of_component = [v for v in self.variables
                        if v.component == component["name"] and component.get("instance") is None
                        and v.evse == evse.get("id") and v.connector == evse.get("connectorId")]
        if not of_component:
            return "UnknownComponent"
        found = next((v for v in of_component if v.name == variable["name"] and v.instance == variable.get("instance")),
                     None)
        return found or "UnknownVariable"

    def get(self, entry: dict) -> dict:
        """One getVariableResult for one getVariableData entry."""
        found = self.find(entry["component"], entry["variable"])
        result = {"component": entry["component"], "variable": entry["variable"]}
        attribute = entry.get("attributeType", ACTUAL)
        if attribute != ACTUAL:
            result["attributeType"] = attribute
        if isinstance(found, str):
            return {"attributeStatus": found, **result}
        if attribute != ACTUAL:
            return {"attributeStatus": "NotSupportedAttributeType", **result}
        return {"attributeStatus": "Accepted", "attributeValue": self.value(found), **result}

    def set(self, entry: dict) -> tuple[dict, str | None]:
        """One setVariableResult for one setVariableData entry, and the configuration key it changed."""
        found = self.find(entry["component"], entry["variable"])
        result = {"component": entry["component"], "variable": entry["variable"]}
        attribute = entry.get("attributeType", ACTUAL)
        if attribute != ACTUAL:
            result["attributeType"] = attribute
        if isinstance(found, str):
            return {"attributeStatus": found, **result}, None
        if attribute != ACTUAL:
            return {"attributeStatus": "NotSupportedAttributeType", **result}, None
        if self.mutability(found) != "ReadWrite":
            return {"attributeStatus": "Rejected", **result}, None
        status = self.station.configuration.change(found.key, entry["attributeValue"])
        return {"attributeStatus": status, **result}, found.key if status == "Accepted" else None

    # --- reports ---------------------------------------------------------------------------------
    def base_report(self, base: str) -> list[Variable] | None:
        """The variables a GetBaseReport covers; None for a report base the station does not know."""
        if base == "FullInventory":
            return list(self.variables)
        if base == "ConfigurationInventory":
            return [v for v in self.variables if self.mutability(v) == "ReadWrite"]
        if base == "SummaryInventory":
            return [v for v in self.variables if v.name in SUMMARY]
        return None

    def report(self, selection: list[dict] | None, criteria: list[str] | None) -> list[Variable]:
        """The variables a GetReport asks for: those named (a component alone: all of its), of the
        components that have a true variable named after one of the criteria."""
        chosen = self.variables
        if selection:
            chosen = [v for v in chosen if any(_selects(wanted, v) for wanted in selection)]
        if criteria:
            matching = {_component_key(v) for v in self.variables
                        if v.name in criteria and v.name in CRITERIA and self.value(v) == "true"}
            chosen = [v for v in chosen if _component_key(v) in matching]
        return chosen

    def report_data(self, variables: Iterable[Variable]) -> list[dict]:
        """NotifyReport's reportData for the variables."""
        data = []
        for v in variables:
            characteristics = {"dataType": v.data_type, "supportsMonitoring": False}
            for name, value in (("unit", v.unit), ("maxLimit", v.max_limit), ("valuesList", v.values_list)):
                if value is not None:
                    characteristics[name] = value
            mutability = self.mutability(v)
            data.append({"component": v.component_json(), "variable": v.variable_json(),
                         "variableAttribute": [{"type": ACTUAL, "value": self.value(v), "mutability": mutability,
                                                "persistent": v.read is None, "constant": v.constant is not None}],
                         "variableCharacteristics": characteristics})
        return data


def _component_key(v: Variable) -> tuple:
    return v.component, v.evse, v.connector


def _selects(wanted: dict, v: Variable) -> bool:
    component, variable = wanted["component"], wanted.get("variable")
    evse = component.get("evse") or {}
    if v.component != component["name"] or component.get("instance") is not None:
        return False
    if "id" in evse and (v.evse != evse["id"] or ("connectorId" in evse and v.connector != evse["connectorId"])):
        return False
    return variable is None or (v.name == variable["name"] and v.instance == variable.get("instance"))
