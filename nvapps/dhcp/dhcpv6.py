"""Pure DHCPv6 (RFC 8415): the reply to a client's message, from the port and subnet in the model: on a
dhcpv6-stateful subnet the port's fixed IP (in the client's IA_NA), on a dhcpv6-stateless one options only;
DNS servers on both."""
from __future__ import annotations

import struct
from dataclasses import dataclass

import netaddr
from os_ken.lib.packet import ethernet, ipv6, packet, udp

from nvapps.model.ipam import link_local

SERVER_PORT, CLIENT_PORT = 547, 546
SOLICIT, ADVERTISE, REQUEST, CONFIRM, RENEW, REBIND, REPLY, RELEASE, DECLINE = range(1, 10)
INFORMATION_REQUEST = 11
OPT_CLIENTID, OPT_SERVERID, OPT_IA_NA, OPT_IAADDR, OPT_STATUS_CODE, OPT_RAPID_COMMIT = 1, 2, 3, 5, 13, 14
OPT_DNS_SERVERS = 23
SUCCESS = 0
PREFERRED, VALID = 14400, 86400              # seconds, as the router advertisements' prefixes
T1, T2 = PREFERRED // 2, PREFERRED * 4 // 5  # renew and rebind times (RFC 8415's recommended 0.5 and 0.8)
DUID_LL, ETHERNET = 3, 1
ETH_HEADER, IPV6_HEADER, UDP_HEADER = 14, 40, 8


@dataclass(frozen=True)
class Lease6:
    """What a port is told: its address (None on a stateless subnet), DNS servers, the server's MAC."""

    mac: str
    ip: str | None
    dns: tuple[str, ...]
    server_mac: str

    @property
    def server_id(self) -> bytes:
        """The server's DUID (link-layer address type)."""
        return struct.pack("!HH", DUID_LL, ETHERNET) + netaddr.EUI(self.server_mac).packed


@dataclass(frozen=True)
class Message:
    """A client's message: its type, transaction id, options (code -> values), and where it came from."""

    kind: int
    transaction: bytes
    options: dict[int, list[bytes]]
    mac: str
    ip: str

    def option(self, code: int) -> bytes | None:
        return self.options.get(code, [None])[0]


def parse(frame: bytes) -> Message | None:
    """The DHCPv6 client message in an Ethernet/IPv6/UDP frame to port 547, if it is a well-formed one."""
    pkt = packet.Packet(frame)
    eth, ip, datagram = (pkt.get_protocol(c) for c in (ethernet.ethernet, ipv6.ipv6, udp.udp))
    if eth is None or ip is None or datagram is None or datagram.dst_port != SERVER_PORT:
        return None
    end = ETH_HEADER + IPV6_HEADER + ip.payload_length              # the UDP datagram ends the IPv6 payload
    payload = frame[end - (datagram.total_length - UDP_HEADER):end]
    if len(payload) < 4:
        return None
    options = _options(payload[4:])
    return Message(payload[0], payload[1:4], options, eth.src, ip.src) if options is not None else None


def _options(data: bytes) -> dict[int, list[bytes]] | None:
    """Options by code (None if they overrun the message)."""
    out: dict[int, list[bytes]] = {}
    while data:
        if len(data) < 4:
            return None
        code, length = struct.unpack("!HH", data[:4])
        if len(data) < 4 + length:
            return None
        out.setdefault(code, []).append(data[4:4 + length])
        data = data[4 + length:]
    return out


def reply(message: Message, lease: Lease6) -> bytes | None:
    """The frame answering `message` for `lease`, or None (not ours to answer, or nothing to say)."""
    server = message.option(OPT_SERVERID)
    if server is not None and server != lease.server_id:
        return None                                 # addressed to another server
    ia = message.option(OPT_IA_NA)
    if message.kind in (SOLICIT, REQUEST, RENEW, REBIND, CONFIRM) and (lease.ip is None or ia is None):
        return None                                 # stateless subnet, or no address asked for
    options = [(OPT_SERVERID, lease.server_id)]
    client = message.option(OPT_CLIENTID)
    if client is not None:
        options.append((OPT_CLIENTID, client))
    if message.kind in (SOLICIT, REQUEST, RENEW, REBIND) and ia is not None and len(ia) >= 4 and lease.ip:
        address = netaddr.IPAddress(lease.ip).packed + struct.pack("!II", PREFERRED, VALID)
        options.append((OPT_IA_NA, ia[:4] + struct.pack("!II", T1, T2) + _option(OPT_IAADDR, address)))
    elif message.kind in (CONFIRM, RELEASE, DECLINE):
        options.append((OPT_STATUS_CODE, struct.pack("!H", SUCCESS)))
    elif message.kind != INFORMATION_REQUEST:
        return None
    if lease.dns:
        options.append((OPT_DNS_SERVERS, b"".join(netaddr.IPAddress(d).packed for d in lease.dns)))
    rapid = message.kind == SOLICIT and message.option(OPT_RAPID_COMMIT) is not None
    if rapid:
        options.append((OPT_RAPID_COMMIT, b""))
    kind = ADVERTISE if message.kind == SOLICIT and not rapid else REPLY
    return _frame(message, lease, bytes([kind]) + message.transaction + b"".join(_option(c, v) for c, v in options))


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("!HH", code, len(value)) + value


def _frame(message: Message, lease: Lease6, payload: bytes) -> bytes:
    """From the server's link-local address to the client's source, UDP 547 -> 546."""
    frame = packet.Packet()
    frame.add_protocol(ethernet.ethernet(dst=message.mac, src=lease.server_mac, ethertype=0x86DD))
    frame.add_protocol(ipv6.ipv6(src=link_local(lease.server_mac), dst=message.ip, nxt=17, hop_limit=255))
    frame.add_protocol(udp.udp(src_port=SERVER_PORT, dst_port=CLIENT_PORT))
    frame.add_protocol(payload)
    frame.serialize()
    return bytes(frame.data)
