"""Tenant hosts on one or two switches joined by an inter-switch (trunk) link.

From the repository root:
`PYTHONPATH=$PWD mn --custom topologies/tenants.py --topo tenants,switches=2,hosts=1 --controller remote`

With one subnet (default), host `<tenant><n>` (a1, b1, a2, ...) has MAC 02:00:00:<tenant>:00:<n> and IP
10.0.0.<10+n>/24. With `subnets=S` > 1, host `<tenant><s><n>` (a11, a21, ...) is on subnet s, 10.0.<s>.0/24,
with IP 10.0.<s>.<10+n>, MAC 02:00:00:<tenant>:<s>:<n> and its default route via 10.0.<s>.1 (the tenant's
router). Every tenant uses the same addresses. Hosts go round-robin over the switches (n odd on s1, even
on s2). The trunk is each switch's first interface (s1-eth1 <-> s2-eth1).

With `placement=asymmetric` (and several subnets), each subnet's hosts go round-robin over its own share
of the switches instead: the switches are cut into one contiguous group per subnet (more subnets than
switches wrap around), so every network has switches without a port on it. Three chassis and two subnets:
subnet 1 on hv1 and hv2 (a11, a12), subnet 2 on hv3 only (a21); two switches and three subnets: subnets 1
and 3 on s1, subnet 2 on s2.

With `internet=True`, every switch also has an uplink (interface 99: s1-eth99, s2-eth99) into a plain
learning bridge `x1` (not controlled by nvapps: the physical network), where host `inet` stands for the
internet: 172.16.0.1/24 on the external network (its gateway) and 203.0.113.10 further out (and for IPv6
2001:db8:ff::1/64, 2001:db8:beef::10).

With `bgp=True` (and `internet`), every switch's interface 98 leads to host `bgp<n>` (no address: the
controller's BGP speaker of that uplink configures it, in the namespace the lab names `nvbgp-<switch>`), and
inet is an upstream router, host up2 (172.16.0.254, AS 65002, on x1) another: `--nvapps-bgp-speakers` gives
s<n>'s speaker 172.16.0.<1+n>, AS 65001, with both as peers.

With `vlans=True`, the last switch's interface 50 is a trunk into a legacy VLAN switch `l1` where host
v100 (10.0.<first subnet>.50) is on VLAN 100 and v200 (.60) on VLAN 200: what an L2 gateway bridges.
"""
from __future__ import annotations

from dataclasses import dataclass

from mininet.topo import Topo

from topologies.chassis import ChassisNode
from topologies.nodes import PhysicalBridge, TxOffHost, UserspaceSwitch, VlanBridge

TRUNK_INTERFACE = "{switch}-eth1"
UPLINK_PORT = 99
PHYSNET = "physnet1"
EXTERNAL_CIDR = "172.16.0.0/24"
INTERNET_GATEWAY = "172.16.0.1"        # inet's address on the external network
INTERNET_HOST = "203.0.113.10"         # an address beyond it (on inet's loopback)
INTERNET_MAC = "02:00:00:ff:00:01"
INTERNET_GATEWAY6 = "2001:db8:ff::1"   # inet on the external network's IPv6 subnet
INTERNET_HOST6 = "2001:db8:beef::10"   # an IPv6 address beyond it
GATEWAY_PORT = 50                      # the L2 gateway chassis's interface into the VLAN segment
LEGACY_VLANS = {"v100": 100, "v200": 200}
SPEAKER_PORT = 98                      # each chassis's interface into its BGP speaker's namespace
EDGE_AS = 65001                        # nvapps's AS
UPSTREAM_AS = 65000                    # inet's AS, as the upstream router
SECOND_UPSTREAM = "172.16.0.254"       # up2: a second upstream router (bgp=True), AS 65002
SECOND_UPSTREAM_AS = 65002
SECOND_UPSTREAM_MAC = "02:00:00:ff:00:fe"


def host_mac(tenant_index: int, n: int, subnet: int = 0) -> str:
    return f"02:00:00:{tenant_index:02x}:{subnet:02x}:{n:02x}"


def host_ip(n: int, subnet: int = 0) -> str:
    """Host n's address on `subnet` (the same in every tenant; .1 stays free for a router)."""
    return f"10.0.{subnet}.{10 + n}"


