"""The one-off token a direct payment starts its charger with: WP + 18 hex digits, 20 characters
(OCPP 1.6's idTag limit). Internal: it is never shown to a driver, on a receipt or anywhere."""

import re
import secrets

TAG_PREFIX = "WP"
_TOKEN = re.compile(r"WP[0-9A-F]{18}")


def new_token() -> str:
    return TAG_PREFIX + secrets.token_hex(9).upper()


def is_payment_token(uid: str | None) -> bool:
    return bool(uid) and _TOKEN.fullmatch(uid) is not None
