"""etcd store (etcd 3.4's /v3 JSON gateway, through etcd3gw): several controllers share one model.

Objects are JSON values under `<prefix>objects/<kind>/<id>`. Every write transaction also puts `<prefix>seq`
and commits only if `seq` was last written at the revision this controller's model reflects: a write is
validated against the whole model as of that revision, so the model's rules (unique addresses, MACs and keys,
subnets in use) hold across controllers. A controller that lost the race (StaleRead) waits until its watch has
applied what the others wrote and validates again. Each controller applies the others' writes from one watch
on the prefix, in revision order, as model changes. An unreachable store, or one without quorum, answers
StoreUnavailable (503); the model keeps serving reads from its cache.
"""
from __future__ import annotations

import base64
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
from etcd3gw.client import Etcd3Client
from etcd3gw.exceptions import Etcd3Exception

from nvapps.store.base import StaleRead, StoreUnavailable

LOG = logging.getLogger(__name__)

TIMEOUT = 1.0           # seconds an etcd request may take before the next endpoint is tried
RETRY = 2.5             # seconds the endpoints are tried in turn before the store counts as unavailable
CATCH_UP = 5.0          # seconds a writer that lost a race waits for its watch to apply the winner's write
RETRY_WATCH = 0.2       # seconds between two attempts to (re)open the watch

Remote = Callable[[int, list[tuple[str, str, "dict | None"]]], None]    # (revision, [(kind, id, body or None)])


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _text(b64: str) -> str:
    return base64.b64decode(b64).decode()


class EtcdClient:
    """etcd's /v3 gateway at one of several endpoints (host:port), the next one tried when one fails."""

    def __init__(self, endpoints: list[str], timeout: float = TIMEOUT) -> None:
        self.endpoints = endpoints
        self.timeout = timeout
        self._clients = [Etcd3Client(*_host_port(e), timeout=timeout, api_path="/v3/") for e in endpoints]
        self._current = 0

    def post(self, path: str, body: dict) -> dict:
        """POST `body` to /v3/`path` on the first endpoint that answers, the endpoints tried in turn for up to
        RETRY seconds (a member down, a leader being elected); StoreUnavailable if none answers."""
        errors: dict[str, str] = {}
        deadline = time.monotonic() + RETRY
        for attempt in itertools.count():
            index = (self._current + attempt) % len(self._clients)
            try:
                answer = self._clients[index].post(self._clients[index].get_url(path), json=body)
                self._current = index
                return answer
            except (Etcd3Exception, requests.RequestException, ValueError) as exc:
                errors[self.endpoints[index]] = f"{type(exc).__name__} {exc}".strip()
            if time.monotonic() > deadline:
                break
            if index == (self._current - 1) % len(self._clients):
                time.sleep(0.1)         # every endpoint failed once: give the cluster a moment
        raise StoreUnavailable("the etcd cluster did not answer (" + "; ".join(f"{e}: {m}" for e, m in errors.items())
                               + "); a write is not acknowledged (etcd may still apply it, whole, once it has a "
                               "quorum again)")

    def stream(self, path: str, body: dict) -> Iterator[dict]:
        """The JSON objects of a streamed answer (a watch), from the current endpoint."""
        client = self._clients[self._current]
        response = client.session.post(client.get_url(path), json=body, stream=True, timeout=(self.timeout, None))
        response.raise_for_status()
        for line in response.iter_lines(chunk_size=None):    # type: ignore[call-overload]  # as data comes
            if line.strip():
                yield json.loads(line)

    def rotate(self) -> None:
        """Use the next endpoint (the current one failed)."""
        self._current = (self._current + 1) % len(self._clients)


