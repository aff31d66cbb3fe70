"""The store interface every backend implements."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class Store(Protocol):
    """Objects as JSON-able dicts, by kind and id; writes happen inside one transaction at a time."""

    def list(self, kind: str) -> list[dict]: ...

    def transaction(self) -> AbstractContextManager["Writer"]: ...

    def close(self) -> None: ...


class Writer(Protocol):
    """Writes of one transaction: all of them are durable together, or none is."""

    def put(self, kind: str, obj_id: str, body: dict) -> None: ...

    def delete(self, kind: str, obj_id: str) -> None: ...