def subnet_cidr(subnet: int = 0) -> str:
    return f"10.0.{subnet}.0/24"


def subnet_switches(index: int, subnets: int, switches: int, placement: str) -> list[int]:
    """The switch numbers (from 1) the hosts of the `index`th subnet (from 0) go round-robin over."""
    if placement == "round-robin" or subnets == 1:
        return list(range(1, switches + 1))
    if placement != "asymmetric":
        raise ValueError(f"placement is round-robin or asymmetric, not {placement!r}")
    if subnets >= switches:
        return [index % switches + 1]
    bounds = [round(k * switches / subnets) for k in range(subnets + 1)]
    return list(range(bounds[index] + 1, bounds[index + 1] + 1))


def legacy_ip(host: str, subnet: int = 0) -> str:
    """The address of legacy VLAN host v100 or v200 on `subnet`: .50 and .60."""
    return f"10.0.{subnet}.{50 + 10 * list(LEGACY_VLANS).index(host)}"


def tunnel_ip(chassis_index: int) -> str:
    """The underlay (tunnel endpoint) address of overlay chassis hv<index>."""
    return f"172.30.0.{chassis_index}"


class InternetHost(TxOffHost):
    """The internet side: the external network's gateway, with an address further out on its loopback."""

    def config(self, **params):
        result = super().config(**params)
        self.cmd(f"ip addr add {INTERNET_HOST}/32 dev lo")
        self.cmd(f"ip -6 addr add {INTERNET_GATEWAY6}/64 dev {self.defaultIntf().name} nodad")
        self.cmd(f"ip -6 addr add {INTERNET_HOST6}/128 dev lo")
        return result


@dataclass(frozen=True)
class Attachment:
    """Where a host is: its tenant, subnet and number, and the switch interface it is plugged into."""

    tenant: str
    subnet: int
    n: int
    switch: str
    interface: str


