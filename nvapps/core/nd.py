"""IPv6 neighbour discovery's vocabulary (RFC 4861), shared by the apps that speak or police it."""
from __future__ import annotations

import netaddr

IPV6, ICMPV6 = 0x86DD, 58
ROUTER_SOLICITATION, ROUTER_ADVERTISEMENT, SOLICITATION, ADVERTISEMENT, REDIRECT = 133, 134, 135, 136, 137
NA_ROUTER, NA_SOLICITED, NA_OVERRIDE = 1 << 31, 1 << 30, 1 << 29     # an advertisement's flags
TARGET_LINK_LAYER = 2               # the option that carries an advertisement's MAC
HOP_LIMIT = 255                     # ND messages are only taken with 255 (RFC 4861 6.1.2)
ALL_NODES, ALL_NODES_MAC = "ff02::1", "33:33:00:00:00:01"


def solicited_node(ip: str) -> tuple[str, str]:
    """The solicited-node multicast address of `ip`, and its MAC."""
    low = int(netaddr.IPAddress(ip)) & 0xFFFFFF
    group = netaddr.IPAddress((0xFF02 << 112) | (1 << 32) | (0xFF << 24) | low, 6)
    return str(group), f"33:33:ff:{low >> 16:02x}:{low >> 8 & 0xFF:02x}:{low & 0xFF:02x}"
