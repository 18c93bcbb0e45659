"""The local authorisation list the CSMS keeps on the station (SendLocalList, GetLocalListVersion)."""

MAX_LENGTH = 100  # the LocalAuthListMaxLength / SendLocalListMaxLength the station reports


class LocalAuthList:
    def __init__(self):
        self.version = 0
        self.entries: dict[str, dict] = {}  # idTag -> idTagInfo

    def apply(self, version: int, update_type: str, entries: list[dict]) -> str:
        """A SendLocalList: a Full list replaces, a Differential one adds, changes and removes; its status."""
        if len(entries) > MAX_LENGTH:
            return "Failed"
        if update_type == "Full":
            updated = {}
        elif version <= self.version:
            return "VersionMismatch"
        else:
            updated = dict(self.entries)
        for entry in entries:
            if "idTagInfo" in entry:
                updated[entry["idTag"]] = entry["idTagInfo"]
            else:  # an entry without idTagInfo removes the tag
                updated.pop(entry["idTag"], None)
        if len(updated) > MAX_LENGTH:
            return "Failed"
        self.version, self.entries = version, updated
        return "Accepted"
