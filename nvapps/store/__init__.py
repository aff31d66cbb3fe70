"""Where tenant objects live: one interface (Store); SQLite by default, etcd for several controllers."""
from __future__ import annotations

from nvapps.store.base import Store
from nvapps.store.sqlite import SQLiteStore

__all__ = ["Store", "SQLiteStore", "parse_url"]


def parse_url(url: str) -> tuple[str, list[str]] | None:
    """("sqlite", [path]) or ("etcd", [host:port, ...]) for a store URL, None if it is neither."""
    scheme, sep, rest = url.partition("://")
    if scheme == "sqlite" and sep and rest:
        return "sqlite", [rest]
    endpoints = [e.strip() for e in rest.split(",") if e.strip()]
    if scheme == "etcd" and sep and endpoints and all(e.rpartition(":")[2].isdigit() for e in endpoints):
        return "etcd", endpoints
    return None
