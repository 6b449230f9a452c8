"""Tiller's benchmarks, run side by side with the vn.py peer: `python bench/run.py` (see README.md)."""
