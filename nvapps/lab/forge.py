"""What a misbehaving VM sends, for tests: a rogue router advertisement, or a neighbour advertisement claiming
another's address. Run in a host's namespace: `python -m nvapps.lab.forge ra IFACE MAC PREFIX` or
`python -m nvapps.lab.forge na IFACE MAC TARGET`."""
from __future__ import annotations

import socket
import sys

from os_ken.lib.packet import ethernet, icmpv6, ipv6, packet

from nvapps.core.nd import ALL_NODES, ALL_NODES_MAC, HOP_LIMIT, ICMPV6, IPV6
from nvapps.dhcp.ra import Advert, router_advertisement
from nvapps.model.ipam import link_local

ROUTER, OVERRIDE = 0b100, 0b001        # an advertisement's R and O flags as os-ken places them


def neighbor_advertisement(mac: str, target: str) -> bytes:
    """An unsolicited advertisement to all nodes: `target` is at `mac` (override, as a router)."""
    pkt = packet.Packet()
    pkt.add_protocol(ethernet.ethernet(dst=ALL_NODES_MAC, src=mac, ethertype=IPV6))
    pkt.add_protocol(ipv6.ipv6(src=link_local(mac), dst=ALL_NODES, nxt=ICMPV6, hop_limit=HOP_LIMIT))
    pkt.add_protocol(icmpv6.icmpv6(type_=icmpv6.ND_NEIGHBOR_ADVERT, data=icmpv6.nd_neighbor(
        res=ROUTER | OVERRIDE, dst=target, option=icmpv6.nd_option_tla(hw_src=mac))))
    pkt.serialize()
    return bytes(pkt.data)


def frame(kind: str, mac: str, what: str) -> bytes:
    """The frame of `kind` ("ra": advertising prefix `what`; "na": claiming address `what`) from `mac`."""
    if kind == "ra":
        return router_advertisement(Advert(mac, ((what, "slaac"),)))
    return neighbor_advertisement(mac, what)


def main(argv: list[str]) -> None:
    kind, interface, mac, what = argv
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((interface, 0))
        for _ in range(3):
            sock.send(frame(kind, mac, what))


if __name__ == "__main__":
    main(sys.argv[1:])
