"""SQLite store: one table of JSON bodies, WAL and synchronous=FULL so an acknowledged write survives kill -9."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from typing import Iterator

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
)
"""


class SQLiteStore:
    """Store backed by one SQLite file (":memory:" for tests)."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        self._lock = threading.RLock()

    def list(self, kind: str) -> list[dict]:
        rows = self._db.execute("SELECT body FROM objects WHERE kind=? ORDER BY rowid", (kind,))
        return [json.loads(r[0]) for r in rows]

    @contextmanager
    def transaction(self) -> Iterator["_Writer"]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield _Writer(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def claim(self, revision: int) -> bool:
        """Nobody else writes here: there is nothing to apply."""
        return False

    def catch_up(self, revision: int) -> None:
        """Nobody else writes here: never behind."""

    def close(self) -> None:
        self._db.close()


class _Writer:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def put(self, kind: str, obj_id: str, body: dict) -> None:
        self._db.execute("INSERT INTO objects (kind, id, body) VALUES (?, ?, ?) "
                         "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                         (kind, obj_id, json.dumps(body, sort_keys=True)))

    def delete(self, kind: str, obj_id: str) -> None:
        self._db.execute("DELETE FROM objects WHERE kind=? AND id=?", (kind, obj_id))
