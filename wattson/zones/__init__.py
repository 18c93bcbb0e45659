"""Charging zones and parking spaces within locations, and the EVSEs placed in them."""
