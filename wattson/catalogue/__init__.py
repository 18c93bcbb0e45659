"""The hardware catalogue: vendors, charge point models with their capabilities, and the vendors'
error codes, which decode what stations report (docs/operations.md, "Vendors, models and error codes")."""
