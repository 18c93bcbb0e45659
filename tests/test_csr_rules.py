"""The rules a station's CSR must meet (pki/csr.py) and the checks on a signer's answer: pure."""

from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from certs import TestCa
from wattson.pki import csr as rules
from wattson.pki.authority import CertificateAuthority

CP = "CP-RULES-1"


def request(common_name: str | None = CP, organization: str | None = "Acme Charging", key=None,
            extra_names=()) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    names = []
    if organization is not None:
        names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if common_name is not None:
        names.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    names.extend(extra_names)
    signing_hash = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    built = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names)).sign(key, signing_hash)
    return built.public_bytes(serialization.Encoding.PEM).decode()


def refusal(*args, **kwargs) -> rules.Refusal:
    found = rules.review(*args, **kwargs).refusal
    assert found is not None
    assert len(found.code) <= 20  # a 2.x statusInfo reasonCode
    return found


@pytest.mark.parametrize("key", [ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP384R1()),
                                 rsa.generate_private_key(65537, 2048)], ids=["p256", "p384", "rsa2048"])
def test_a_good_request_passes_with_its_subject(key):
    review = rules.review(request(key=key), CP)
    assert review.refusal is None
    assert review.subject == f"CN={CP},O=Acme Charging"


def test_garbage_and_a_broken_signature_are_invalid():
    assert refusal("not a CSR", CP).code == rules.INVALID_CSR
    assert rules.review("not a CSR", CP).subject is None
    good = request()
    der = bytearray(x509.load_pem_x509_csr(good.encode()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # inside the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    found = refusal(tampered, CP)
    assert (found.code, found.reason) == (rules.INVALID_CSR, "the CSR's signature does not verify")


def test_the_common_name_is_the_identity():
    found = refusal(request("CP-OTHER"), CP)
    assert found.code == rules.WRONG_COMMON_NAME and "'CP-RULES-1'" in found.reason and "'CP-OTHER'" in found.reason
    assert "none" in refusal(request(None), CP).reason
    two = request(extra_names=[x509.NameAttribute(NameOID.COMMON_NAME, "CP-TWO")])
    assert refusal(two, CP).code == rules.WRONG_COMMON_NAME


def test_a_v2g_certificate_keeps_its_secc_id_but_needs_an_organisation():
    assert rules.review(request("SECC-4711"), CP, rules.V2G).refusal is None
    assert refusal(request(None), CP, rules.V2G).code == rules.WRONG_COMMON_NAME
    assert refusal(request("SECC-4711", None), CP, rules.V2G).code == rules.WRONG_ORGANIZATION


def test_the_organisation_is_there_and_the_configured_one():
    assert refusal(request(organization=None), CP).code == rules.WRONG_ORGANIZATION
    assert refusal(request(organization=" "), CP).code == rules.WRONG_ORGANIZATION
    assert rules.review(request(), CP, organization="Acme Charging").refusal is None
    found = refusal(request(organization="Someone Else"), CP, organization="Acme Charging")
    assert found.code == rules.WRONG_ORGANIZATION and "'Acme Charging'" in found.reason


@pytest.mark.parametrize("key, says", [
    (rsa.generate_private_key(65537, 1024), "at least 2048 bits, not 1024"),
    (ec.generate_private_key(ec.SECP521R1()), "not secp521r1"),
    (ec.generate_private_key(ec.SECP256K1()), "not secp256k1"),
    (ed25519.Ed25519PrivateKey.generate(), "RSA (2048 bits or more) or EC"),
], ids=["rsa1024", "p521", "k256", "ed25519"])
def test_weak_or_other_keys_are_refused(key, says):
    found = refusal(request(key=key), CP)
    assert found.code == rules.WEAK_KEY and says in found.reason


def test_only_the_two_signable_types():
    assert refusal(request(), CP, "V2G20Certificate").code == rules.NOT_SIGNABLE


# --- a signer's answer --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    ca = TestCa(tmp_path_factory.mktemp("rules-ca"))
    return CertificateAuthority(ca.certificate, ca.key)


def test_a_signed_chain_is_read(authority):
    csr_pem = request()
    chain = authority.sign(csr_pem, CP, days=10)
    issued = rules.read_chain(chain, csr_pem)
    leaf = x509.load_pem_x509_certificates(chain.encode())[0]
    assert issued.serial == format(leaf.serial_number, "x")
    assert issued.subject == f"CN={CP},O=Acme Charging"
    now = datetime.now(timezone.utc)
    assert issued.not_before <= now < issued.not_after <= now + timedelta(days=10)


def test_a_chain_for_another_key_or_out_of_order_is_refused(authority):
    mine, other = request(), request()
    with pytest.raises(ValueError, match="does not hold the key"):
        rules.read_chain(authority.sign(other, CP), mine)
    leaf, ca = x509.load_pem_x509_certificates(authority.sign(mine, CP).encode())
    swapped = leaf.public_bytes(serialization.Encoding.PEM) * 2  # the leaf does not issue itself
    with pytest.raises(ValueError, match="out of order"):
        rules.read_chain(swapped.decode(), mine)
    with pytest.raises(ValueError, match="not a chain of PEM"):
        rules.read_chain("nothing here", mine)
    with pytest.raises(ValueError, match="at most 10000"):
        rules.read_chain("x" * 10001, mine)


def test_the_authority_signs_v2g_with_any_common_name(authority):
    csr_pem = request("SECC-4711")
    with pytest.raises(Exception, match="common name"):
        authority.sign(csr_pem, CP)
    leaf = x509.load_pem_x509_certificates(authority.sign(csr_pem, CP, v2g=True).encode())[0]
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "SECC-4711"