def _host_port(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host or endpoint, int(port) if port.isdigit() else 2379


class EtcdStore:
    """The model's store in etcd: a snapshot at start, optimistic writes, the others' writes by watch."""

    def __init__(self, endpoints: list[str], prefix: str = "/nvapps/", client: EtcdClient | None = None) -> None:
        self.prefix = prefix
        self.client = client or EtcdClient(endpoints)
        self._objects = prefix + "objects/"
        self._seq = prefix + "seq"
        self._range = {"key": _b64(self._objects), "range_end": _b64(self._seq + "\0")}     # objects/..., seq
        self._kinds: dict[str, list[dict]] = {}
        self._written: set[int] = set()          # watched revisions that wrote seq, until applied
        answer = self.client.post("kv/range", self._range)
        self.applied = int(answer["header"]["revision"])      # the revision the model reflects
        self._seq_revision = 0                                   # the revision of the last write applied
        for kv in sorted(answer.get("kvs", []), key=lambda kv: int(kv["create_revision"])):
            key = _text(kv["key"])
            if key == self._seq:
                self._seq_revision = int(kv["mod_revision"])
            elif key.startswith(self._objects):
                kind, _, _ = key[len(self._objects):].partition("/")
                self._kinds.setdefault(kind, []).append(json.loads(_text(kv["value"])))
        self._stop = threading.Event()

    def list(self, kind: str) -> list[dict]:
        """`kind`'s objects in creation order, as of the snapshot taken at start (the model reads each kind
        once and keeps it up to date from then on)."""
        return self._kinds.get(kind, [])

    @contextmanager
    def transaction(self) -> Iterator["_Batch"]:
        """Writes made in the block, committed as one etcd transaction if nobody wrote since the revision
        the model reflects (else StaleRead: nothing written)."""
        batch = _Batch(self._objects)
        yield batch
        seq = {"request_put": {"key": _b64(self._seq), "value": _b64(str(time.time_ns()))}}
        answer = self.client.post("kv/txn", {
            "compare": [{"key": _b64(self._seq), "target": "MOD", "result": "EQUAL",
                         "mod_revision": str(self._seq_revision)}],
            "success": [seq, *batch.operations]})
        revision = int(answer["header"]["revision"])
        if not answer.get("succeeded"):
            raise StaleRead(revision)
        self.applied = self._seq_revision = revision

    def claim(self, revision: int) -> bool:
        """Whether the writes of `revision` are still to be applied (then they count as applied: the caller
        applies them before it lets a write of its own begin)."""
        wrote = revision in self._written
        self._written.discard(revision)
        if revision <= self.applied:
            return False
        self.applied = revision
        if wrote:
            self._seq_revision = revision
        return True

    def catch_up(self, revision: int, timeout: float = CATCH_UP) -> None:
        """Wait until the watch has applied the writes up to `revision`."""
        deadline = time.monotonic() + timeout
        while self.applied < revision:
            if time.monotonic() > deadline:
                raise StoreUnavailable(f"the model did not catch up with etcd's revision {revision} within "
                                       f"{timeout:.0f} s")
            time.sleep(0.01)

    def watch(self, on_remote: Remote) -> None:
        """Apply the writes made after the snapshot, in revision order, for as long as the store is open
        (blocks: run it in its own thread); a lost stream is opened again from the last revision applied."""
        while not self._stop.is_set():
            try:
                request = {"create_request": {**self._range, "start_revision": str(self.applied + 1)}}
                for message in self.client.stream("watch", request):
                    self._deliver(message.get("result", {}), on_remote)
                    if self._stop.is_set():
                        return
            except Exception as exc:            # a member down, a stream cut: another endpoint, same revision
                if self._stop.is_set():
                    return
                LOG.warning("etcd watch interrupted (%s); reopening from revision %d", exc, self.applied + 1)
                self.client.rotate()
                time.sleep(RETRY_WATCH)

    def _deliver(self, result: dict, on_remote: Remote) -> None:
        if result.get("compact_revision"):
            raise StoreUnavailable(f"etcd compacted the revisions this controller had not applied "
                                   f"({result['compact_revision']}); restart it")
        by_revision: dict[int, list[tuple[str, str, dict | None]]] = {}
        for event in result.get("events", []):
            kv = event["kv"]
            key = _text(kv["key"])
            revision = int(kv["mod_revision"])
            changes = by_revision.setdefault(revision, [])
            if key == self._seq:
                self._written.add(revision)
            elif key.startswith(self._objects):
                kind, _, obj_id = key[len(self._objects):].partition("/")
                body = None if event.get("type") == "DELETE" else json.loads(_text(kv["value"]))
                changes.append((kind, obj_id, body))
        for revision in sorted(by_revision):
            on_remote(revision, by_revision[revision])

    def close(self) -> None:
        self._stop.set()


class _Batch:
    """The puts and deletes of one transaction, as etcd request operations."""

    def __init__(self, objects: str) -> None:
        self._objects = objects
        self.operations: list[dict[str, Any]] = []

    def put(self, kind: str, obj_id: str, body: dict) -> None:
        self.operations.append({"request_put": {"key": _b64(f"{self._objects}{kind}/{obj_id}"),
                                                "value": _b64(json.dumps(body, sort_keys=True))}})

    def delete(self, kind: str, obj_id: str) -> None:
        self.operations.append({"request_delete_range": {"key": _b64(f"{self._objects}{kind}/{obj_id}")}})
