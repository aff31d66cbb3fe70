"""ICMP errors the router sends from the controller: time exceeded and destination unreachable, for IPv4
(ICMP) and IPv6 (ICMPv6)."""
from __future__ import annotations

import netaddr
from os_ken.lib.packet import ethernet, icmp, icmpv6, ipv4, ipv6, packet

ETH_HEADER = 14
IPV6_MIN_MTU = 1280
IPV6_HEADER, ICMP_HEADER = 40, 8
ICMPV6 = 58
TIME_EXCEEDED, UNREACHABLE = "time exceeded", "unreachable"
_V4_TYPES = {TIME_EXCEEDED: (icmp.ICMP_TIME_EXCEEDED, 0), UNREACHABLE: (icmp.ICMP_DEST_UNREACH, 0)}  # net unreachable
_V6_TYPES = {TIME_EXCEEDED: (icmpv6.ICMPV6_TIME_EXCEEDED, 0), UNREACHABLE: (icmpv6.ICMPV6_DST_UNREACH, 0)}  # no route


def ip_header(frame: bytes) -> ipv4.ipv4 | ipv6.ipv6 | None:
    """The IPv4 or IPv6 header of an Ethernet frame, if it carries one."""
    pkt = packet.Packet(frame)
    return pkt.get_protocol(ipv4.ipv4) or pkt.get_protocol(ipv6.ipv6)


def expired(header: ipv4.ipv4 | ipv6.ipv6) -> bool:
    """Whether the packet had no hop left to be routed."""
    return (header.ttl if isinstance(header, ipv4.ipv4) else header.hop_limit) <= 1


def icmp_error(original: bytes, kind: str, router_mac: str, router_ip: str) -> bytes | None:
    """The ICMP (or ICMPv6) error `kind` answering `original` (an Ethernet/IP frame), from the router, to its
    sender; None where none may be sent (RFC 1122, RFC 4443 2.4): in answer to an ICMP error, to a multicast
    destination, or from an unspecified or multicast source."""
    pkt = packet.Packet(original)
    eth = pkt.get_protocol(ethernet.ethernet)
    ip4, ip6 = pkt.get_protocol(ipv4.ipv4), pkt.get_protocol(ipv6.ipv6)
    if eth is None or (ip4 is None and ip6 is None):
        return None
    reply = packet.Packet()
    if ip4 is not None:
        if ip4.proto == 1 and _is_icmp_error(pkt):
            return None
        quoted = original[ETH_HEADER:ETH_HEADER + ip4.header_length * 4 + 8]
        body = icmp.TimeExceeded(data=quoted) if kind == TIME_EXCEEDED else icmp.dest_unreach(data=quoted)
        reply.add_protocol(ethernet.ethernet(dst=eth.src, src=router_mac, ethertype=0x0800))
        reply.add_protocol(ipv4.ipv4(src=router_ip, dst=ip4.src, proto=1, ttl=64))
        reply.add_protocol(icmp.icmp(type_=_V4_TYPES[kind][0], code=_V4_TYPES[kind][1], csum=0, data=body))
    else:
        message = pkt.get_protocol(icmpv6.icmpv6)
        source, destination = netaddr.IPAddress(ip6.src), netaddr.IPAddress(ip6.dst)
        if (message is not None and message.type_ < icmpv6.ICMPV6_ECHO_REQUEST) or destination.is_multicast() \
                or source.is_multicast() or int(source) == 0:
            return None
        quoted = original[ETH_HEADER:ETH_HEADER + IPV6_MIN_MTU - IPV6_HEADER - ICMP_HEADER]
        reply.add_protocol(ethernet.ethernet(dst=eth.src, src=router_mac, ethertype=0x86DD))
        reply.add_protocol(ipv6.ipv6(src=router_ip, dst=ip6.src, nxt=ICMPV6, hop_limit=64))
        reply.add_protocol(icmpv6.icmpv6(type_=_V6_TYPES[kind][0], code=_V6_TYPES[kind][1],
                                         data=bytes(4) + quoted))       # 4 unused bytes, then the packet
    reply.serialize()
    return bytes(reply.data)


def _is_icmp_error(pkt: packet.Packet) -> bool:
    message = pkt.get_protocol(icmp.icmp)
    return message is not None and message.type not in (icmp.ICMP_ECHO_REQUEST, icmp.ICMP_ECHO_REPLY)
