"""Wattson: an open-source charge point management system (CSMS) for EV charging."""

__version__ = "0.1.0"
