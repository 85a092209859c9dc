"""Dossier's test suite; the fixtures are in conftest.py, helpers in support.py."""
