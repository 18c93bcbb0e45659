"""Authorize with an ISO 15118 contract certificate (OCPP 2.x C07): the certificate's status,
checked online, beside the idToken's (eMAID) own answer.

A station that validated the EV's contract certificate chain itself sends the chain's OCSP
request data (``iso15118CertificateHashData``, one entry per certificate, leaf first); one that
could not sends the certificate (``certificate``, PEM, leaf first, its sub-CAs after it), and
Wattson checks the chain against the V2G / mobility operator roots it is given
(``WATTSON_CONTRACT_ROOTS``) and makes the OCSP request data itself, the responder taken from each
certificate's Authority Information Access (C07.FR.05). Each certificate is asked about through
``ocsp.OcspResponders`` (its cache, its guard on where requests may go). An OCSP answer counts only
when signed by the certificate's issuer, or by a responder the issuer made one (id-kp-OCSPSigning),
and current: a relayed answer the station judges itself (M06), but here Wattson is the judge. The
status is ``Accepted`` only when every certificate is known good (C07.FR.04); one
revoked makes it ``CertificateRevoked`` (C07.FR.16). docs/security.md.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp as x509_ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from wattson.pki.ocsp import OcspQuery, OcspResponders

log = logging.getLogger("wattson.pki")

ACCEPTED, REVOKED, EXPIRED = "Accepted", "CertificateRevoked", "CertificateExpired"
CHAIN_ERROR, SIGNATURE_ERROR, NO_STATUS = "CertChainError", "SignatureError", "NoCertificateAvailable"
#: how far an OCSP answer's thisUpdate may lie ahead of our clock (the responder's clock may run fast)
CLOCK_SKEW = timedelta(minutes=5)
MAX_CHAIN = 5  # leaf, at most 3 sub-CAs (ISO 15118-2), and room for a cross-certificate


@dataclass(frozen=True, slots=True)
class Verdict:
    """The certificateStatus to answer and, for logs and events, why."""
    status: str
    info: str

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED


@dataclass(frozen=True, slots=True)
class Check:
    """One certificate to ask about: its query, and its issuer when Wattson has it."""
    query: OcspQuery
    issuer: x509.Certificate | None = None


# --- rules (no I/O) ------------------------------------------------------------------------------
def load_roots(path: Path | None) -> list[x509.Certificate]:
    """The trusted roots in the PEM file ``path`` (none when unset); ValueError naming the variable
    when it cannot be read or holds no certificate."""
    if path is None:
        return []
    try:
        roots = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as error:
        raise ValueError(f"WATTSON_CONTRACT_ROOTS: {path} is no readable PEM file of certificates: {error}") from None
    return roots


def parse_chain(pem: str) -> list[x509.Certificate] | Verdict:
    """The certificates of a PEM ``certificate`` field, leaf first, or why not."""
    try:
        chain = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as error:
        return Verdict(CHAIN_ERROR, f"certificate is no PEM certificate: {error}")
    if len(chain) > MAX_CHAIN:
        return Verdict(CHAIN_ERROR, f"certificate holds {len(chain)} certificates; at most {MAX_CHAIN} are taken")
    return chain


def verify_chain(chain: list[x509.Certificate], roots: list[x509.Certificate],
                 now: datetime) -> tuple[list[x509.Certificate], Verdict | None]:
    """The path from the leaf to a trusted root (each certificate's issuer after it, the root
    last), and None; or what is wrong: a certificate out of its validity (CertificateExpired), a
    signature that does not verify (SignatureError), no path to a root (CertChainError)."""
    for cert in chain:
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return [], Verdict(EXPIRED, f"{_subject(cert)} is valid from {cert.not_valid_before_utc:%Y-%m-%d} to "
                                        f"{cert.not_valid_after_utc:%Y-%m-%d}")
    if not roots:
        return [], Verdict(CHAIN_ERROR, "no V2G or mobility operator root is configured (WATTSON_CONTRACT_ROOTS) "
                                        "to check the certificate against")
    path, candidates = [chain[0]], chain[1:] + roots
    while not any(path[-1] == root for root in roots):
        child = path[-1]
        parents = [c for c in candidates if c.subject == child.issuer and c not in path and _is_ca(c)]
        if not parents:
            return [], Verdict(CHAIN_ERROR, f"{_subject(child)}: its issuer {child.issuer.rfc4514_string()} is "
                                            f"neither in the chain nor a configured root")
        parent = next((p for p in parents if _issued_by(child, p)), None)
        if parent is None:
            return [], Verdict(SIGNATURE_ERROR, f"{_subject(child)}: the signature does not verify with "
                                                f"{_subject(parents[0])}'s key")
        if not parent.not_valid_before_utc <= now <= parent.not_valid_after_utc:
            return [], Verdict(EXPIRED, f"{_subject(parent)} is out of its validity")
        path.append(parent)
        if len(path) > MAX_CHAIN + 1:
            return [], Verdict(CHAIN_ERROR, "the chain is longer than any contract certificate chain")
    return path, None


def checks_for(path: list[x509.Certificate]) -> list[Check] | Verdict:
    """The OCSP checks of a verified path (the root is not asked about): each certificate with its
    issuer and the responder its Authority Information Access names; the leaf must name one."""
    checks = []
    for cert, issuer in zip(path, path[1:]):
        url = ocsp_url(cert)
        if url is None:
            if cert is path[0]:
                return Verdict(NO_STATUS, f"{_subject(cert)} names no OCSP responder (Authority Information "
                                          f"Access): its status cannot be checked")
            continue  # a sub-CA without a responder: the chain's signatures vouch for it
        request = x509_ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()
        checks.append(Check(OcspQuery("SHA256", request.issuer_name_hash.hex(), request.issuer_key_hash.hex(),
                                      f"{cert.serial_number:X}", url), issuer))
    return checks


def checks_of(hash_data: list[dict]) -> list[Check]:
    """The checks the station's iso15118CertificateHashData asks for (issuers unknown to Wattson)."""
    return [Check(OcspQuery(d["hashAlgorithm"], d["issuerNameHash"], d["issuerKeyHash"], d["serialNumber"],
                            d["responderURL"])) for d in hash_data]


