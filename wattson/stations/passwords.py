"""Station passwords for OCPP security profiles 1 and 2 (HTTP Basic authentication). No I/O.

Stored as argon2id in its standard encoded form (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``).
A station password is a machine credential, 16 to 40 characters (OCPP), meant to be random, but
nothing stops an operator from choosing a guessable one, and a stolen database must not hand
those over: a memory-hard hash makes each offline guess cost ~19 MiB and tens of milliseconds.
The parameters (OWASP's first recommendation) were chosen by measuring here: docs/security.md.
Reconnects do not pay for it each time: a password already verified is remembered
(``password_check.py``).

Hashes of earlier versions, ``pbkdf2_sha256$<iterations>$<salt>$<hash>``, still verify;
``needs_rehash`` says to replace them with argon2id, which happens at the station's next
successful connection.
"""

import base64
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ARGON2 = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)  # KiB: 19 MiB
LEGACY = "pbkdf2_sha256"
MIN_LENGTH, MAX_LENGTH = 16, 40  # OCPP's rule for the Basic-auth password


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be a station password, or None when it can."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"the password must have {MIN_LENGTH} to {MAX_LENGTH} characters (OCPP), not {len(password)}"
    if not password.isprintable() or not password.isascii():
        return "the password must consist of printable ASCII characters"
    return None


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` to store (fits in 128 characters); tens of milliseconds."""
    return ARGON2.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the ``stored`` hash (argon2id, or an earlier PBKDF2 one);
    False for a missing or malformed hash."""
    if not stored:
        return False
    if stored.startswith(f"{LEGACY}$"):
        return _verify_legacy(password, stored)
    try:
        return ARGON2.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError, TypeError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash that just verified should be replaced: PBKDF2, or argon2 with other parameters."""
    if stored.startswith(f"{LEGACY}$"):
        return True
    try:
        return ARGON2.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


def _verify_legacy(password: str, stored: str) -> bool:
    try:
        _, iterations, salt, expected = stored.split("$")
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(iterations))
        return hmac.compare_digest(actual, _unb64(expected))
    except (ValueError, TypeError):
        return False


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
