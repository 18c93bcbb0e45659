"""The OCPP 2.x device model of each station: components, variables and their attributes.

Stations report it (NotifyReport after GetBaseReport / GetReport); GetVariables and SetVariables
read and write single values. Wattson keeps the latest of each so an operator can see a
station's configuration without asking it again.
"""

from dataclasses import dataclass

from sqlalchemy import select

from wattson.db import Database, utcnow
from wattson.stations.models import DeviceVariable

REPORT, GET, SET = "report", "get", "set"
#: OCPP 1.6 has no device model: its configuration keys (GetConfiguration answers, accepted
#: ChangeConfigurations) are kept as the variables of this one component, named by key
V16_CONFIGURATION = "OCPP16Configuration"
LIMITS_COMPONENT = "DeviceDataCtrlr"  # where a station says how much one message may hold
#: the actions whose limits another component holds (OCPP 2.0.1 part 2, MonitoringCtrlr)
LIMITS_COMPONENTS = {"SetVariableMonitoring": "MonitoringCtrlr", "ClearVariableMonitoring": "MonitoringCtrlr"}
_CHUNK = 500  # keys per look-up: well under every database's bound-parameter limit


@dataclass(frozen=True, slots=True)
class VariableAddress:
    component: str
    variable: str
    component_instance: str | None = None
    evse: int | None = None
    connector: int | None = None
    variable_instance: str | None = None
    attribute_type: str = "Actual"

    @property
    def key(self) -> str:
        parts = (self.component, self.component_instance, self.evse, self.connector, self.variable,
                 self.variable_instance, self.attribute_type)
        return "|".join("" if part is None else str(part) for part in parts)


@dataclass(slots=True)
class VariableValue:
    """What is known of one attribute; None means 'not said this time', never 'cleared'."""

    address: VariableAddress
    value: str | None = None
    mutability: str | None = None
    persistent: bool | None = None
    constant: bool | None = None
    data_type: str | None = None
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: str | None = None
    supports_monitoring: bool | None = None


_DESCRIBED = ("mutability", "persistent", "constant", "data_type", "unit", "min_limit", "max_limit", "values_list",
              "supports_monitoring")


class DeviceModelService:
    def __init__(self, db: Database):
        self.db = db

    async def store(self, charge_point_id: str, values: list[VariableValue], source: str) -> None:
        """Insert or update attributes. A report describes the whole attribute, so its value
        replaces the stored one even when absent (write-only); a get or set changes the value only."""
        latest = {v.address.key: v for v in values}  # a report may repeat an attribute: the last counts
        keys = list(latest)
        async with self.db.session() as s:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                rows = {row.key: row for row in await s.scalars(select(DeviceVariable).where(
                    DeviceVariable.charge_point_id == charge_point_id, DeviceVariable.key.in_(chunk)))}
                for key in chunk:
                    row = rows.get(key)
                    if row is None:
                        row = DeviceVariable(charge_point_id=charge_point_id, key=key, **_address(latest[key].address))
                        s.add(row)
                    _apply(row, latest[key], source)

    async def message_limits(self, charge_point_id: str, action: str) -> tuple[str | None, str | None]:
        """The values the station gave for ItemsPerMessage and BytesPerMessage of ``action``: how
        much one such message may hold. DeviceDataCtrlr's for GetVariables, SetVariables and
        GetReport, MonitoringCtrlr's for SetVariableMonitoring and ClearVariableMonitoring.
        One look-up by the unique index, per command: cheap beside the round trip to the station,
        and never stale, whichever process stored the values."""
        component = LIMITS_COMPONENTS.get(action, LIMITS_COMPONENT)
        keys = {VariableAddress(component, name, variable_instance=action).key: name
                for name in ("ItemsPerMessage", "BytesPerMessage")}
        async with self.db.session() as s:
            found = dict((await s.execute(select(DeviceVariable.key, DeviceVariable.value).where(
                DeviceVariable.charge_point_id == charge_point_id, DeviceVariable.key.in_(keys)))).all())
        values = {name: found.get(key) for key, name in keys.items()}
        return values["ItemsPerMessage"], values["BytesPerMessage"]

    async def find(self, charge_point_id: str, limit: int, after_id: int | None = None, *,
                   component: str | None = None, variable: str | None = None,
                   evse: int | None = None) -> list[DeviceVariable]:
        query = (select(DeviceVariable).where(DeviceVariable.charge_point_id == charge_point_id)
                 .order_by(DeviceVariable.id).limit(limit))
        if after_id is not None:
            query = query.where(DeviceVariable.id > after_id)
        for column, wanted in ((DeviceVariable.component, component), (DeviceVariable.variable, variable),
                               (DeviceVariable.evse, evse)):
            if wanted is not None:
                query = query.where(column == wanted)
        async with self.db.session() as s:
            return list(await s.scalars(query))


def _address(address: VariableAddress) -> dict:
    return {"component": address.component, "component_instance": address.component_instance,
            "evse": address.evse, "connector": address.connector, "variable": address.variable,
            "variable_instance": address.variable_instance, "attribute_type": address.attribute_type}


def _apply(row: DeviceVariable, known: VariableValue, source: str) -> None:
    if source == REPORT or known.value is not None:
        row.value = known.value
    for name in _DESCRIBED:
        value = getattr(known, name)
        if value is not None:
            setattr(row, name, value)
    row.source, row.updated_at = source, utcnow()
