"""L3/L4 match building shared by network ACLs and security groups: ethertype, protocol, prefixes, ranges."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import netaddr

from nvapps.model.security import ICMP, PORTED, protocol_number

ETH_TYPES = {"IPv4": 0x0800, "IPv6": 0x86DD}
_L4_FIELDS = {6: ("tcp_src", "tcp_dst"), 17: ("udp_src", "udp_dst"), 132: ("sctp_src", "sctp_dst")}
_ICMP_FIELDS = {"IPv4": ("icmpv4_type", "icmpv4_code"), "IPv6": ("icmpv6_type", "icmpv6_code")}
_ADDRESS_FIELDS = {"IPv4": ("ipv4_src", "ipv4_dst"), "IPv6": ("ipv6_src", "ipv6_dst")}

Range = tuple[int | None, int | None]
MatchFields = dict[str, Any]


def range_masks(low: int, high: int, bits: int = 16) -> list[int | tuple[int, int]]:
    """Values and (value, mask) pairs that together match exactly low..high (the whole space: [])."""
    full = (1 << bits) - 1
    if low <= 0 and high >= full:
        return []
    out: list[int | tuple[int, int]] = []
    while low <= high:
        size = (low & -low) if low else 1 << bits
        while size > high - low + 1:
            size >>= 1
        out.append(low if size == 1 else (low, full & ~(size - 1)))
        low += size
    return out


def address_match(address: str) -> str | tuple[str, str]:
    """An address ("10.0.0.5") or a prefix ("10.0.0.0/24") as a match value: the address, or (network, mask)."""
    net = netaddr.IPNetwork(address)
    return str(net.ip) if net.size == 1 else (str(net.network), str(net.netmask))


def prefix_match(prefix: str | None) -> str | tuple[str, str] | None:
    """A rule's prefix as a match value, None when it allows any address."""
    if prefix is None or netaddr.IPNetwork(prefix).prefixlen == 0:
        return None
    return address_match(prefix)


@dataclass(frozen=True)
class Traffic:
    """What a rule matches: ethertype, protocol, source/destination prefixes and port ranges (ICMP: the
    destination "range" is (type, code), as Neutron's port_range_min/max)."""

    ethertype: str = "IPv4"
    protocol: str | None = None
    source: str | None = None
    destination: str | None = None
    source_ports: Range = (None, None)
    destination_ports: Range = (None, None)

    def matches(self) -> list[MatchFields]:
        """The OpenFlow matches (as match() keyword sets) that together cover this traffic."""
        base: MatchFields = {"eth_type": ETH_TYPES[self.ethertype]}
        src_field, dst_field = _ADDRESS_FIELDS[self.ethertype]
        for field, prefix in ((src_field, self.source), (dst_field, self.destination)):
            value = prefix_match(prefix)
            if value is not None:
                base[field] = value
        number = protocol_number(self.protocol)
        if number == 1 and self.ethertype == "IPv6":
            number = 58                      # "icmp" in an IPv6 rule means ICMPv6, as in Neutron
        if number is None:
            return [base]
        base["ip_proto"] = number
        if number in ICMP:
            type_field, code_field = _ICMP_FIELDS["IPv4" if number == 1 else "IPv6"]
            icmp_type, icmp_code = self.destination_ports
            if icmp_type is not None:
                base[type_field] = icmp_type
                if icmp_code is not None:
                    base[code_field] = icmp_code
            return [base]
        if number not in PORTED:
            return [base]
        fields = _L4_FIELDS[number]
        choices = [_port_choices(r) for r in (self.source_ports, self.destination_ports)]
        out = []
        for src, dst in product(*choices):
            m = dict(base)
            for field, value in zip(fields, (src, dst), strict=True):
                if value is not None:
                    m[field] = value
            out.append(m)
        return out


def _port_choices(ports: Range) -> list:
    low, high = ports
    if low is None and high is None:
        return [None]
    return range_masks(low if low is not None else 0, high if high is not None else 65535) or [None]
