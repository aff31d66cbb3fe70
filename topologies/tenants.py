"""Tenant hosts on one or two switches joined by an inter-switch (trunk) link.

From the repository root:
`PYTHONPATH=$PWD mn --custom topologies/tenants.py --topo tenants,switches=2,hosts=1 --controller remote`

Host `<tenant><n>` (a1, b1, a2, ...) has MAC 02:00:00:<tenant index>:00:<n> and IP 10.0.0.<10+n>/24: every
tenant uses the same addresses. Hosts go round-robin over the switches (a1 on s1, a2 on s2, a3 on s1...).
The trunk is each switch's first interface (s1-eth1 <-> s2-eth1).
"""
from __future__ import annotations

from mininet.topo import Topo

from topologies.nodes import TxOffHost, UserspaceSwitch

TRUNK_INTERFACE = "{switch}-eth1"


def host_mac(tenant_index: int, n: int) -> str:
    return f"02:00:00:{tenant_index:02x}:00:{n:02x}"


def host_ip(n: int) -> str:
    """Host n's address (the same in every tenant; .1 stays free for a router)."""
    return f"10.0.0.{10 + n}"


def host_switch(n: int, switches: int) -> str:
    return f"s{(n - 1) % switches + 1}"


class TenantsTopo(Topo):
    """`hosts` hosts per tenant per switch, on `switches` (1 or 2) switches."""

    def build(self, switches: int = 2, hosts: int = 1, tenants: str = "ab") -> None:
        if switches not in (1, 2):
            raise ValueError("the inter-switch link joins at most two switches; the overlay joins more")
        self.attachments: dict[str, tuple[str, str]] = {}   # host -> (switch, switch interface)
        self.tenants = tenants
        next_port = {f"s{i + 1}": 2 if switches == 2 else 1 for i in range(switches)}
        sws = [self.addSwitch(f"s{i + 1}", dpid=f"{i + 1:016x}", cls=UserspaceSwitch) for i in range(switches)]
        if switches == 2:
            self.addLink(sws[0], sws[1], port1=1, port2=1)
        for t_index, tenant in enumerate(tenants):
            for n in range(1, hosts * switches + 1):
                host = self.addHost(f"{tenant}{n}", cls=TxOffHost, ip=f"{host_ip(n)}/24",
                                    mac=host_mac(t_index + 1, n))
                switch = host_switch(n, switches)
                self.addLink(host, switch, port2=next_port[switch])
                self.attachments[host] = (switch, f"{switch}-eth{next_port[switch]}")
                next_port[switch] += 1

    @staticmethod
    def trunks(switches: int = 2) -> list[str]:
        """The trunk interface names to configure (--nvapps-trunk-interfaces)."""
        return [TRUNK_INTERFACE.format(switch=f"s{i + 1}") for i in range(switches)] if switches == 2 else []


topos = {"tenants": TenantsTopo}
