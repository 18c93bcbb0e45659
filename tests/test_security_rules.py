"""Security rules without I/O: which API-key attempts are evaluated (key_guard.py), the memory of
verified station passwords (password_check.py), argon2id hashes and the PBKDF2 ones before them."""

import base64
import hashlib

from wattson.api.key_guard import KeyGuard
from wattson.stations.password_check import VerifiedPasswords
from wattson.stations.passwords import hash_password, needs_rehash, verify_password

PASSWORD = "n7Qk2vX9pL4sW8dR"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pbkdf2(password: str, iterations: int = 1000, salt: bytes = b"0123456789abcdef") -> str:
    """A hash as earlier versions stored it."""
    b64 = lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")  # noqa: E731
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${b64(salt)}${b64(derived)}"


def test_wrong_keys_are_counted_before_the_lookup_and_genuine_ones_never():
    guard = KeyGuard(free=3, clock=Clock())
    assert [guard.admit("10.0.0.1", f"guess-{n}") for n in range(3)] == [0, 0, 0]  # in flight: counted
    assert guard.admit("10.0.0.1", "guess-3") > 0  # parallel guesses gain nothing
    assert guard.admit("10.0.0.1", "the-real-key") > 0  # a key never seen genuine is not looked up either
    guard.wrong("10.0.0.1", "guess-0")
    assert guard.admit("10.0.0.2", "the-real-key") == 0  # another address is not affected
    guard.genuine("10.0.0.2", "the-real-key")
    # Once it proved genuine it is evaluated from anywhere, uncounted, however many times.
    for _ in range(100):
        assert guard.admit("10.0.0.1", "the-real-key") == 0
        guard.genuine("10.0.0.1", "the-real-key")
    assert guard.admit("10.0.0.1", "guess-4") > 0
    # Revoked: it fails, is forgotten and counts like any wrong key.
    guard.wrong("10.0.0.2", "the-real-key")
    assert guard.admit("10.0.0.9", "the-real-key") == 0
    guard.wrong("10.0.0.9", "the-real-key")


def test_genuine_keys_give_their_count_back_and_are_bounded():
    guard = KeyGuard(free=2, remembered=5, clock=Clock())
    for n in range(50):
        assert guard.admit("10.0.0.3", f"key-{n}") == 0
        guard.genuine("10.0.0.3", f"key-{n}")
    assert len(guard._genuine) == 5 and len(guard.throttle) == 0
    guard.admit("10.0.0.4", "x")
    guard.abandoned("10.0.0.4", "x")  # the lookup failed (database gone): not held against it
    assert len(guard.throttle) == 0


def test_a_verified_password_is_remembered_against_its_stored_hash():
    cache = VerifiedPasswords(remembered=2)
    assert cache.verified("CP-1", PASSWORD) is None
    cache.remember("CP-1", PASSWORD, "hash-1")
    assert cache.verified("CP-1", PASSWORD) == "hash-1"
    assert cache.verified("CP-1", PASSWORD + "x") is None and cache.verified("CP-2", PASSWORD) is None
    assert all(PASSWORD not in repr(entry) for entry in cache._entries.values())  # an HMAC, not the password
    cache.forget("CP-1")
    assert cache.verified("CP-1", PASSWORD) is None
    for n in range(5):
        cache.remember(f"CP-{n}", PASSWORD, "h")
    assert len(cache) == 2 and cache.verified("CP-4", PASSWORD) == "h"


def test_pbkdf2_hashes_of_earlier_versions_verify_and_ask_to_be_replaced():
    old = pbkdf2(PASSWORD)
    assert verify_password(PASSWORD, old) and not verify_password(PASSWORD + "x", old)
    assert needs_rehash(old)
    new = hash_password(PASSWORD)
    assert new.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and not needs_rehash(new)
    assert verify_password(PASSWORD, new) and not verify_password(PASSWORD[:-1], new)
