"""The id of the meter a station measures an EVSE's energy with, where the station reports one:
OCPP 1.6's BootNotification ``meterSerialNumber``, else the 2.x device model's ``SerialNumber`` of
a metering component (OCPP 2.x has no meter id in BootNotification or TransactionEvent)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wattson.stations.models import ChargePoint, DeviceVariable

#: 2.x components whose SerialNumber names a meter, the fiscal (billing) meter first.
METER_COMPONENTS = ("FiscalMetering", "ControlMetering")


def meter_id(boot_info: dict | None, variables: list[tuple[str, int | None, str | None]], evse: int) -> str | None:
    """``variables``: (component, EVSE, value) of the station's metering SerialNumbers; the EVSE's
    own meter before the station's, fiscal before control."""
    serial = (boot_info or {}).get("meterSerialNumber")
    if serial:
        return serial
    ranked = sorted((0 if at == evse else 1, METER_COMPONENTS.index(component), value)
                    for component, at, value in variables if value and at in (None, evse)
                    and component in METER_COMPONENTS)
    return ranked[0][2] if ranked else None


async def meter_id_of(s: AsyncSession, charge_point_id: str, evse: int) -> str | None:
    """``meter_id`` from what the station reported (its boot and its device model)."""
    boot_info = await s.scalar(select(ChargePoint.boot_info).where(ChargePoint.id == charge_point_id))
    variables = (await s.execute(select(DeviceVariable.component, DeviceVariable.evse, DeviceVariable.value).where(
        DeviceVariable.charge_point_id == charge_point_id, DeviceVariable.component.in_(METER_COMPONENTS),
        DeviceVariable.variable == "SerialNumber", DeviceVariable.attribute_type == "Actual"))).all()
    return meter_id(boot_info, [tuple(v) for v in variables], evse)
