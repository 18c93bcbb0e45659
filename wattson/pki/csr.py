"""What a station's certificate signing request must be before Wattson has it signed, and what a
signer's answer must be before it goes to the station. Pure: no I/O.

OCPP 2.0.1 A02/A03 and the 1.6 security whitepaper's A02/A03 have the CSMS check the request: the
subject's common name is the station's identity and its organisation the CPO's; the keys are those
of the security profiles (2.0.1 section A00: at least 2048-bit RSA or 256-bit ECC). A V2G
certificate (ISO 15118) is the SECC's, whose common name is the SECC id, not the identity.
"""

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

CHARGING_STATION = "ChargingStationCertificate"
V2G = "V2GCertificate"
CERTIFICATE_TYPES = (CHARGING_STATION, V2G)
MIN_RSA_BITS = 2048
CURVES = frozenset({"secp256r1", "secp384r1"})
MAX_CHAIN_CHARS = 10000  # CertificateSigned's certificateChain, in every version

# statusInfo reasonCodes (2.x: at most 20 characters, case-insensitive)
INVALID_CSR = "InvalidCSR"
WRONG_COMMON_NAME = "InvalidCommonName"
WRONG_ORGANIZATION = "InvalidOrganization"
WEAK_KEY = "UnsupportedKey"
NOT_SIGNABLE = "UnsupportedCertType"
NO_SIGNER = "NoCertificateSigner"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is not signed: a short code for the station and a sentence for people."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Review:
    """What the rules made of a CSR: its subject (RFC 4514; None when it does not parse) and the
    refusal, None when it may be signed."""

    subject: str | None
    refusal: Refusal | None = None


@dataclass(frozen=True, slots=True)
class Issued:
    """What the record keeps of a signed leaf certificate."""

    serial: str  # hex
    subject: str
    not_before: datetime
    not_after: datetime


def review(csr_pem: str, charge_point_id: str, certificate_type: str = CHARGING_STATION,
           organization: str | None = None) -> Review:
    """Whether ``csr_pem`` may be signed as ``certificate_type`` for station ``charge_point_id``;
    ``organization``: the name the subject's O must be (None: any, but one must be there)."""
    if certificate_type not in CERTIFICATE_TYPES:
        return Review(None, Refusal(NOT_SIGNABLE, f"Wattson signs {' and '.join(CERTIFICATE_TYPES)} "
                                                  f"requests, not {certificate_type}"))
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm):
        return Review(None, Refusal(INVALID_CSR, "the CSR is not a PEM certificate signing request"))
    try:
        subject = csr.subject.rfc4514_string()
    except ValueError:
        return Review(None, Refusal(INVALID_CSR, "the CSR's subject cannot be read"))
    refusal = _signature(csr) or _common_name(csr, charge_point_id, certificate_type) \
        or _organization(csr, organization) or _key(csr)
    return Review(subject, refusal)


def _signature(csr: x509.CertificateSigningRequest) -> Refusal | None:
    try:
        valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm):
        valid = False
    return None if valid else Refusal(INVALID_CSR, "the CSR's signature does not verify")


def _values(csr: x509.CertificateSigningRequest, oid) -> list[str]:
    return [str(a.value) for a in csr.subject.get_attributes_for_oid(oid)]


def _common_name(csr, charge_point_id: str, certificate_type: str) -> Refusal | None:
    names = _values(csr, NameOID.COMMON_NAME)
    if certificate_type == V2G:  # the SECC id: any one name
        if len(names) != 1 or not names[0].strip():
            return Refusal(WRONG_COMMON_NAME, "a V2G certificate's subject needs one common name (the SECC id)")
        return None
    if names != [charge_point_id]:
        shown = ", ".join(map(repr, names)) or "none"
        return Refusal(WRONG_COMMON_NAME, f"the subject's common name must be {charge_point_id!r} (the station's "
                                          f"identity), not {shown}")
    return None


def _organization(csr, required: str | None) -> Refusal | None:
    names = _values(csr, NameOID.ORGANIZATION_NAME)
    if len(names) != 1 or not names[0].strip():
        return Refusal(WRONG_ORGANIZATION, "the subject needs one organisation name (O), the operator's")
    if required is not None and names[0] != required:
        return Refusal(WRONG_ORGANIZATION, f"the subject's organisation must be {required!r}, not {names[0]!r}")
    return None


def _key(csr) -> Refusal | None:
    try:
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return Refusal(WEAK_KEY, "the CSR's public key cannot be read")
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            return Refusal(WEAK_KEY, f"an RSA key needs at least {MIN_RSA_BITS} bits, not {key.key_size}")
        return None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in CURVES:
            return Refusal(WEAK_KEY, f"an EC key must be on {' or '.join(sorted(CURVES))}, not {key.curve.name}")
        return None
    return Refusal(WEAK_KEY, f"the key must be RSA ({MIN_RSA_BITS} bits or more) or EC on "
                             f"{' or '.join(sorted(CURVES))}, not {type(key).__name__.removeprefix('_')}")


def read_chain(chain_pem: str, csr_pem: str) -> Issued:
    """The leaf of a signer's answer, checked: PEM certificates, leaf first, each issued by the
    next, the leaf holding the CSR's key, small enough for CertificateSigned. ValueError saying
    what is wrong otherwise (a signer's mistake must not reach the station)."""
    if len(chain_pem) > MAX_CHAIN_CHARS:
        raise ValueError(f"the chain has {len(chain_pem)} characters; CertificateSigned carries at most "
                         f"{MAX_CHAIN_CHARS}")
    try:
        chain = x509.load_pem_x509_certificates(chain_pem.encode())
    except (ValueError, UnicodeEncodeError):
        raise ValueError("the signer's answer is not a chain of PEM certificates") from None
    leaf = chain[0]
    mine = x509.load_pem_x509_csr(csr_pem.encode()).public_key()
    if _spki(leaf.public_key()) != _spki(mine):
        raise ValueError("the signer's certificate does not hold the key of the station's CSR")
    for certificate, issuer in zip(chain, chain[1:]):
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            raise ValueError(f"the chain is out of order: {certificate.subject.rfc4514_string()!r} is not "
                             f"issued by {issuer.subject.rfc4514_string()!r}") from None
    return Issued(serial=format(leaf.serial_number, "x"), subject=leaf.subject.rfc4514_string(),
                  not_before=leaf.not_valid_before_utc, not_after=leaf.not_valid_after_utc)


def _spki(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
