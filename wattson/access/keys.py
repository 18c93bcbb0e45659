"""API key format and hashing. Keys are random, so a fast hash is safe: no salt or KDF needed."""

import hashlib
import secrets

ROLES = ("admin", "operator", "viewer")
PREFIX = "wsk_"


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(PREFIX) + 6]
