"""Electricity rates: what energy costs the operator, and a session's energy cost and margin."""
