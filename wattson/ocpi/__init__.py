"""OCPI 2.2.1, CPO side: an adapter that lets eMSPs and hubs roam on Wattson's network (docs/ocpi.md)."""
