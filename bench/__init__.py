"""Benchmarks: ``python -m bench <name>``. See bench/README.md."""
