"""Vendors, charge point models, vendor error codes, and the errors 2.x stations report now."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wattson.db import Base, utcnow


class Vendor(Base):
    """A maker of stations. ``name`` is what stations report (chargePointVendor, vendorName);
    ``name_key`` the same compared as ``rules.name_key`` does, unique."""

    __tablename__ = "vendors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    name_key: Mapped[str] = mapped_column(String(50), unique=True)
    website: Mapped[str | None] = mapped_column(String(255))
    support_email: Mapped[str | None] = mapped_column(String(255))
    support_phone: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)
    discovered: Mapped[bool] = mapped_column(default=False)  # created by a station's boot, not by hand
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChargePointModel(Base):
    """A model of a vendor with its capabilities. ``connectors``: [{evse, standard, format,
    power_type, max_power_w}]; ``ocpp_versions``: ["1.6", "2.0.1", "2.1"]; ``tags``: short
    quirk labels beside the ``quirks`` text."""

    __tablename__ = "charge_point_models"
    __table_args__ = (UniqueConstraint("vendor_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    name_key: Mapped[str] = mapped_column(String(50))
    evse_count: Mapped[int | None]
    connectors: Mapped[list] = mapped_column(default=list)
    max_power_w: Mapped[int | None]
    ocpp_versions: Mapped[list] = mapped_column(default=list)
    quirks: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list] = mapped_column(default=list)
    discovered: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VendorErrorCode(Base):
    """What a vendor's error code means: for all its models (``model_id`` null) or one. ``key``
    (``rules.code_key``) spells model and code, so one unique index covers both cases."""

    __tablename__ = "vendor_error_codes"
    __table_args__ = (UniqueConstraint("vendor_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("charge_point_models.id", ondelete="CASCADE"),
                                                 index=True)
    code: Mapped[str] = mapped_column(String(50))
    key: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))  # rules.SEVERITIES
    suggested_action: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StationError(Base):
    """An error an OCPP 2.x station reports now: its newest NotifyEvent entry at one component and
    variable (``key``: ``rules.address``) had a techCode and was not cleared. 1.6 errors need no
    row: the connector shows its errorCode, the status history has the vendorErrorCode."""

    __tablename__ = "station_errors"
    __table_args__ = (Index("ix_station_errors_cp_key", "charge_point_id", "key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    evse: Mapped[int | None]
    connector: Mapped[int | None]
    component: Mapped[str | None] = mapped_column(String(50))
    variable: Mapped[str | None] = mapped_column(String(50))
    tech_code: Mapped[str] = mapped_column(String(50))
    tech_info: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime]  # the entry's timestamp, as the station gave it
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
