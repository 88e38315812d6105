"""Benchmarks: `python -m benchmarks [NAME...]` prints a table of figures with ratios to a baseline."""
