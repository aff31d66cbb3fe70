"""osken-manager with the nvapps apps, as a subprocess started and stopped by PID."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from nvapps.client import ApiError, Client

FLAGS_FILE = Path(__file__).resolve().parent.parent / "flags.py"

# The tokens the lab's controllers accept: an admin and a member of each demo tenant.
FLOWLESS = {"bgp"}     # apps that sync no flows of their own (no last_sync in the chassis status)
ADMIN_TOKEN = "lab-admin-token"
MEMBER_TOKENS = {"tenant-a": "lab-tenant-a-token", "tenant-b": "lab-tenant-b-token"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` distinct TCP ports on 127.0.0.1 that nothing listens on now."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Controller:
    """One osken-manager process; `restart()` keeps its ports and database."""

    def __init__(self, workdir: Path, apps: tuple[str, ...] = ("nvapps.l2.app",),
                 trunks: list[str] | tuple[str, ...] = (), uplinks: list[str] | tuple[str, ...] = (),
                 of_port: int | None = None, rest_port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.apps = apps
        self.trunks = list(trunks)
        self.uplinks = list(uplinks)
        self.of_port = of_port or free_port()
        self.rest_port = rest_port or free_port()
        self.db_path = self.workdir / "nvapps.db"
        self.tokens_path = self.workdir / "tokens.json"
        self.log_path = self.workdir / "controller.log"
        self.extra_args: list[str] = []
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.rest_port}"
        self.client = Client(self.url, ADMIN_TOKEN)

    def command(self) -> list[str]:
        manager = str(Path(sys.executable).with_name("osken-manager"))
        cmd = [manager, "--user-flags", str(FLAGS_FILE), "--ofp-tcp-listen-port", str(self.of_port),
               "--nvapps-rest-port", str(self.rest_port), "--nvapps-db-path", str(self.db_path),
               "--nvapps-auth-file", str(self.tokens_path)]
        if self.trunks:
            cmd += ["--nvapps-trunk-interfaces", ",".join(self.trunks)]
        if self.uplinks:
            cmd += ["--nvapps-uplinks", ",".join(self.uplinks)]
        return cmd + self.extra_args + list(self.apps)

    def member(self, project: str) -> Client:
        """A client acting as a member of `project` (tenant-a or tenant-b)."""
        return Client(self.url, MEMBER_TOKENS[project])

    def start(self, timeout: float = 30.0) -> None:
        tokens = [{"token": ADMIN_TOKEN, "project_id": "admin", "role": "admin"}]
        tokens += [{"token": t, "project_id": p, "role": "member"} for p, t in MEMBER_TOKENS.items()]
        self.tokens_path.write_text(json.dumps({"tokens": tokens}, indent=1))
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.workdir, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"controller exited with {self.proc.returncode}; see {self.log_path}")
            try:
                self.client.request("GET", "/")
                return
            except (OSError, ApiError):
                time.sleep(0.2)
        raise RuntimeError(f"controller REST API did not come up; see {self.log_path}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s: only this process (by PID)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """kill -9, as a crash would (this process only, by PID)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def wait_chassis(self, names: list[str], timeout: float = 30.0) -> dict[str, dict]:
        """Chassis status by name once every one of `names` is connected and each app has synced it."""
        apps = {"core"} | {app.split(".")[1] for app in self.apps} - FLOWLESS
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {c["name"]: c for c in self.client.chassis()}
            if all(n in found and apps <= set(found[n]["last_sync"]) for n in names):
                return found
            time.sleep(0.2)
        raise TimeoutError(f"chassis {names} did not connect; see {self.log_path}")

    def wait_ports(self, ids: list[str], timeout: float = 30.0) -> None:
        """Until every port of `ids` is ACTIVE: its flows are installed on its chassis by every app."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = [p["id"] for p in self.client.list("port") if p["id"] in ids and p["status"] != "ACTIVE"]
            if not pending:
                return
            time.sleep(0.2)
        raise TimeoutError(f"ports {pending} did not become ACTIVE; see {self.log_path}")


def masters(controllers: Sequence[Controller | None], chassis: str) -> list[int]:
    """The indexes of the running controllers that say they are master of switch `chassis` (one, normally)."""
    out = []
    for i, c in enumerate(controllers):
        if c is None or c.proc is None:
            continue
        try:
            status = next((s for s in c.client.chassis() if s["name"] == chassis), None)
        except OSError:
            continue
        if status and status["connected"] and status["master"]:
            out.append(i)
    return out
