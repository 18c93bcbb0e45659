"""Station passwords for OCPP security profile 1 (HTTP Basic authentication). No I/O.

The stored form is ``pbkdf2_sha256$<iterations>$<salt>$<hash>`` (salt and hash URL-safe base64).

Why a fast salted hash and not a slow password hash (bcrypt, argon2): this is a machine
credential, not a person's password. OCPP requires 16 to 40 characters and it is meant to be
random, so even a fast hash leaves an offline attacker nothing to guess: 16 random alphanumerics
are ~95 bits. The salt keeps equal passwords apart and defeats precomputed tables. A slow hash
would buy no security here, while every station reconnect (thousands at once after a network or
server outage) has to verify one; 1,000 PBKDF2 rounds cost well under a millisecond.
"""

import base64
import hashlib
import hmac
import secrets

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 1000
MIN_LENGTH, MAX_LENGTH = 16, 40  # OCPP's rule for the Basic-auth password


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be a station password, or None when it can."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"the password must have {MIN_LENGTH} to {MAX_LENGTH} characters (OCPP), not {len(password)}"
    if not password.isprintable() or not password.isascii():
        return "the password must consist of printable ASCII characters"
    return None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)


def hash_password(password: str) -> str:
    """A salted hash of ``password`` to store (fits in 128 characters)."""
    salt = secrets.token_bytes(16)
    return f"{ALGORITHM}${ITERATIONS}${_b64(salt)}${_b64(_derive(password, salt, ITERATIONS))}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the ``stored`` hash; False for a missing or malformed hash."""
    if not stored:
        return False
    try:
        algorithm, iterations, salt, expected = stored.split("$")
        if algorithm != ALGORITHM:
            return False
        actual = _derive(password, _unb64(salt), int(iterations))
        return hmac.compare_digest(actual, _unb64(expected))
    except (ValueError, TypeError):
        return False