def ocsp_url(cert: x509.Certificate) -> str | None:
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    return next((d.access_location.value for d in access if d.access_method == AuthorityInformationAccessOID.OCSP
                 and isinstance(d.access_location, x509.UniformResourceIdentifier)), None)


def judge(der: bytes, check: Check, now: datetime) -> Verdict:
    """What one OCSP response (already matched to the certificate by ``ocsp.classify``) says, if
    it can be trusted: signed by the issuer or its delegated responder, and current."""
    response = x509_ocsp.load_der_ocsp_response(der)
    query = check.query
    signer = _signer(response, check)
    if signer is None:
        return Verdict(NO_STATUS, f"the OCSP answer from {query.responder_url} is signed by no certificate "
                                  f"known to be the issuer's or its responder's")
    if not _signed(signer.public_key(), response.signature, response.tbs_response_bytes,
                   response.signature_hash_algorithm):
        return Verdict(NO_STATUS, f"the OCSP answer from {query.responder_url} has a signature that does not verify")
    single = next(s for s in response.responses if s.serial_number == int(query.serial_number, 16))
    if single.this_update_utc > now + CLOCK_SKEW or (single.next_update_utc is not None
                                                     and single.next_update_utc < now):
        return Verdict(NO_STATUS, f"the OCSP answer from {query.responder_url} is not current")
    serial = query.serial_number.upper()
    if single.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED:
        return Verdict(REVOKED, f"certificate {serial} was revoked at {single.revocation_time_utc:%Y-%m-%dT%H:%M:%SZ}")
    if single.certificate_status == x509_ocsp.OCSPCertStatus.UNKNOWN:
        return Verdict(CHAIN_ERROR, f"the OCSP responder does not know certificate {serial}")
    return Verdict(ACCEPTED, f"certificate {serial} is good")


def combine(verdicts: list[Verdict]) -> Verdict:
    """All good: Accepted; else the first revocation, else the first other problem."""
    return (next((v for v in verdicts if v.status == REVOKED), None)
            or next((v for v in verdicts if not v.accepted), None)
            or Verdict(ACCEPTED, f"{len(verdicts)} certificate(s) good"))


def _signer(response, check: Check) -> x509.Certificate | None:
    """The certificate that signed ``response``, if it may: the issuer (given, or an included
    certificate whose key hashes to the issuerKeyHash asked with), or a certificate the issuer
    made an OCSP responder (included; only when the issuer is known, to verify it was made so)."""
    by_key, by_name = response.responder_key_hash, response.responder_name
    candidates = [c for c in [*(response.certificates or ()), *([check.issuer] if check.issuer else [])]
                  if (by_key is not None and _key_hash(c, hashes.SHA1()) == by_key)
                  or (by_name is not None and c.subject == by_name)]
    algorithm = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}.get(
        check.query.hash_algorithm.upper())
    for cert in candidates:
        if check.issuer is not None and cert == check.issuer:
            return cert
        if algorithm is not None and _key_hash(cert, algorithm()).hex() == check.query.issuer_key_hash.lower():
            return cert  # the issuer's own key (hash preimage): the issuer signed
        if check.issuer is not None and _issued_by(cert, check.issuer) and _ocsp_signing(cert):
            return cert
    return None


def _key_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    """The hash of the certificate's public key (RFC 6960's issuerKeyHash, and byKey responder ids)."""
    return x509_ocsp.OCSPRequestBuilder().add_certificate(cert, cert, algorithm).build().issuer_key_hash


def _signed(key, signature: bytes, data: bytes, algorithm) -> bool:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        else:
            key.verify(signature, data)  # Ed25519 / Ed448
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _ocsp_signing(cert: x509.Certificate) -> bool:
    try:
        return ExtendedKeyUsageOID.OCSP_SIGNING in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or f"certificate {cert.serial_number:X}"


# --- the service ---------------------------------------------------------------------------------
class ContractAuthorizer:
    """The certificateStatus of an Authorize with contract certificate data."""

    def __init__(self, ocsp: OcspResponders, roots: list[x509.Certificate]):
        self.ocsp, self.roots = ocsp, roots

    async def status(self, hash_data: list[dict] | None, certificate: str | None) -> Verdict:
        """The station's hash data when it sent some (it validated the chain), else the certificate
        checked here; never raises for anything a station or a responder can do."""
        now = datetime.now(timezone.utc)
        if hash_data:
            checks = checks_of(hash_data)
        else:
            chain = parse_chain(certificate)
            if isinstance(chain, Verdict):
                return chain
            path, problem = verify_chain(chain, self.roots, now)
            if problem is not None:
                return problem
            checks = checks_for(path)
            if isinstance(checks, Verdict):
                return checks
        return combine([await self._check(check, now) for check in checks])

    async def _check(self, check: Check, now: datetime) -> Verdict:
        answer = await self.ocsp.status(check.query)
        if not answer.accepted:
            return Verdict(NO_STATUS, f"no OCSP answer from {check.query.responder_url}: {answer.reason}: {answer.info}")
        try:
            return judge(answer.result, check, now)
        except ValueError as error:  # a response classify took but that cannot be read further
            return Verdict(NO_STATUS, f"the OCSP answer from {check.query.responder_url} cannot be read: {error}")

