"""Move a deployment's model between stores, ids and keys kept (every object as stored):

    python -m nvapps.store.migrate sqlite:///var/lib/nvapps/nvapps.db etcd://10.0.0.1:2379,10.0.0.2:2379
    python -m nvapps.store.migrate etcd://10.0.0.1:2379 sqlite:///var/lib/nvapps/back.db

Stop the controllers first; the destination must hold no objects. Objects go in creation order: into etcd one
transaction each (etcd orders the keys one transaction creates by name), into SQLite BATCH a transaction.
"""
from __future__ import annotations

import argparse
import sys

from nvapps.model.service import KINDS
from nvapps.store import parse_url
from nvapps.store.etcd import EtcdStore
from nvapps.store.sqlite import SQLiteStore

BATCH = 100


def open_store(url: str) -> SQLiteStore | EtcdStore:
    """The store a --nvapps-store URL names."""
    parsed = parse_url(url)
    if parsed is None:
        raise SystemExit(f"migrate: {url!r} is not sqlite:///PATH or etcd://HOST:PORT[,HOST:PORT...]")
    kind, where = parsed
    return SQLiteStore(where[0]) if kind == "sqlite" else EtcdStore(where)


def migrate(source: SQLiteStore | EtcdStore, destination: SQLiteStore | EtcdStore) -> dict[str, int]:
    """Copy every object of `source` into the empty `destination`; how many of each kind."""
    if any(destination.list(kind) for kind in KINDS):
        raise SystemExit("migrate: the destination already holds objects; it must be empty")
    objects = [(kind, body) for kind in KINDS for body in source.list(kind)]
    batch = 1 if isinstance(destination, EtcdStore) else BATCH     # etcd orders one transaction's keys by name
    for start in range(0, len(objects), batch):
        with destination.transaction() as tx:
            for kind, body in objects[start:start + batch]:
                tx.put(kind, body["id"], body)
    return {kind: len(source.list(kind)) for kind in KINDS if source.list(kind)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source")
    parser.add_argument("destination")
    args = parser.parse_args(argv)
    counts = migrate(open_store(args.source), open_store(args.destination))
    print(", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nothing to move")
    return 0


if __name__ == "__main__":
    sys.exit(main())
