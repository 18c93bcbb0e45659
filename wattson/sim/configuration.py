"""The station's settings, by their OCPP 1.6 configuration key names: what GetConfiguration shows
and ChangeConfiguration may change. OCPP 2.x's device model (``v201/device_model.py``) reads and
writes the same settings under its own component and variable names.

Values are strings on the wire; each key knows its kind so a change is checked like a real
charger would check it, and the station reads numbers and flags back through typed getters.
"""

import math
from dataclasses import dataclass

from wattson.sim.meter import MEASURANDS

KNOWN_MEASURANDS = frozenset((
    "Energy.Active.Export.Register", "Energy.Active.Import.Register", "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register", "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval", "Power.Active.Export",
    "Power.Active.Import", "Power.Offered", "Power.Reactive.Export", "Power.Reactive.Import", "Power.Factor",
    "Current.Import", "Current.Export", "Current.Offered", "Voltage", "Frequency", "Temperature", "SoC", "RPM",
))


@dataclass
class Key:
    value: str
    readonly: bool = False
    kind: str = "text"  # number, flag, measurands or text


def _flag(on: bool) -> Key:
    return Key("true" if on else "false", kind="flag")


def _fixed(value: str) -> Key:
    return Key(value, readonly=True)


def number_text(value: float) -> str:
    """Whole numbers as integers (as OCPP expects); fractions kept for fast test intervals."""
    return f"{value:g}"


class Configuration:
    def __init__(self, *, connectors: int, heartbeat_interval: float, meter_interval: float,
                 authorize_remote_tx: bool):
        self._keys: dict[str, Key] = {
            "AuthorizeRemoteTxRequests": _flag(authorize_remote_tx),
            "AuthorizationCacheEnabled": _flag(False),
            "ClockAlignedDataInterval": Key("0", kind="number"),
            "ConnectionTimeOut": Key("60", kind="number"),
            "ConnectorPhaseRotation": Key("NotApplicable"),
            "GetConfigurationMaxKeys": _fixed("50"),
            "HeartbeatInterval": Key(number_text(heartbeat_interval), kind="number"),
            "LocalAuthListEnabled": _flag(True),
            "LocalAuthListMaxLength": _fixed("100"),
            "LocalAuthorizeOffline": _flag(True),
            "LocalPreAuthorize": _flag(False),
            "MeterValuesAlignedData": Key("Energy.Active.Import.Register", kind="measurands"),
            "MeterValuesSampledData": Key(",".join(MEASURANDS), kind="measurands"),
            "MeterValueSampleInterval": Key(number_text(meter_interval), kind="number"),
            "NumberOfConnectors": _fixed(str(connectors)),
            "ResetRetries": Key("1", kind="number"),
            "SendLocalListMaxLength": _fixed("100"),
            "StopTransactionOnEVSideDisconnect": _flag(True),
            "StopTransactionOnInvalidId": _flag(True),
            "StopTxnAlignedData": Key("", kind="measurands"),
            "StopTxnSampledData": Key("Energy.Active.Import.Register", kind="measurands"),
            "SupportedFeatureProfiles": _fixed("Core,FirmwareManagement,LocalAuthListManagement,Reservation,"
                                           "SmartCharging,RemoteTrigger"),
            "TransactionMessageAttempts": Key("3", kind="number"),
            "TransactionMessageRetryInterval": Key("10", kind="number"),
            "UnlockConnectorOnEVSideDisconnect": _flag(True),
            "WebSocketPingInterval": Key("0", kind="number"),
            "ChargeProfileMaxStackLevel": _fixed("10"),
            "ChargingScheduleAllowedChargingRateUnit": _fixed("Current,Power"),
            "ChargingScheduleMaxPeriods": _fixed("24"),
            "MaxChargingProfilesInstalled": _fixed("10"),
            "ReserveConnectorZeroSupported": _fixed("true"),
        }
        self._names = {name.lower(): name for name in self._keys}  # key names are case-insensitive

    def get(self, names: list[str] | None = None) -> dict:
        """A GetConfiguration answer: all keys, or the ones asked for."""
        wanted = list(self._keys) if not names else names
        known, unknown = [], []
        for name in wanted:
            canonical = self._names.get(name.lower())
            if canonical is None:
                unknown.append(name)
            else:
                key = self._keys[canonical]
                known.append({"key": canonical, "readonly": key.readonly, "value": key.value})
        answer = {"configurationKey": known}
        if unknown:
            answer["unknownKey"] = unknown
        return answer

    def change(self, name: str, value: str) -> str:
        """Apply a ChangeConfiguration; its status."""
        canonical = self._names.get(name.lower())
        if canonical is None:
            return "NotSupported"
        key = self._keys[canonical]
        if key.readonly:
            return "Rejected"
        normalised = _normalise(key.kind, value)
        if normalised is None:
            return "Rejected"
        key.value = normalised
        return "Accepted"

    def set(self, name: str, value: str) -> None:
        """The station itself changing a key (e.g. the heartbeat interval the CSMS gave at boot)."""
        self._keys[name].value = value

    def value(self, name: str) -> str:
        return self._keys[name].value

    def readonly(self, name: str) -> bool:
        return self._keys[name].readonly

    def number(self, name: str) -> float:
        return float(self._keys[name].value or 0)

    def flag(self, name: str) -> bool:
        return self._keys[name].value == "true"

    def items(self, name: str) -> list[str]:
        return [item for item in self._keys[name].value.split(",") if item]


def _normalise(kind: str, value: str) -> str | None:
    """The value as stored, or None when a charger would refuse it."""
    value = value.strip()
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return None
        return number_text(number) if math.isfinite(number) and number >= 0 else None
    if kind == "flag":
        return value.lower() if value.lower() in ("true", "false") else None
    if kind == "measurands":
        items = [item.strip() for item in value.split(",") if item.strip()]
        return ",".join(items) if all(item in KNOWN_MEASURANDS for item in items) else None
    return value
