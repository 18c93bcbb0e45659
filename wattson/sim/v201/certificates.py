"""The station's certificates, in memory: InstallCertificate, GetInstalledCertificateIds,
DeleteCertificate and CertificateSigned.

Certificates are known by OCPP's certificateHashData (SHA-256 of the issuer's name and key, and
the serial number), read from the DER with a few lines rather than an X.509 library. The issuer's
key is taken to be the certificate's own: true of the self-signed roots InstallCertificate
installs, an approximation for the leaf CertificateSigned brings.
"""

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

MAX_CERTIFICATES = 20
PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.DOTALL)
#: what CertificateSigned installs, as GetInstalledCertificateIds names it (None: not reported there)
SIGNED_AS = {"ChargingStationCertificate": None, "V2GCertificate": "V2GCertificateChain"}


@dataclass(frozen=True)
class Certificate:
    use: str  # V2GRootCertificate, CSMSRootCertificate, ..., or ChargingStationCertificate
    hash_data: dict


class CertificateStore:
    def __init__(self):
        self._installed: list[Certificate] = []

    def __len__(self) -> int:
        return len(self._installed)

    def install(self, use: str, pem: str) -> str:
        """InstallCertificate; its status. A certificate installed again replaces itself."""
        certificates = parse_chain(pem)
        if len(certificates) != 1:
            return "Rejected"
        return self._add(Certificate(use, certificates[0]))

    def signed(self, chain: str, use: str | None) -> str:
        """CertificateSigned: the new certificate of the station (its leaf first); its status."""
        certificates = parse_chain(chain)
        if not certificates:
            return "Rejected"
        use = use or "ChargingStationCertificate"
        self._installed = [c for c in self._installed if c.use != use]  # the new one replaces the old
        return "Accepted" if self._add(Certificate(use, certificates[0])) == "Accepted" else "Rejected"

    def ids(self, uses: list[str] | None) -> list[dict]:
        """GetInstalledCertificateIds' certificateHashDataChain, of the uses asked for (all without)."""
        chain = []
        for certificate in self._installed:
            reported = SIGNED_AS.get(certificate.use, certificate.use)
            if reported is not None and (not uses or reported in uses):
                chain.append({"certificateType": reported, "certificateHashData": certificate.hash_data})
        return chain

    def delete(self, hash_data: dict) -> str:
        """DeleteCertificate; its status. The station's own certificate may not go."""
        found = next((c for c in self._installed if _same(c.hash_data, hash_data)), None)
        if found is None:
            return "NotFound"
        if found.use == "ChargingStationCertificate":
            return "Failed"
        self._installed.remove(found)
        return "Accepted"

    def _add(self, certificate: Certificate) -> str:
        kept = [c for c in self._installed if not _same(c.hash_data, certificate.hash_data)]
        if len(kept) >= MAX_CERTIFICATES:
            return "Failed"
        self._installed = kept + [certificate]
        return "Accepted"


def parse_chain(text: str) -> list[dict]:
    """The certificateHashData of each PEM certificate in ``text``; empty if any does not parse."""
    found = []
    for body in PEM.findall(text):
        try:
            found.append(hash_data(base64.b64decode("".join(body.split()), validate=True)))
        except (binascii.Error, ValueError, IndexError):
            return []
    return found


def hash_data(der: bytes) -> dict:
    """OCPP's certificateHashData of a DER certificate; ValueError or IndexError if it is none."""
    _, start, _ = _element(der, 0, 0x30)  # Certificate
    _, start, end = _element(der, start, 0x30)  # TBSCertificate
    fields = list(_elements(der, start, end))
    if fields and der[fields[0][0]] == 0xA0:  # [0] version
        fields = fields[1:]
    (_, serial_start, serial_end), _signature, (issuer_at, _, issuer_end), _validity, _subject, \
        (_, key_info_start, key_info_end) = fields[:6]
    if der[fields[0][0]] != 0x02 or der[issuer_at] != 0x30:
        raise ValueError("not an X.509 certificate")
    _algorithm, (key_at, key_start, key_end) = list(_elements(der, key_info_start, key_info_end))[:2]
    if der[key_at] != 0x03:
        raise ValueError("no subject public key")
    serial = der[serial_start:serial_end].hex().lstrip("0") or "0"
    return {"hashAlgorithm": "SHA256", "issuerNameHash": hashlib.sha256(der[issuer_at:issuer_end]).hexdigest(),
            "issuerKeyHash": hashlib.sha256(der[key_start + 1:key_end]).hexdigest(), "serialNumber": serial}


def _element(der: bytes, at: int, tag: int | None = None) -> tuple[int, int, int]:
    """(where it begins, where its content begins, where it ends) of the DER element at ``at``."""
    if tag is not None and der[at] != tag:
        raise ValueError(f"expected DER tag {tag:#x} at {at}")
    length, start = der[at + 1], at + 2
    if length & 0x80:
        size = length & 0x7F
        length, start = int.from_bytes(der[start:start + size], "big"), start + size
    if start + length > len(der):
        raise ValueError("DER element runs past the end")
    return at, start, start + length


def _elements(der: bytes, start: int, end: int):
    while start < end:
        element = _element(der, start)
        yield element
        start = element[2]


def _same(a: dict, b: dict) -> bool:
    return all(str(a.get(k, "")).lower() == str(b.get(k, "")).lower()
               for k in ("issuerNameHash", "issuerKeyHash", "serialNumber"))
