"""The session query of seed 004: filters, sorting, page numbers and totals, and CSV export."""

from wattson.db import Database


class SessionQueryService:
    def __init__(self, db: Database):
        self.db = db
