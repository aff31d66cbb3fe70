"""Mininet topologies for nvapps: importable by tests, and loadable with `mn --custom topologies/X.py`."""
