"""Test certificates made on the spot with `cryptography`: CAs, a server certificate for
127.0.0.1/localhost, station (client) certificates and CSRs. Files go to a directory the test owns."""

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Wattson tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass
class Issued:
    """A certificate and its key, as PEM files."""
    cert: Path
    key: Path


class TestCa:
    """A certificate authority that issues server and client certificates into ``directory``."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, directory: Path, name: str = "Wattson test CA"):
        self.directory, self.slug = directory, name.replace(" ", "-").lower()
        directory.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(timezone.utc)
        self.certificate = (
            x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = directory / f"{self.slug}.pem"
        self.key_path = directory / f"{self.slug}.key"
        self.cert_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self.key_path.write_bytes(_pem(self.key))

    def _issue(self, file_stem: str, common_name: str, usage, extra=(), key_type: str = "ec") -> Issued:
        key = ec.generate_private_key(ec.SECP256R1()) if key_type == "ec" else rsa.generate_private_key(65537, 2048)
        now = datetime.now(timezone.utc)
        builder = (
            x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(self.certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        for extension in extra:
            builder = builder.add_extension(extension, critical=False)
        issued = Issued(self.directory / f"{file_stem}.pem", self.directory / f"{file_stem}.key")
        issued.cert.write_bytes(builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
        issued.key.write_bytes(_pem(key))
        return issued

    def server(self, key_type: str = "ec") -> Issued:
        """For 127.0.0.1 and localhost, with a P-256 key (``key_type`` "ec") or a 2048-bit RSA one ("rsa")."""
        if key_type not in ("ec", "rsa"):
            raise ValueError(f"key_type must be 'ec' or 'rsa', not {key_type!r}")
        names = x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                             x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        stem = f"{self.slug}-server" + ("" if key_type == "ec" else f"-{key_type}")
        return self._issue(stem, "localhost", ExtendedKeyUsageOID.SERVER_AUTH, [names], key_type)

    def client(self, charge_point_id: str) -> Issued:
        """A station certificate: its identity as the subject's common name."""
        return self._issue(f"{self.slug}-client-{charge_point_id}", charge_point_id, ExtendedKeyUsageOID.CLIENT_AUTH)

    def client_context(self, client: Issued | None = None) -> ssl.SSLContext:
        """What a station uses: trusts this CA; presents ``client`` when given."""
        context = ssl.create_default_context(cafile=self.cert_path)
        if client is not None:
            context.load_cert_chain(client.cert, client.key)
        return context


def csr(common_name: str | None, key=None) -> str:
    """A PEM certificate signing request, as a station makes one (no CN when ``common_name`` is None)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Wattson tests")]
    if common_name is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes)).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode()
