"""Pure functions: router advertisements (RFC 4861) for IPv6 subnets whose ipv6_ra_mode is set and that a
router is attached to, as Neutron's radvd sends them: the prefix (autonomous for SLAAC and DHCPv6-stateless),
the M flag for DHCPv6-stateful, the O flag for DHCPv6-stateless, the network's MTU, the router's link-local
address as source."""
from __future__ import annotations

from dataclasses import dataclass

import netaddr
from os_ken.lib.packet import ethernet, icmpv6, ipv6, packet

from nvapps.core.nd import ALL_NODES, ALL_NODES_MAC, HOP_LIMIT, ICMPV6, IPV6
from nvapps.model.ipam import link_local
from nvapps.model.network import ROUTER_INTERFACE, Port, Subnet

ROUTER_LIFETIME = 1800            # seconds (radvd's default: 3 x its max interval)
PREFIX_VALID, PREFIX_PREFERRED = 86400, 14400      # seconds (radvd's defaults)
MANAGED, OTHER = 0b10, 0b01       # RA flags M and O (os-ken shifts them into place)
ON_LINK, AUTONOMOUS = 0b100, 0b010  # prefix flags L and A


@dataclass(frozen=True)
class Advert:
    """What a router says on one network: its MAC and link-local address, each advertised prefix with its
    flags, and the network's MTU (if known)."""

    router_mac: str
    prefixes: tuple[tuple[str, str], ...]      # (cidr, ipv6_ra_mode)
    mtu: int | None = None

    @property
    def router_ip(self) -> str:
        return link_local(self.router_mac)


def router_interfaces(ports: list[Port]) -> dict[str, Port]:
    """The router interface port on each subnet that has one, by subnet id."""
    return {ip["subnet_id"]: p for p in ports if p.device_owner == ROUTER_INTERFACE for ip in p.fixed_ips or []}


def advert_for(port: Port, subnets: dict[str, Subnet], routers: dict[str, Port], mtu: int | None = None
               ) -> Advert | None:
    """What the routers (router_interfaces) on `port`'s IPv6 subnets with ipv6_ra_mode advertise to it (the
    first router interface's MAC speaks; `mtu`: its network's), or None."""
    mine = [subnets[ip["subnet_id"]] for ip in port.fixed_ips or [] if ip["subnet_id"] in subnets]
    advertised = [s for s in mine if s.ip_version == 6 and s.ipv6_ra_mode and s.id in routers]
    if not advertised:
        return None
    return Advert(routers[advertised[0].id].mac_address,
                  tuple((s.cidr, s.ipv6_ra_mode or "") for s in advertised), mtu)


class _MtuOption(icmpv6.nd_option_mtu):
    """os-ken's MTU option, with the length its base class reads (it lacks one)."""

    _MIN_LEN = icmpv6.nd_option_mtu._LEN


def router_advertisement(advert: Advert, dst_mac: str = ALL_NODES_MAC, dst_ip: str = ALL_NODES) -> bytes:
    """The RA frame from the router to `dst_mac`/`dst_ip`."""
    modes = {mode for _, mode in advert.prefixes}
    flags = (MANAGED if "dhcpv6-stateful" in modes else 0) | (OTHER if "dhcpv6-stateless" in modes else 0)
    options: list = [icmpv6.nd_option_sla(hw_src=advert.router_mac)]
    if advert.mtu:
        options.append(_MtuOption(mtu=advert.mtu))
    for cidr, mode in advert.prefixes:
        net = netaddr.IPNetwork(cidr)
        options.append(icmpv6.nd_option_pi(
            pl=net.prefixlen, res1=ON_LINK | (AUTONOMOUS if mode != "dhcpv6-stateful" else 0),
            val_l=PREFIX_VALID, pre_l=PREFIX_PREFERRED, prefix=str(net.network)))
    pkt = packet.Packet()
    pkt.add_protocol(ethernet.ethernet(dst=dst_mac, src=advert.router_mac, ethertype=IPV6))
    pkt.add_protocol(ipv6.ipv6(src=advert.router_ip, dst=dst_ip, nxt=ICMPV6, hop_limit=HOP_LIMIT))
    pkt.add_protocol(icmpv6.icmpv6(type_=icmpv6.ND_ROUTER_ADVERT, data=icmpv6.nd_router_advert(
        ch_l=64, res=flags, rou_l=ROUTER_LIFETIME, options=options)))
    pkt.serialize()
    return bytes(pkt.data)


def solicitation(data: bytes) -> tuple[str, str] | None:
    """(source MAC, source IPv6) of a router solicitation frame, if it is one."""
    pkt = packet.Packet(data)
    eth, ip6, icmp = (pkt.get_protocol(c) for c in (ethernet.ethernet, ipv6.ipv6, icmpv6.icmpv6))
    if eth is None or ip6 is None or icmp is None or icmp.type_ != icmpv6.ND_ROUTER_SOLICIT:
        return None
    return eth.src, ip6.src
