"""Reproducible benchmarks of the matcher, the API and start-up (see bench/README.md)."""
