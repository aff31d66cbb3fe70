"""Waiting for a condition in tests and demos: poll it until it holds or the time is up."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.2, what: str | None = None) -> T:
    """The first truthy result of check() within `timeout` seconds; AssertionError saying `what` (or the
    check's docstring) otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or check.__doc__ or check}")
        time.sleep(interval)
