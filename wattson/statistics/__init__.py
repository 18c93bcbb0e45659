"""Consumption statistics: energy, sessions, duration, revenue, energy cost and margin per key and time bucket."""
