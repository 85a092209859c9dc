"""Dossier benchmarks (not tests): `python bench/run.py --help`."""
