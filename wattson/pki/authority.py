"""The CSMS's certificate authority: signs the certificates stations ask for (OCPP SignCertificate,
through ``signers.AuthoritySigner``), so that they can later connect on security profile 3.

Pure except for reading the CA's two files once (``from_settings``).
"""

import secrets
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wattson.errors import Invalid
from wattson.settings import Settings, require_file

MAX_DAYS = 3650
CLOCK_SKEW = timedelta(minutes=5)  # a station whose clock is a little behind accepts it at once
SIGNABLE_KEYS = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)


class CertificateAuthority:
    """A CA certificate and its private key; ValueError when they are not a usable pair."""

    def __init__(self, certificate: x509.Certificate, key):
        if not _is_ca(certificate):
            raise ValueError("the CA certificate is not a CA (it needs basicConstraints CA:TRUE)")
        if not isinstance(key.public_key(), SIGNABLE_KEYS):
            raise ValueError("the CA key must be RSA, EC, Ed25519 or Ed448")
        if certificate.public_key() != key.public_key():
            raise ValueError("the CA key does not belong to the CA certificate")
        self.certificate, self.key = certificate, key
        self._certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()

    @classmethod
    def from_settings(cls, settings: Settings) -> "CertificateAuthority | None":
        """The CA of WATTSON_CA_CERT and WATTSON_CA_KEY, or None when they are not set. ValueError
        naming the variable when they are set but unusable."""
        if settings.ca_cert is None and settings.ca_key is None:
            return None
        if settings.ca_cert is None or settings.ca_key is None:
            raise ValueError("a certificate authority needs both WATTSON_CA_CERT and WATTSON_CA_KEY")
        require_file("WATTSON_CA_CERT", settings.ca_cert)
        require_file("WATTSON_CA_KEY", settings.ca_key)
        try:
            certificate = x509.load_pem_x509_certificate(settings.ca_cert.read_bytes())
        except (OSError, ValueError) as error:
            raise ValueError(f"WATTSON_CA_CERT: no PEM certificate in {settings.ca_cert} ({error})") from None
        try:
            key = serialization.load_pem_private_key(settings.ca_key.read_bytes(), password=None)
        except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise ValueError(f"WATTSON_CA_KEY: no unencrypted PEM private key in {settings.ca_key} ({error})") from None
        try:
            return cls(certificate, key)
        except ValueError as error:
            raise ValueError(f"WATTSON_CA_CERT / WATTSON_CA_KEY: {error}") from None

    def sign(self, csr_pem: str, charge_point_id: str, days: int = 365, *, v2g: bool = False,
             now: datetime | None = None) -> str:
        """The PEM chain (the station's new certificate, then the CA's) for a station's CSR.

        Invalid when the CSR does not parse, its signature is wrong, or its subject's common name
        is not ``charge_point_id`` (OCPP: the CN of a station certificate is its identity). A
        ``v2g`` certificate (ISO 15118, the SECC's: its CN is the SECC id) keeps any common name
        and is a TLS server's, for the EV's connection.
        """
        if not 1 <= days <= MAX_DAYS:
            raise Invalid(f"a certificate is valid for 1 to {MAX_DAYS} days, not {days}")
        csr = _load_csr(csr_pem)
        names = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if not v2g and names != [charge_point_id]:
            raise Invalid(f"the CSR's subject must have the common name {charge_point_id!r} (the station's "
                          f"identity), not {', '.join(map(repr, names)) or 'none'}")
        public_key = csr.public_key()
        if not isinstance(public_key, SIGNABLE_KEYS):
            raise Invalid("the CSR's key must be RSA, EC, Ed25519 or Ed448")
        now = now or datetime.now(timezone.utc)
        if self.certificate.not_valid_after_utc <= now:
            raise Invalid("the CSMS's CA certificate (WATTSON_CA_CERT) has expired; it cannot sign")
        not_after = min(now + timedelta(days=days), self.certificate.not_valid_after_utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(public_key), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if v2g
                                                  else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, _hash_for(self.key))
        )
        return certificate.public_bytes(serialization.Encoding.PEM).decode() + self._certificate_pem


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _load_csr(csr_pem: str) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        valid = csr.is_signature_valid
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm):
        raise Invalid("the CSR is not a PEM certificate signing request") from None
    if not valid:
        raise Invalid("the CSR's signature does not verify")
    return csr


def _key_usage(public_key) -> x509.KeyUsage:
    """A TLS client key signs; an RSA one may also be used to encipher keys (RSA key exchange)."""
    return x509.KeyUsage(digital_signature=True, key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
                         content_commitment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)


def _hash_for(key):
    """Ed25519 and Ed448 sign without a separate hash."""
    return None if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)) else hashes.SHA256()
