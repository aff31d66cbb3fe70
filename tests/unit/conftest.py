"""Fixtures every unit test module may use."""
from __future__ import annotations

import pytest

from nvapps import config


@pytest.fixture
def settings():
    """Set [nvapps] options for one test (cleared after): settings(name=value, ...)."""
    config.register()
    names = []

    def override(**values):
        for name, value in values.items():
            config.CONF.set_override(name, value, group=config.GROUP)
            names.append(name)
    yield override
    for name in names:
        config.CONF.clear_override(name, group=config.GROUP)
