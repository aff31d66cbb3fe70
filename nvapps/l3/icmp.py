"""ICMP errors the router sends from the controller: time exceeded and destination unreachable."""
from __future__ import annotations

from os_ken.lib.packet import ethernet, icmp, ipv4, packet

TIME_EXCEEDED = (icmp.ICMP_TIME_EXCEEDED, 0)
NET_UNREACHABLE = (icmp.ICMP_DEST_UNREACH, 0)       # code 0: network unreachable


def ipv4_header(frame: bytes) -> ipv4.ipv4 | None:
    """The IPv4 header of an Ethernet frame, if it carries one."""
    return packet.Packet(frame).get_protocol(ipv4.ipv4)


def icmp_error(original: bytes, kind: tuple[int, int], router_mac: str, router_ip: str) -> bytes | None:
    """The ICMP error answering `original` (an Ethernet/IPv4 frame), from the router, to its sender."""
    pkt = packet.Packet(original)
    eth, ip = pkt.get_protocol(ethernet.ethernet), pkt.get_protocol(ipv4.ipv4)
    if eth is None or ip is None or (ip.proto == 1 and _is_icmp_error(pkt)):
        return None                       # never answer an ICMP error with one (RFC 1122)
    ip_start = 14
    quoted = original[ip_start:ip_start + ip.header_length * 4 + 8]
    body = icmp.TimeExceeded(data=quoted) if kind == TIME_EXCEEDED else icmp.dest_unreach(data=quoted)
    reply = packet.Packet()
    reply.add_protocol(ethernet.ethernet(dst=eth.src, src=router_mac, ethertype=0x0800))
    reply.add_protocol(ipv4.ipv4(src=router_ip, dst=ip.src, proto=1, ttl=64))
    reply.add_protocol(icmp.icmp(type_=kind[0], code=kind[1], csum=0, data=body))
    reply.serialize()
    return bytes(reply.data)


def _is_icmp_error(pkt: packet.Packet) -> bool:
    message = pkt.get_protocol(icmp.icmp)
    return message is not None and message.type not in (icmp.ICMP_ECHO_REQUEST, icmp.ICMP_ECHO_REPLY)
