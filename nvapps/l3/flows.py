"""Pure functions: each router's flows on one chassis (a VRF per router, routing done where packets enter).

A packet for a router interface's MAC reaches the router through L2 (the interface is a distributed port):
EGRESS hands it to L3_INPUT with the router's VRF key in metadata; L3_ROUTING picks the longest prefix and
puts the next hop in reg0; L3_NEIGHBOR rewrites the MACs, switches metadata to the destination network
and hands the packet back to L2 lookup, so it leaves this chassis already routed.

A router with a gateway (nvapps.logical.gateways) routes outside addresses only on its gateway chassis, whose
L3_NEIGHBOR hands them to the NAT stage; elsewhere they go to that chassis un-routed.
"""
from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import netaddr

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.nd import ICMPV6, IPV6
from nvapps.core.ofp import Flow, match
from nvapps.core.pieces import Pieces, Service, the_view
from nvapps.core.reconcile import Desired, Piece
from nvapps.core.topology import Chassis
from nvapps.logical.routers import Interface, RouterView
from nvapps.model.ipam import link_local
from nvapps.model.network import Port, Subnet
from nvapps.pipeline import Priority, Reg, Table

if TYPE_CHECKING:
    from nvapps.logical.view import LogicalView, Members

REPLY_TTL = 65          # echo replies leave the router with TTL 64, as Linux's do
PUNT = ofp.PUNT
IPV4 = 0x0800


@dataclass(frozen=True)
class Family:
    """What routing one IP version names: its ethertype, address fields, next-hop register and ICMP echo."""

    eth_type: int
    src: str
    dst: str
    next_hop: str
    icmp: int
    icmp_type: str
    echo: tuple[int, int]       # (request, reply) ICMP types


V4 = Family(IPV4, "ipv4_src", "ipv4_dst", Reg.NEXT_HOP, 1, "icmpv4_type", (8, 0))
V6 = Family(IPV6, "ipv6_src", "ipv6_dst", Reg.NEXT_HOP6, ICMPV6, "icmpv6_type", (128, 129))
FAMILIES = {4: V4, 6: V6}
NOT_ROUTED6 = ("fe80::/10", "ff00::/8")      # link-local and multicast destinations stay on their link


def chassis_l3(here: Chassis, view: "LogicalView", pieces: Pieces | None = None) -> Desired:
    """The flows of the routers chassis `here` must know (nvapps.logical.presence), in pieces: each router's own
    (which differ only on its gateway chassis), and per interface its next hops, the ports of its network."""
    pieces = pieces or Pieces(pipeline.AppId.L3)
    known = view.presence.routers_on(here.name)
    routers = tuple(rv for rv in view.routers if rv.router.id in known)
    gateways = tuple(rv.gateway is not None and rv.gateway.chassis == here.name for rv in routers)
    members = tuple(view.members_of(i.network_key) for rv in routers for i in rv.interfaces + rv.interfaces6)
    return pieces.chassis(here.name, (routers, gateways, members),
                          lambda: _l3_state(here.name, routers, gateways, view, pieces))


def _l3_state(here: str, routers: tuple[RouterView, ...], gateways: tuple[bool, ...], view: "LogicalView",
              pieces: Pieces) -> Desired:
    out: dict[Hashable, Piece] = {}
    sections: list[dict[Hashable, Piece]] = []
    for rv, gateway_here in zip(routers, gateways):
        out["router", rv.router.id] = pieces.get(("router", rv, gateway_here), partial(router_flows, rv, here))
        for i in rv.interfaces + rv.interfaces6:
            members = view.members_of(i.network_key)
            sections.append(pieces.value(("neighbors", rv.metadata, i, members),
                                         partial(_neighbor_pieces, rv, i, members, pieces)))
    return Desired(out, sections=tuple(sections))


def _neighbor_pieces(view: RouterView, i: Interface, members: "Members", pieces: Pieces) -> dict[Hashable, Piece]:
    """The next hops behind interface `i`, each port of its network a piece of its own (so a port joining
    builds its own only): ports, and load balancers' VIPs (handed to load balancing, as if sent from the
    router's interface; IPv4 only)."""
    cidr = netaddr.IPNetwork(i.subnet.cidr)
    hops = ((members.ports, Table.L2_LOOKUP), (members.vips, Table.LB_FROM_VM))[:2 if cidr.version == 4 else 1]
    return {("neighbor", i.port.id, i.subnet.id, b.port.id): pieces.get(
        ("neighbor", view.metadata, i, b.port, into), partial(_neighbors, view, i, cidr, b.port, into))
        for ports, into in hops for b in ports}


