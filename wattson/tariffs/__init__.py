"""Tariffs (the OCPI 2.2.1 tariff model), their assignment, and the pricing engine."""
