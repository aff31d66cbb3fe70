"""The store interface every backend implements."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class Store(Protocol):
    """Objects as JSON-able dicts, by kind and id; writes happen inside one transaction at a time. A store
    shared by several controllers refuses a transaction begun on a stale model (StaleRead)."""

    def list(self, kind: str) -> list[dict]: ...

    def transaction(self) -> AbstractContextManager["Writer"]: ...

    def claim(self, revision: int) -> bool:
        """Whether another controller's writes at `revision` are still to be applied (a shared store's)."""
        ...

    def catch_up(self, revision: int) -> None:
        """Wait until the writes up to `revision` are applied (after a StaleRead)."""
        ...

    def close(self) -> None: ...


class Writer(Protocol):
    """Writes of one transaction: all of them are durable together, or none is."""

    def put(self, kind: str, obj_id: str, body: dict) -> None: ...

    def delete(self, kind: str, obj_id: str) -> None: ...


class StaleRead(Exception):
    """A write lost a race: another controller wrote since the revision the model reflects (nothing written)."""

    def __init__(self, revision: int) -> None:
        super().__init__(f"the store is at revision {revision}")
        self.revision = revision


class StoreUnavailable(Exception):
    """The store cannot take writes now (unreachable, or without quorum): nothing was written."""