def router_flows(view: RouterView, here: str) -> list[Flow]:
    """One router's own flows on chassis `here` (its next hops are _neighbors())."""
    flows = [Flow(Table.L3_INPUT, Priority.FALLBACK, match(metadata=view.metadata), goto=Table.L3_ROUTING,
                  origin=_router(view))]
    flows += _family_flows(view, V4) + (_family_flows(view, V6) if view.interfaces6 else [])
    entered = {i.port.id: i for i in view.interfaces + view.interfaces6}
    for i in entered.values():
        flows.append(_entry(view, i))
        if any(j.port.id == i.port.id for j in view.interfaces6):
            flows.append(_link_local_echo(view, i))
    for i in view.interfaces + view.interfaces6:
        flows += [*_own_address(view, i.ip), _connected(view, i)]
    outside = _external_routes(view)
    for route in view.router.routes:
        dest, hop = netaddr.IPNetwork(route["destination"]), netaddr.IPAddress(route["nexthop"])
        if dest.version == hop.version and (dest, route["nexthop"]) not in outside:
            family = FAMILIES[dest.version]
            flows.append(Flow(Table.L3_ROUTING, Priority.ROUTE + 2 * dest.prefixlen,
                              match(metadata=view.metadata, eth_type=family.eth_type, **_to(dest)),
                              actions=(ofp.DecTtl(), ofp.SetField(family.next_hop, int(hop))),
                              goto=Table.L3_NEIGHBOR,
                              origin=(*_router(view), ("route", f"{dest} via {route['nexthop']}"))))
    return flows + _gateway_flows(view, outside, here)


def _family_flows(view: RouterView, family: Family) -> list[Flow]:
    """A router's TTL checks and its "no route" for one IP version (IPv6: link-local and multicast
    destinations are not routed)."""
    vrf = dict(metadata=view.metadata, eth_type=family.eth_type)
    me, meter = _router(view), pipeline.app_meter(pipeline.AppId.L3)
    return [
        Flow(Table.L3_INPUT, Priority.TTL_EXPIRED, match(**vrf, ip_ttl=1), actions=(PUNT,), meter=meter, origin=me),
        Flow(Table.L3_INPUT, Priority.TTL_EXPIRED, match(**vrf, ip_ttl=0), origin=me),
        # no route: ICMP net unreachable from the controller
        Flow(Table.L3_ROUTING, Priority.ROUTE - 1, match(**vrf), actions=(PUNT,), meter=meter,
             origin=(*me, ("route", "none: ICMP unreachable"))),
    ] + [Flow(Table.L3_INPUT, Priority.ROUTER_SELF, match(**vrf, **_to(netaddr.IPNetwork(prefix))), origin=me)
         for prefix in (NOT_ROUTED6 if family is V6 else ())]


def _neighbors(view: RouterView, i: Interface, cidr: netaddr.IPNetwork, port: Port, into: Table) -> list[Flow]:
    """A next hop behind interface `i`: the port's addresses on the interface's subnet, handed to `into` (where
    the port is does not matter: a chassis (re)connecting builds none of these anew)."""
    return [_neighbor(view, i, port, ip, into) for ip in port.ip_addresses if netaddr.IPAddress(ip) in cidr]


def _entry(view: RouterView, i: Interface) -> Flow:
    """A packet for the interface's port enters the router."""
    # back to an earlier table: resubmit (goto_table only goes forward), metadata set as an action
    return Flow(Table.EGRESS, Priority.SPECIFIC, match(**{Reg.OUT_PORT: i.port.key}),
                actions=(ofp.SetField(Reg.IN_PORT, i.port.key), ofp.SetField(Reg.OUT_PORT, 0),
                         ofp.SetField("metadata", view.metadata), ofp.Resubmit(Table.L3_INPUT)),
                origin=(*_router(view), ("subnet", i.subnet.id)))


