"""Marks everything under tests/integration as `integration` (run alone: pytest -m integration)."""
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