class TenantsTopo(Topo):
    """`hosts` hosts per tenant, subnet and switch of the subnet's `placement`, on `switches` switches: 1 or 2 Mininet switches joined by
    the inter-switch link, or with `overlay` (the tunnel type, vxlan or geneve), any number of chassis hv1,
    hv2... (each its own OVS in its own namespace; topologies.chassis) whose underlay links meet on a
    learning bridge u0, tunnel IPs 172.30.0.<n>."""

    def build(self, switches: int = 2, hosts: int = 1, tenants: str = "ab", subnets: int = 1,
              internet: bool = False, overlay: str = "", vlans: bool = False, placement: str = "round-robin",
              bgp: bool = False) -> None:
        if switches not in (1, 2) and not overlay:
            raise ValueError("the inter-switch link joins at most two switches; the overlay joins more")
        self.attachments: dict[str, Attachment] = {}
        self.tenants = tenants
        self.subnets = [0] if subnets == 1 else list(range(1, subnets + 1))
        self.overlay = overlay
        prefix = "hv" if overlay else "s"
        next_port = {f"{prefix}{i + 1}": 2 if switches == 2 and not overlay else 1 for i in range(switches)}
        if overlay:
            underlay = self.addSwitch("u0", dpid=f"{0xfe:016x}", cls=PhysicalBridge)
            sws = [self.addHost(f"hv{i + 1}", cls=ChassisNode, tunnel_ip=tunnel_ip(i + 1), dpid=0x100 + i + 1)
                   for i in range(switches)]
            for sw in sws:
                self.addLink(sw, underlay, port1=0)
        else:
            sws = [self.addSwitch(f"s{i + 1}", dpid=f"{i + 1:016x}", cls=UserspaceSwitch) for i in range(switches)]
        self.chassis = list(sws)      # the switches nvapps drives
        if switches == 2 and not overlay:
            self.addLink(sws[0], sws[1], port1=1, port2=1)
        for t_index, tenant in enumerate(tenants):
            for s_index, sub in enumerate(self.subnets):
                group = subnet_switches(s_index, len(self.subnets), switches, placement)
                for n in range(1, hosts * len(group) + 1):
                    name = f"{tenant}{sub or ''}{n}"
                    route = {"defaultRoute": f"via 10.0.{sub}.1"} if sub else {}
                    host = self.addHost(name, cls=TxOffHost, ip=f"{host_ip(n, sub)}/24",
                                        mac=host_mac(t_index + 1, n, sub), **route)
                    switch = f"{prefix}{group[(n - 1) % len(group)]}"
                    self.addLink(host, switch, port2=next_port[switch])
                    self.attachments[host] = Attachment(tenant, sub, n, switch, f"{switch}-eth{next_port[switch]}")
                    next_port[switch] += 1
        if vlans:     # a legacy VLAN segment behind the last chassis's interface 50
            legacy = self.addSwitch("l1", dpid=f"{0xfd:016x}", cls=VlanBridge,
                                    access={f"l1-eth{i + 2}": v for i, v in enumerate(LEGACY_VLANS.values())})
            self.addLink(sws[-1], legacy, port1=GATEWAY_PORT, port2=1)
            sub = self.subnets[0]
            for i, name in enumerate(LEGACY_VLANS):
                host = self.addHost(name, cls=TxOffHost, ip=f"{legacy_ip(name, sub)}/24", mac=f"02:00:00:fd:00:{i + 1:02x}")
                self.addLink(host, legacy, port2=i + 2)
        self.internet = internet
        if internet:
            physical = self.addSwitch("x1", dpid=f"{0xff:016x}", cls=PhysicalBridge)
            inet = self.addHost("inet", cls=InternetHost, ip=f"{INTERNET_GATEWAY}/24", mac=INTERNET_MAC)
            self.addLink(inet, physical)
            for sw in sws:
                self.addLink(sw, physical, port1=UPLINK_PORT)
        self.bgp = internet and bgp
        if self.bgp:
            for i, sw in enumerate(sws):
                self.addLink(self.addHost(f"bgp{i + 1}", cls=TxOffHost, ip=None), sw, port2=SPEAKER_PORT)
            self.addLink(self.addHost("up2", cls=TxOffHost, ip=f"{SECOND_UPSTREAM}/24", mac=SECOND_UPSTREAM_MAC), physical)

    def trunks(self) -> list[str]:
        """The trunk interface names to configure (--nvapps-trunk-interfaces)."""
        return [TRUNK_INTERFACE.format(switch=sw) for sw in self.chassis] if len(self.chassis) == 2 and \
            not self.overlay else []


    def uplinks(self) -> list[str]:
        """The uplinks to configure (--nvapps-uplinks): every tenant switch's, in order."""
        return [f"{sw}:{PHYSNET}:{sw}-eth{UPLINK_PORT}" for sw in self.chassis] if self.internet else []

    def speaker_namespaces(self) -> dict[str, str]:
        """The BGP speaker hosts and the network namespace name each is given (ip netns attach)."""
        return {f"bgp{i + 1}": f"nvbgp-{sw}" for i, sw in enumerate(self.chassis)} if self.bgp else {}

    def upstream_routers(self) -> list[tuple[str, int, str, bool]]:
        """The upstream BGP routers (host, AS, address, whether it announces a default route): inet leads to
        the internet, up2 announces nothing."""
        return [("inet", UPSTREAM_AS, INTERNET_GATEWAY, True), ("up2", SECOND_UPSTREAM_AS, SECOND_UPSTREAM, False)] \
            if self.bgp else []

    def speakers(self) -> dict[str, str]:
        """Each switch's BGP speaker address on the external network (s<n>: 172.16.0.<1+n>)."""
        return {sw: f"172.16.0.{i + 2}" for i, sw in enumerate(self.chassis)} if self.bgp else {}

    def bgp_flags(self) -> list[str]:
        """The controller's BGP settings: a speaker per uplink, inet and up2 its peers."""
        if not self.bgp:
            return []
        speakers = [f"{sw}:{PHYSNET}:{sw}-eth{SPEAKER_PORT}:nvbgp-{sw}:{address}/24"
                    for sw, address in self.speakers().items()]
        peers = [f"{sw}:{PHYSNET}:{address}:{asn}" for sw in self.chassis
                 for _, asn, address, _ in self.upstream_routers()]
        return ["--nvapps-bgp-as", str(EDGE_AS), "--nvapps-bgp-speakers", ",".join(speakers),
                "--nvapps-bgp-peers", ",".join(peers)]


topos = {"tenants": TenantsTopo}
