"""The charge point identity: the last segment of a station's OCPP URL. No I/O.

Printable ASCII without space or "/", 1 to 48 characters (OCPP 2.x's limit). Spelled as
explicit character ranges so that Python, the API's JSON Schema and any client agree on it.
"""

import re

MAX_LENGTH = 48
PATTERN = r"^[!-.0-~]{1,48}$"  # 0x21-0x7E except "/" (0x2F)
_VALID = re.compile(PATTERN)


def identity_problem(identity: str) -> str | None:
    """Why ``identity`` cannot be a charge point's identity, or None."""
    if not 0 < len(identity) <= MAX_LENGTH:
        return f"charge point identity must be 1 to {MAX_LENGTH} characters"
    if not _VALID.match(identity):
        return "charge point identity must be printable ASCII without spaces or '/'"
    return None