def _own_address(view: RouterView, ip: str) -> list[Flow]:
    """ICMP echo to a router address is answered in place (and routed back); anything else for it is dropped."""
    family = FAMILIES[netaddr.IPAddress(ip).version]
    vrf = dict(metadata=view.metadata, eth_type=family.eth_type)
    me = (*_router(view), ("address", ip))
    echo: dict[str, int | str] = {family.icmp_type: family.echo[0], family.dst: ip}
    return [
        Flow(Table.L3_INPUT, Priority.ROUTER_ECHO, match(**vrf, ip_proto=family.icmp, **echo),
             actions=_echo_reply(family, ip), goto=Table.L3_ROUTING, origin=me),
        Flow(Table.L3_INPUT, Priority.ROUTER_SELF, match(**vrf, **{family.dst: ip}), origin=me),
    ]


def _echo_reply(family: Family, ip: str, ttl: int = REPLY_TTL) -> tuple[ofp.Action, ...]:
    """Turn an echo request to `ip` into its reply, in place, leaving with `ttl` (routed: one less)."""
    return (ofp.Move(family.src, family.dst), ofp.SetField(family.src, ip),
            ofp.SetField(family.icmp_type, family.echo[1]), ofp.SetTtl(ttl))


def _link_local_echo(view: RouterView, i: Interface) -> Flow:
    """Echo to the link-local address of an IPv6 interface, from its link, is answered straight back there."""
    ip = link_local(i.port.mac_address)
    return Flow(Table.L3_INPUT, Priority.ROUTER_ECHO,
                match(metadata=view.metadata, **{Reg.IN_PORT: i.port.key}, eth_type=V6.eth_type, ip_proto=V6.icmp,
                      icmpv6_type=V6.echo[0], ipv6_dst=ip),
                actions=(ofp.Move("eth_src", "eth_dst"), ofp.SetField("eth_src", i.port.mac_address),
                         *_echo_reply(V6, ip, REPLY_TTL - 1), ofp.SetField(Reg.OUT_PORT, 0), ofp.SetField("nx_in_port", 0),
                         ofp.SetField("metadata", i.network_key), ofp.Resubmit(Table.L2_LOOKUP)),
                origin=(*_router(view), ("address", ip)))


def _connected(view: RouterView, i: Interface) -> Flow:
    """A connected subnet: the destination itself is the next hop."""
    cidr = netaddr.IPNetwork(i.subnet.cidr)
    family = FAMILIES[cidr.version]
    return Flow(Table.L3_ROUTING, Priority.ROUTE + 2 * cidr.prefixlen + 1,
                match(metadata=view.metadata, eth_type=family.eth_type, **_to(cidr)),
                actions=(ofp.DecTtl(), ofp.Move(family.dst, family.next_hop)), goto=Table.L3_NEIGHBOR,
                origin=(*_router(view), ("route", f"{cidr} connected"), ("subnet", i.subnet.id)))


def _router(view: RouterView) -> tuple[tuple[str, str], ...]:
    """The origin of a router's flows."""
    return (("router", view.router.id),)


def _route(view: RouterView, dest: netaddr.IPNetwork, hop: str | None) -> tuple[tuple[str, str], ...]:
    """The origin of a route out by the router's gateway."""
    return (*_router(view), ("route", f"{dest} via {hop or 'the gateway subnet'}"), ("port", view.gateway.port.id)) \
        if view.gateway is not None else _router(view)


def _external_routes(view: RouterView) -> dict[tuple[netaddr.IPNetwork, str | None], int]:
    """Routes that leave by the gateway: (prefix, next hop or None for on-link) -> priority, for its IPv4
    subnet and (when the router has IPv6 interfaces) its IPv6 one."""
    gw = view.gateway
    if gw is None:
        return {}
    routes = _routes_out(view, gw.subnet, gw.learned)
    if gw.subnet6 is not None and view.interfaces6:
        routes.update(_routes_out(view, gw.subnet6, ()))
    return routes


def _routes_out(view: RouterView, subnet: Subnet, learned: tuple[tuple[str, str], ...]
                ) -> dict[tuple[netaddr.IPNetwork, str | None], int]:
    """The routes out by the gateway's `subnet`: the subnet itself; static routes through a next hop on it;
    routes its uplink learned by BGP with a next hop on it, for prefixes no static route names; and a default
    route to the subnet's gateway unless one of those is a default route."""
    cidr = netaddr.IPNetwork(subnet.cidr)
    version = cidr.version
    routes: dict[tuple[netaddr.IPNetwork, str | None], int] = {(cidr, None): Priority.ROUTE + 2 * cidr.prefixlen + 1}
    statics = [(netaddr.IPNetwork(r["destination"]), r["nexthop"]) for r in view.router.routes]
    named = {dest for dest, _ in statics} | {cidr}
    heard = [(dest, hop) for dest, hop in ((netaddr.IPNetwork(p), h) for p, h in learned)
             if dest not in named and netaddr.IPAddress(hop) in cidr]
    for dest, hop in statics + heard:
        if dest.version == version and netaddr.IPAddress(hop) in cidr:
            routes[dest, hop] = Priority.ROUTE + 2 * dest.prefixlen
    if subnet.gateway_ip and not any(dest.prefixlen == 0 and dest.version == version for dest, _ in statics + heard):
        routes[netaddr.IPNetwork("0.0.0.0/0" if version == 4 else "::/0"), subnet.gateway_ip] = Priority.ROUTE
    return routes


