"""The BGP speaker of one gateway uplink: a helper process the controller runs in the uplink's speaker
namespace (`ip netns exec NS python -m nvapps.bgp.speaker`), so its sessions leave from the uplink's own
address through the gateway chassis's bridge.

Its settings come as one JSON argument (local AS, the address with its prefix length, the MAC, the peers);
it reads JSON lines on stdin: {"announce": [[prefix, next_hop], ...], "withdraw": [prefix, ...]}. It writes JSON lines on
stdout: {"ready": ...} once listening, {"peer": address, "up": bool} as sessions come and go, {"route": prefix,
"next_hop": ..., "peer": ..., "withdrawn": bool} for each best path learned or lost, and every
STATUS_INTERVAL seconds {"status": [session, ...]}. It exits when stdin closes (its controller is gone).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from eventlet.hubs import trampoline
from os_ken.lib import hub

STATUS_INTERVAL = 1.0


def emit(message: dict[str, Any]) -> None:
    """One line to the controller."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def own_interface() -> str:
    """The namespace's only interface besides loopback (the speaker port's far end)."""
    names = [n for n in os.listdir("/sys/class/net") if n != "lo"]
    if len(names) != 1:
        raise SystemExit(f"nvapps.bgp.speaker: the namespace must hold exactly one interface besides lo, has {names}")
    return names[0]


def configure(interface: str, address: str, mac: str) -> None:
    """Give the interface the uplink's MAC and address (its only one) and bring it up."""
    for cmd in (["ip", "link", "set", interface, "down"], ["ip", "link", "set", interface, "address", mac],
                ["ip", "addr", "flush", "dev", interface], ["ip", "addr", "add", address, "dev", interface],
                ["ip", "link", "set", interface, "up"], ["ip", "link", "set", "lo", "up"]):
        subprocess.run(cmd, check=True)


def lines(fd: int):
    """The lines read from `fd`, without blocking other green threads; ends at end of file."""
    os.set_blocking(fd, False)
    pending = b""
    while True:
        trampoline(fd, read=True)
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            continue
        if not chunk:
            return
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if line.strip():
                yield json.loads(line)


class Speaker:
    """os-ken's BGPSpeaker with the uplink's peers, reporting sessions and learned routes."""

    def __init__(self, settings: dict[str, Any]) -> None:
        from os_ken.services.protocols.bgp.bgpspeaker import BGPSpeaker
        self.address = settings["address"].split("/")[0]
        self.up: dict[str, float] = {}          # peer -> since when its session is established
        self.learned: dict[str, int] = {}       # peer -> best paths learned from it
        self.announced: set[str] = set()
        self.bgp = BGPSpeaker(settings["local_as"], settings.get("router_id") or self.address,
                              bgp_server_hosts=(self.address,), best_path_change_handler=self._best_path,
                              peer_up_handler=self._peer_up, peer_down_handler=self._peer_down)
        self.peers = [peer["address"] for peer in settings["peers"]]
        for peer in settings["peers"]:
            self.bgp.neighbor_add(peer["address"], peer["remote_as"], local_address=self.address,
                                  password=peer.get("password") or None, enable_ipv6=False)

    def _peer_up(self, address: str, remote_as: int) -> None:
        self.up[address] = time.time()
        emit({"peer": address, "up": True})

    def _peer_down(self, address: str, remote_as: int) -> None:
        self.up.pop(address, None)
        self.learned.pop(address, None)
        emit({"peer": address, "up": False})

    def _best_path(self, event) -> None:
        peer = str(event.path.source.ip_address) if event.path.source is not None else None
        if peer is not None:
            self.learned[peer] = max(0, self.learned.get(peer, 0) + (-1 if event.is_withdraw else 1))
        emit({"route": event.prefix, "next_hop": event.nexthop, "peer": peer, "withdrawn": event.is_withdraw})

    def apply(self, order: dict[str, Any]) -> None:
        """Announce and withdraw prefixes as the controller says."""
        for prefix in order.get("withdraw", ()):
            if prefix in self.announced:
                self.bgp.prefix_del(prefix)
                self.announced.discard(prefix)
        for prefix, next_hop in order.get("announce", ()):
            self.bgp.prefix_add(prefix, next_hop)
            self.announced.add(prefix)

    def status(self) -> list[dict[str, Any]]:
        """Each peer's session: state, uptime and prefixes sent and received."""
        states = json.loads(self.bgp.neighbor_state_get())
        out = []
        for peer in self.peers:
            since = self.up.get(peer)
            out.append({"peer": peer, "state": states.get(peer, {}).get("info", {}).get("bgp_state", "Idle"),
                        "uptime": round(time.time() - since, 1) if since else 0.0,
                        "prefixes_sent": len(self.announced) if since else 0,
                        "prefixes_received": self.learned.get(peer, 0)})
        return out

    def report(self) -> None:
        while True:
            hub.sleep(STATUS_INTERVAL)
            emit({"status": self.status()})


def main() -> None:
    """Configure the interface, start the speaker, obey the controller until it goes."""
    hub.patch(thread=False)
    settings = json.loads(sys.argv[1])
    configure(own_interface(), settings["address"], settings["mac"])
    speaker = Speaker(settings)
    emit({"ready": speaker.address})
    hub.spawn(speaker.report)
    for order in lines(sys.stdin.fileno()):
        speaker.apply(order)


if __name__ == "__main__":
    main()
