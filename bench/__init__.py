"""Benchmarks of a whole Executioner cluster against the bare-execution floor (``python -m bench``,
``make bench``; docs/benchmarks.md)."""
