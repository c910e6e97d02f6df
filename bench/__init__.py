"""Benchmarks: run with `.venv/bin/python -m bench.<name>`; method and figures in docs/benchmarks.md."""
