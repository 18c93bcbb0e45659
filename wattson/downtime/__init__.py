"""Downtime: periods an EVSE or charge point could not charge (entered by hand, or computed from
its status and connection history), the notices drivers see, and the availability figure (AFIR)."""
