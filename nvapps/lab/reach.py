"""Who reaches whom: every ordered pair of a tenant's hosts, by ping and TCP, while every host of the other
tenants listens for anything of it (what the demo shows and the tests assert)."""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

from nvapps.lab.net import capture, ping, tcp_reaches, wait_ping
from topologies.tenants import host_ip

MARKED_SIZE = 1111                      # ICMP payload no host sends by itself: IP total length 1139
MARKED = "icmp and ip[2:2] == 1139"
TCP_PORT = 5201
LEAK_FILTER = f"({MARKED}) or tcp port {TCP_PORT}"     # on all of a host's interfaces (it may have moved)


@dataclass(frozen=True)
class Pair:
    """One source host towards one destination host of its tenant: what came back, what leaked."""

    src: str
    dst: str
    ip: str
    routed: bool
    replies: int
    tcp: bool | None        # None: not tried
    leaked: int             # packets of the pair seen by other tenants' hosts

    @property
    def ok(self) -> bool:
        return self.replies > 0 and self.tcp is not False and self.leaked == 0

    def line(self, lab, count: int) -> str:
        where = {h: lab.topo.attachments[h].switch for h in (self.src, self.dst)}
        tcp = "" if self.tcp is None else f", TCP {'ok' if self.tcp else 'FAILED'}"
        return (f"{self.src} ({where[self.src]}) -> {self.dst} ({where[self.dst]}, {self.ip}, "
                f"{'routed' if self.routed else 'same network'}): {self.replies}/{count} replies{tcp}; "
                f"other tenants saw {self.leaked} packets")


def tenant_hosts(lab, tenant: str) -> list[str]:
    return sorted(h for h, a in lab.topo.attachments.items() if a.tenant == tenant)


def reach_matrix(lab, tenant: str, count: int = 3, tcp: bool = True) -> list[Pair]:
    """Every ordered pair of `tenant`'s hosts: `count` marked pings (after a first reply, so ARP and
    learning are done) and, with `tcp`, one TCP connection; other tenants' hosts capture meanwhile."""
    hosts, att = tenant_hosts(lab, tenant), lab.topo.attachments
    others = sorted(h for h, a in att.items() if a.tenant != tenant and h in lab.tenants[a.tenant].ports)
    pairs = []
    for src in hosts:
        for dst in hosts:
            if src == dst:
                continue
            ip = host_ip(att[dst].n, att[dst].subnet)
            try:
                wait_ping(lab.host(src), ip, timeout=10)
            except TimeoutError:
                pass            # counted below as no replies
            with ExitStack() as stack:
                caps = [stack.enter_context(capture(lab.host(h), LEAK_FILTER, intf="any")) for h in others]
                replies = ping(lab.host(src), ip, count, size=MARKED_SIZE)
                reached = tcp_reaches(lab.host(src), lab.host(dst), ip, TCP_PORT) if tcp else None
            pairs.append(Pair(src, dst, ip, att[src].subnet != att[dst].subnet, replies, reached,
                              sum(c.count for c in caps)))
    return pairs
