from wattson.db.base import Base, UTCDateTime, utcnow
from wattson.db.engine import Database

__all__ = ["Base", "Database", "UTCDateTime", "utcnow"]
