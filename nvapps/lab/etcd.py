"""An etcd cluster on loopback for tests, benches and the HA demo (Debian's etcd-server 3.4): members started in
a directory of their own, stopped and restarted one by one, stopped by PID."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from nvapps.lab.controller import free_ports

READY = 20.0        # seconds a member may take to answer /health


class EtcdCluster:
    """`size` members named m0.., each with a client and a peer port on 127.0.0.1."""

    def __init__(self, workdir: Path, size: int = 3) -> None:
        self.workdir = workdir
        self.names = [f"m{i}" for i in range(size)]
        ports = free_ports(2 * size)
        self.client_ports, self.peer_ports = ports[:size], ports[size:]
        self._procs: dict[int, subprocess.Popen] = {}
        self._started: set[int] = set()

    @property
    def endpoints(self) -> list[str]:
        """Where clients reach the members (host:port)."""
        return [f"127.0.0.1:{p}" for p in self.client_ports]

    @property
    def url(self) -> str:
        """The --nvapps-store value for this cluster."""
        return "etcd://" + ",".join(self.endpoints)

    def start(self) -> None:
        """Start every member and wait until the cluster answers."""
        for i in range(len(self.names)):
            self.start_member(i, wait=False)
        self.wait_healthy()

    def start_member(self, i: int, wait: bool = True) -> None:
        """Start member `i` (again: from its data directory, rejoining the cluster)."""
        cluster = ",".join(f"{n}=http://127.0.0.1:{p}" for n, p in zip(self.names, self.peer_ports))
        client, peer = f"http://127.0.0.1:{self.client_ports[i]}", f"http://127.0.0.1:{self.peer_ports[i]}"
        log = open(self.workdir / f"etcd-{self.names[i]}.log", "a")
        self._procs[i] = subprocess.Popen(
            ["etcd", "--name", self.names[i], "--data-dir", str(self.workdir / f"etcd-{self.names[i]}"),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", cluster, "--initial-cluster-token", f"nvapps-{self.workdir.name}",
             "--initial-cluster-state", "existing" if i in self._started else "new",
             "--heartbeat-interval", "100", "--election-timeout", "1000",
             "--max-txn-ops", "10000"],     # a write of the model may touch many objects (a cascade)
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._started.add(i)
        if wait:
            self.wait_healthy([i])

    def stop_member(self, i: int, sig: int = signal.SIGKILL) -> None:
        """Stop member `i` (by default as a crash would)."""
        proc = self._procs.pop(i, None)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait()

    def wait_healthy(self, members: list[int] | None = None, timeout: float = READY) -> None:
        """Block until each of `members` (default: all running) says it is healthy (has a leader)."""
        deadline = time.monotonic() + timeout
        for i in members if members is not None else sorted(self._procs):
            while not self._healthy(i):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"etcd member {self.names[i]} is not healthy; see {self.workdir}")
                time.sleep(0.1)

    def _healthy(self, i: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.client_ports[i]}/health", timeout=1) as r:
                return json.loads(r.read()).get("health") == "true"
        except (OSError, ValueError):
            return False

    def stop(self) -> None:
        """Stop every member this cluster started."""
        for i in list(self._procs):
            self.stop_member(i, signal.SIGTERM)
