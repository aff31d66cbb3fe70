"""Health probes as packets: what the controller sends a member (TCP SYN, an HTTP GET over a handshake it
plays itself, an ICMP echo, a UDP datagram) and what it reads in the member's answers."""
from __future__ import annotations

import struct
from dataclasses import dataclass

from os_ken.lib.packet import ethernet, icmp, ipv4, packet, tcp, udp

PROBE_PORTS = (0xFF00, 0xFF00)      # (value, mask): the source ports probes use, 65280-65535
IPV4 = 0x0800
TCP, UDP, ICMP = 6, 17, 1


@dataclass(frozen=True)
class Path:
    """Where a probe goes: the member's MAC and address:port, from the probe's source MAC and address."""

    mac: str
    address: str
    port: int
    source_mac: str
    source: str


@dataclass(frozen=True)
class Answer:
    """What a member sent back to a probe: which probe (protocol, our port or ICMP id) and what it says."""

    proto: int
    member: str
    source: str
    probe: int                  # our source port (TCP, and UDP quoted in an ICMP error), or the echo id
    flags: int = 0              # TCP flags
    seq: int = 0
    ack: int = 0
    payload: bytes = b""
    unreachable: bool = False   # an ICMP destination unreachable (UDP-CONNECT: the port is closed)


def _frame(path: Path, proto: int, body: object, payload: bytes = b"") -> bytes:
    pkt = packet.Packet()
    pkt.add_protocol(ethernet.ethernet(dst=path.mac, src=path.source_mac, ethertype=IPV4))
    pkt.add_protocol(ipv4.ipv4(src=path.source, dst=path.address, proto=proto, ttl=64))
    pkt.add_protocol(body)
    if payload:
        pkt.add_protocol(payload)
    pkt.serialize()
    return bytes(pkt.data)


def tcp_segment(path: Path, sport: int, seq: int, flags: int, ack: int = 0, payload: bytes = b"") -> bytes:
    """A TCP segment from the probe's source port `sport` to the member's port."""
    return _frame(path, TCP, tcp.tcp(src_port=sport, dst_port=path.port, seq=seq, ack=ack, bits=flags,
                                     window_size=65535), payload)


def echo_request(path: Path, ident: int, seq: int) -> bytes:
    """An ICMP echo request with id `ident`."""
    return _frame(path, ICMP, icmp.icmp(type_=icmp.ICMP_ECHO_REQUEST, code=0, csum=0,
                                        data=icmp.echo(id_=ident, seq=seq, data=b"nvapps-health")))


def datagram(path: Path, sport: int) -> bytes:
    """A UDP datagram from `sport` (UDP-CONNECT: only an ICMP port unreachable says the member is down)."""
    return _frame(path, UDP, udp.udp(src_port=sport, dst_port=path.port), b"nvapps-health")


def http_request(path: str, host: str) -> bytes:
    """The GET a monitor sends (HTTP/1.0: the member closes after answering)."""
    return f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: nvapps-health\r\n\r\n".encode()


def http_status(payload: bytes) -> int | None:
    """The status code of an HTTP response's first bytes ("HTTP/1.1 200 OK")."""
    head = payload.split(b"\r\n", 1)[0].split()
    if len(head) >= 2 and head[0].startswith(b"HTTP/") and head[1].isdigit():
        return int(head[1])
    return None


def expected(codes: str) -> frozenset[int]:
    """The status codes of "200", "200,202" or "200-204"."""
    if "-" in codes:
        low, high = (int(c) for c in codes.split("-"))
        return frozenset(range(low, high + 1))
    return frozenset(int(c) for c in codes.split(","))


def parse(frame: bytes) -> Answer | None:
    """A member's answer to a probe: a TCP segment, an ICMP echo reply or an ICMP unreachable quoting a
    UDP probe (None for anything else)."""
    pkt = packet.Packet(frame)
    ip = pkt.get_protocol(ipv4.ipv4)
    if ip is None:
        return None
    segment = pkt.get_protocol(tcp.tcp)
    if segment is not None:
        payload = pkt.protocols[-1] if isinstance(pkt.protocols[-1], (bytes, bytearray)) else b""
        return Answer(TCP, ip.src, ip.dst, segment.dst_port, segment.bits, segment.seq, segment.ack,
                      bytes(payload))
    message = pkt.get_protocol(icmp.icmp)
    if message is None:
        return None
    if message.type == icmp.ICMP_ECHO_REPLY and isinstance(message.data, icmp.echo):
        return Answer(ICMP, ip.src, ip.dst, message.data.id)
    if message.type == icmp.ICMP_DEST_UNREACH and isinstance(message.data, icmp.dest_unreach):
        quoted = bytes(message.data.data or b"")
        if len(quoted) >= 28 and quoted[9] == UDP:
            start = (quoted[0] & 0x0F) * 4
            (sport,) = struct.unpack_from("!H", quoted, start)
            return Answer(UDP, ip.src, ip.dst, sport, unreachable=True)
    return None
