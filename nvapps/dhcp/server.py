"""Pure DHCPv4: the reply (OFFER, ACK or NAK) to a client's request, from the port and subnet in the model."""
from __future__ import annotations

import struct
from dataclasses import dataclass

import netaddr
from os_ken.lib.packet import dhcp, ethernet, ipv4, packet, udp

LEASE_SECONDS = 86400
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = 1, 2, 3, 4, 5, 6, 7, 8
OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_MTU, OPT_REQUESTED_IP, OPT_LEASE = 1, 3, 6, 26, 50, 51
OPT_MSG_TYPE, OPT_SERVER_ID, OPT_CLASSLESS_ROUTES = 53, 54, 121


@dataclass(frozen=True)
class Lease:
    """What a port is told: its address on a subnet and that subnet's settings."""

    mac: str
    ip: str
    cidr: str
    gateway: str | None
    dns: tuple[str, ...]
    host_routes: tuple[tuple[str, str], ...]     # (destination CIDR, nexthop)
    mtu: int
    server_mac: str

    @property
    def server_ip(self) -> str:
        """The address the answers come from: the gateway, or the subnet's first address without one."""
        return self.gateway or str(netaddr.IPNetwork(self.cidr).network + 1)


def parse_request(frame: bytes) -> dhcp.dhcp | None:
    """The DHCP message in an Ethernet/IPv4/UDP frame to port 67, if it is one."""
    pkt = packet.Packet(frame)
    message = pkt.get_protocol(dhcp.dhcp)
    return message if message is not None and message.op == dhcp.DHCP_BOOT_REQUEST else None


def _option(message: dhcp.dhcp, tag: int) -> bytes | None:
    for opt in (message.options.option_list if message.options else []):
        if opt.tag == tag:
            return opt.value
    return None


def reply(request: dhcp.dhcp, lease: Lease) -> bytes | None:
    """The frame answering `request` for `lease`: OFFER to DISCOVER, ACK or NAK to REQUEST, else None."""
    option = _option(request, OPT_MSG_TYPE)
    kind = option[0] if option else None
    if kind == DISCOVER:
        answer = OFFER
    elif kind == REQUEST:
        wanted = _option(request, OPT_REQUESTED_IP)
        asked = str(netaddr.IPAddress(int.from_bytes(wanted, "big"))) if wanted else request.ciaddr
        server = _option(request, OPT_SERVER_ID)
        other_server = server is not None and server != netaddr.IPAddress(lease.server_ip).packed
        if other_server:
            return None                                   # the client chose another server's offer
        answer = ACK if asked in (lease.ip, "0.0.0.0") else NAK
    else:
        return None
    return _frame(request, lease, answer)


def _frame(request: dhcp.dhcp, lease: Lease, answer: int) -> bytes:
    net = netaddr.IPNetwork(lease.cidr)
    options = [(OPT_MSG_TYPE, bytes([answer])), (OPT_SERVER_ID, netaddr.IPAddress(lease.server_ip).packed)]
    if answer != NAK:
        options += [(OPT_LEASE, struct.pack("!I", LEASE_SECONDS)), (OPT_MASK, net.netmask.packed),
                    (OPT_MTU, struct.pack("!H", lease.mtu))]
        if lease.gateway:
            options.append((OPT_ROUTER, netaddr.IPAddress(lease.gateway).packed))
        if lease.dns:
            options.append((OPT_DNS, b"".join(netaddr.IPAddress(d).packed for d in lease.dns)))
        routes = list(lease.host_routes)
        if routes:      # clients that take option 121 ignore option 3: carry the default route in it too
            if lease.gateway:
                routes.append(("0.0.0.0/0", lease.gateway))
            options.append((OPT_CLASSLESS_ROUTES, b"".join(_classless(d, h) for d, h in routes)))
    message = dhcp.dhcp(op=dhcp.DHCP_BOOT_REPLY, chaddr=lease.mac, xid=request.xid, flags=request.flags,
                        yiaddr=lease.ip if answer != NAK else "0.0.0.0", siaddr=lease.server_ip,
                        giaddr=request.giaddr, options=dhcp.options(
                            option_list=[dhcp.option(tag=t, value=v) for t, v in options]))
    broadcast = answer == NAK or request.flags & 0x8000 or request.ciaddr == "0.0.0.0"
    frame = packet.Packet()
    frame.add_protocol(ethernet.ethernet(dst="ff:ff:ff:ff:ff:ff" if broadcast else lease.mac, src=lease.server_mac,
                                         ethertype=0x0800))
    frame.add_protocol(ipv4.ipv4(src=lease.server_ip, dst="255.255.255.255" if broadcast else lease.ip,
                                 proto=17, ttl=64))
    frame.add_protocol(udp.udp(src_port=67, dst_port=68))
    frame.add_protocol(message)
    frame.serialize()
    return bytes(frame.data)


def _classless(destination: str, nexthop: str) -> bytes:
    """RFC 3442 encoding: prefix length, the significant octets of the destination, the router."""
    net = netaddr.IPNetwork(destination)
    octets = (net.prefixlen + 7) // 8
    return bytes([net.prefixlen]) + net.network.packed[:octets] + netaddr.IPAddress(nexthop).packed
