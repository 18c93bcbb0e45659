"""Drivers, driver groups, charger groups and the access rights between them."""

from wattson.db import Database


class DirectoryService:
    def __init__(self, db: Database):
        self.db = db
