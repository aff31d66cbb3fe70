"""Where tenant objects live: one interface (Store), SQLite by default."""
from nvapps.store.base import Store
from nvapps.store.sqlite import SQLiteStore

__all__ = ["Store", "SQLiteStore"]