def _gateway_flows(view: RouterView, routes: dict, here: str) -> list[Flow]:
    """On the gateway chassis: the gateway's addresses, routes out by it, and next hops on its subnets handed
    to NAT. Elsewhere: packets for those routes go to the gateway chassis un-routed, through the network
    they came from (a router interface's network)."""
    gw = view.gateway
    if gw is None or gw.chassis is None:
        return []
    if gw.chassis != here:
        entered = {i.port.id: i for i in view.interfaces + view.interfaces6}.values()
        return [Flow(Table.L3_ROUTING, priority,
                     match(metadata=view.metadata, eth_type=FAMILIES[dest.version].eth_type,
                           **{Reg.IN_PORT: i.port.key}, **_to(dest)),
                     actions=(ofp.SetField("metadata", i.network_key), ofp.SetField(Reg.OUT_PORT, pipeline.REMOTE_PORT_KEY),
                              ofp.SetField(Reg.REMOTE_CHASSIS, gw.chassis_ip), ofp.Resubmit(Table.EGRESS)),
                     origin=(*_route(view, dest, hop), ("chassis", gw.chassis)))
                for (dest, hop), priority in routes.items() for i in entered]
    flows = _own_address(view, gw.ip) + (_own_address(view, gw.ip6) if gw.ip6 and view.interfaces6 else [])
    for (dest, hop), priority in routes.items():
        family = FAMILIES[dest.version]
        to_hop = ofp.Move(family.dst, family.next_hop) if hop is None else ofp.SetField(family.next_hop, _int(hop))
        flows.append(Flow(Table.L3_ROUTING, priority, match(metadata=view.metadata, eth_type=family.eth_type, **_to(dest)),
                          actions=(ofp.DecTtl(), to_hop), goto=Table.L3_NEIGHBOR, origin=_route(view, dest, hop)))
    for (dest, hop) in routes:
        if hop is None:           # the gateway's own subnets: their next hops are NAT's to resolve
            flows.append(Flow(Table.L3_NEIGHBOR, Priority.FALLBACK,
                              match(metadata=view.metadata,
                                    **{FAMILIES[dest.version].next_hop: (int(dest.network), int(dest.netmask))}),
                              goto=Table.NAT_SNAT, origin=(*_router(view), ("port", gw.port.id))))
    return flows


def _to(dest: netaddr.IPNetwork) -> dict:
    """The match on a destination prefix (none for a default route)."""
    return {FAMILIES[dest.version].dst: (str(dest.network), str(dest.netmask))} if dest.prefixlen else {}


def _neighbor(view: RouterView, i: Interface, port: Port, ip: str, into: Table) -> Flow:
    """Next hop `ip` (a known port): MACs rewritten, into the port's network at `into` (L2 lookup)."""
    address = netaddr.IPAddress(ip)
    return Flow(Table.L3_NEIGHBOR, Priority.SPECIFIC,
                match(metadata=view.metadata, **{FAMILIES[address.version].next_hop: int(address)}),
                actions=(ofp.SetField("eth_src", i.port.mac_address), ofp.SetField("eth_dst", port.mac_address),
                         ofp.SetField(Reg.IN_PORT, i.port.key), ofp.SetField(Reg.OUT_PORT, 0),
                         ofp.SetField("nx_in_port", 0),     # the router sends it: it may go back where it came from
                         ofp.SetField("metadata", i.network_key), ofp.Resubmit(into)),
                origin=(*_router(view), ("next_hop", port.id)))


def _int(ip: str) -> int:
    """An address as the integer a register holds."""
    return int(netaddr.IPAddress(ip))


SERVICE = Service(pipeline.AppId.L3, the_view, chassis_l3)
