"""Locations: create, read, update, delete, list."""

from wattson.db import Database


class LocationService:
    def __init__(self, db: Database):
        self.db = db
