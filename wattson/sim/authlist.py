"""The local authorisation list the CSMS keeps on the station (SendLocalList, GetLocalListVersion)."""

MAX_LENGTH = 100  # the LocalAuthListMaxLength / SendLocalListMaxLength the station reports


class LocalAuthList:
    def __init__(self):
        self.version = 0
        self.entries: dict[str, dict] = {}  # token -> its info (1.6 idTagInfo, 2.x idTokenInfo)

    def apply(self, version: int, update_type: str, entries: list[tuple[str, dict | None]]) -> str:
        """A SendLocalList of (token, info) pairs: a Full list replaces, a Differential one adds,
        changes and removes (an entry without info removes its token); its status."""
        if len(entries) > MAX_LENGTH:
            return "Failed"
        if update_type == "Full":
            updated = {}
        elif version <= self.version:
            return "VersionMismatch"
        else:
            updated = dict(self.entries)
        for token, info in entries:
            if info is not None:
                updated[token] = info
            else:
                updated.pop(token, None)
        if len(updated) > MAX_LENGTH:
            return "Failed"
        self.version, self.entries = version, updated
        return "Accepted"
