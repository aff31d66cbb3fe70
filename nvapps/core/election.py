"""Which controller is master of every switch, when several share an etcd store: the one holding the leader key,
which lives on its etcd lease (TTL seconds, kept alive several times a TTL). The others try to take the key every
POLL seconds, so a dead master's successor is elected within TTL + POLL. The leader key's creation revision is
the OpenFlow role generation: it only grows, so a switch refuses a deposed master that still thinks it leads.

One election for all switches, not one per switch: every switch connects to every controller, the services
compute from one shared model, and one master keeps the failure cases few (a controller that loses etcd loses
all its switches at once, and their flows stay as they are until the new master reconciles them)."""
from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable

from os_ken.lib import hub

from nvapps.store.base import StoreUnavailable
from nvapps.store.etcd import EtcdClient

LOG = logging.getLogger(__name__)

TTL = 2                 # seconds the leader key outlives its holder's last keep-alive
POLL = 0.25             # seconds between two attempts of a non-leader (and between two keep-alives / 2)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Election:
    """Run() campaigns for `key` as `name` for ever; `on_change(generation)` is called with the generation
    when this controller becomes master and with None when it stops being master."""

    def __init__(self, client: EtcdClient, key: str, name: str, on_change: Callable[[int | None], None],
                 ttl: int = TTL) -> None:
        self.client, self.key, self.name, self.ttl = client, key, name, ttl
        self.on_change = on_change
        self.generation: int | None = None       # while master: the leader key's creation revision
        self.leader_generation = 0               # the current master's, as last seen (a slave's role requests)
        self._lease = 0
        self._renewed = 0.0                      # when the lease was last known alive (monotonic)

    def run(self) -> None:
        while True:
            try:
                if self.generation is None:
                    self._campaign()
                else:
                    self._keep()
            except StoreUnavailable as exc:
                LOG.warning("election: %s", exc)
            if self.generation is not None and time.monotonic() - self._renewed > self.ttl:
                self._lost("its lease could not be renewed within its TTL")
            hub.sleep(POLL if self.generation is None else min(POLL, self.ttl / 4))

    def _campaign(self) -> None:
        """Take the leader key if nobody holds it."""
        granted = self.client.post("lease/grant", {"TTL": self.ttl})
        lease, start = int(granted["ID"]), time.monotonic()
        answer = self.client.post("kv/txn", {
            "compare": [{"key": _b64(self.key), "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
            "success": [{"request_put": {"key": _b64(self.key), "value": _b64(self.name), "lease": str(lease)}}],
            "failure": [{"request_range": {"key": _b64(self.key)}}]})
        if not answer.get("succeeded"):
            self.client.post("kv/lease/revoke", {"ID": lease})
            kvs = answer["responses"][0]["response_range"].get("kvs", [])
            self.leader_generation = int(kvs[0]["create_revision"]) if kvs else self.leader_generation
            return
        self._lease, self._renewed = lease, start
        self.generation = self.leader_generation = int(answer["header"]["revision"])
        LOG.info("elected master (generation %d)", self.generation)
        self.on_change(self.generation)

    def _keep(self) -> None:
        """Keep the lease alive; a lease that is gone is leadership lost."""
        start = time.monotonic()
        answer = self.client.post("lease/keepalive", {"ID": self._lease})
        if int(answer.get("result", {}).get("TTL", 0)) <= 0:
            self._lost("its lease expired")
        else:
            self._renewed = start

    def _lost(self, why: str) -> None:
        LOG.warning("no longer master: %s", why)
        self.generation = None
        self.on_change(None)
