"""FRR (Debian's frr: zebra, staticd, bgpd) as the upstream router in a Mininet host's namespace, with its own
configuration and run directory; stopped by the PIDs it wrote, its directory removed."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

DAEMONS = ("zebra", "staticd", "bgpd")
FRR_BIN = Path("/usr/lib/frr")
KEEPALIVE, HOLD_TIME = 1, 3      # seconds, with every neighbour


class Frr:
    """An eBGP router (AS `asn`) on host `host` peering with `neighbors` (address -> AS) with short timers (keepalive
    1 s, hold 3 s, connect retry 1 s), originating a default route if `default`."""

    def __init__(self, host, asn: int, router_id: str, neighbors: dict[str, int], default: bool = True) -> None:
        self.host, self.asn, self.router_id, self.neighbors, self.default = host, asn, router_id, neighbors, default
        self.rundir: Path | None = None

    def config(self) -> str:
        lines = ["frr defaults traditional", f"hostname {self.host.name}", f"log file {self.rundir}/frr.log", "!",
                 *(["ip route 0.0.0.0/0 blackhole", "!"] if self.default else []),
                 f"router bgp {self.asn}", f" bgp router-id {self.router_id}", " no bgp ebgp-requires-policy"]
        for address, asn in self.neighbors.items():
            lines += [f" neighbor {address} remote-as {asn}", f" neighbor {address} timers {KEEPALIVE} {HOLD_TIME}",
                      f" neighbor {address} timers connect 1"]
        if self.default:
            lines += [" address-family ipv4 unicast", "  network 0.0.0.0/0", " exit-address-family"]
        lines.append("!")
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        """Write the configuration and start the daemons in the host's namespace (as user frr)."""
        self.rundir = Path(tempfile.mkdtemp(prefix=f"nvfrr-{self.host.name}-"))
        (self.rundir / "frr.conf").write_text(self.config())
        shutil.chown(self.rundir, "frr", "frr")
        shutil.chown(self.rundir / "frr.conf", "frr", "frr")
        os.chmod(self.rundir, 0o755)
        for daemon in DAEMONS:
            out = self.host.cmd(f"{FRR_BIN / daemon} -d -f {self.rundir}/frr.conf -i {self.rundir}/{daemon}.pid "
                                f"-z {self.rundir}/zserv.api --vty_socket {self.rundir} -u frr -g frr 2>&1")
            if not (self.rundir / f"{daemon}.pid").exists():
                self.stop()
                raise RuntimeError(f"FRR's {daemon} did not start: {out}")

    def vtysh(self, command: str) -> str:
        return subprocess.run(["vtysh", "--vty_socket", str(self.rundir), "-c", command], capture_output=True,
                              text=True, timeout=10).stdout

    def routes(self) -> dict[str, list[str]]:
        """The BGP table: prefix -> next hops of the paths learned from peers."""
        table = json.loads(self.vtysh("show bgp ipv4 unicast json") or "{}").get("routes", {})
        return {prefix: [hop["ip"] for path in paths for hop in path.get("nexthops", []) if path.get("peerId")]
                for prefix, paths in table.items()}

    def sessions(self) -> dict[str, str]:
        """Each neighbour's session state."""
        peers = json.loads(self.vtysh("show bgp ipv4 unicast summary json") or "{}").get("peers", {})
        return {address: info.get("state", "") for address, info in peers.items()}

    def stop(self) -> None:
        """Stop the daemons by the PIDs they wrote, then remove the run directory."""
        if self.rundir is None:
            return
        for daemon in reversed(DAEMONS):
            pidfile = self.rundir / f"{daemon}.pid"
            try:
                pid = int(pidfile.read_text().strip())
                os.kill(pid, signal.SIGTERM)
            except (OSError, ValueError):
                continue
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.rundir, ignore_errors=True)
        self.rundir = None
