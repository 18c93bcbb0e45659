"""Charge points, their EVSEs and connectors, status history, station events, commands and reservations.

The model is version-neutral: a station has EVSEs, an EVSE has connectors. OCPP 1.6's
connectorId N is EVSE N with connector 1; connectorId 0 is the station itself.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wattson.db import Base, utcnow


class ChargePoint(Base):
    __tablename__ = "charge_points"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)  # the OCPP identity
    name: Mapped[str | None] = mapped_column(String(255))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"), index=True)
    # the circuit it hangs on (loadmgmt/): its EVSEs' sessions share that circuit's limit
    circuit_id: Mapped[int | None] = mapped_column(ForeignKey("circuits.id", ondelete="SET NULL"), index=True)
    # its model in the catalogue (catalogue/): what its boot's vendor and model name match
    model_id: Mapped[int | None] = mapped_column(ForeignKey("charge_point_models.id", ondelete="SET NULL"),
                                                 index=True)
    registration_status: Mapped[str] = mapped_column(String(16), default="Accepted")
    admin_status: Mapped[str] = mapped_column(String(16), default="enabled")  # enabled|disabled|out_of_order
    security_profile: Mapped[int] = mapped_column(default=0)  # 0: none, 1: HTTP Basic auth
    password_hash: Mapped[str | None] = mapped_column(String(128))  # for security profile 1
    # Raising the security profile (security_upgrade.py): the profile the station was told to move to,
    # admitted beside the stored one until a connection meets it; the upgrade's state and why it failed.
    pending_security_profile: Mapped[int | None]
    security_upgrade: Mapped[str | None] = mapped_column(String(16))  # sending|pending|completed|failed|cancelled
    security_upgrade_reason: Mapped[str | None] = mapped_column(Text)
    security_upgrade_at: Mapped[datetime | None]
    ocpp_version: Mapped[str | None] = mapped_column(String(8))
    vendor: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(50))
    serial_number: Mapped[str | None] = mapped_column(String(50))
    firmware_version: Mapped[str | None] = mapped_column(String(50))
    boot_info: Mapped[dict | None]  # everything else the boot reported (ICCID, meter type, ...)
    booted_at: Mapped[datetime | None]
    # Hardware status of the station as a whole (1.6 connector 0); null until reported.
    hardware_status: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(50))
    status_at: Mapped[datetime | None]
    network_status: Mapped[str] = mapped_column(String(16), default="never_connected")
    node_id: Mapped[str | None] = mapped_column(String(80), index=True)  # the process holding it (cluster/)
    last_seen: Mapped[datetime | None]
    connected_at: Mapped[datetime | None]
    firmware_status: Mapped[str | None] = mapped_column(String(32))
    diagnostics_status: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    evses: Mapped[list["Evse"]] = relationship(
        back_populates="charge_point", order_by="Evse.number", cascade="all, delete-orphan"
    )


class Evse(Base):
    __tablename__ = "evses"
    __table_args__ = (UniqueConstraint("charge_point_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    number: Mapped[int]  # the OCPP EVSE id (1.6: the connectorId)
    evse_id: Mapped[str | None] = mapped_column(String(48))  # eMI3 EVSE ID, e.g. DE*AB7*E840*6487
    evse_code: Mapped[str | None] = mapped_column(String(48), unique=True)  # evse_id normalised, for look-ups
    physical_reference: Mapped[str | None] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(100))
    current_type: Mapped[str | None] = mapped_column(String(2))  # AC | DC
    max_power_w: Mapped[int | None]
    max_voltage_v: Mapped[int | None]
    max_amperage_a: Mapped[int | None]
    phases: Mapped[int | None]
    # load management (loadmgmt/): a circuit of its own instead of its charge point's, and how its
    # phases L1, L2, L3 are wired to the circuit's (OCPP PhaseRotation; null: RST)
    circuit_id: Mapped[int | None] = mapped_column(ForeignKey("circuits.id", ondelete="SET NULL"), index=True)
    phase_rotation: Mapped[str | None] = mapped_column(String(3))
    admin_status: Mapped[str] = mapped_column(String(16), default="enabled")  # enabled|disabled|out_of_order
    allows_reservation: Mapped[bool] = mapped_column(default=True)
    # where it stands within its location (zones/): a charging zone, a parking space (bay)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("charging_zones.id", ondelete="SET NULL"), index=True)
    parking_space_id: Mapped[int | None] = mapped_column(ForeignKey("parking_spaces.id", ondelete="SET NULL"),
                                                         index=True)
    # planned (not yet commissioned) | commissioned | retired: OCPI PLANNED / REMOVED (docs/ocpi.md)
    lifecycle: Mapped[str] = mapped_column(String(12), default="commissioned")
    external_id: Mapped[str | None] = mapped_column(String(100))  # the operator's own reference (seed 001)
    # the tariff group it is priced by (tariffs/groups.py; the foreign key is migration 0030's)
    tariff_group_id: Mapped[int | None] = mapped_column(ForeignKey("tariff_groups.id", ondelete="RESTRICT"),
                                                        index=True)
    mid_meter_certification_end_year: Mapped[int | None]  # when its MID meter's certification runs out
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    charge_point: Mapped[ChargePoint] = relationship(back_populates="evses")
    connectors: Mapped[list["Connector"]] = relationship(
        back_populates="evse", order_by="Connector.number", cascade="all, delete-orphan"
    )


class Connector(Base):
    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("evse_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evse_id: Mapped[int] = mapped_column(ForeignKey("evses.id", ondelete="CASCADE"))
    number: Mapped[int]
    standard: Mapped[str | None] = mapped_column(String(32))  # OCPI ConnectorType, e.g. IEC_62196_T2
    format: Mapped[str | None] = mapped_column(String(8))  # SOCKET | CABLE
    power_type: Mapped[str | None] = mapped_column(String(16))  # AC_1_PHASE | AC_3_PHASE | DC
    hardware_status: Mapped[str | None] = mapped_column(String(32))  # as last reported
    error_code: Mapped[str | None] = mapped_column(String(50))
    status_at: Mapped[datetime | None]

    evse: Mapped[Evse] = relationship(back_populates="connectors")


class StatusEvent(Base):
    """Every status a station reported, in order: the status history."""

    __tablename__ = "status_events"
    __table_args__ = (Index("ix_status_events_cp_time", "charge_point_id", "timestamp"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    evse: Mapped[int | None]  # null: the station itself
    connector: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(50))
    info: Mapped[str | None] = mapped_column(String(255))
    vendor_id: Mapped[str | None] = mapped_column(String(255))
    vendor_error_code: Mapped[str | None] = mapped_column(String(50))
    timestamp: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class StationEvent(Base):
    """Station-reported facts with no table of their own: data transfers, firmware and
    diagnostics progress, connections, unknown transactions."""

    __tablename__ = "station_events"
    __table_args__ = (Index("ix_station_events_cp_time", "charge_point_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict]
    timestamp: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Command(Base):
    """One central-system-initiated operation and its outcome: the command history."""

    __tablename__ = "commands"
    __table_args__ = (Index("ix_commands_cp_created", "charge_point_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))  # version-neutral, e.g. "remote-start"
    params: Mapped[dict]
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|completed|failed|timeout
    action: Mapped[str | None] = mapped_column(String(64))  # the OCPP action sent
    request: Mapped[dict | None]
    response: Mapped[dict | None]
    status: Mapped[str | None] = mapped_column(String(40))  # the station's answer, e.g. Accepted
    error_code: Mapped[str | None] = mapped_column(String(50))
    error_description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class Reservation(Base):
    """A reservation made with reserve-now, kept as the station answered and as it ended. ``id``
    is the OCPP reservationId, chosen by Wattson when the command is sent."""

    __tablename__ = "reservations"
    __table_args__ = (Index("ix_reservations_cp_created", "charge_point_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    evse: Mapped[int]  # 0: any EVSE of the station
    id_tag: Mapped[str] = mapped_column(String(36))
    parent_id_tag: Mapped[str | None] = mapped_column(String(36))
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # active|cancelled|used|rejected|expired|removed
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    command_id: Mapped[str | None] = mapped_column(String(36))  # the reserve-now command
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DeviceVariable(Base):
    """One attribute of one variable of the station's OCPP 2.x device model, as last reported
    (NotifyReport) or read and written by GetVariables / SetVariables.

    ``key`` spells the whole address (component, instances, EVSE, connector, variable,
    attribute) so one unique index identifies a row on every database, nulls included.
    """

    __tablename__ = "device_variables"
    __table_args__ = (Index("ix_device_variables_key", "charge_point_id", "key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    component: Mapped[str] = mapped_column(String(50))
    component_instance: Mapped[str | None] = mapped_column(String(50))
    evse: Mapped[int | None]
    connector: Mapped[int | None]
    variable: Mapped[str] = mapped_column(String(50))
    variable_instance: Mapped[str | None] = mapped_column(String(50))
    attribute_type: Mapped[str] = mapped_column(String(8), default="Actual")  # Actual|Target|MinSet|MaxSet
    value: Mapped[str | None] = mapped_column(Text)  # up to the station's ReportingValueSize
    mutability: Mapped[str | None] = mapped_column(String(10))  # ReadOnly|WriteOnly|ReadWrite
    persistent: Mapped[bool | None]
    constant: Mapped[bool | None]
    data_type: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(16))
    min_limit: Mapped[float | None]
    max_limit: Mapped[float | None]
    values_list: Mapped[str | None] = mapped_column(Text)
    supports_monitoring: Mapped[bool | None]
    source: Mapped[str] = mapped_column(String(8))  # report | get | set: how the value was learnt
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
