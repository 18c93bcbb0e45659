"""What the API shows of station certificates, and the renewal request."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wattson.stations.schemas import Out

CertificateType = Literal["ChargingStationCertificate", "V2GCertificate"]
CertificateState = Literal["requested", "rejected", "signed", "sent", "accepted_by_station", "refused_by_station",
                           "failed"]


class CertificateOut(Out):
    id: int
    charge_point_id: str
    certificate_type: str | None = Field(description="As the station named it; null: not named (2.x: both uses; "
                                                     "1.6: the charge point certificate).")
    subject: str | None = Field(description="The CSR's subject (RFC 4514); null when the CSR could not be read.")
    state: CertificateState
    reason: str | None = Field(description="Why it was rejected, failed or refused by the station.")
    serial: str | None = Field(description="The signed certificate's serial number, hex.")
    not_before: datetime | None
    not_after: datetime | None
    chain: str | None = Field(description="The PEM chain sent to the station, leaf first.")
    command_id: str | None = Field(description="The certificate-signed command that carried it.")
    renewal_triggered_at: datetime | None = Field(description="When the expiry sweep asked the station for its "
                                                              "successor.")
    created_at: datetime
    updated_at: datetime


#: what a renewal asks for: a certificate type, or 2.x's combined certificate (both uses, one CSR)
RenewalType = Literal["ChargingStationCertificate", "V2GCertificate", "Combined"]


class RenewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"certificate_type": "ChargingStationCertificate"}]})

    certificate_type: RenewalType | None = Field(
        None, description="Omitted: the station's own certificate (ChargingStationCertificate). V2GCertificate "
                          "and Combined (TriggerMessage SignCombinedCertificate: one certificate for both the "
                          "CSMS and the ISO 15118 connection) exist in 2.x only.")
