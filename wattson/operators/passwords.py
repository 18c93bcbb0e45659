"""Operator passwords: what is acceptable, and a generated one. Hashing is argon2id, shared with
station passwords (``stations/passwords.py``)."""

import secrets

MIN_LENGTH, MAX_LENGTH = 10, 256


def problem(password: str) -> str | None:
    """Why ``password`` cannot be an operator's password, or None when it can."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"the password must have {MIN_LENGTH} to {MAX_LENGTH} characters, not {len(password)}"
    if password.strip() != password:
        return "the password must not begin or end with white space"
    return None


def generate() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)
